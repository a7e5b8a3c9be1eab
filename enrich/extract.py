"""Extraction: a fetched page (RawPage) becomes an Article — clean text, title, date, authors, paywall flag.

1. Decode the bytes robustly. The HTTP header and the page's `<meta charset>` can disagree or lie: a byte-order
   mark wins; then strict UTF-8 (it almost never decodes text in another encoding without error); a declared
   multi-byte charset (GBK, Shift_JIS, ...) that decodes cleanly; UTF-8 with a few broken bytes; then the
   declared single-byte charsets and the usual ones of our languages (windows-1250/1257/1254/1251, ISO 8859-2,
   windows-1252), the one whose text looks most like our alphabets; charset_normalizer as a last resort.
2. Parse once with lxml (STYLE.md 7) and read title, date and authors from JSON-LD (NewsArticle headline,
   datePublished, author, isAccessibleForFree) and meta tags (og:title, article:published_time, author) — the
   publishers' own structured data — before any heuristics.
3. The body text with trafilatura on the same tree, with fast options: no metadata pass (so no extensive date
   search, trafilatura#779), no images (trafilatura#651), no comments.
4. Paywall (`paywall_reason`): JSON-LD `isAccessibleForFree: false` (also on a `hasPart`) or a locked
   `article:content_tier` decide alone; a paywall box in the markup or the phrases of one
   (`lexicons/<lang>/paywall.txt`, outside header/nav/footer/aside) count only with a body shorter than
   settings.PAYWALL_SHORT_TEXT_CHARS. Marked paywalled, title and lead kept.
5. Fall back to the feed's title (RawPage.feed_title). Dates (`resolve_published`): the page's own date (JSON-LD,
   then meta, then `<time datetime>`, then a numeric date in a date-marked element) unless it lies in the future
   beyond a clock-skew allowance or further than settings.DATE_MAX_FEED_GAP_DAYS from the feed's date — then the
   feed's date. An ambiguous `03/04/2026` has two readings; the one closest to the feed's date (or, without a feed,
   to the fetch time) wins. Dates are aware UTC.
6. The body (what trafilatura keeps) and the lead (the page's description when the body lacks it) stay apart in
   `Extracted`; the Article's text joins them, because the perex often names the people the press office tracks.
   The extraction benchmark scores the body (enrich/extraction_eval.py).

Bad HTML never raises: whatever can be had is returned. `ExtractionError` is raised only when a page has neither
a title nor any text (or the server answered with an error status).
"""

from __future__ import annotations

import codecs
import gzip
import html
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor
from trafilatura.utils import repair_faulty_html

from presswatch import settings
from presswatch.enrich import lexicons
from presswatch.enrich.quantities import month_number
from presswatch.enrich.text import WORD_RE, fold
from presswatch.records import Article, RawPage

SNIFF_BYTES = 4096  # where <meta charset> is looked for
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
# Paywall boxes as publishers mark them: a data-paywall attribute, "paywall" in a class or id (paywall,
# c-paywall, article-paywall), the "subscriber only" / "premium content" boxes of common CMS themes, Piano's
# container ids (tp-container, piano-*). Used only together with a short text (see `_teaser`).
_PAYWALL_XPATH = ("//*[@data-paywall or contains(@class, 'paywall') or contains(@id, 'paywall') "
                  "or contains(@class, 'subscriber-only') or contains(@class, 'subscribers-only') "
                  "or contains(@class, 'premium-content') or contains(@class, 'regwall') "
                  "or starts-with(@id, 'piano') or contains(@class, 'tp-container')]")
# where site-wide chrome lives: subscription cues there ("Already a subscriber? Log in") say nothing about the article
_CHROME_XPATH = ("//header | //nav | //footer | //aside | //*[@role='navigation' or @role='banner' "
                 "or @role='contentinfo' or @role='complementary']")
# article:content_tier values that mean the article itself is behind the wall ("metered" does not: free quota)
_LOCKED_TIERS = {"locked", "premium", "subscriber", "subscribers", "paid"}
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
    dates: tuple[datetime, ...] = ()  # every reading of the page's own date (two for an ambiguous 03/04/2026)
    date_source: str | None = None  # jsonld | meta | time | text
    content_tier: str | None = None  # meta article:content_tier (locked, metered, free)
    canonical: str | None = None  # <link rel="canonical"> or og:url as written (may be relative)


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


_MULTIBYTE = {"gb18030", "gbk", "gb2312", "big5", "big5hkscs", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949",
              "cp950", "iso2022_jp", "iso2022_kr"}
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")


def _mostly_utf8(body: bytes) -> bool:
    """Nearly every high byte belongs to a well-formed UTF-8 sequence (at least 20 sequences, <= 2% stray bytes)."""
    sample = body[:200_000]
    seqs = _UTF8_MULTIBYTE.findall(sample)
    in_seqs = sum(len(x) for x in seqs)
    stray = len(_HIGH_BYTE.findall(sample)) - in_seqs
    return len(seqs) >= 20 and stray <= 0.02 * in_seqs


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
    for enc in declared:
        # a declared multi-byte charset (GBK, Shift_JIS, EUC-KR, ...) that decodes without error is right: such
        # codecs almost never decode text in another encoding cleanly, and our single-byte guesses would win
        # the letter-plausibility contest on CJK bytes
        if enc in _MULTIBYTE:
            enc = "gb18030" if enc in ("gb2312", "gbk") else enc  # WHATWG: the labels mean GBK; GB18030 covers it
            try:
                return body.decode(enc), enc
            except UnicodeDecodeError:
                pass
    if _mostly_utf8(body):
        # UTF-8 with a few broken bytes (a bad copy-paste, a truncated sequence): replacing those beats reading
        # the whole page in a single-byte charset
        return body.decode("utf-8", errors="replace"), "utf-8"
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
    # the repairs trafilatura makes before parsing (a DOCTYPE libxml2 chokes on, lxml#1955915; a self-closing
    # <html/>; characters XML forbids): without them a few real pages parse to a tree with no body text
    text = repair_faulty_html(text, text[:50].lower())
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


_AUTHOR_JOIN = re.compile(r"\s+(?:and|und|a|ir|ve|и|&)\s+")
_AUTHOR_INITIALS = re.compile(r"\s*\([^()]{1,12}\)$")


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
            parts = [p.strip() for p in re.split(r"\s*(?:,|;|\band\b|&)\s*", name) if p.strip()]
        else:
            parts = [name.split(",", 1)[0].strip()]
        for part in parts:
            # "A and B" in one JSON-LD name (and, und, a, ir, ve, и: the conjunctions of our and nearby languages)
            out.extend(_AUTHOR_JOIN.split(part))
    # an e-mail address or a CMS user number is not a name; "(abc)" after a name is the author's initials
    cleaned = (_AUTHOR_INITIALS.sub("", a).strip() for a in out)
    return [a for a in cleaned if a and "@" not in a and not a.isdigit()]


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def read_meta(tree: Any, default_tz: tzinfo = UTC) -> PageMeta:
    """Title, date, authors, description and paywall marker from JSON-LD first, then meta tags."""
    title = description = None
    dates: list[datetime] = []
    source: str | None = None
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
            if not dates:
                dates = date_readings(_text(item.get("datePublished") or item.get("dateCreated")), default_tz)
                source = "jsonld" if dates else None
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
        if dates:
            break
        dates = date_readings(metas.get(key), default_tz)
        source = "meta" if dates else None
    if not dates:
        for node in tree.xpath("//article//time[@datetime] | //time[@datetime]")[:3]:
            dates = date_readings(node.get("datetime"), default_tz)
            if dates:
                source = "time"
                break
    if not dates:
        # a date printed on the page, in an element marked as one: numeric forms only (03.04.2026, 03/04/2026)
        for node in tree.xpath(_DATE_TEXT_XPATH)[:6]:
            dates = date_readings(" ".join(node.text_content().split())[:80], default_tz, numeric_only=True)
            if dates:
                source = "text"
                break
    if not authors:
        for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator"):
            authors = _authors(metas.get(key), split=True)
            if authors:
                break
    description = description or _text(metas.get("og:description")) or _text(metas.get("description")) \
        or _text(metas.get("twitter:description"))
    html_lang = tree.get("lang") if hasattr(tree, "get") else None
    tier = (metas.get("article:content_tier") or metas.get("og:article:content_tier") or "").strip().lower()
    return PageMeta(title, dates[0] if dates else None, tuple(dict.fromkeys(a for a in authors if len(a) < 80)),
                    description, free, html_lang.split("-")[0].lower() if html_lang else None, tuple(dates), source,
                    tier or None, _canonical(tree) or _text(metas.get("og:url")))


def _canonical(tree: Any) -> str | None:
    for href in tree.xpath("//link[@rel='canonical']/@href")[:1]:
        return str(href).strip() or None
    return None


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


_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})\s?([./-])\s?(\d{1,2})\s?\2\s?(\d{4})(?!\d)"
                           r"(?:[ ,T]+(\d{1,2})[:.](\d{2})(?!\d))?")
# elements that hold a printed date: class or id with date/publish, or the word in our languages (datum: cs, sk;
# tarih: tr), without paragraphs inside (a container of the whole article is not a date element)
_DATE_TEXT_XPATH = ("//time[not(@datetime)] | //*[@itemprop='datePublished'] | //*[contains(@class, 'date') or "
                    "contains(@class, 'publish') or contains(@id, 'date') or contains(@class, 'datum') or "
                    "contains(@class, 'tarih')][not(.//p)]")


def date_readings(value: str | None, default_tz: tzinfo = UTC, numeric_only: bool = False) -> list[datetime]:
    """Every plausible reading of a date string, as aware UTC: one for ISO 8601 / RFC 2822 and unambiguous numeric
    dates; two for a slashed `03/04/2026`, day-first (our languages' order) before month-first (US English).
    Dotted and dashed numeric dates are day-first only: no locale we serve writes 04.03.2026 for 3 April."""
    if not value or not isinstance(value, str):
        return []
    if not numeric_only:
        dt = parse_date(value, default_tz)
        if dt is not None:
            return [dt]
    m = _NUMERIC_DATE.search(value)
    if not m:
        return _worded_date(value, default_tz) if numeric_only else []
    a, sep, b, year = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    hour, minute = (int(m.group(5)), int(m.group(6))) if m.group(5) else (0, 0)
    orders = [(a, b)] + ([(b, a)] if sep == "/" and a != b else [])
    out: list[datetime] = []
    for day, month in orders:
        try:
            dt = datetime(year, month, day, hour, minute, tzinfo=default_tz).astimezone(UTC)
        except ValueError:  # 13/04 read month-first, 31/02, 25:00
            continue
        if 1990 <= dt.year <= datetime.now(UTC).year + 1:
            out.append(dt)
    return out


_WORDED_DATE = re.compile(r"(?<!\d)(\d{1,2})\.?\s+([^\W\d_]{3,12})\.?,?\s+(\d{4})(?!\d)"  # 3. apríla 2026, 3 Nisan
                          r"|([^\W\d_]{3,12})\.?\s+(\d{1,2}),?\s+(\d{4})(?!\d)")  # April 3, 2026


def _worded_date(value: str, default_tz: tzinfo) -> list[datetime]:
    """A date with the month in words, in any of our languages' cases (lexicons/<lang>/months.txt): one reading."""
    for m in _WORDED_DATE.finditer(value):
        day, word, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(5), m.group(4),
                                                                                     m.group(6))
        month = month_number(fold(word))
        if month is None:
            continue
        try:
            dt = datetime(int(year), month, int(day), tzinfo=default_tz).astimezone(UTC)
        except ValueError:
            continue
        if 1990 <= dt.year <= datetime.now(UTC).year + 1:
            return [dt]
    return []


def resolve_published(readings: Iterable[datetime], feed_published: datetime | None,
                      now: datetime | None = None) -> tuple[datetime | None, str]:
    """(date, why): the page's reading that can be trusted, else the feed's date.

    A reading is not trusted when it lies in the future beyond settings.DATE_CLOCK_SKEW_MINUTES (of `now`, the
    fetch time) or further than settings.DATE_MAX_FEED_GAP_DAYS from the feed's date. Of several readings (an
    ambiguous day/month) the one closest to the feed's date wins, or without a feed the one closest to `now`
    (a page is fetched soon after it is published); a tie keeps the day-first reading."""
    now = _utc(now) if now is not None else datetime.now(UTC)
    feed = _utc(feed_published) if feed_published is not None else None
    latest = now + timedelta(minutes=settings.DATE_CLOCK_SKEW_MINUTES)
    trusted = [d for d in readings if d <= latest]
    if feed is not None:
        gap = timedelta(days=settings.DATE_MAX_FEED_GAP_DAYS)
        trusted = [d for d in trusted if abs(d - feed) <= gap]
    if not trusted:
        return feed, "feed" if feed is not None else "none"
    anchor = feed if feed is not None else now
    best = min(trusted, key=lambda d: abs(d - anchor))  # min keeps the first of equals: day-first
    return best, "page"


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


# --- paywall ----------------------------------------------------------------------------------------------------


def _paywall_cues(text: str) -> bool:
    keys = [m.group().split("'", 1)[0] for m in WORD_RE.finditer(fold(text))]
    return any(lexicons.cues(lang, "paywall").any(keys) for lang in lexicons.LANGS)


def _content_text(tree: Any) -> str:
    """The page's text without its header, navigation, footer and asides (the tree is a working copy)."""
    for node in tree.xpath(_CHROME_XPATH):
        parent = node.getparent()
        if parent is not None:
            node.drop_tree()
    return " ".join(tree.text_content().split())[:20_000]


def paywall_reason(meta: PageMeta, tree: Any, body: str) -> str | None:
    """Why the page is a paywalled teaser, or None. Structured data decides alone (JSON-LD isAccessibleForFree
    false, a locked article:content_tier); markup and phrases only together with a body shorter than
    settings.PAYWALL_SHORT_TEXT_CHARS, so an ordinary short news item on a site that sells subscriptions is not
    a teaser, and cue phrases in the site's header, navigation or footer are not counted."""
    if meta.accessible_for_free is False:
        return "jsonld"
    if meta.content_tier in _LOCKED_TIERS:
        return "content_tier"
    if tree is None or not len(tree) or len(body) >= settings.PAYWALL_SHORT_TEXT_CHARS:
        return None
    if tree.xpath(_PAYWALL_XPATH):
        return "markup"
    if _paywall_cues(_content_text(tree)):
        return "phrases"
    return None


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


@dataclass(frozen=True, slots=True)
class Extracted:
    """Everything extraction reads from one page, the body and the lead apart (see the module doc, 6)."""

    title: str | None
    body: str  # the article body as trafilatura keeps it
    lead: str | None  # the page's description when the body does not already start with it
    published: datetime | None
    date_source: str  # jsonld | meta | time | text (the page's own date), feed, none
    authors: tuple[str, ...]
    lang: str | None  # the page's lang attribute (a hint: often a CMS default)
    paywalled: bool
    paywall_reason: str | None
    canonical: str | None = None  # the page's canonical URL, resolved against the page's address

    @property
    def text(self) -> str:
        """What the Article carries: the lead, then the body."""
        return _join([self.lead, self.body]) if self.lead else self.body

    def to_json(self) -> dict[str, Any]:
        return {"title": self.title, "text": self.text, "published": self.published.isoformat()
                if self.published else None, "authors": list(self.authors), "lang": self.lang,
                "paywalled": self.paywalled, "body": self.body, "lead": self.lead, "date_source": self.date_source,
                "paywall_reason": self.paywall_reason, "canonical": self.canonical}


def extract_page(page: RawPage, default_tz: tzinfo = UTC) -> Extracted:
    """Read a fetched page (see the module doc); `default_tz` is for timestamps without an offset."""
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
    reason = paywall_reason(meta, tree, text)
    # the lead (perex) is often outside the container trafilatura keeps: the page's description restores it
    lead = meta.description if _missing(meta.description, text) else None
    title = meta.title or (page.feed_title or "").strip() or None
    if not title and not text and not lead:
        raise ExtractionError(f"{page.url}: no title and no text in the page")
    published, why = resolve_published(meta.dates, page.feed_published, page.fetched_at)
    return Extracted(title=title, body=text, lead=lead, published=published,
                     date_source=meta.date_source or "none" if why == "page" else why, authors=meta.authors,
                     lang=meta.lang, paywalled=reason is not None, paywall_reason=reason,
                     canonical=urljoin(page.final_url or page.url, meta.canonical) if meta.canonical else None)


def extract(page: RawPage, default_tz: tzinfo = UTC) -> Article:
    """The Article of a fetched page (see the module doc); `default_tz` is for timestamps without an offset."""
    got = extract_page(page, default_tz)
    return Article(
        id=page.id,
        url=page.url,
        outlet=page.outlet,
        title=got.title or "",
        text=got.text,
        published=got.published,
        authors=got.authors,
        lang=None,  # decided by the enrichment (lang.py); the page's own lang attribute is often a CMS default
        paywalled=got.paywalled,
        fetched_at=page.fetched_at,
    )


def extract_file(path: Path, url: str | None = None, feed_published: datetime | None = None,
                 default_tz: tzinfo = UTC) -> Extracted:
    """Extract a page saved to a file (gzip-compressed when it starts with the gzip magic), fetched now."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    address = url or path.resolve().as_uri()
    page = RawPage(url=address, final_url=address, outlet="", source="file", fetched_at=datetime.now(UTC),
                   status=200, headers={}, body=raw, feed_published=feed_published)
    return extract_page(page, default_tz)
