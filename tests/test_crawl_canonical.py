"""Canonical URLs: one article, one string, however it was linked."""

from __future__ import annotations

import pytest

from presswatch.crawlers.canonical import canonical_from_html, canonical_url


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTP://Example.COM/a/b/", "http://example.com/a/b/"),
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com/a/b/#comments", "http://example.com/a/b/"),
    ("http://example.com/a/b", "http://example.com/a/b"),  # no slash invented
    ("http://example.com/a/b/", "http://example.com/a/b/"),  # none removed
    ("http://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "http://example.com/a"),
    ("http://example.com/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&msclkid=5&id=7", "http://example.com/a?id=7"),
    ("http://example.com/a?UTM_Source=x&id=7", "http://example.com/a?id=7"),
    ("http://example.com/a?b=2&a=1&c=", "http://example.com/a?a=1&b=2&c="),
    ("http://example.com/a?ref=related", "http://example.com/a?ref=related"),  # not certainly tracking: kept
    ("http://example.com/spr%c3%a1vy/%7euser", "http://example.com/spr%C3%A1vy/~user"),
    ("http://example.com/správy", "http://example.com/spr%C3%A1vy"),
    ("http://example.com/a/./b/../c/", "http://example.com/a/c/"),
    ("http://example.com/search?q=%9A", "http://example.com/search?q=%9A"),  # windows-1250 escape kept as is
    ("http://user:pw@Example.com./a", "http://example.com/a"),
    ("  http://example.com/a  ", "http://example.com/a"),
])
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected
    assert canonical_url(expected) == expected  # idempotent


def test_relative_links_resolve_against_base() -> None:
    assert canonical_url("../c/?utm_source=x", base="http://example.com/a/b/") == "http://example.com/a/c/"
    assert canonical_url("//cdn.example.com/x", base="https://example.com/") == "https://cdn.example.com/x"


@pytest.mark.parametrize("raw", ["mailto:press@example.com", "javascript:void(0)", "ftp://example.com/x",
                                 "http:///nohost", "/relative/without/base", "http://example.com:99999/"])
def test_non_http_urls_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(raw)


def test_canonical_from_html_same_site_only() -> None:
    page = b'<html><head><link rel="Canonical" href="/2026/11/clanok/"></head><body></body></html>'
    assert canonical_from_html(page, "http://www.example.com/2026/11/clanok/?utm_source=rss") == \
        "http://www.example.com/2026/11/clanok/"
    other = b'<html><head><link rel="canonical" href="https://other.example/x/"></head></html>'
    assert canonical_from_html(other, "http://example.com/x/") is None  # syndicated copy: not ours to merge
    www = '<html><head><link rel="canonical" href="https://example.com/x/"></head></html>'
    assert canonical_from_html(www, "http://www.example.com/x/") == "https://example.com/x/"
    assert canonical_from_html(b"<html><head></head></html>", "http://example.com/") is None
    assert canonical_from_html(b"", "http://example.com/") is None
    assert canonical_from_html(b"\x00\xff garbage", "http://example.com/") is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://m.example.sk/2026/11/clanok/", "https://example.sk/2026/11/clanok/"),
    ("https://mobile.news.example.com/a", "https://news.example.com/a"),
    ("https://amp.example.sk/amp/2026/11/clanok/", "https://example.sk/2026/11/clanok/"),
    ("https://example.sk/2026/11/clanok/amp/", "https://example.sk/2026/11/clanok/"),
    ("https://example.sk/2026/11/clanok/amp", "https://example.sk/2026/11/clanok"),
    ("https://example.sk/clanok?amp=1&id=3", "https://example.sk/clanok?id=3"),
    ("https://example.sk/clanok?amp", "https://example.sk/clanok"),
    ("https://www.example.com/x?outputType=amp", "https://www.example.com/x"),
    ("https://example.com/ampere/amplify-x", "https://example.com/ampere/amplify-x"),  # not an AMP segment
    ("http://m.sk/a", "http://m.sk/a"),  # nothing registrable would remain
    ("http://127.0.0.1:8765/a", "http://127.0.0.1:8765/a"),
])
def test_amp_and_mobile_variants_are_the_article(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected
    assert canonical_url(expected) == expected


def test_page_names_its_canonical_and_amp_twins() -> None:
    from presswatch.crawlers.canonical import aliases_from_html, page_aliases

    page = (b'<html><head><link rel="canonical" href="/2026/11/clanok/">'
            b'<link rel="amphtml" href="/amp-verzia/clanok?x=1"><link rel="amphtml" href="/ignored/"></head></html>')
    assert aliases_from_html(page, "http://example.com/2026/11/clanok") == {
        "http://example.com/2026/11/clanok/", "http://example.com/amp-verzia/clanok?x=1"}
    other = b'<html><head><link rel="amphtml" href="https://cdn.ampproject.org/c/x"></head></html>'
    assert aliases_from_html(other, "http://example.com/a") == set()  # another site's copy
    # a redirect from /a to /a/ makes /a/ the same article; a redirect off-site does not
    assert page_aliases("http://example.com/a", "http://example.com/a/", b"") == {"http://example.com/a/"}
    assert page_aliases("http://example.com/a", "http://other.example/a/", b"") == set()
