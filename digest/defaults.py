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

# --- the briefing ----------------------------------------------------------------------------------------------
WINDOW_HOURS = 24  # the briefing covers this many hours before `digest.send_at`
AVERAGE_DAYS = 7  # the headline numbers are compared with the daily average of this many days before
TOP_STORIES = 10
NEEDS_RESPONSE_MAX = 15
REASONS_PER_FLAG = 3
QUOTE_MAX_CHARS = 320
ALSO_IN_MAX = 6  # "also in: A, B, C and 4 more"
LEAD_CHARS = 400  # a mention within the first characters of the text counts as prominent (the lead)
SILENT_AFTER_H = 48  # a source without a new item for longer than this is listed as silent
PAGE_SIZE = 200  # clippings read from the index per search call
