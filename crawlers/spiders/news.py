"""The generic news-site spider, configured from a profile's SiteSource.

Where it looks: the configured sitemaps (Google News sitemaps list the freshest articles, including ones no
section page links to), or, when none are configured, the `Sitemap:` lines of the site's robots.txt; and the
start URLs (home and section pages), followed within the site's scope up to the source's depth.

What it stores: a page whose URL matches the source's `allow` patterns (when it has any) and that looks like an
article: `og:type=article` or a JSON-LD `NewsArticle`/`Article` say so; a page that declares itself a listing
(`og:type=website`, JSON-LD `CollectionPage`) is not one; with neither, the URL's shape decides. A page is
stored as a RawPage item (the pipeline puts it in the durable queue) under the canonical URL it was requested
by, which is how feeds name it too, so an article already discovered through a feed is never requested again.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from presswatch import settings
from presswatch.crawlers.canonical import canonical_from_html, canonical_url
from presswatch.crawlers.http import TooLarge, decode_body
from presswatch.crawlers.middlewares import SchemeRefused
from presswatch.crawlers.sitemaps import ARTICLE_URL, Sitemap, SitemapEntry, parse_sitemap
from presswatch.profile import SiteSource
from presswatch.records import RawPage
from presswatch.state import utcnow

# schema.org types of a single article (https://schema.org/Article and its subtypes used by news sites)
ARTICLE_TYPES = frozenset({
    "Article", "NewsArticle", "AnalysisNewsArticle", "AskPublicNewsArticle", "BackgroundNewsArticle",
    "OpinionNewsArticle", "ReportageNewsArticle", "ReviewNewsArticle", "BlogPosting", "LiveBlogPosting",
    "Report", "SatiricalArticle",
})
# ... and of pages that list articles
LISTING_TYPES = frozenset({"CollectionPage", "ItemList", "SearchResultsPage", "WebSite", "ProfilePage"})
MAX_SITEMAP_NESTING = 3
MAX_ERRORS = 100

KNOWN_SKIPPED = "presswatch/known_skipped"
CANONICAL_DUPLICATE = "presswatch/canonical_duplicate"
NOT_ARTICLE = "presswatch/not_article"
SITEMAP_ENTRIES = "presswatch/sitemap_entries"
ENTRY_OK = "presswatch/entry_ok"
ENTRY_FAILED = "presswatch/entry_failed"
DEAD_LINKS = "presswatch/dead_links"  # 4xx answers to navigation links (not entry points, not articles)


# --- article heuristics --------------------------------------------------------------------------------------

def _jsonld_types(sel: Selector) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            kind = node.get("@type")
            for t in kind if isinstance(kind, list) else [kind]:
                if isinstance(t, str):
                    found.add(t.rsplit("/", 1)[-1])
            if "@graph" in node:
                walk(node["@graph"])

    for script in sel.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            walk(json.loads(script))
        except (ValueError, RecursionError):
            continue  # broken JSON-LD is common; it just says nothing
    return found


def page_kind(sel: Selector, url: str, url_pattern: Callable[[str], bool]) -> tuple[bool, str]:
    """(is an article, why). Declared metadata wins over the URL's shape."""
    og = (sel.xpath('//meta[@property="og:type" or @name="og:type"]/@content').get() or "").strip().lower()
    types = _jsonld_types(sel)
    if og == "article" or og.startswith("article"):
        return True, "og:type=article"
    if types & ARTICLE_TYPES:
        return True, "JSON-LD " + "/".join(sorted(types & ARTICLE_TYPES))
    if og in ("website", "profile", "object") or types & LISTING_TYPES:
        return False, f"declared a listing (og:type={og or '-'}, JSON-LD {sorted(types) or '-'})"
    if url_pattern(url):
        return True, "URL shape"
    return False, "no article signal"


# --- the spider ----------------------------------------------------------------------------------------------

def _scope(url: str) -> str:
    """The part of a site a start URL or sitemap stands for: its origin and directory (http://h/hronske/)."""
    canonical = canonical_url(url)
    return canonical[: canonical.rfind("/") + 1] if urlsplit(canonical).path else canonical


class NewsSpider(Spider):
    name = "news"

    def __init__(self, source: SiteSource, known: Callable[[str], bool] | None = None, **kwargs: Any) -> None:
        super().__init__(name=f"news-{source.id}", **kwargs)
        self.source = source
        self.known = known or (lambda _url: False)
        self.allow = [re.compile(p) for p in source.allow]
        self.deny = [re.compile(p) for p in source.deny]
        entry_urls = [*source.sitemaps, *source.start_urls]
        self.allowed_domains = sorted({h for h in (urlsplit(u).hostname for u in entry_urls) if h})
        self.scopes = tuple(sorted({_scope(u) for u in entry_urls}))
        self.requested: set[str] = set()  # canonical URLs asked for in this run
        self.errors: list[str] = []
        # sitemap `lastmod` per canonical URL: written to the store after the crawl (State.revise), not from a
        # callback, so no SQLite write ever blocks the reactor (scrapy#4689); a newer one means "fetch again"
        self.lastmod: dict[str, datetime] = {}

    # --- what to follow ------------------------------------------------------------------------------------
    def article_url(self, url: str) -> bool:
        if self.allow:
            return any(p.search(url) for p in self.allow)
        return bool(ARTICLE_URL.search(urlsplit(url).path))

    def denied(self, url: str) -> bool:
        return any(p.search(url) for p in self.deny)

    def on_site(self, url: str) -> bool:
        return (urlsplit(url).hostname or "") in self.allowed_domains

    def in_scope(self, url: str) -> bool:
        return url.startswith(self.scopes)

    def _inc(self, key: str, n: int = 1) -> None:
        if getattr(self, "crawler", None) is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, n)

    def _error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)

    # --- entry points --------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for url in self.source.sitemaps:
            yield Request(url, callback=self.parse_sitemap, errback=self.on_error, dont_filter=True,
                          meta={"entry": True})
        if not self.source.sitemaps:
            origins = sorted({f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in self.source.start_urls})
            for origin in origins:
                yield Request(f"{origin}/robots.txt", callback=self.parse_robots, errback=self.on_error,
                              meta={"dont_obey_robotstxt": True, "optional": True})
        for url in self.source.start_urls:
            yield Request(url, callback=self.parse_page, errback=self.on_error, dont_filter=True,
                          meta={"entry": True})

    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            try:
                in_scope = self.in_scope(canonical_url(url))
            except ValueError:
                continue
            if in_scope:  # robots.txt is per host: other sections of a shared host list their own sitemaps
                yield Request(url, callback=self.parse_sitemap, errback=self.on_error, meta={"optional": True})

    # --- callbacks -----------------------------------------------------------------------------------------
    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if response.meta.get("entry"):
            self._inc(ENTRY_OK)
        try:
            body = decode_body(response.body, None, settings.PAGE_MAX_BYTES)  # .xml.gz served as a file
        except (TooLarge, ValueError) as exc:
            self._error(f"{response.url}: unreadable sitemap ({type(exc).__name__})")
            return
        sitemap = parse_sitemap(body)
        if sitemap.kind is None:
            self._error(f"{response.url}: not a sitemap")
            return
        if sitemap.kind == "sitemapindex":
            nesting = response.meta.get("sitemap_nesting", 0) + 1
            if nesting > MAX_SITEMAP_NESTING:
                return
            for entry in sitemap.entries:
                yield Request(entry.loc, callback=self.parse_sitemap, errback=self.on_error,
                              meta={"sitemap_nesting": nesting, "depth_reset": True})
            return
        self._inc(SITEMAP_ENTRIES, len(sitemap.entries))
        for entry in sitemap.entries:
            if entry.lastmod is not None:
                try:
                    self.lastmod[canonical_url(entry.loc, base=response.url)] = entry.lastmod
                except ValueError:
                    pass
            # depth_reset: what a sitemap lists is an entry point, not a link N clicks deep; without it a sitemap
            # index of indexes puts its articles past a small DEPTH_LIMIT and Scrapy drops them
            yield from self._candidate(entry.loc, response.url, entry.news_title, entry.news_published,
                                       depth_reset=True)

    def parse_page(self, response: Response) -> Iterator[Any]:
        if response.meta.get("entry"):
            self._inc(ENTRY_OK)
        if not isinstance(response, HtmlResponse):
            return  # a PDF or an image linked from a section page: not an article page
        sel = response.selector  # parsed once, for the article check and the links
        item = self._page_item(response, sel)
        if item is not None:
            yield item
        for href in sel.xpath("//a/@href").getall():
            try:
                url = canonical_url(href, base=response.url)
            except ValueError:
                continue
            if url in self.requested or self.denied(url) or not self.on_site(url):
                continue
            if self.article_url(url):
                yield from self._candidate(url, response.url)
            elif self.in_scope(url):
                self.requested.add(url)
                yield Request(url, callback=self.parse_page, errback=self.on_error, meta={"nav": True})

    def _candidate(self, link: str, base: str, title: str | None = None,
                   published: datetime | None = None, depth_reset: bool = False) -> Iterator[Request]:
        try:
            url = canonical_url(link, base=base)
        except ValueError:
            return
        if url in self.requested or self.denied(url) or not self.on_site(url) or not self.article_url(url):
            return
        self.requested.add(url)
        if self.known(url):  # found by a feed or an earlier crawl: fetched once, by whoever found it first
            self._inc(KNOWN_SKIPPED)
            return
        yield Request(url, callback=self.parse_page, errback=self.on_error,
                      meta={"page_url": url, "feed_title": title, "feed_published": published,
                            "depth_reset": depth_reset})

    def _page_item(self, response: HtmlResponse, sel: Selector) -> RawPage | None:
        try:
            url = response.meta.get("page_url") or canonical_url(response.request.url if response.request
                                                                  else response.url)
        except ValueError:
            return None
        if response.meta.get("entry") or not self.article_url(url) or self.denied(url):
            return None
        is_article, _why = page_kind(sel, url, self.article_url)
        if not is_article:
            self._inc(NOT_ARTICLE)
            return None
        declared = canonical_from_html(response.body, response.url)
        if declared and declared != url and (declared in self.requested or self.known(declared)):
            self._inc(CANONICAL_DUPLICATE)  # the same article under another URL, already had
            return None
        return RawPage(url=url, final_url=response.url, outlet=self.source.outlet, source=self.source.id,
                       fetched_at=utcnow(), status=response.status, headers=_headers(response),
                       body=response.body, feed_title=response.meta.get("feed_title"),
                       feed_published=response.meta.get("feed_published"))

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        entry = bool(request is not None and request.meta.get("entry"))
        if failure.check(HttpError):
            status = failure.value.response.status
            meta = request.meta if request is not None else {}
            if status < 500 and (meta.get("nav") or meta.get("optional")):
                # A dead footer link or a missing robots.txt says nothing about the site's health.
                self._inc(DEAD_LINKS)
                return
            message = f"{url}: HTTP {status}"
        elif failure.check(SchemeRefused):  # before IgnoreRequest, its base: a policy refusal the source must show
            message = str(failure.value)
        elif failure.check(IgnoreRequest):
            return  # robots.txt forbids it, or it is off-site: counted in Scrapy's stats, not an error
        else:
            message = f"{url}: {type(failure.value).__name__}: {failure.getErrorMessage()}".rstrip(": ")
        if entry:
            self._inc(ENTRY_FAILED)
        self._error(message)
        self.logger.warning("%s", message)


def _headers(response: Response) -> dict[str, str]:
    """Response headers as RawPage keeps them: lower-case names; wire-only ones dropped (the body is decoded)."""
    out: dict[str, str] = {}
    for key, values in response.headers.items():
        name = (key.decode("latin-1") if isinstance(key, bytes) else str(key)).lower()
        if name in ("content-encoding", "content-length", "transfer-encoding", "connection"):
            continue
        out[name] = ", ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values)
    return out


__all__ = ["NewsSpider", "parse_sitemap", "page_kind", "Sitemap", "SitemapEntry", "ARTICLE_TYPES"]
