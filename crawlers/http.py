"""The one HTTP fetch that feeds, robots.txt and article pages go through.

Everything a collector must not get wrong in one place: connect/read timeouts plus a deadline for the whole
response (a server that trickles a byte every few seconds never trips a read timeout), a byte cap applied to the
wire bytes *and* to the decompressed bytes (a gzip bomb is small on the wire), redirects followed by hand so the
chain is recorded and a redirect to `ftp:` or `file:` is refused, gzip recognised by its magic bytes when the
server forgets `Content-Encoding`, conditional GET, and a User-Agent naming the operator.

Failures are values: `fetch` never raises for anything the network or the server does; `FetchResult.error` says
what happened and names the URL.
"""

from __future__ import annotations

import re
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from presswatch import settings
from presswatch.profile import Operator, Profile

try:  # brotli is optional: decoded when a server sends it, never asked for
    import brotli
except ImportError:  # pragma: no cover - brotli is installed with scrapy's extras
    brotli = None

ALLOWED_SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024
# Wire-form headers: after decoding, the body no longer matches them, so they are not handed on.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"})


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one GET produced. `body` is decoded (gzip/deflate/br removed); `headers` have lower-case names."""

    url: str  # as requested
    status: int | None  # None when no HTTP answer arrived (refused, timeout, bad scheme)
    final_url: str  # after redirects
    headers: dict[str, str]
    body: bytes
    redirects: tuple[str, ...] = ()  # every URL that answered with a redirect, in order
    not_modified: bool = False  # 304 to a conditional GET
    error: str | None = None  # set for every failure, including HTTP 4xx/5xx and "too large"
    truncated: bool = False  # the body stopped at the byte cap
    refused: bool = False  # not requested by policy (scheme, robots.txt): trying again will not help
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        """A usable 2xx body (a 304 is not an error, but has no body: check `not_modified`)."""
        return self.error is None and not self.not_modified and self.status is not None \
            and 200 <= self.status < 300


class TooLarge(Exception):
    pass


def is_fetchable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ALLOWED_SCHEMES and bool(parts.hostname)


def _ascii(text: str) -> str:
    """Header-safe text: diacritics folded (č -> c), dashes to '-', anything else non-printable dropped.

    http.client encodes header values as Latin-1, so "Stará Hôrka – tlačové" would raise; and a CR/LF in the
    profile must never reach the wire (header injection)."""
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if " " <= c <= "~").strip()


def user_agent(operator: Operator) -> str:
    """settings.USER_AGENT filled with the profile's operator, ASCII only."""
    ua = settings.USER_AGENT.format(operator=_ascii(operator.name) or "presswatch",
                                    contact=_ascii(operator.contact))
    ua = re.sub(r";\s*\)", ")", ua)  # no contact: no dangling separator
    return re.sub(r"\s+", " ", ua)


def _inflate(data: bytes, wbits: int, max_bytes: int) -> bytes:
    """zlib/gzip decompression that stops past `max_bytes` of output; concatenated gzip members are joined."""
    out = bytearray()
    while data:
        d = zlib.decompressobj(wbits)
        out += d.decompress(data, max_bytes + 1 - len(out))
        if len(out) > max_bytes or d.unconsumed_tail:
            raise TooLarge
        if not d.eof:  # truncated stream: keep what was readable, as browsers do
            break
        data = d.unused_data
        if not data.startswith(GZIP_MAGIC):
            break
    return bytes(out)


def decode_body(raw: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """Undo Content-Encoding (gzip, deflate, br), then gunzip once more when the bytes still start with the gzip
    magic (servers that gzip without saying so, or twice). Raises TooLarge past `max_bytes` of output and
    ValueError when a declared encoding cannot be decoded."""
    body = raw
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):  # applied in order, so undone in reverse
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            if body.startswith(GZIP_MAGIC):  # some servers label plain bodies gzip; keep those as they are
                body = _inflate(body, 16 + zlib.MAX_WBITS, max_bytes)
        elif coding == "deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS, max_bytes)  # RFC 9110: zlib-wrapped
            except zlib.error:
                body = _inflate(body, -zlib.MAX_WBITS, max_bytes)  # what many servers actually send: raw deflate
        elif coding == "br":
            if brotli is None:
                raise ValueError("brotli-encoded body and no brotli module installed")
            body = brotli.decompress(body)
            if len(body) > max_bytes:
                raise TooLarge
        else:
            raise ValueError(f"unknown Content-Encoding {coding!r}")
    if body.startswith(GZIP_MAGIC):
        try:
            body = _inflate(body, 16 + zlib.MAX_WBITS, max_bytes)
        except zlib.error:
            pass  # not gzip after all: binary content that happens to start with 1f 8b
    return body


def _headers(resp: urllib3.BaseHTTPResponse) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in resp.headers:
        value = resp.headers.get(name)
        if value is not None:
            out[name.lower()] = value
    return out


def _describe(exc: Exception, timeout_s: float) -> str:
    # Most specific first: urllib3 2 makes NewConnectionError a ConnectTimeoutError for backwards compatibility.
    if isinstance(exc, NameResolutionError):
        return "host name not found"
    if isinstance(exc, NewConnectionError):
        reason = str(exc.__context__ or exc).replace("\n", " ")
        return f"connection failed ({reason})"
    if isinstance(exc, ConnectTimeoutError):
        return f"connect timed out after {timeout_s:g} s"
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return f"read timed out after {timeout_s:g} s"
    if isinstance(exc, SSLError):
        return f"TLS error ({exc})"
    if isinstance(exc, ProtocolError):
        return f"connection broken ({exc})"
    if isinstance(exc, LocationParseError):
        return "malformed URL"
    return f"{type(exc).__name__}: {exc}"


class HttpClient:
    """A pooled, thread-safe fetcher. One per profile: the User-Agent names the profile's operator."""

    def __init__(self, user_agent: str, *, timeout_s: float = settings.HTTP_TIMEOUT_S,
                 total_timeout_s: float = settings.HTTP_TOTAL_TIMEOUT_S,
                 max_redirects: int = settings.HTTP_MAX_REDIRECTS, pool_size: int = settings.FETCH_CONCURRENCY) -> None:
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self.total_timeout_s = max(total_timeout_s, timeout_s)
        self.max_redirects = max_redirects
        self._pool = urllib3.PoolManager(
            num_pools=64, maxsize=pool_size, block=False, retries=False,
            timeout=urllib3.Timeout(connect=timeout_s, read=timeout_s),
        )

    @classmethod
    def from_profile(cls, profile: Profile, *, timeout_s: float = settings.HTTP_TIMEOUT_S,
                     total_timeout_s: float = settings.HTTP_TOTAL_TIMEOUT_S) -> HttpClient:
        return cls(user_agent(profile.operator), timeout_s=timeout_s, total_timeout_s=total_timeout_s)

    def close(self) -> None:
        self._pool.clear()

    def fetch(self, url: str, *, max_bytes: int = settings.PAGE_MAX_BYTES, etag: str | None = None,
              last_modified: str | None = None, accept: str | None = None,
              guard: Callable[[str], str | None] | None = None) -> FetchResult:
        """GET `url`. Never raises for network or server trouble: see FetchResult.error.

        `guard(url)` is asked before every request, redirects included, and returns why a URL must not be
        requested (robots.txt) or None."""
        start = time.monotonic()
        deadline = start + self.total_timeout_s
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
                   "Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[str] = []
        current = url

        def failed(message: str, status: int | None = None, hdrs: dict[str, str] | None = None,
                   body: bytes = b"", truncated: bool = False, refused: bool = False) -> FetchResult:
            return FetchResult(url=url, status=status, final_url=current, headers=hdrs or {}, body=body,
                               redirects=tuple(redirects), error=message, truncated=truncated, refused=refused,
                               elapsed_s=time.monotonic() - start)

        for _hop in range(self.max_redirects + 1):
            if not is_fetchable(current):
                scheme = urlsplit(current).scheme or "(none)"
                if redirects:
                    return failed(f"redirect from {redirects[-1]} to {current} refused: scheme {scheme!r} is not"
                                  " http or https", refused=True)
                return failed(f"{current}: refused: scheme {scheme!r} is not http or https", refused=True)
            reason = guard(current) if guard is not None else None
            if reason is not None:
                via = f" (redirected from {redirects[-1]})" if redirects else ""
                return failed(f"{current}{via}: not requested: {reason}", refused=True)
            try:
                resp = self._pool.request("GET", current, headers=headers, redirect=False, retries=False,
                                          preload_content=False, decode_content=False)
            except (HTTPError, OSError, ValueError) as exc:
                return failed(f"GET {current}: {_describe(exc, self.timeout_s)}")
            try:
                status = resp.status
                if status in REDIRECT_STATUSES:
                    location = resp.headers.get("Location")
                    resp.drain_conn()
                    if not location:
                        return failed(f"GET {current}: HTTP {status} without a Location header", status)
                    redirects.append(current)
                    current = urljoin(current, location.strip())
                    continue
                hdrs = _headers(resp)
                if status == 304:
                    resp.drain_conn()
                    return FetchResult(url=url, status=304, final_url=current, headers=hdrs, body=b"",
                                       redirects=tuple(redirects), not_modified=True,
                                       elapsed_s=time.monotonic() - start)
                declared = hdrs.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    # truncated: as final as a body cut at the cap (the page fetcher parks it, not retries it)
                    return failed(f"GET {current}: too large: Content-Length {declared} exceeds the cap of"
                                  f" {max_bytes} bytes", status, hdrs, truncated=True)
                raw, truncated, timed_out = self._read(resp, max_bytes, deadline)
                if timed_out:
                    return failed(f"GET {current}: too slow: response not complete after"
                                  f" {self.total_timeout_s:g} s", status, hdrs, raw)
                if truncated:
                    return failed(f"GET {current}: too large: more than {max_bytes} bytes", status, hdrs, raw,
                                  truncated=True)
                try:
                    body = decode_body(raw, hdrs.get("content-encoding"), max_bytes)
                except TooLarge:
                    return failed(f"GET {current}: too large: more than {max_bytes} bytes once decompressed",
                                  status, hdrs, truncated=True)
                except (ValueError, zlib.error) as exc:
                    return failed(f"GET {current}: undecodable body ({exc})", status, hdrs, raw)
                hdrs = {k: v for k, v in hdrs.items() if k not in _WIRE_HEADERS}
                error = None
                if not 200 <= status < 300:
                    error = f"GET {current}: HTTP {status} {resp.reason or ''}".rstrip()
                return FetchResult(url=url, status=status, final_url=current, headers=hdrs, body=body,
                                   redirects=tuple(redirects), error=error, elapsed_s=time.monotonic() - start)
            except (HTTPError, OSError) as exc:
                return failed(f"GET {current}: {_describe(exc, self.timeout_s)}")
            finally:
                resp.release_conn()
        return failed(f"GET {url}: more than {self.max_redirects} redirects (last: {current})")

    @staticmethod
    def _read(resp: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float) -> tuple[bytes, bool, bool]:
        """Read the raw body up to max_bytes + 1: (bytes, truncated, timed out). A connection we stop reading
        early is closed, not returned to the pool half-read."""
        buf = bytearray()
        while True:
            if time.monotonic() > deadline:
                resp.close()
                return bytes(buf), False, True
            chunk = resp.read1(_CHUNK)  # one socket read: the deadline stays live
            if not chunk:
                return bytes(buf), False, False
            buf += chunk
            if len(buf) > max_bytes:
                resp.close()
                return bytes(buf[:max_bytes]), True, False


__all__ = ["FetchResult", "HttpClient", "decode_body", "is_fetchable", "user_agent", "TooLarge",
           "ALLOWED_SCHEMES"]
