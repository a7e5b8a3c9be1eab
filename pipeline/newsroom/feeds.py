"""Feeds and sitemaps: RSS 2.0, Atom 1.0, the deliberately broken sport feed, Google News sitemaps, robots.txt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from presswatch.newsroom.content import Feed, NewsArticle, Outlet
from presswatch.newsroom.render import environment, summary

# Google News sitemaps list only articles from the last two days; older ones are found by crawling.
NEWS_SITEMAP_WINDOW = timedelta(days=2)
ROBOTS_DISALLOW = ("/hronske/interne/",)

_TEMPLATES = {"rss": "rss.xml", "rss_dc": "rss.xml", "atom": "atom.xml", "rss_broken": "rss_broken.xml"}
_CONTENT_TYPES = {"rss": "application/rss+xml", "rss_dc": "application/rss+xml",
                  "atom": "application/atom+xml", "rss_broken": "application/rss+xml"}


@dataclass(frozen=True, slots=True)
class FeedItem:
    title: str
    link: str  # what the feed links to (may carry tracking parameters)
    guid: str
    guid_permalink: bool
    published: datetime
    updated: datetime
    author: str
    category: str
    summary: str


def content_type(feed: Feed, outlet: Outlet) -> str:
    return f"{_CONTENT_TYPES[feed.kind]}; charset={outlet.encoding}"


def feed_articles(outlet: Outlet, feed: Feed, articles: list[NewsArticle]) -> list[NewsArticle]:
    """The outlet's articles this feed carries: its own sections, or every section no other feed claims."""
    if feed.sections:
        wanted = set(feed.sections)
    else:
        claimed = {s for f in outlet.feeds if f is not feed for s in f.sections}
        wanted = {s.slug for s in outlet.sections} - claimed
    return [a for a in articles if a.section in wanted and a.crawlable]


def _item(outlet: Outlet, feed: Feed, a: NewsArticle) -> FeedItem:
    link = f"{a.url}?{feed.link_params}" if feed.link_params else a.url
    if feed.kind == "atom":
        guid, permalink = f"tag:newsroom.local,2026:{a.outlet}/{a.slug}", False
    elif outlet.id == "horcan":
        guid, permalink = f"horcan-{a.slug}", False  # an opaque guid: identity must come from the link
    else:
        guid, permalink = a.url, True
    return FeedItem(title=a.title, link=link, guid=guid, guid_permalink=permalink, published=a.published,
                    updated=a.modified, author=a.author, category=outlet.section(a.section).name,
                    summary=summary(a))


def render_feed(outlet: Outlet, feed: Feed, articles: list[NewsArticle], base: str,
                updated: datetime) -> str:
    items = [_item(outlet, feed, a) for a in feed_articles(outlet, feed, articles)]
    return environment().get_template(_TEMPLATES[feed.kind]).render(
        outlet=outlet, feed=feed, items=items, base=base, updated=updated, dc=feed.kind == "rss_dc",
        self_url=f"{base}/{outlet.id}/{feed.path}",
    )


def sitemap_articles(articles: list[NewsArticle]) -> list[NewsArticle]:
    return [a for a in articles if a.crawlable]


def render_news_sitemap(outlet: Outlet, articles: list[NewsArticle], base: str, now: datetime) -> str:
    recent = [a for a in sitemap_articles(articles) if now - a.published <= NEWS_SITEMAP_WINDOW]
    items = [_item(outlet, Feed("news-sitemap.xml", "rss", ""), a) for a in recent]
    return environment().get_template("news-sitemap.xml").render(outlet=outlet, items=items, base=base)


def render_sitemap(outlet: Outlet, articles: list[NewsArticle], base: str) -> str:
    # The full sitemap lists only what the site links to; the sitemap-only article is in the news sitemap alone.
    listed = [a for a in sitemap_articles(articles) if a.listed]
    items = [_item(outlet, Feed("sitemap.xml", "rss", ""), a) for a in listed]
    return environment().get_template("sitemap.xml").render(outlet=outlet, items=items, base=base)


def robots_txt(base: str, sitemap_outlets: list[str]) -> str:
    lines = ["# Local newsroom. Be polite: one request at a time is plenty.", "User-agent: *"]
    lines += [f"Disallow: {p}" for p in ROBOTS_DISALLOW]
    lines.append("Allow: /")
    lines.append("")
    for o in sitemap_outlets:
        lines += [f"Sitemap: {base}/{o}/news-sitemap.xml", f"Sitemap: {base}/{o}/sitemap.xml"]
    return "\n".join(lines) + "\n"
