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
SITE_CONCURRENCY = 2  # parallel requests to one site (host), by the page fetcher and by Scrapy
FETCH_BATCH = 200  # discovered pages fetched per `fetch_pending` call
CRAWL_START_DELAY_S = float(os.environ.get("PRESSWATCH_CRAWL_START_DELAY", "1.0"))  # Scrapy AutoThrottle's first
# delay between requests to one site; it adapts to the site's latency from there
CRAWL_MAX_DELAY_S = 30.0  # Scrapy AutoThrottle: never wait longer than this between requests to one site
CRAWL_RETRY_TIMES = 2  # Scrapy: retries of a failed request (5xx, timeouts), on top of the first try
CRAWL_MAX_PAGES = 5000  # Scrapy: a crawl stops after this many responses (a runaway site cannot fill the disk)
CRAWL_LOG_LEVEL = os.environ.get("PRESSWATCH_CRAWL_LOG_LEVEL", "INFO")  # the crawl subprocess's stderr

# --- processing --------------------------------------------------------------------------------------------
QUEUE_BATCH = 50  # raw pages enriched per batch
QUEUE_MAX_ATTEMPTS = 3  # a page that fails this often is parked as failed, with its error, not retried forever
MIN_TEXT_CHARS = 80  # shorter extractions fall back to the feed summary and are marked as teasers

# --- scheduling --------------------------------------------------------------------------------------------
PROCESS_INTERVAL_S = 60
SHUTDOWN_GRACE_S = 30
