"""The local newsroom: a real server on a free loopback port, fetched with urllib as a crawler would."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
import yaml

from presswatch.newsroom import NewsArticle, Newsroom

DEMO = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
DEMO_BASE = "http://127.0.0.1:8765"
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
              "news": "http://www.google.com/schemas/sitemap-news/0.9"}
REQUIRED_TRAPS = {
    "syndicated": 2, "encoding": 1, "charset_mismatch": 1, "broken_feed": 2, "paywall": 2, "other_mayor": 2,
    "namesake": 1, "title_only": 1, "robots": 1, "sitemap_only": 1, "no_diacritics": 1, "html_in_title": 1,
}


@pytest.fixture(scope="module")
def newsroom() -> Iterator[Newsroom]:
    with Newsroom(now=NOW) as n:
        yield n


@pytest.fixture(scope="module")
def demo() -> dict:
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One GET without following redirects: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200, url
        return resp.read()


def charset(headers: http.client.HTTPMessage) -> str | None:
    return headers.get_content_charset()


def crawlable(newsroom: Newsroom) -> list[NewsArticle]:
    return [a for a in newsroom.articles if a.crawlable]


def by_trap(newsroom: Newsroom, trap: str) -> list[NewsArticle]:
    return [a for a in newsroom.articles if a.expect.trap == trap]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.jsonld: list[str] = []
        self._in_jsonld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "meta":
            key = a.get("property") or a.get("name") or ("charset" if "charset" in a else "")
            self.meta[key] = a.get("content") or a.get("charset", "")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a["href"]
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_jsonld = True

    def handle_endtag(self, tag: str) -> None:
        self._in_jsonld = False if tag == "script" else self._in_jsonld

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self.jsonld.append(data)


def parse_page(body: bytes, encoding: str = "utf-8") -> _Links:
    p = _Links()
    p.feed(body.decode(encoding))
    return p


def demo_feed_urls(demo: dict, base: str) -> dict[str, str]:
    sources = demo["sources"]
    return {f["id"]: f["url"].replace(DEMO_BASE, base) for f in sources["feeds"] + sources["releases"]}


# --- content --------------------------------------------------------------------------------------------------


def test_enough_articles_in_both_languages(newsroom: Newsroom) -> None:
    articles = crawlable(newsroom)
    per_outlet = Counter(a.outlet for a in articles)
    assert len(articles) >= 64
    assert sum(a.lang == "en" for a in articles) >= 14
    assert {a.outlet for a in articles if a.lang == "en"} == {"herald"}
    assert set(per_outlet) == {"horcan", "pohronie", "spravy24", "hronske", "herald", "mesto"}
    assert 4 <= per_outlet["mesto"] <= 6
    assert sum(a.lang == "sk" for a in articles) > len(articles) / 2


def test_articles_are_fresh_and_spread_over_a_week(newsroom: Newsroom) -> None:
    ages = [NOW - a.published for a in crawlable(newsroom)]
    assert sum(age <= timedelta(hours=24) for age in ages) >= 15
    assert max(ages) <= timedelta(days=8, hours=12)
    assert max(ages) >= timedelta(days=6)
    assert all(age >= timedelta(0) for age in ages)


def test_publication_times_are_pinned_to_now(newsroom: Newsroom) -> None:
    a = newsroom.article("horcan", "technicke-sluzby-maju-400-ton-soli")
    assert a.published == NOW - timedelta(hours=0.7)
    assert a.published.tzinfo is not None
    assert a.url == f"{newsroom.base_url}/horcan/2026/11/technicke-sluzby-maju-400-ton-soli/"


def test_all_traps_are_present(newsroom: Newsroom) -> None:
    traps = Counter(a.expect.trap for a in newsroom.articles if a.expect.trap)
    for trap, minimum in REQUIRED_TRAPS.items():
        assert traps[trap] >= minimum, trap
    assert {a.outlet for a in by_trap(newsroom, "paywall")} == {"herald", "spravy24"}
    assert {a.lang for a in by_trap(newsroom, "other_mayor")} == {"sk", "en"}
    assert {a.outlet for a in by_trap(newsroom, "encoding") + by_trap(newsroom, "charset_mismatch")} == {"pohronie"}
    assert sum(a.expect.misleading for a in newsroom.articles) >= 3


def test_expectations_name_profile_ids_and_are_coherent(newsroom: Newsroom, demo: dict) -> None:
    officials = {o["id"] for o in demo["officials"]}
    bodies = {b["id"] for b in demo["bodies"]}
    for a in newsroom.articles:
        e = a.expect
        assert set(e.officials) <= officials, a.key
        assert set(e.bodies) <= bodies, a.key
        assert 3 <= len(a.body) <= 7, a.key
        assert e.note, a.key
        if not e.relevant:
            assert not (e.officials or e.bodies or e.critical or e.misleading), a.key
            assert e.sentiment == "neutral", a.key


def test_eval_items_carry_the_visible_text_and_gold(newsroom: Newsroom) -> None:
    paywalled, = [a for a in by_trap(newsroom, "paywall") if a.outlet == "herald"]
    item = paywalled.to_eval_item()
    assert item["text"] == paywalled.lead and item["url"] == paywalled.url
    assert item["gold"]["officials"] == ["mayor"] and item["gold"]["trap"] == "paywall"
    json.dumps([a.to_eval_item() for a in newsroom.articles])


def test_traps_mean_what_they_say(newsroom: Newsroom) -> None:
    copy, = [a for a in by_trap(newsroom, "syndicated") if a.syndicated_from]
    original = newsroom.article(*copy.syndicated_from.split("/"))
    assert (copy.outlet, original.outlet) == ("horcan", "spravy24")
    assert copy.title != original.title and copy.published > original.published
    assert sum(p != q for p, q in zip(copy.body, original.body, strict=True)) == 1
    for a in by_trap(newsroom, "namesake") + by_trap(newsroom, "other_mayor"):
        assert not a.expect.relevant and not a.expect.officials
        assert "Hôrk" not in a.text and "Horka" not in a.text
    for a in by_trap(newsroom, "namesake"):
        assert "Dominik Mráz" in a.text
    for a in by_trap(newsroom, "title_only"):
        assert a.expect.officials == ("mayor",)
        assert "Hrušovsk" not in a.text and "Hrusovsk" not in a.text
    for a in by_trap(newsroom, "no_diacritics"):
        assert a.lang == "sk"
        assert re.search(r"[áäčďéíĺľňóôŕšťúýž]", a.text, re.IGNORECASE) is None
    title, = [a.title for a in by_trap(newsroom, "html_in_title")]
    assert "<script>" in title


# --- feeds ----------------------------------------------------------------------------------------------------


def test_every_feed_parses_newest_first_and_links_work(newsroom: Newsroom, demo: dict) -> None:
    urls = demo_feed_urls(demo, newsroom.base_url)
    assert set(urls) == {"horcan-rss", "pohronie-rss", "pohronie-sport", "spravy24-atom", "herald-rss",
                         "mesto-releases"}
    for source, url in urls.items():
        parsed = feedparser.parse(get(url))
        assert parsed.entries, source
        if source == "pohronie-sport":
            continue  # the broken feed: see its own test
        assert not parsed.bozo, (source, parsed.get("bozo_exception"))
        dates = [e.published_parsed for e in parsed.entries]
        assert dates == sorted(dates, reverse=True), source
        for entry in parsed.entries:
            assert entry.title and entry.summary and entry.id, source
            assert get(entry.link)


def test_feed_formats(newsroom: Newsroom) -> None:
    herald = feedparser.parse(get(newsroom.url("/herald/rss.xml")))
    assert herald.version == "rss20"
    assert all(e.get("author") for e in herald.entries)  # from <dc:creator>
    assert b"<dc:creator>" in get(newsroom.url("/herald/rss.xml"))
    atom = feedparser.parse(get(newsroom.url("/spravy24/atom.xml")))
    assert atom.version == "atom10"
    raw = get(newsroom.url("/spravy24/atom.xml")).decode()
    assert re.search(r"<published>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d</published>", raw)
    rss = get(newsroom.url("/horcan/rss.xml")).decode()
    pub = re.search(r"<pubDate>([^<]+)</pubDate>", rss)
    assert pub and parsedate_to_datetime(pub.group(1)).tzinfo is not None
    # Feed links carry tracking parameters; the page's rel=canonical does not.
    entry = feedparser.parse(rss.encode()).entries[0]
    assert "utm_source=rss" in entry.link
    page = parse_page(get(entry.link))
    assert page.canonical == entry.link.split("?")[0]


def test_broken_sport_feed_is_bozo_but_recoverable(newsroom: Newsroom) -> None:
    body = get(newsroom.url("/pohronie/sport.xml"))
    with pytest.raises(ET.ParseError):
        ET.fromstring(body)
    parsed = feedparser.parse(body)
    assert parsed.bozo
    sport = {a.url for a in newsroom.articles if a.outlet == "pohronie" and a.section == "sport"}
    assert {e.link for e in parsed.entries} == sport and len(sport) == 2
    assert {a.url for a in by_trap(newsroom, "broken_feed")} == sport
    for entry in parsed.entries:
        assert get(entry.link)
    # The sport pieces are in the broken feed only: a poller that gives up on it misses them.
    main = feedparser.parse(get(newsroom.url("/pohronie/rss.xml")))
    assert not {e.link for e in main.entries} & sport


def test_every_article_is_reachable_from_a_feed_or_the_site(newsroom: Newsroom) -> None:
    found: set[str] = set()
    for path in ("/horcan/rss.xml", "/pohronie/rss.xml", "/pohronie/sport.xml", "/spravy24/atom.xml",
                 "/herald/rss.xml", "/mesto/tlacove-spravy.xml"):
        found |= {e.link.split("?")[0] for e in feedparser.parse(get(newsroom.url(path))).entries}
    found |= set(sitemap_locs(newsroom, "/hronske/sitemap.xml")) | set(sitemap_locs(newsroom,
                                                                                  "/hronske/news-sitemap.xml"))
    assert {a.url for a in crawlable(newsroom)} <= found


# --- the crawled site: sitemaps, robots, links ----------------------------------------------------------------


def sitemap_locs(newsroom: Newsroom, path: str) -> list[str]:
    root = ET.fromstring(get(newsroom.url(path)))
    return [loc.text or "" for loc in root.findall("s:url/s:loc", SITEMAP_NS)]


def test_news_sitemap(newsroom: Newsroom) -> None:
    root = ET.fromstring(get(newsroom.url("/hronske/news-sitemap.xml")))
    urls = root.findall("s:url", SITEMAP_NS)
    assert urls
    for url in urls:
        loc = url.findtext("s:loc", namespaces=SITEMAP_NS) or ""
        published = datetime.fromisoformat(url.findtext("news:news/news:publication_date", namespaces=SITEMAP_NS)
                                           or "")
        assert NOW - published <= timedelta(days=2)
        assert url.findtext("news:news/news:title", namespaces=SITEMAP_NS)
        assert get(loc)
    hidden, = by_trap(newsroom, "sitemap_only")
    assert hidden.url in sitemap_locs(newsroom, "/hronske/news-sitemap.xml")
    assert hidden.url not in sitemap_locs(newsroom, "/hronske/sitemap.xml")
    assert not any("/interne/" in loc for loc in sitemap_locs(newsroom, "/hronske/sitemap.xml"))


def test_sitemap_only_article_is_linked_from_no_page(newsroom: Newsroom) -> None:
    hronske = newsroom.outlets["hronske"]
    pages = [newsroom.url("/hronske/")] + [newsroom.url(f"/hronske/sekcia/{s.slug}/") for s in hronske.sections]
    pages += [a.url for a in crawlable(newsroom) if a.outlet == "hronske"]
    links = {link.split("?")[0] for page in pages for link in parse_page(get(page)).links}
    hidden, = by_trap(newsroom, "sitemap_only")
    assert hidden.url not in links
    interne, = by_trap(newsroom, "robots")
    assert interne.url in parse_page(get(newsroom.url(f"/hronske/sekcia/{interne.section}/"))).links


def test_robots_txt_disallows_the_internal_pages(newsroom: Newsroom) -> None:
    status, headers, body = fetch(newsroom.url("/robots.txt"))
    assert status == 200 and headers.get_content_type() == "text/plain"
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode().splitlines())
    interne, = by_trap(newsroom, "robots")
    assert interne.path.startswith("/hronske/interne/") and not interne.crawlable
    assert not robots.can_fetch("presswatch", interne.url)
    assert all(robots.can_fetch("presswatch", a.url) for a in crawlable(newsroom))
    assert robots.can_fetch("presswatch", newsroom.url("/hronske/sekcia/spravodajstvo/"))
    assert f"Sitemap: {newsroom.base_url}/hronske/news-sitemap.xml" in body.decode()


# --- encodings ------------------------------------------------------------------------------------------------


def test_pohronie_serves_windows_1250(newsroom: Newsroom) -> None:
    a, = [x for x in by_trap(newsroom, "encoding")]
    status, headers, body = fetch(a.url)
    assert status == 200 and charset(headers) == "windows-1250"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("cp1250")
    assert '<meta charset="windows-1250">' in text
    assert a.body[0] in text
    status, headers, feed = fetch(newsroom.url("/pohronie/rss.xml"))
    assert charset(headers) == "windows-1250"
    assert feed.startswith(b'<?xml version="1.0" encoding="windows-1250"?>')
    with pytest.raises(UnicodeDecodeError):
        feed.decode("utf-8")
    titles = {e.title for e in feedparser.parse(feed).entries}
    assert a.title in titles


def test_charset_mismatch_page(newsroom: Newsroom) -> None:
    a, = by_trap(newsroom, "charset_mismatch")
    assert a.outlet == "pohronie"
    status, headers, body = fetch(a.url)
    assert status == 200 and charset(headers) == "utf-8"  # the header lies
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = parse_page(body, "cp1250")
    assert page.meta["charset"] == "windows-1250"
    assert page.meta["og:title"] == a.title


# --- pages ----------------------------------------------------------------------------------------------------


def test_article_page_markup(newsroom: Newsroom) -> None:
    a = newsroom.article("hronske", "kontrolorka-nasla-nezrovnalosti-za-180-tisic")
    page = parse_page(get(a.url))
    assert page.canonical == a.url
    assert page.meta["og:type"] == "article" and page.meta["og:title"] == a.title
    assert datetime.fromisoformat(page.meta["article:published_time"]) == a.published
    ld = json.loads("".join(page.jsonld))
    assert ld["@type"] == "NewsArticle" and ld["headline"] == a.title
    assert ld["isAccessibleForFree"] is True and ld["author"][0]["name"] == a.author
    assert datetime.fromisoformat(ld["datePublished"]) == a.published
    assert ld["publisher"]["name"] == "Hronské noviny"
    html = get(a.url).decode()
    for boilerplate in ("cookie-banner", "main-nav", "related", "comments-teaser", "site-footer"):
        assert boilerplate in html
    for paragraph in a.body:
        assert paragraph in html


def test_updated_article_has_a_later_modified_date(newsroom: Newsroom) -> None:
    a = newsroom.article("herald", "christmas-market-will-go-ahead")
    assert a.updated and a.updated > a.published
    ld = json.loads("".join(parse_page(get(a.url)).jsonld))
    assert datetime.fromisoformat(ld["dateModified"]) == a.updated


def test_html_in_title_is_escaped(newsroom: Newsroom) -> None:
    a, = by_trap(newsroom, "html_in_title")
    html = get(a.url).decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = parse_page(html.encode())
    assert page.meta["og:title"] == a.title
    assert json.loads("".join(page.jsonld))["headline"] == a.title
    feed = get(newsroom.url("/horcan/rss.xml"))
    assert b"<script>" not in feed
    assert a.title in {e.title for e in feedparser.parse(feed).entries}


def test_paywalled_pages_serve_only_a_teaser(newsroom: Newsroom) -> None:
    for a in by_trap(newsroom, "paywall"):
        assert a.paywalled and a.lead
        html = get(a.url).decode()
        text = unescape(html)
        assert a.lead in text and a.title in text
        assert not any(p in text for p in a.body)
        assert 'class="paywall"' in html
        ld = json.loads("".join(parse_page(html.encode()).jsonld))
        assert ld["isAccessibleForFree"] is False
    assert {a.key for a in newsroom.articles if a.paywalled} == {a.key for a in by_trap(newsroom, "paywall")}


def test_trafilatura_finds_the_article_text(newsroom: Newsroom) -> None:
    trafilatura = pytest.importorskip("trafilatura")
    a = newsroom.article("herald", "opposition-presses-mayor-over-winter-contract")
    text = trafilatura.extract(get(a.url).decode())
    assert text and a.body[0] in text
    assert "cookies" not in text and "Related stories" not in text


def test_listing_pages_link_articles(newsroom: Newsroom) -> None:
    herald = parse_page(get(newsroom.url("/herald/")))
    assert newsroom.url("/herald/section/politics/") in herald.links
    politics = parse_page(get(newsroom.url("/herald/section/politics/")))
    expected = {a.url for a in crawlable(newsroom) if a.outlet == "herald" and a.section == "politics"}
    assert expected <= set(politics.links)
    home = parse_page(get(newsroom.url("/spravy24/")))
    assert crawlable(newsroom)[0].outlet != "spravy24" or crawlable(newsroom)[0].url in home.links
    assert [a for a in crawlable(newsroom) if a.outlet == "spravy24"][0].url in home.links


def test_unknown_paths_and_redirects(newsroom: Newsroom) -> None:
    for path in ("/nope/", "/horcan/2026/11/no-such-article/", "/horcan/sekcia/no-such-section/",
                 "/hronske/rss.xml", "/horcan/sitemap.xml", "/herald/sekcia/politics/"):
        assert fetch(newsroom.url(path))[0] == 404, path
    a = newsroom.article("horcan", "vianocne-trhy-otvoria-27-novembra")
    status, headers, _ = fetch(a.url.rstrip("/"))
    assert status == 301 and headers["Location"] == a.url
    status, headers, _ = fetch(newsroom.url(f"/horcan/1999/01/{a.slug}/"))
    assert status == 301 and headers["Location"] == a.url


# --- conditional GET ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/herald/rss.xml", "/pohronie/rss.xml", "/hronske/news-sitemap.xml",
                                  "/horcan/2026/11/technicke-sluzby-maju-400-ton-soli/", "/mesto/"])
def test_conditional_get(newsroom: Newsroom, path: str) -> None:
    status, headers, body = fetch(newsroom.url(path))
    assert status == 200 and body
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert etag and last_modified
    status, headers, body = fetch(newsroom.url(path), {"If-None-Match": etag})
    assert status == 304 and body == b"" and headers["ETag"] == etag
    assert fetch(newsroom.url(path), {"If-Modified-Since": last_modified})[0] == 304
    assert fetch(newsroom.url(path), {"If-None-Match": '"other"'})[0] == 200
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(hours=1), usegmt=True)
    assert fetch(newsroom.url(path), {"If-Modified-Since": earlier})[0] == 200


def test_request_log(newsroom: Newsroom) -> None:
    a = newsroom.article("mesto", "vianocne-trhy-2026-program")
    before = newsroom.fetch_count(a.url)
    get(a.url + "?utm_source=test")
    assert newsroom.fetch_count(a.url) == before + 1
    assert ("GET", a.path + "?utm_source=test", 200) in newsroom.requests
    interne, = by_trap(newsroom, "robots")
    assert newsroom.fetch_count(interne.url) == 0  # nothing in this module fetched it


# --- a running newsroom can publish -----------------------------------------------------------------------------


def test_add_article_appears_in_feed_and_sitemap() -> None:
    with Newsroom(now=NOW) as n:
        feed_url = n.url("/horcan/rss.xml")
        status, headers, _ = fetch(feed_url)
        etag, last_modified = headers["ETag"], headers["Last-Modified"]
        added = n.add_article("horcan", "mimoriadne-zasadnutie", "Primátor zvolal mimoriadne zastupiteľstvo",
                              ["Primátor Marián Hrušovský zvolal mimoriadne zasadnutie.", "Druhý odsek.",
                               "Tretí odsek."], relevant=True, officials=["mayor"], bodies=["council"])
        assert added.published >= NOW and added.expect.officials == ("mayor",)
        assert fetch(feed_url, {"If-None-Match": etag})[0] == 200
        assert fetch(feed_url, {"If-Modified-Since": last_modified})[0] == 200
        first = feedparser.parse(get(feed_url)).entries[0]
        assert first.title == added.title and first.link.split("?")[0] == added.url
        assert "Druhý odsek." in get(added.url).decode()
        hidden = n.add_article("hronske", "nova-sprava", "Nová správa", "Jediný odsek.", age_hours=1)
        assert hidden.url in sitemap_locs(n, "/hronske/news-sitemap.xml")
        assert hidden.url in parse_page(get(n.url("/hronske/"))).links
        with pytest.raises(ValueError):
            n.add_article("horcan", "mimoriadne-zasadnutie", "Duplicate", "x")
        with pytest.raises(ValueError):
            n.add_article("nope", "x", "x", "x")
    assert n.base_url and n._server is None


def test_module_runs_from_the_command_line() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "presswatch.newsroom.server", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        assert b"Hronsk" in get(base + "/hronske/")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Warning" not in err
