"""A loopback HTTP server for the crawler tests, serving exactly the bytes a test sets up (Scrapy's own tests
do the same with tests/mockserver/). The other crawler test modules import it: `from tests.test_crawl_server import
Reply, Server`. The tests at the bottom check the server itself.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

OPERATOR_YAML = "operator: {name: Mesto Stará Hôrka – tlačové oddelenie, contact: tlacove@stara-horka.example}"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    etag: str | None = None  # answer If-None-Match with 304
    delay_s: float = 0.0  # before the status line (a slow server)
    chunk_delay_s: float = 0.0  # between body chunks (a trickling server)
    chunk_size: int = 0  # 0: the body in one write
    content_length: bool = True  # False: no Content-Length, the body ends when the connection closes


Route = Reply | Callable[["Request"], Reply]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a handler that sleeps on purpose
    allow_reuse_address = True

    def __init__(self, owner: Server) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on a slow reply is what the test wanted


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
        owner._enter(request)
        try:
            self._reply(owner.resolve(request))
        finally:
            owner._leave()

    def _reply(self, reply: Reply) -> None:
        if reply.delay_s:
            time.sleep(reply.delay_s)
        status, body = reply.status, reply.body
        if reply.etag and self.headers.get("If-None-Match") == reply.etag:
            status, body = 304, b""
        self.send_response(status)
        if reply.content_type and status != 304:
            self.send_header("Content-Type", reply.content_type)
        if reply.etag:
            self.send_header("ETag", reply.etag)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.content_length or status == 304:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if status == 304:
            return
        size = reply.chunk_size or len(body) or 1
        for i in range(0, len(body), size):
            if i and reply.chunk_delay_s:
                time.sleep(reply.chunk_delay_s)
            self.wfile.write(body[i:i + size])
            self.wfile.flush()


class LoopbackServer:
    """A test HTTP server on 127.0.0.1 (an ephemeral port) in a thread, for `with`; subclasses say which
    ThreadingHTTPServer (`server_class`, built with the owner) answers."""

    server_class: Callable[[Any], ThreadingHTTPServer]
    _httpd: ThreadingHTTPServer | None = None
    base_url = ""

    def __enter__(self) -> Self:
        self._httpd = self.server_class(self)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="test-http",
                         daemon=True).start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str) -> str:
        return self.base_url + path


class Server(LoopbackServer):
    """Routes are exact paths (query string included when the route has one, else ignored)."""

    server_class = _HTTPServer

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()

    def resolve(self, request: Request) -> Reply:
        route = self.routes.get(request.path) or self.routes.get(request.path.partition("?")[0])
        if route is None:
            return Reply(404, b"not found\n", "text/plain")
        return route(request) if callable(route) else route

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.partition("?")[0] == path.partition("?")[0])

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def _enter(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


def profile_yaml(feeds: dict[str, str] | None = None, releases: dict[str, str] | None = None,
                 sites: str = "") -> str:
    """A minimal valid profile: feed/release id -> URL (outlet "o"), plus a YAML block of site sources."""
    def block(items: dict[str, str] | None) -> str:
        return "".join(f"    - {{id: {k}, outlet: o, url: '{v}'}}\n" for k, v in (items or {}).items()) or "    []\n"
    return (
        "municipality: {id: test-town, name: Test Town, country: SK, languages: [sk], timezone: Europe/Bratislava}\n"
        "outlets:\n  - {id: o, name: Outlet}\n"
        "sources:\n  feeds:\n" + block(feeds) + "  releases:\n" + block(releases)
        + "  sites:\n" + (sites or "    []\n") + OPERATOR_YAML + "\n"
    )


def free_port() -> int:
    """A port nothing listens on (bound and released): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# --- the server's own tests ------------------------------------------------------------------------------------

def test_server_serves_routes_and_logs_requests() -> None:
    with Server({"/a": Reply(body=b"hello", etag='"1"')}) as srv:
        with urllib.request.urlopen(srv.url("/a?x=1"), timeout=5) as resp:
            assert resp.read() == b"hello"
        req = urllib.request.Request(srv.url("/a"), headers={"If-None-Match": '"1"'})
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("expected a 304")
        except urllib.error.HTTPError as exc:
            assert exc.code == 304
        assert srv.count("/a") == 2 and srv.paths()[0] == "/a?x=1"
