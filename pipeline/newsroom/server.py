"""The local newsroom's HTTP server: the standard library's ThreadingHTTPServer in a daemon thread.

    with Newsroom(now=datetime(2026, 11, 22, 6, 0, tzinfo=UTC)) as newsroom:
        urllib.request.urlopen(newsroom.base_url + "/horcan/rss.xml")

Run it by hand with `python -m presswatch.newsroom.server --port 8765`. The site answers conditional GETs
(ETag, Last-Modified, 304) and logs every request, so tests can assert on what a crawler fetched.
"""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

from presswatch.newsroom.content import (
    CONTENT_DIR,
    Catalogue,
    NewsArticle,
    Outlet,
    article_path,
    load_articles,
    load_outlets,
    parse_expect,
)
from presswatch.newsroom.render import http_date
from presswatch.newsroom.site import Response, Site


class RequestRecord(NamedTuple):
    method: str
    path: str  # as requested, query string included
    status: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client holding a keep-alive connection must not block stop()
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], newsroom: Newsroom) -> None:
        super().__init__(address, _Handler)
        self.newsroom = newsroom


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "NewsroomHTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is `Newsroom.requests`; stderr stays quiet in tests

    def _serve(self, head: bool) -> None:
        newsroom = self.server.newsroom
        try:
            status, headers, body = self._prepare(newsroom.site().respond(self.path))
        except Exception as exc:  # noqa: BLE001 - a bug in a page must be a 500, not a dropped connection
            status, headers, body = 500, [("Content-Type", "text/plain; charset=utf-8")], f"{exc!r}\n".encode()
        newsroom._log(RequestRecord(self.command, self.path, status))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _prepare(self, response: Response) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body for a response, answering conditional requests with 304."""
        headers = list(response.headers)
        if not response.cacheable:
            return response.status, headers + [("Content-Type", response.content_type)], response.body
        etag = '"' + hashlib.sha1(response.body).hexdigest()[:20] + '"'
        headers += [("ETag", etag), ("Cache-Control", "max-age=60")]
        if response.last_modified is not None:
            headers.append(("Last-Modified", http_date(response.last_modified)))
        if _not_modified(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), etag,
                         response.last_modified):
            return 304, headers, b""
        return 200, headers + [("Content-Type", response.content_type)], response.body


def _not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str,
                  last_modified: datetime | None) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since counts only without it.
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if if_modified_since and last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


class Newsroom:
    """The fictional outlets on loopback. Content is loaded at `start`, dated against the fixed `now`."""

    def __init__(self, now: datetime | None = None, content_dir: Path = CONTENT_DIR) -> None:
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.now = now.astimezone(UTC).replace(microsecond=0)
        self.content_dir = content_dir
        self.base_url = ""
        self.requests: list[RequestRecord] = []
        self._catalogue = Catalogue(outlets={})
        self._revisions: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._started_at = 0.0  # monotonic; the newsroom clock runs from `now` at real speed

    # --- lifecycle ------------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Load the content, bind (port 0: any free port) and serve in a daemon thread. Returns the base URL."""
        if self._server is not None:
            raise RuntimeError("the newsroom is running already")
        outlets = load_outlets(self.content_dir)
        articles = load_articles(outlets, self.now, self.content_dir)
        self._server = _Server((host, port), self)
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{_url_host(str(bound_host))}:{bound_port}"
        self._catalogue = Catalogue(outlets, [_located(a, self.base_url) for a in articles])
        self._revisions = {o: max((a.modified for a in self._catalogue.of(o)), default=self.now)
                           for o in outlets}
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._server.serve_forever, name="newsroom", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> Self:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- content --------------------------------------------------------------------------------------------

    @property
    def outlets(self) -> dict[str, Outlet]:
        return dict(self._catalogue.outlets)

    @property
    def articles(self) -> list[NewsArticle]:
        """Every article, newest first (robots-disallowed ones included: see `NewsArticle.crawlable`)."""
        with self._lock:
            return list(self._catalogue.articles)

    def article(self, outlet: str, slug: str) -> NewsArticle:
        with self._lock:
            found = self._catalogue.find(outlet, slug)
        if found is None:
            raise KeyError(f"{outlet}/{slug}")
        return found

    def clock(self) -> datetime:
        """The newsroom's time: `now` at start, advancing in real time (added articles are dated by it)."""
        elapsed = time.monotonic() - self._started_at if self._started_at else 0.0
        return self.now + timedelta(seconds=elapsed)

    def add_article(self, outlet: str, slug: str, title: str, body: str | Sequence[str], age_hours: float = 0,
                    *, lead: str | None = None, author: str | None = None, section: str | None = None,
                    **expect: Any) -> NewsArticle:
        """Publish a new article while the server runs: it appears on the home page, its section page and the
        outlet's feed or sitemap. `expect` takes the keys of the expect block (relevant, officials, ...)."""
        if self._server is None:
            raise RuntimeError("start the newsroom before adding articles")
        if outlet not in self._catalogue.outlets:
            raise ValueError(f"unknown outlet {outlet!r}")
        o = self._catalogue.outlets[outlet]
        section = section or o.sections[0].slug
        o.section(section)  # KeyError for a section the outlet does not have
        paragraphs = (body,) if isinstance(body, str) else tuple(body)
        published = (self.clock() - timedelta(hours=age_hours)).replace(microsecond=0)
        for key in ("officials", "bodies"):
            if key in expect:
                expect[key] = list(expect[key])
        record = NewsArticle(
            outlet=outlet, slug=slug, title=title, body=paragraphs, author=author or o.name, section=section,
            lang=o.lang, published=published, expect=parse_expect(expect, f"add_article({outlet}/{slug})"),
            lead=lead, path=article_path(outlet, slug, published),
        )
        record = _located(record, self.base_url)
        with self._lock:
            self._catalogue.add(record)
            # Strictly later than before, even within the same second, so If-Modified-Since sees the change.
            previous = self._revisions[outlet]
            self._revisions[outlet] = max(previous + timedelta(seconds=1), self.clock().replace(microsecond=0),
                                          record.modified)
        return record

    # --- serving --------------------------------------------------------------------------------------------

    def site(self) -> Site:
        with self._lock:
            catalogue = Catalogue(self._catalogue.outlets, list(self._catalogue.articles))
            revisions = dict(self._revisions)
        return Site(catalogue, self.base_url, self.clock(), revisions)

    def url(self, path: str) -> str:
        return self.base_url + path

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def fetch_count(self, path_or_url: str, method: str = "GET") -> int:
        """How often a path was requested with a 200 or 304 answer, query strings ignored."""
        path = path_or_url.removeprefix(self.base_url).partition("?")[0]
        with self._lock:
            return sum(1 for r in self.requests
                       if r.method == method and r.path.partition("?")[0] == path and r.status in (200, 304))


def _located(article: NewsArticle, base: str) -> NewsArticle:
    return replace(article, url=base + article.path)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="presswatch.newsroom.server",
                                     description="Serve the fictional local newsroom until Ctrl-C.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    newsroom = Newsroom()
    base = newsroom.start(args.host, args.port)
    print(base, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        newsroom.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
