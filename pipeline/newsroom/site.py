"""The URL scheme: maps a request path onto a page, a feed or a sitemap, and encodes it as the outlet does.

    /                                    index of outlets (for people)
    /robots.txt                          disallows /hronske/interne/
    /{outlet}/                           home: the newest listed articles
    /{outlet}/sekcia/{section}/          section page (/herald/section/{section}/ for the English outlet)
    /{outlet}/{YYYY}/{MM}/{slug}/        article page (a wrong year/month or a missing slash redirects)
    /hronske/interne/{slug}/             robots-disallowed newsroom page
    /{outlet}/{feed path}                the feeds named in content/outlets.yaml
    /hronske/sitemap.xml, /hronske/news-sitemap.xml
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from presswatch.newsroom import feeds, pages
from presswatch.newsroom.content import Catalogue, NewsArticle, Outlet

HOME_LIMIT = 10
_YEAR, _MONTH = re.compile(r"^\d{4}$"), re.compile(r"^\d{2}$")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    last_modified: datetime | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def cacheable(self) -> bool:
        return self.status == 200


def _text(status: int, text: str) -> Response:
    return Response(status, text.encode("utf-8"))


NOT_FOUND = _text(404, "404 Not Found\n")


def _redirect(location: str) -> Response:
    return Response(301, b"", headers=(("Location", location),))


class Site:
    """Stateless view of a catalogue at one moment: `respond(path)` is all the HTTP handler calls."""

    def __init__(self, catalogue: Catalogue, base: str, now: datetime, revisions: dict[str, datetime]) -> None:
        self.catalogue = catalogue
        self.base = base
        self.now = now  # the newsroom clock at the time of the request
        self.revisions = revisions  # per outlet: when its listings and feeds last changed

    def respond(self, target: str) -> Response:
        path, _, query = target.partition("?")
        if path == "/":
            html = pages.index_page(list(self.catalogue.outlets.values()), self.base)
            return Response(200, html.encode("utf-8"), "text/html; charset=utf-8")
        if path == "/robots.txt":
            sitemap_outlets = [o.id for o in self.catalogue.outlets.values() if o.sitemaps]
            return _text(200, feeds.robots_txt(self.base, sitemap_outlets))
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in self.catalogue.outlets:
            return NOT_FOUND
        outlet = self.catalogue.outlets[parts[0]]
        rest = parts[1:]
        if rest and "." in rest[-1]:
            return self._file(outlet, rest)
        if not path.endswith("/"):
            return _redirect(self.base + path + "/" + (f"?{query}" if query else ""))
        if not rest:
            return self._home(outlet)
        if len(rest) == 2 and rest[0] == outlet.section_path:
            return self._section(outlet, rest[1])
        if len(rest) == 3 and _YEAR.match(rest[0]) and _MONTH.match(rest[1]):
            return self._article(outlet, rest[2], path)
        if len(rest) == 2 and rest[0] == "interne":
            return self._article(outlet, rest[1], path)
        return NOT_FOUND

    # --- pages ----------------------------------------------------------------------------------------------

    def _html(self, outlet: Outlet, html: str, last_modified: datetime, charset: str | None = None) -> Response:
        # Characters the legacy encoding lacks become numeric references, as old CMSs do.
        body = html.encode(outlet.encoding, errors="xmlcharrefreplace")
        return Response(200, body, f"text/html; charset={charset or outlet.encoding}", last_modified)

    def _listed(self, outlet: Outlet) -> list[NewsArticle]:
        return [a for a in self.catalogue.of(outlet.id) if a.listed and a.crawlable]

    def _home(self, outlet: Outlet) -> Response:
        items = self._listed(outlet)[:HOME_LIMIT]
        html = pages.listing_page(outlet, items, self.base, self.now, f"{self.base}/{outlet.id}/")
        return self._html(outlet, html, self.revisions[outlet.id])

    def _section(self, outlet: Outlet, slug: str) -> Response:
        if slug not in {s.slug for s in outlet.sections}:
            return NOT_FOUND
        items = [a for a in self._listed(outlet) if a.section == slug]
        # Robots-disallowed pages are linked from their section page: a crawler must check robots.txt.
        internal = [a for a in self.catalogue.of(outlet.id) if not a.crawlable and a.section == slug]
        canonical = f"{self.base}/{outlet.id}/{outlet.section_path}/{slug}/"
        html = pages.listing_page(outlet, items, self.base, self.now, canonical, slug, internal)
        return self._html(outlet, html, self.revisions[outlet.id])

    def _article(self, outlet: Outlet, slug: str, path: str) -> Response:
        article = self.catalogue.find(outlet.id, slug)
        if article is None:
            return NOT_FOUND
        if article.path != path:
            return _redirect(article.url)
        html = pages.article_page(outlet, article, self.catalogue.of(outlet.id), self.base, self.now)
        return self._html(outlet, html, article.modified, article.http_charset)

    # --- feeds and sitemaps ---------------------------------------------------------------------------------

    def _file(self, outlet: Outlet, rest: list[str]) -> Response:
        name = "/".join(rest)
        articles = self.catalogue.of(outlet.id)
        revision = self.revisions[outlet.id]
        for feed in outlet.feeds:
            if feed.path == name:
                xml = feeds.render_feed(outlet, feed, articles, self.base, revision)
                body = xml.encode(outlet.encoding, errors="xmlcharrefreplace")
                return Response(200, body, feeds.content_type(feed, outlet), revision)
        if outlet.sitemaps and name == "news-sitemap.xml":
            xml = feeds.render_news_sitemap(outlet, articles, self.base, self.now)
            return Response(200, xml.encode("utf-8"), "application/xml; charset=utf-8", revision)
        if outlet.sitemaps and name == "sitemap.xml":
            xml = feeds.render_sitemap(outlet, articles, self.base)
            return Response(200, xml.encode("utf-8"), "application/xml; charset=utf-8", revision)
        return NOT_FOUND
