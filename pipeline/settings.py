"""Every default in one place.

Precedence, lowest first: these defaults < the profile file < environment variables < command-line options.
The profile overrides what it names (see pipeline/profile.py); the environment variables read here are the
operator's (PRESSWATCH_*); the CLI passes explicit values down.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = Path(os.environ.get("PRESSWATCH_CONFIG_DIR", PROJECT_ROOT / "config"))

# --- the store ---------------------------------------------------------------------------------------------
DEFAULT_DB = "presswatch.db"  # relative to the working directory; PRESSWATCH_DB overrides the profile

# --- collection --------------------------------------------------------------------------------------------
HTTP_TIMEOUT_S = float(os.environ.get("PRESSWATCH_HTTP_TIMEOUT", "20"))
FEED_MAX_BYTES = 10 * 1024 * 1024  # a feed larger than this is refused, not parsed
PAGE_MAX_BYTES = 8 * 1024 * 1024  # an article page larger than this is cut off and recorded as too large
FEED_INTERVAL_MINUTES = 15
CRAWL_INTERVAL_MINUTES = 60
CRAWL_TIMEOUT_S = 15 * 60  # a crawl subprocess that runs longer is stopped
USER_AGENT = "presswatch/0.1 (+media monitoring for {operator}; {contact})"
ROBOTS_TOKEN = "presswatch"  # the product token robots.txt groups are matched against
FETCH_CONCURRENCY = 4
HTTP_TOTAL_TIMEOUT_S = float(os.environ.get("PRESSWATCH_HTTP_TOTAL_TIMEOUT", "60"))  # whole response, trickle guard
HTTP_MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 2.5: parse at least 500 KiB of robots.txt
FEED_SUMMARY_MAX_CHARS = 4000  # a feed summary is kept as plain text up to this length
# Adaptive feed polling (crawlers/health.py): each feed's interval moves between its profile `interval_minutes`
# times these factors, from its own rate of new items; a quiet poll (304, nothing new) stretches it, a failure
# doubles it (exponential back-off) up to FEED_BACKOFF_MAX_MINUTES. The daemon checks for due feeds every
# FEED_DUE_CHECK_S seconds.
FEED_INTERVAL_MIN_FACTOR = 0.5
FEED_INTERVAL_MAX_FACTOR = 4.0
FEED_QUIET_GROWTH = 1.5
FEED_BACKOFF_MAX_MINUTES = 6 * 60
FEED_RATE_WINDOW_DAYS = 7  # items/day is counted over this many recent days
FEED_RATE_MIN_DAYS = 1.0  # a source watched for less than this has no rate yet (its first poll is backlog)
FEED_DUE_CHECK_S = 60
# A feed due within this much of a due check is polled at that check, not a whole check later: without it every
# poll landed seconds after a check, and a 1-minute feed was polled every 2 minutes (bench/soak.py).
FEED_DUE_EARLY_S = FEED_DUE_CHECK_S / 2
# Each next poll moves by up to ± this share of its interval, so feeds that started together (every feed of a new
# profile) do not keep hitting their servers in the same second.
FEED_JITTER = 0.1
# Source health (crawlers/health.py: assess): failing after this many failures in a row (one is a warning);
# silent when no new item came for SOURCE_SILENT_GAP_FACTOR times its usual gap between items, at least
# SOURCE_SILENT_MIN_H hours.
SOURCE_FAILING_AFTER = 2
SOURCE_SILENT_MIN_H = 48
SOURCE_SILENT_GAP_FACTOR = 3.0
SITE_CONCURRENCY = 2  # parallel requests to one site (host), by the page fetcher and by Scrapy
FETCH_BATCH = 200  # discovered pages fetched per `fetch_pending` call
CRAWL_START_DELAY_S = float(os.environ.get("PRESSWATCH_CRAWL_START_DELAY", "1.0"))  # Scrapy AutoThrottle's first
# delay between requests to one site; it adapts to the site's latency from there
CRAWL_MAX_DELAY_S = 30.0  # Scrapy AutoThrottle: never wait longer than this between requests to one site
CRAWL_RETRY_TIMES = 2  # Scrapy: retries of a failed request (5xx, timeouts), on top of the first try
CRAWL_MAX_PAGES = 5000  # Scrapy: a crawl stops after this many responses (a runaway site cannot fill the disk)
CRAWL_LOG_LEVEL = os.environ.get("PRESSWATCH_CRAWL_LOG_LEVEL", "INFO")  # the crawl subprocess's stderr
BACKFILL_MAX_ARCHIVE_PAGES = 50  # `presswatch backfill`: section pages followed per start URL (page 1, 2, ...)
BACKFILL_FETCH_BATCH = 20  # `presswatch backfill`: pages fetched between two progress-bar updates

# --- processing --------------------------------------------------------------------------------------------
QUEUE_BATCH = 50  # raw pages enriched per batch
QUEUE_MAX_ATTEMPTS = 3  # a page that fails this often is parked as failed, with its error, not retried forever
# A new or changed release of the municipality re-checks the clippings published since (for misleading figures),
# but none older than this: a release found by a backfill must not re-enrich years of archive in one batch.
RELEASE_RECHECK_DAYS = 30
MIN_TEXT_CHARS = 80  # shorter extractions fall back to the feed summary and are marked as teasers
# extraction (enrich/extract.py): when the page's own publication date is trusted, when a page is a paywalled teaser
DATE_CLOCK_SKEW_MINUTES = 60  # a page date up to this far past the fetch time is clock skew (or a DST slip), not bad
DATE_MAX_FEED_GAP_DAYS = 7  # a page date further than this from the feed's date is not trusted: the feed's date wins
PAYWALL_SHORT_TEXT_CHARS = 700  # a body shorter than this with paywall markup or phrases is a teaser

# learning from the press office's judgements (enrich/learn.py): a field's model is trained only with at least
# LEARN_MIN_PER_CLASS judgements of each value, and overrides the rules only when it is this sure of the other
# answer; `presswatch feedback` retrains by itself after LEARN_RETRAIN_EVERY new judgements
LEARN_MIN_PER_CLASS = 20
LEARN_CONFIDENCE = 0.8
LEARN_RETRAIN_EVERY = 10

# --- scheduling --------------------------------------------------------------------------------------------
PROCESS_INTERVAL_S = 60
SHUTDOWN_GRACE_S = 30

# lemmas (enrich/lemmas.py): (language, word) lemmas cached in a bounded LRU; a stream's vocabulary keeps growing
# (names, streets), the cache must not. 200k entries is a few tens of MB and covers a language's common words.
LEMMA_CACHE_SIZE = 200_000
# simplemma's compact dictionaries: ~10 MB instead of 50-130 MB per language, but a word not yet cached costs
# ~0.4 ms instead of ~0.03 ms. Off by default: a deployment loads only its profile's one or two languages.
LEMMA_LOW_MEMORY = False

# --- the daemon (`presswatch run`, pipeline/daemon.py) -------------------------------------------------------
# A scheduled run missed while the daemon was down (or busy) still runs once at the next start if it is at most
# this late; older misses are skipped to the next regular time. Runs missed in a row collapse into one (coalesce).
MISFIRE_GRACE_S = int(os.environ.get("PRESSWATCH_MISFIRE_GRACE", "3600"))
# How often the daemon looks whether a profile file changed (mtime); SIGHUP makes it look at once.
PROFILE_CHECK_S = 60
# Queue processing runs in a worker process that is replaced after this many batches (QUEUE_BATCH pages each), so
# that what enrichment accumulates (spaCy's StringStore grows on a stream, spaCy#5083; caches) is given back.
WORKER_MAX_BATCHES = int(os.environ.get("PRESSWATCH_WORKER_MAX_BATCHES", "20"))
# At start the daemon routes to alerts again the clippings processed in the last ALERT_REROUTE_HOURS: a `kill -9`
# between a batch being indexed and its alerts being claimed must not lose them (claiming is idempotent).
ALERT_REROUTE_HOURS = 24

# The daemon's /healthz and /metrics (pipeline/ops.py): on the loopback interface by default, no authentication, so
# reaching it from elsewhere is a reverse proxy's decision (docs/security.md). Port 0 turns it off.
OPS_HOST = os.environ.get("PRESSWATCH_OPS_HOST", "127.0.0.1")
OPS_PORT = int(os.environ.get("PRESSWATCH_OPS_PORT", "9464"))
# How often the daemon writes its heartbeat; /healthz calls it stale after ops.HEARTBEAT_MAX_AGE_S.
HEARTBEAT_S = 30

# --- retention (pipeline/retention.py, the daemon's daily `retention` job) -----------------------------------
# How long the working data is kept; the profile's `retention` overrides each. Clippings (the archive), sent
# briefings (their archive), feedback, the official record and the fetch-once ledgers (discoveries, revisions,
# content hashes) are kept: see pipeline/retention.py.
RETENTION_RAW_PAGES_DAYS = 30  # the HTML body of a processed page (its clipping is in the index) is dropped after
RETENTION_QUEUE_DONE_DAYS = 90  # the processed queue row itself (done or duplicate) is deleted after
RETENTION_ALERTS_DAYS = 365  # a delivered (or dropped) alert, its deliveries and holds are deleted after
RETENTION_BRIEFINGS_DAYS: int | None = None  # sent briefings: None keeps them forever (they are the archive)
# An alert key is the once-only guarantee of its story: a copy published within the clustering window (7 days,
# process.CLUSTER_WINDOW) joins the story and must find the key. Keys live at least this long, whatever the profile
# says, with margin for late copies, feeds' backlog and a queue that was down for days.
RETENTION_ALERTS_MIN_DAYS = 30
RETENTION_BATCH = 1000  # rows per delete transaction: the daemon's other jobs wait at most one batch
RETENTION_AT = (3, 30)  # (hour, minute), local time of the daily run: quiet on news sites, before the briefing

# --- the analysts' workspace (`presswatch web`, web/) --------------------------------------------------------
# Served on the loopback interface by default: reaching it from elsewhere goes through a TLS-terminating reverse
# proxy, and then WEB_SECURE_COOKIES must stay on (docs/security.md).
WEB_HOST = os.environ.get("PRESSWATCH_WEB_HOST", "127.0.0.1")
WEB_PORT = int(os.environ.get("PRESSWATCH_WEB_PORT", "8450"))
# Cookies carry the Secure attribute unless this is "0": browsers then send them over HTTPS only (and to
# http://127.0.0.1 / localhost, which they treat as secure contexts).
WEB_SECURE_COOKIES = os.environ.get("PRESSWATCH_WEB_SECURE_COOKIES", "1") != "0"
# Behind a reverse proxy: its address(es), comma-separated. Its X-Forwarded-For then names the client (login
# throttling counts per client) and X-Forwarded-Proto the scheme. Empty: no forwarded header is believed.
WEB_TRUSTED_PROXIES = os.environ.get("PRESSWATCH_WEB_TRUSTED_PROXIES", "")
WEB_SESSION_IDLE_H = 12  # a session unused for this long ends
WEB_SESSION_MAX_DAYS = 7  # and any session ends after this long, used or not
# Login throttling: after LOGIN_MAX_FAILURES failed logins within LOGIN_WINDOW_MIN for one account name or from one
# client address, further attempts for it are refused for LOGIN_LOCKOUT_MIN (the store keeps the count across
# restarts).
LOGIN_MAX_FAILURES = 5
LOGIN_WINDOW_MIN = 15
LOGIN_LOCKOUT_MIN = 15
PASSWORD_MIN_CHARS = 10
# scrypt (RFC 7914), the standard library's memory-hard KDF: n=2**15, r=8 is ~32 MB and ~50-100 ms per hash here.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
WEB_PAGE_SIZE = 25  # search results per page
WEB_MAX_BODY_BYTES = 1024 * 1024  # a form post larger than this is refused (forms carry notes, not files)
