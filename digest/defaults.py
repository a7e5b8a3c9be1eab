"""The digest's defaults, in one place (STYLE.md, 4).

Precedence as everywhere in presswatch: these defaults < the profile < PRESSWATCH_* environment variables <
explicit arguments. They live here rather than in pipeline/settings.py only because the digest was built while
the spine was being written; moving them there changes nothing else.
"""

from __future__ import annotations

import os

# --- delivery --------------------------------------------------------------------------------------------------
SMTP_TIMEOUT_S = float(os.environ.get("PRESSWATCH_SMTP_TIMEOUT", "20"))  # connect + each SMTP command
WEBHOOK_TIMEOUT_S = float(os.environ.get("PRESSWATCH_WEBHOOK_TIMEOUT", "10"))
# An alert the server refuses (a 5xx for its recipients or content) is retried this often before it is left as
# pending-but-parked with its error; an unreachable server does not count against the alert (nothing is lost).
ALERT_MAX_ATTEMPTS = 50
# A channel that is unreachable (or a webhook answering 5xx/429) is tried again after BACKOFF_BASE, then twice as
# long after each further failure in a row, never longer than BACKOFF_MAX: a relay that is down for a night gets a
# few dozen connection attempts, not one per daemon tick, and is back in use within ALERT_BACKOFF_MAX_S of its
# return. An alert the server refused (5xx) waits the same way, by its own attempts.
ALERT_BACKOFF_BASE_S = 60.0
ALERT_BACKOFF_MAX_S = 30 * 60.0
# A rule's cooldown (alerts.rules[].cooldown_minutes): after its alert went out on a channel, further stories of
# that rule wait and go out as one roll-up when it ends. 0 (none) by default: an alert exists to be fast, and a
# second critical story should not wait unless the press office chose that for a noisy rule. Saved-search rules
# have no entry of their own and use this value.
ALERT_COOLDOWN_MINUTES = 0
ACK_ID_CHARS = 8  # the short id an alert shows for `presswatch ack` (a prefix of the clipping id)
# A Slack roll-up shows this many stories as blocks (4 each, plus 3 around them: Slack refuses more than 50
# blocks); the rest are listed as title links in one block.
SLACK_MAX_STORIES = 11

# --- the briefing ----------------------------------------------------------------------------------------------
WINDOW_HOURS = 24  # the briefing covers this many hours before `digest.send_at`
AVERAGE_DAYS = 7  # the headline numbers are compared with the daily average of this many days before
TREND_DAYS = 7  # the tone trend shows this many mornings, today's included
TOP_STORIES = 10
NEEDS_RESPONSE_MAX = 15
REASONS_PER_FLAG = 3
QUOTE_MAX_CHARS = 320
ALSO_IN_MAX = 6  # "also in: A, B, C and 4 more"
LEAD_CHARS = 400  # a mention within the first characters of the text counts as prominent (the lead)
SILENT_AFTER_H = 48  # a source without a new item for longer than this is listed as silent
PAGE_SIZE = 200  # clippings read from the index per search call
