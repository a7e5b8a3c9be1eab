"""Scrapy downloader middleware: the site crawl requests http and https only, as crawlers/http.py does.

Scrapy ships download handlers for `file:`, `data:`, `s3:` and `ftp:`; a sitemap `<loc>` or a link naming one of
those would be fetched from this machine (scrapy_settings.py also switches those handlers off). Scrapy's own
RedirectMiddleware (2.19) already declines to follow a `Location` to another scheme, but then hands the 3xx on
as an unexplained "HTTP 302"; this middleware sits before it on the way back (a higher number) and turns such a
redirect into an error naming both URLs and the scheme, which the spider records in the source's health.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from presswatch.crawlers.http import ALLOWED_SCHEMES, REDIRECT_STATUSES


class SchemeRefused(IgnoreRequest):
    """A URL or a redirect target that is not http(s): refused by policy, never requested."""


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


class SchemeGuardMiddleware:
    """Refuse requests, and redirects, to anything but http and https."""

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        scheme = _scheme(request.url)
        if scheme not in ALLOWED_SCHEMES:
            raise SchemeRefused(f"{request.url}: refused: scheme {scheme or '(none)'!r} is not http or https")

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        location = response.headers.get(b"Location")
        if response.status in REDIRECT_STATUSES and location:
            target = urljoin(request.url, location.decode("latin-1").strip())
            scheme = _scheme(target)
            if scheme not in ALLOWED_SCHEMES:
                raise SchemeRefused(f"redirect from {request.url} to {target} refused: scheme"
                                    f" {scheme or '(none)'!r} is not http or https")
        return response


__all__ = ["SchemeGuardMiddleware", "SchemeRefused"]
