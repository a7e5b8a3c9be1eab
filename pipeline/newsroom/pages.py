"""HTML pages: article pages, home and section listings, and the newsroom's own index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from presswatch.newsroom.content import NewsArticle, Outlet
from presswatch.newsroom.render import comment_count, environment, human_date, iso_local, summary, words


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str


def _with_params(url: str, params: str) -> str:
    return f"{url}?{params}" if params else url


def _common(outlet: Outlet, base: str, now: datetime) -> dict[str, Any]:
    return {"outlet": outlet, "base": base, "t": words(outlet.lang), "year": now.year,
            "today": human_date(now, outlet).rsplit(",", 1)[0]}


def json_ld(outlet: Outlet, article: NewsArticle, canonical: str, base: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "headline": article.title,
        "datePublished": iso_local(article.published, outlet),
        "dateModified": iso_local(article.modified, outlet),
        "author": [{"@type": "Person", "name": article.author}],
        "publisher": {"@type": "Organization", "name": outlet.name,
                      "logo": {"@type": "ImageObject", "url": f"{base}/{outlet.id}/static/logo.png"}},
        "inLanguage": article.lang,
        "articleSection": outlet.section(article.section).name,
        "isAccessibleForFree": not article.paywalled,
    }
    if article.lead:
        data["description"] = article.lead
    if article.paywalled:
        # Google's markup for paywalled content: which part of the page is behind the wall.
        data["hasPart"] = {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".paywall"}
    return data


def article_page(outlet: Outlet, article: NewsArticle, siblings: list[NewsArticle], base: str,
                 now: datetime) -> str:
    """`siblings`: the outlet's listed articles, newest first, from which "related" links are drawn."""
    others = [s for s in siblings if s.key != article.key and s.listed and s.crawlable]
    related = [Link(_with_params(s.url, outlet.related_params), s.title) for s in others[:4]]
    # "Read also" points at an older piece of the same section, inside the body, as real sites do.
    same_section = [s for s in others if s.section == article.section]
    read_also = Link(same_section[0].url, same_section[0].title) if same_section else None
    return environment().get_template("article.html").render(
        **_common(outlet, base, now), a=article, section=outlet.section(article.section),
        canonical=article.url, summary=summary(article), jsonld=json_ld(outlet, article, article.url, base),
        related=related, read_also=read_also, comments=comment_count(article),
    )


def listing_page(outlet: Outlet, items: list[NewsArticle], base: str, now: datetime, canonical: str,
                 section_slug: str | None = None, internal: list[NewsArticle] | None = None) -> str:
    section = outlet.section(section_slug) if section_slug else None
    return environment().get_template("listing.html").render(
        **_common(outlet, base, now), items=items, section=section, canonical=canonical,
        internal=internal or [],
    )


def index_page(outlets: list[Outlet], base: str) -> str:
    return environment().get_template("index.html").render(outlets=outlets, base=base)
