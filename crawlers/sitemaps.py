"""Sitemaps (sitemaps.org, with Google News extensions) and the URL shape of an article: shared by the Scrapy
spider (crawlers/spiders/news.py) and the in-process backfill (crawlers/backfill.py), which must not import Scrapy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree

# Article URL shapes when the profile gives no `allow` pattern: a date in the path (/2026/11/...), a numeric id
# at the end (...-123456.html), or a long hyphenated slug.
ARTICLE_URL = re.compile(
    r"/(?:19|20)\d{2}/[01]?\d/(?:[0-3]?\d/)?[^/]+"
    r"|[-_/]\d{5,}(?:\.s?html?)?/?$"
    r"|/\w+(?:-\w+){3,}(?:\.s?html?)?/?$"
)

# --- sitemaps ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SitemapEntry:
    loc: str
    lastmod: datetime | None = None
    news_title: str | None = None  # <news:title> of a Google News sitemap
    news_published: datetime | None = None  # <news:publication_date>


@dataclass(frozen=True, slots=True)
class Sitemap:
    kind: str | None  # "urlset" | "sitemapindex" | None (not a sitemap)
    entries: tuple[SitemapEntry, ...] = ()


def _w3c_date(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_sitemap(body: bytes) -> Sitemap:
    """A sitemap or sitemap index (sitemaps.org), Google News extensions included. Never raises."""
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, remove_comments=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return Sitemap(None)
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        return Sitemap(None)
    entries: list[SitemapEntry] = []
    for item in root:
        if _local(item.tag) not in ("url", "sitemap"):
            continue
        fields: dict[str, str] = {}
        for child in item.iter():
            name = _local(child.tag)
            if name and name not in fields and child.text and child.text.strip():
                fields[name] = child.text.strip()  # news:title and news:publication_date sit inside news:news
        if "loc" in fields:
            entries.append(SitemapEntry(loc=fields["loc"], lastmod=_w3c_date(fields.get("lastmod")),
                                        news_title=fields.get("title"),
                                        news_published=_w3c_date(fields.get("publication_date"))))
    return Sitemap(_local(root.tag), tuple(entries))



__all__ = ["ARTICLE_URL", "Sitemap", "SitemapEntry", "parse_sitemap"]
