"""Site crawls, one subprocess each.

Twisted's reactor cannot be restarted in a process (ReactorNotRestartable, scrapy#2941), and the daemon crawls
every hour, so each crawl is `python -m presswatch.crawlers.crawl --profile P --source S --db D` started by
`run_crawl`, which waits for it with a time limit (SIGTERM, then SIGKILL) and reads the report the child prints
as the last line of its stdout (JSON; Scrapy's log goes to stderr). The child runs `CrawlerProcess` once.

Source health: the child records how its crawl went (`register_source(kind='site')`, success with a warning
listing errors, or failure when no entry point answered); the parent records a failure only when the child
could not (it crashed, timed out, or printed no report).

`--rebase OLD=NEW` rewrites a base URL in the profile text before it is parsed: the demo profile names the
newsroom at http://127.0.0.1:8765, and a test serves it on a free port.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from presswatch import settings
from presswatch.profile import Profile, ProfileError, SiteSource, parse_profile, read_profile_text
from presswatch.records import Discovery
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)
_STARTED = time.monotonic()  # in the child: the time limit counts from here, Scrapy's import included

KILL_GRACE_S = 5.0  # after SIGTERM, how long the child gets to close before SIGKILL
CHILD_STOP_GRACE_S = 2.0  # after its time limit, how long the child waits for downloads in flight
_STDERR_TAIL = 4000


@dataclass(frozen=True, slots=True)
class CrawlReport:
    source: str
    error: str | None = None  # why the crawl failed as a whole; None: it ran (see `errors` for single pages)
    pages_stored: int = 0  # new pages put in the queue
    duplicates: int = 0  # pages the queue had already
    known_skipped: int = 0  # article links not requested: already discovered (by a feed or an earlier crawl)
    updated: int = 0  # already fetched, but a sitemap `lastmod` says they changed since: queued for a refetch
    requests: int = 0
    responses: int = 0
    robots_forbidden: int = 0
    errors: tuple[str, ...] = ()
    finish_reason: str | None = None
    returncode: int | None = None
    timed_out: bool = False
    elapsed_s: float = 0.0
    stderr_tail: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("stderr_tail")
        data["errors"] = list(self.errors)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrawlReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["errors"] = tuple(known.get("errors") or ())
        return cls(**known)


# --- profiles with a moved base URL ----------------------------------------------------------------------------

def parse_rebase(spec: str) -> tuple[str, str]:
    old, sep, new = spec.partition("=")
    if not sep or not old.startswith(("http://", "https://")) or not new.startswith(("http://", "https://")):
        raise ValueError(f"--rebase expects OLD=NEW with two http(s) base URLs, got {spec!r}")
    return old.rstrip("/"), new.rstrip("/")


def load_profile_rebased(path: str | Path, rebase: Sequence[tuple[str, str]] = ()) -> Profile:
    """Load a profile, replacing each OLD base URL with NEW in its text first (errors still name the file)."""
    p, text = read_profile_text(path)
    for old, new in rebase:
        text = text.replace(old, new)
    return parse_profile(text, str(p))


def find_site(profile: Profile, source_id: str) -> SiteSource:
    for site in profile.sources.sites:
        if site.id == source_id:
            return site
    known = ", ".join(s.id for s in profile.sources.sites) or "none"
    raise KeyError(f"no site source {source_id!r} in the profile (sites: {known})")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def source_url(site: SiteSource) -> str:
    return (site.start_urls or site.sitemaps or [""])[0]


# --- the parent side ---------------------------------------------------------------------------------------

def run_crawl(profile_path: Path, source_id: str, db_path: Path, base_url_override: str | None = None,
              timeout_s: float = settings.CRAWL_TIMEOUT_S) -> CrawlReport:
    """Crawl one site source in a subprocess and wait for it (at most `timeout_s`). Never raises for what the
    crawl does; a crawl that could not run is a report with `error` set, and a failure in the source's health."""
    start = time.monotonic()
    try:
        profile = load_profile_rebased(profile_path)
        site = find_site(profile, source_id)
    except (ProfileError, KeyError) as exc:
        return CrawlReport(source=source_id, error=str(exc).strip("'\""))
    argv = [sys.executable, "-m", "presswatch.crawlers.crawl", "--profile", str(profile_path), "--source",
            source_id, "--db", str(db_path)]
    rebase: tuple[str, str] | None = None
    if base_url_override:
        rebase = (_origin(source_url(site)), base_url_override.rstrip("/"))
        argv += ["--rebase", f"{rebase[0]}={rebase[1]}"]
    # The child stops itself cleanly before the parent's deadline; the parent kills only a child that hangs.
    grace = max(CHILD_STOP_GRACE_S + 2.0, min(float(settings.SHUTDOWN_GRACE_S), timeout_s / 3))
    argv += ["--max-seconds", f"{max(1.0, timeout_s - grace):g}"]

    def failed(message: str, **kw: Any) -> CrawlReport:
        report = CrawlReport(source=source_id, error=message, elapsed_s=time.monotonic() - start, **kw)
        _record_failure(db_path, profile, site, rebase, message)
        return report

    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    except OSError as exc:
        return failed(f"could not start the crawl subprocess: {exc}")
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        out, err = _stop(proc)
    stdout = out.decode("utf-8", errors="replace")
    stderr_tail = err.decode("utf-8", errors="replace")[-_STDERR_TAIL:]
    child = _last_json(stdout)
    elapsed = time.monotonic() - start
    if child is None:
        if timed_out:
            return failed(f"crawl of {source_id} stopped after {timeout_s:g} s (time limit)", timed_out=True,
                          returncode=proc.returncode, stderr_tail=stderr_tail)
        last = stderr_tail.strip().splitlines()[-1:] or ["no output"]
        return failed(f"crawl subprocess of {source_id} exited with {proc.returncode} and no report: {last[0]}",
                      returncode=proc.returncode, stderr_tail=stderr_tail)
    report = CrawlReport.from_json(child)
    return replace(report, returncode=proc.returncode, timed_out=timed_out, elapsed_s=elapsed,
                   stderr_tail=stderr_tail)


def _stop(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """SIGTERM (Scrapy shuts down gracefully and the pipeline finishes its writes), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
        try:
            os.killpg(proc.pid, sig)  # the child's own session: nothing it started survives it
        except ProcessLookupError:
            pass
        try:
            return proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return b"", b""


def _last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict) and "source" in value:
                return value
    return None


def _record_failure(db_path: Path, profile: Profile, site: SiteSource, rebase: tuple[str, str] | None,
                    message: str) -> None:
    url = source_url(site)
    if rebase:
        url = url.replace(*rebase)
    try:
        state = State(db_path)
        try:
            state.register_source(site.id, profile.id, "site", url)
            state.poll_failed(site.id, message)
        finally:
            state.close()
    except Exception:  # noqa: BLE001 - the report still carries the message
        log.exception("could not record the failed crawl of %s in %s", site.id, db_path)


# --- the child side ----------------------------------------------------------------------------------------

def crawl_here(profile: Profile, site: SiteSource, db_path: Path, max_seconds: float | None = None) -> CrawlReport:
    """Run the crawl in this process (the subprocess's body). Starts Twisted's reactor: call once per process."""
    from scrapy.crawler import CrawlerProcess  # imported here: the parent process never loads Twisted

    from presswatch.crawlers import pipelines
    from presswatch.crawlers.scrapy_settings import build_settings
    from presswatch.crawlers.spiders import news

    start = time.monotonic()
    if max_seconds:  # the limit covers the whole child process: start-up and imports count too
        max_seconds = max(0.5, max_seconds - (start - _STARTED))
    state = State(db_path)  # the spider's reader (is_known); the pipeline writes through its own connection
    state.register_source(site.id, profile.id, "site", source_url(site))
    process = CrawlerProcess(build_settings(profile, site, db_path, max_seconds))
    crawler = process.create_crawler(news.NewsSpider)  # installs the reactor
    process.crawl(crawler, source=site, known=state.is_known)
    if max_seconds:
        # CLOSESPIDER_TIMEOUT closes the spider but waits for downloads in flight (up to DOWNLOAD_TIMEOUT);
        # past a short grace the reactor is stopped so the report below is still printed.
        from twisted.internet import reactor as installed

        reactor: Any = installed  # the module attribute is typed as the module, not the installed reactor
        reactor.callLater(max_seconds + CHILD_STOP_GRACE_S, _force_stop, reactor)
    process.start()
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    spider = crawler.spider
    errors = tuple(getattr(spider, "errors", ()))
    now = utcnow()
    lastmod: dict[str, datetime] = dict(getattr(spider, "lastmod", {}))
    updated = len(state.revise([Discovery(url=url, outlet=site.outlet, source=site.id, seen_at=now,
                                          feed_updated=when) for url, when in sorted(lastmod.items())]))
    entry_ok = int(stats.get(news.ENTRY_OK, 0))
    finish = "time limit, downloads still in flight" if _forced else stats.get("finish_reason")
    error = None
    if entry_ok == 0:
        first = f": {errors[0]}" if errors else ""
        stopped = f" (crawl stopped: {finish})" if finish and finish != "finished" else ""
        error = f"no start page or sitemap of {site.id} answered{stopped}{first}"
    report = CrawlReport(
        source=site.id, error=error, pages_stored=int(stats.get(pipelines.STORED, 0)),
        duplicates=int(stats.get(pipelines.DUPLICATE, 0)), known_skipped=int(stats.get(news.KNOWN_SKIPPED, 0)),
        updated=updated,
        requests=int(stats.get("downloader/request_count", 0)),
        responses=int(stats.get("downloader/response_count", 0)),
        robots_forbidden=int(stats.get("robotstxt/forbidden", 0)), errors=errors,
        finish_reason=str(finish) if finish else None, elapsed_s=time.monotonic() - start,
    )
    if error is not None:
        state.poll_failed(site.id, error)
    else:
        notes = []
        if finish and finish != "finished":
            notes.append(f"crawl stopped early ({finish})")
        if errors:
            notes.append(f"{len(errors)} request(s) failed, first: {errors[0]}")
        state.poll_succeeded(site.id, new_items=report.pages_stored, warning="; ".join(notes) or None)
    state.close()
    return report


_forced: list[bool] = []


def _force_stop(reactor: Any) -> None:
    """Stop a crawl that outlived its time limit. `reactor.stop()` would not do: Scrapy's before-shutdown
    trigger waits for the very downloads that hang. `crash()` skips the triggers; `main` then exits hard."""
    if reactor.running:
        log.warning("crawl still running %s s after its time limit: stopping it", CHILD_STOP_GRACE_S)
        _forced.append(True)
        reactor.crash()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m presswatch.crawlers.crawl",
                                     description="Crawl one site source of a profile into the store (one run).")
    parser.add_argument("--profile", required=True, help="profile file (or a name in config/)")
    parser.add_argument("--source", required=True, help="id of a site source in the profile")
    parser.add_argument("--db", required=True, type=Path, help="the SQLite store file")
    parser.add_argument("--rebase", action="append", default=[], metavar="OLD=NEW",
                        help="replace base URL OLD with NEW in the profile before parsing it (repeatable)")
    parser.add_argument("--max-seconds", type=float, default=None, help="close the crawl cleanly after this long")
    args = parser.parse_args(argv)
    try:
        rebase = [parse_rebase(spec) for spec in args.rebase]
        profile = load_profile_rebased(args.profile, rebase)
        site = find_site(profile, args.source)
    except (ValueError, ProfileError, KeyError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        print(json.dumps(CrawlReport(source=args.source, error=str(exc).strip("'\"")).to_json()), flush=True)
        return 2
    report = crawl_here(profile, site, args.db, args.max_seconds)
    print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
    code = 0 if report.ok else 1
    if _forced:  # the reactor crashed: its threads and sockets were never shut down, so do not wait for them
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
