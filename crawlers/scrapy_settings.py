"""Scrapy settings for a presswatch site crawl: politeness first, then bounds.

`BASE` is the static part (like a Scrapy project's settings.py); `build_settings` adds what depends on the
profile and the crawl (User-Agent naming the operator, depth, the store file, a time limit). Every number comes
from presswatch.settings, the one place defaults live.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from presswatch import settings
from presswatch.crawlers.http import user_agent
from presswatch.profile import Profile, SiteSource

BASE: dict[str, Any] = {
    "BOT_NAME": "presswatch",
    # Politeness: robots.txt (Protego, RFC 9309), a few parallel requests per site, AutoThrottle adapting the
    # delay to the site's latency (it starts cautious and speeds up on a fast site).
    "ROBOTSTXT_OBEY": True,
    "ROBOTSTXT_USER_AGENT": settings.ROBOTS_TOKEN,
    "CONCURRENT_REQUESTS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": settings.SITE_CONCURRENCY,
    "DOWNLOAD_DELAY": 0,  # the floor under AutoThrottle's delay; AutoThrottle starts at CRAWL_START_DELAY_S
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": settings.CRAWL_START_DELAY_S,
    "AUTOTHROTTLE_MAX_DELAY": settings.CRAWL_MAX_DELAY_S,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
    "COOKIES_ENABLED": False,  # news pages do not need a session; cookies only grow consent walls
    # Bounds: time, size, retries, total pages.
    "DOWNLOAD_TIMEOUT": settings.HTTP_TIMEOUT_S,
    "DOWNLOAD_MAXSIZE": settings.PAGE_MAX_BYTES,
    "DOWNLOAD_WARNSIZE": settings.PAGE_MAX_BYTES // 2,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": settings.CRAWL_RETRY_TIMES,
    "REDIRECT_MAX_TIMES": settings.HTTP_MAX_REDIRECTS,
    "CLOSESPIDER_PAGECOUNT": settings.CRAWL_MAX_PAGES,
    "DEPTH_PRIORITY": 1,  # breadth first: section pages before the pages they lead to
    "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
    "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
    # The subprocess's stdout carries one JSON report line; logs go to stderr.
    "LOG_LEVEL": settings.CRAWL_LOG_LEVEL,
    "LOG_STDOUT": False,
    "LOG_INSTALL_ROOT_HANDLER": True,
    # No listening sockets on a monitoring daemon: the telnet console, and Scrapy 2.19's remote-control HTTP
    # server (on by default; it executes code sent to it and writes token files to ~/.local/state/scrapy).
    "TELNETCONSOLE_ENABLED": False,
    "REMOTE_CONTROL_ENABLED": False,
    "ITEM_PIPELINES": {"presswatch.crawlers.pipelines.StatePipeline": 300},
    # http and https only (docs/security.md): no handlers for file:, data:, s3: or ftp:, and a guard that refuses
    # such URLs and redirects to them with an error naming both URLs. 650: after RedirectMiddleware (600) on the
    # way out, before it on the way back, so it sees the 3xx first.
    "DOWNLOAD_HANDLERS": {"file": None, "data": None, "s3": None, "ftp": None},
    "DOWNLOADER_MIDDLEWARES": {"presswatch.crawlers.middlewares.SchemeGuardMiddleware": 650},
}


def build_settings(profile: Profile, source: SiteSource, db_path: Path,
                   max_seconds: float | None = None) -> dict[str, Any]:
    """The settings for crawling `source` into the store at `db_path`."""
    out = dict(BASE)
    out.update({
        "USER_AGENT": user_agent(profile.operator),
        "DEPTH_LIMIT": source.depth,
        "PRESSWATCH_DB": str(db_path),
        "PRESSWATCH_MUNICIPALITY": profile.id,
    })
    if max_seconds:
        # Scrapy closes the spider cleanly at this point, so the pipeline still stores what it has; the parent
        # process kills the crawl only if that does not happen in time.
        out["CLOSESPIDER_TIMEOUT"] = max_seconds
    return out


__all__ = ["BASE", "build_settings"]
