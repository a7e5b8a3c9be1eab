"""Extraction: a fetched page (RawPage) becomes an Article — clean text, title, date, authors, paywall flag.

1. Decode the bytes robustly. The HTTP header and the page's `<meta charset>` can disagree or lie: a byte-order
   mark wins; then strict UTF-8 (it almost never decodes text in another encoding without error); then the
   declared single-byte charsets and the usual ones of our languages (windows-1250/1257/1254/1251, ISO 8859-2,
   windows-1252), the one whose text looks most like our alphabets; charset_normalizer as a last resort.
2. Parse once with lxml (STYLE.md 7) and read title, date and authors from JSON-LD (NewsArticle headline,
   datePublished, author, isAccessibleForFree) and meta tags (og:title, article:published_time, author) — the
   publishers' own structured data — before any heuristics.
3. The body text with trafilatura on the same tree, with fast options: no metadata pass (so no extensive date
   search, trafilatura#779), no images (trafilatura#651), no comments.
4. Paywall: JSON-LD `isAccessibleForFree: false`, or a very short text on a page with subscription cues
   (`lexicons/<lang>/paywall.txt`): marked paywalled, title and lead kept.
5. Fall back to the feed's title and date (RawPage.feed_title / feed_published). Dates are aware UTC.

Bad HTML never raises: whatever can be had is returned. `ExtractionError` is raised only when a page has neither
a title nor any text (or the server answered with an error status).
"""

from __future__ import annotations

import codecs
import html
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from presswatch import settings
from presswatch.enrich import lexicons
from presswatch.enrich.text import WORD_RE, fold
from presswatch.records import Article, RawPage

SNIFF_BYTES = 4096  # where <meta charset> is looked for
PAYWALL_SHORT_TEXT = 700  # characters: a text shorter than this on a page with subscription cues is a teaser
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
# The single-byte encodings of our languages, tried when the declared ones fail; order breaks ties.
FALLBACK_ENCODINGS = ("cp1250", "cp1257", "cp1254", "cp1251", "iso8859-2", "cp1252")
_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
                  "blogposting", "backgroundnewsarticle", "reviewnewsarticle", "report", "liveblogposting"}
_EXPECTED_LETTERS = set("áäčďéěíĺľňóôŕřšťúůýžąęėįųūçğıöşüâîûёѓќѕљњџјабвгдежзийклмнопрстуфхцчшщъьюя"
                        "ÁÄČĎÉĚÍĹĽŇÓÔŔŘŠŤÚŮÝŽĄĘĖĮŲŪÇĞİÖŞÜ")
_TYPOGRAPHY = set("„“”‚‘’–—…«»€§°·•×")
_PAYWALL_XPATH = ("//*[@data-paywall or contains(concat(' ', normalize-space(@class), ' '), ' paywall') "
                  "or contains(@id, 'paywall')]")
_EXTRACTOR = Extractor(output_format="txt", fast=False, comments=False, images=False, links=False,
                       formatting=False, tables=True, with_metadata=False, dedup=False)


class ExtractionError(ValueError):
    """Nothing usable in the page: no title and no text (or an error status). The message says which."""


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What the page says about itself, read once from JSON-LD and meta tags."""

    title: str | None = None
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    description: str | None = None
    accessible_for_free: bool | None = None
    lang: str | None = None


# --- decoding -------------------------------------------------------------------------------------------------


def _codec(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # WHATWG: pages labelled latin-1 or ASCII are decoded as windows-1252
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def declared_charsets(body: bytes, headers: dict[str, str]) -> list[str]:
    """Charsets the HTTP header, the <meta> tag and an XML declaration name, in that order, without repeats."""
    out: list[str] = []
    for key, value in headers.items():
        if key.lower() == "content-type":
            hm = _HEADER_CHARSET.search(value)
            if hm and (c := _codec(hm.group(1))):
                out.append(c)
    head = body[:SNIFF_BYTES]
    for rx in (_META_CHARSET, _XML_ENCODING):
        bm = rx.search(head)
        if bm and (c := _codec(bm.group(1))):
            out.append(c)
    return list(dict.fromkeys(out))


def plausibility(text: str) -> float:
    """How much the non-ASCII characters of `text` look like our languages' letters (higher is better)."""
    score = 0.0
    n = 0
    for ch in text:
        if ord(ch) < 128:
            continue
        n += 1
        if ch in _EXPECTED_LETTERS:
            score += 1.0
        elif ch in _TYPOGRAPHY or ch == "\u00a0":
            score += 0.5
        elif ch.isalpha():
            score += 0.1
        elif unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs"):
            score -= 3.0
        else:
            score -= 1.0
    return score / n if n else 1.0


def decode(body: bytes, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """(text, encoding): the page's bytes as text, trusting what actually decodes (see the module doc)."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            try:
                return body.decode(enc), enc
            except UnicodeDecodeError:
                break
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = [c for c in declared_charsets(body, headers or {}) if c not in ("utf-8", "utf-8-sig")]
    candidates: list[tuple[float, int, str, str]] = []
    sample = body[:200_000]
    for n, enc in enumerate(dict.fromkeys([*declared, *FALLBACK_ENCODINGS])):
        try:
            text = sample.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        # a declared charset gets a small head start over a guessed one
        bonus = 0.15 if enc in declared else 0.0
        candidates.append((plausibility(text) + bonus, -n, enc, text))
    if candidates:
        best = max(candidates)
        if best[0] > 0.3:
            enc = best[2]
            return body.decode(enc, errors="replace"), enc
    try:
        from charset_normalizer import from_bytes

        guess = from_bytes(sample).best()
        if guess is not None and guess.encoding:
            return body.decode(guess.encoding, errors="replace"), guess.encoding
    except Exception:  # charset_normalizer is a last resort; its failure must not stop extraction
        pass
    if candidates:
        enc = max(candidates)[2]
        return body.decode(enc, errors="replace"), enc
    return body.decode("utf-8", errors="replace"), "utf-8"


# --- parsing and metadata -----------------------------------------------------------------------------------


def parse_html(text: str) -> Any:
    """An lxml tree of the page, or None if there is no HTML to speak of."""
    text = _XML_DECL.sub("", text, count=1).replace("\x00", "")
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError, TypeError):
        try:
            return lxml.html.fromstring(text.encode("utf-8", "replace"), parser=_parser())
        except (etree.ParserError, ValueError, TypeError):
            return None


@lru_cache(maxsize=1)
def _parser() -> lxml.html.HTMLParser:
    return lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False,
                                encoding="utf-8")


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        v = " ".join(html.unescape(value).replace("\u00ad", "").replace("\u200b", "").split())
        return v or None
    if isinstance(value, list) and value:
        return _text(value[0])
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    return None


def _json_items(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for x in data:
            yield from _json_items(x)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "itemListElement"):
            if key in data:
                yield from _json_items(data[key])


def _types(item: dict[str, Any]) -> set[str]:
    t = item.get("@type")
    names = t if isinstance(t, list) else [t]
    return {str(x).lower().rsplit("/", 1)[-1] for x in names if x}


def _load_json(raw: str) -> Any:
    raw = raw.strip().removeprefix("<!--").removesuffix("-->").strip()
    raw = raw.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    try:
        return json.loads(raw, strict=False)
    except json.JSONDecodeError:
        try:
            return json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
        except json.JSONDecodeError:
            return None


def _authors(value: Any, split: bool = False) -> list[str]:
    """Author names; a JSON-LD name is taken whole up to a comma (what follows is usually an affiliation),
    a meta tag string may list several people ("A, B and C")."""
    out: list[str] = []
    values = value if isinstance(value, list) else [value]
    for v in values:
        name = _text(v)
        if not name or name.startswith(("http://", "https://")):
            continue
        name = re.sub(r"^(?:by|von|od|autor|yazar)\s*:?\s+", "", name, flags=re.I)
        if split:
            out.extend(p.strip() for p in re.split(r"\s*(?:,|;|\band\b|&)\s*", name) if p.strip())
        else:
            out.append(name.split(",", 1)[0].strip())
    return [a for a in out if a]


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def read_meta(tree: Any, default_tz: tzinfo = UTC) -> PageMeta:
    """Title, date, authors, description and paywall marker from JSON-LD first, then meta tags."""
    title = published = description = None
    authors: list[str] = []
    free: bool | None = None
    for script in tree.xpath('//script[@type="application/ld+json" or @type="application/json+ld"]'):
        data = _load_json(script.text_content() or "")
        if data is None:
            continue
        for item in _json_items(data):
            if not _types(item) & _ARTICLE_TYPES:
                continue
            title = title or _text(item.get("headline") or item.get("name"))
            published = published or parse_date(_text(item.get("datePublished") or item.get("dateCreated")),
                                                 default_tz)
            authors = authors or _authors(item.get("author") or item.get("creator"))
            description = description or _text(item.get("description"))
            flag = _bool(item.get("isAccessibleForFree"))
            parts = item.get("hasPart")
            for part in parts if isinstance(parts, list) else [parts] if isinstance(parts, dict) else []:
                if isinstance(part, dict) and _bool(part.get("isAccessibleForFree")) is False:
                    flag = False
            if flag is not None and free is not False:
                free = flag
    metas: dict[str, str] = {}
    for m in tree.xpath("//meta[@content]"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        if key and key not in metas:
            metas[key] = m.get("content") or ""
    title = title or _strip_site(_text(metas.get("og:title")) or _text(metas.get("twitter:title")))
    if not title:
        h1 = tree.xpath("(//h1)[1]")
        title = _text(h1[0].text_content()) if h1 else None
    if not title:
        t = tree.xpath("(//title)[1]")
        title = _strip_site(_text(t[0].text_content())) if t else None
    for key in ("article:published_time", "og:article:published_time", "datepublished", "date", "pubdate",
                "publishdate", "dc.date.issued", "dc.date", "dcterms.created", "sailthru.date", "parsely-pub-date"):
        if published:
            break
        published = parse_date(metas.get(key), default_tz)
    if not published:
        for node in tree.xpath("//article//time[@datetime] | //time[@datetime]")[:3]:
            published = parse_date(node.get("datetime"), default_tz)
            if published:
                break
    if not authors:
        for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator"):
            authors = _authors(metas.get(key), split=True)
            if authors:
                break
    description = description or _text(metas.get("og:description")) or _text(metas.get("description")) \
        or _text(metas.get("twitter:description"))
    html_lang = tree.get("lang") if hasattr(tree, "get") else None
    return PageMeta(title, published, tuple(dict.fromkeys(a for a in authors if len(a) < 80)), description, free,
                    html_lang.split("-")[0].lower() if html_lang else None)


def _strip_site(title: str | None) -> str | None:
    """"Story title | Site name" → "Story title": trailing short parts after a separator are the site's."""
    if not title:
        return title
    parts = re.split(r"\s+(?:\||–|—|-|::)\s+", title)
    while len(parts) > 1 and len(parts[-1]) <= 40 and len(" ".join(parts[:-1])) >= 20:
        parts.pop()
    return " - ".join(parts) if len(parts) > 1 else parts[0]


def parse_date(value: str | None, default_tz: tzinfo = UTC) -> datetime | None:
    """ISO 8601 or RFC 2822 timestamps as aware UTC; naive ones are taken in `default_tz`; nonsense → None."""
    if not value or not isinstance(value, str):
        return None
    v = value.strip()
    dt: datetime | None = None
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(v)
        except (TypeError, ValueError, IndexError):
            m = re.match(r"(\d{4})-(\d{2})-(\d{2})", v)
            if m:
                try:
                    dt = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    dt = None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz)
    dt = dt.astimezone(UTC)
    if not (1990 <= dt.year <= datetime.now(UTC).year + 1):
        return None
    return dt


# --- paywall ----------------------------------------------------------------------------------------------------


def _paywall_cues(text: str) -> bool:
    keys = [m.group().split("'", 1)[0] for m in WORD_RE.finditer(fold(text))]
    return any(lexicons.cues(lang, "paywall").any(keys) for lang in lexicons.LANGS)


# --- the stage ----------------------------------------------------------------------------------------------------


def body_text(tree: Any) -> str:
    """The article body of a parsed page (trafilatura on the given tree; the tree is modified)."""
    try:
        text = trafilatura.extract(tree, options=_EXTRACTOR)
    except Exception:  # trafilatura on a broken tree: treat as no body, the metadata may still be usable
        return ""
    return (text or "").strip()


def _missing(lead: str | None, text: str) -> bool:
    """The lead is not already (the start of) the text; compared on the first words, whitespace-insensitive."""
    if not lead:
        return False
    head = " ".join(lead.split()[:8]).rstrip(".…")
    return head not in " ".join(text.split())


def _join(parts: Iterable[str | None]) -> str:
    out: list[str] = []
    for p in parts:
        if p and p.strip() and not any(p.strip() in o for o in out):
            out.append(p.strip())
    return "\n\n".join(out)


def extract(page: RawPage, default_tz: tzinfo = UTC) -> Article:
    """The Article of a fetched page (see the module doc); `default_tz` is for timestamps without an offset."""
    if page.status >= 400:
        raise ExtractionError(f"{page.url}: HTTP status {page.status}, nothing to extract")
    body = page.body[: settings.PAGE_MAX_BYTES]
    text_html, _ = decode(body, page.headers)
    tree = parse_html(text_html)
    meta = read_meta(tree, default_tz) if tree is not None else PageMeta()
    text = body_text(tree) if tree is not None else ""
    if tree is None and text_html.strip():
        # not HTML at all: plain text is its own body
        text = " ".join(re.sub(r"<[^>]+>", " ", text_html).split())[:50_000]
    paywalled = meta.accessible_for_free is False
    if not paywalled and len(text) < PAYWALL_SHORT_TEXT and tree is not None and len(tree):
        # a short text and a paywall box (a class or id the publishers use) or the phrases of one
        paywalled = bool(tree.xpath(_PAYWALL_XPATH)) or _paywall_cues(" ".join(tree.text_content().split())[:20_000])
    # the lead (perex) is often outside the container trafilatura keeps: the page's description restores it
    text = _join([meta.description, text]) if _missing(meta.description, text) else text
    title = meta.title or (page.feed_title or "").strip() or None
    if not title and not text:
        raise ExtractionError(f"{page.url}: no title and no text in the page")
    published = meta.published or page.feed_published
    if published is not None:
        published = published.replace(tzinfo=UTC) if published.tzinfo is None else published.astimezone(UTC)
        if page.fetched_at and published > page.fetched_at + timedelta(days=2):
            published = page.feed_published
    return Article(
        id=page.id,
        url=page.url,
        outlet=page.outlet,
        title=title or "",
        text=text,
        published=published,
        authors=meta.authors,
        lang=None,  # decided by the enrichment (lang.py); the page's own lang attribute is often a CMS default
        paywalled=paywalled,
        fetched_at=page.fetched_at,
    )
