"""Shared parts of the fault tests (issue #7): a loopback HTTP server that can stream a body of any size from a
generator (never held in memory) and counts the bytes it actually sent, plus pages, feeds and a profile.
The tests at the bottom check the server itself.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from presswatch.crawlers.http import HttpClient
from presswatch.cycle import Pipeline
from presswatch.profile import Profile, parse_profile
from tests.test_crawl_server import LoopbackServer, profile_yaml

UA = "presswatch-faults/1"


@dataclass
class Stream:
    """A reply whose body comes from `chunks()` as it is written. `content_length`: the header to declare (None:
    none, the body ends when the connection closes); `close_after`: hang up after the body, whatever was declared.
    `delay_s`: wait before the status line (a server that does not answer)."""

    chunks: Callable[[], Iterator[bytes]]
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    content_length: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay_s: float = 0.0


def body(data: bytes, **kw: Any) -> Stream:
    return Stream(lambda: iter([data]), content_length=kw.pop("content_length", len(data)), **kw)


def repeat(chunk: bytes, total: int) -> Callable[[], Iterator[bytes]]:
    """`total` bytes made of `chunk`, generated as they are sent."""
    def gen() -> Iterator[bytes]:
        left = total
        while left > 0:
            piece = chunk[:left]
            left -= len(piece)
            yield piece
    return gen


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, owner: StreamServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up is what several tests want


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        path = self.path.partition("?")[0]
        with owner.lock:
            owner.hits[path] = owner.hits.get(path, 0) + 1
        reply = owner.routes.get(path)
        if reply is None:
            reply = body(b"not found\n", status=404, content_type="text/plain")
        if reply.delay_s:
            time.sleep(reply.delay_s)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.content_length is not None:
            self.send_header("Content-Length", str(reply.content_length))
        # Every reply ends its connection, and says so: a client must not pool a connection this server closes.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        try:
            for chunk in reply.chunks():
                self.wfile.write(chunk)
                with owner.lock:
                    owner.sent[path] = owner.sent.get(path, 0) + len(chunk)
        except OSError:
            return  # the client hung up (the byte cap did its job)


class StreamServer(LoopbackServer):
    """`with StreamServer({"/path": Stream(...)}) as srv: srv.url("/path"), srv.sent["/path"]`"""

    server_class = _HTTPServer

    def __init__(self, routes: dict[str, Stream] | None = None) -> None:
        self.routes: dict[str, Stream] = dict(routes or {})
        self.hits: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.lock = threading.Lock()


def article(slug: str, words: int = 120) -> bytes:
    text = " ".join(f"Mestské zastupiteľstvo {slug} schválilo rozpočet na opravu ciest číslo {i}." for i in range(
        words // 10))
    return (f"<!doctype html><html lang=sk><head><meta charset=utf-8><title>Článok {slug}</title></head><body>"
            f"<article><h1>Článok {slug}</h1><p>{text}</p><p>{text}</p></article></body></html>").encode()


def rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>Položka {n}</title><link>{link}</link>"
                    f"<pubDate>Fri, 04 Dec 2026 08:00:00 GMT</pubDate></item>" for n, link in enumerate(links))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed</title>'
            f"<link>http://127.0.0.1/</link>{items}</channel></rss>").encode()


def fault_profile(feeds: dict[str, str], store: str = "") -> Profile:
    return parse_profile(profile_yaml(feeds) + store)


def pipeline(profile: Profile, tmp_path: Path, db: Path | None = None, timeout_s: float = 0.5) -> Pipeline:
    """A Pipeline on a store file in tmp_path whose HTTP client gives up quickly (a test must not wait 20 s)."""
    path = tmp_path / "profile.yaml"
    pipe = Pipeline(profile, path, db or tmp_path / "presswatch.db")
    http = HttpClient(UA, timeout_s=timeout_s, total_timeout_s=max(2.0, 4 * timeout_s))
    pipe.poller.http = http
    pipe.fetcher.http = http
    return pipe


# --- the server's own tests ------------------------------------------------------------------------------------

def test_stream_server_streams_and_counts() -> None:
    with StreamServer({"/a": Stream(repeat(b"x" * 1000, 5500)), "/b": body(b"hello")}) as srv:
        with urllib.request.urlopen(srv.url("/a"), timeout=5) as resp:
            assert resp.read() == b"x" * 5500
        with urllib.request.urlopen(srv.url("/b"), timeout=5) as resp:
            assert resp.read() == b"hello" and resp.headers["Content-Length"] == "5"
    assert srv.sent == {"/a": 5500, "/b": 5} and srv.hits == {"/a": 1, "/b": 1}
