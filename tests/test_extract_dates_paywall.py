"""Extraction rules on pages written for this test: publication dates (page vs feed, the future, ambiguous
day/month), paywalled teasers (and ordinary short news that is not one), the extraction metrics, and
`presswatch extract` / `presswatch eval` on the command line."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch import settings
from presswatch.cli import main
from presswatch.enrich import extract as ex
from presswatch.enrich.extract import decode, extract_page, resolve_published
from presswatch.enrich.extraction_eval import SnippetCounts, prf_from_counts, shingle_counts
from presswatch.records import RawPage

FETCHED = datetime(2026, 4, 10, 8, 0, tzinfo=UTC)

LONG_EN = (
    "<p>The town council of Oakford approved next year's budget on Tuesday evening after a debate that lasted "
    "almost five hours. Most of the money will go to repairing roads and pavements in the northern districts, "
    "where residents have complained for years about potholes and broken kerbs.</p>"
    "<p>Mayor Helen Brooks said that the town would not raise local taxes or fees. Further savings are to come "
    "from the management of public buildings and from replacing the oldest vehicles of the technical services.</p>"
    "<p>The opposition proposed moving part of the money to insulating schools, but the proposal failed. "
    "Councillors also agreed to review the parking charges in the centre before the summer season begins.</p>"
)
SHORT_EN = ("<p>The swimming pool on Mill Street will close for maintenance from Monday to Wednesday, the town "
            "hall said. It reopens on Thursday at seven in the morning.</p>")


def doc(body: str, head: str = "", header: str = "<nav>Home News Sport</nav>", title: str = "Council approves budget"
        ) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title} | Oakford Post</title>{head}"
            f"</head><body><header>{header}</header><article><h1>{title}</h1>{body}</article>"
            "<footer>© Oakford Post</footer></body></html>")


def page(html: str, feed: datetime | None = None, fetched: datetime = FETCHED) -> RawPage:
    return RawPage(url="https://post.example/a/1", final_url="https://post.example/a/1", outlet="post",
                   source="post-rss", fetched_at=fetched, status=200, headers={}, body=html.encode("utf-8"),
                   feed_published=feed)


def ld(**fields: object) -> str:
    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


def meta_date(value: str, name: str = "article:published_time") -> str:
    return f'<meta property="{name}" content="{value}">'


# --- dates ---------------------------------------------------------------------------------------------------------


def test_json_ld_date_comes_before_meta_and_the_feed() -> None:
    head = ld(headline="Council approves budget", datePublished="2026-04-09T18:30:00+02:00") + \
        meta_date("2026-04-08T10:00:00Z")
    got = extract_page(page(doc(LONG_EN, head), feed=datetime(2026, 4, 9, 17, 0, tzinfo=UTC)))
    assert got.published == datetime(2026, 4, 9, 16, 30, tzinfo=UTC)
    assert got.date_source == "jsonld"


def test_a_date_in_the_future_is_not_trusted_the_feed_date_is() -> None:
    feed = datetime(2026, 4, 10, 6, 0, tzinfo=UTC)
    future = (FETCHED + timedelta(days=3)).isoformat()
    got = extract_page(page(doc(LONG_EN, meta_date(future)), feed=feed))
    assert got.published == feed and got.date_source == "feed"
    # without a feed date nothing is better than a wrong date
    assert extract_page(page(doc(LONG_EN, meta_date(future)))).published is None


def test_a_few_minutes_ahead_is_clock_skew_and_kept() -> None:
    ahead = FETCHED + timedelta(minutes=settings.DATE_CLOCK_SKEW_MINUTES - 5)
    got = extract_page(page(doc(LONG_EN, meta_date(ahead.isoformat())), feed=FETCHED - timedelta(hours=1)))
    assert got.published == ahead and got.date_source == "meta"


def test_a_page_date_far_from_the_feed_date_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    feed = datetime(2026, 4, 9, 12, 0, tzinfo=UTC)
    stale = meta_date("2026-03-20T09:00:00Z")  # a template's date or the date of an older version
    assert extract_page(page(doc(LONG_EN, stale), feed=feed)).published == feed
    near = meta_date("2026-04-05T09:00:00Z")
    assert extract_page(page(doc(LONG_EN, near), feed=feed)).published == datetime(2026, 4, 5, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(settings, "DATE_MAX_FEED_GAP_DAYS", 2)  # the allowance is a setting
    assert extract_page(page(doc(LONG_EN, near), feed=feed)).published == feed


@pytest.mark.parametrize(("feed", "expected"), [
    (datetime(2026, 4, 3, 7, 0, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC)),  # day first: 3 April
    (datetime(2026, 3, 4, 7, 0, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)),  # month first: 4 March
])
def test_an_ambiguous_day_and_month_in_meta_is_resolved_by_the_feed_date(feed: datetime, expected: datetime) -> None:
    got = extract_page(page(doc(LONG_EN, meta_date("03/04/2026", "date")), feed=feed, fetched=feed + timedelta(hours=1)))
    assert got.published == expected and got.date_source == "meta"


def test_an_ambiguous_date_printed_in_the_text_is_resolved_by_the_feed_date() -> None:
    body = "<p class='article-date'>Published 03/04/2026 14:20</p>" + LONG_EN
    feed = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
    got = extract_page(page(doc(body), feed=feed, fetched=feed + timedelta(hours=2)))
    assert got.published == datetime(2026, 3, 4, 14, 20, tzinfo=UTC) and got.date_source == "text"


def test_without_a_feed_the_reading_nearest_the_fetch_wins_and_dots_are_day_first() -> None:
    got = extract_page(page(doc(LONG_EN, meta_date("03/04/2026", "date"))))  # fetched 10 April
    assert got.published == datetime(2026, 4, 3, tzinfo=UTC)
    got = extract_page(page(doc("<span class='date'>04.03.2026</span>" + LONG_EN)))
    assert got.published == datetime(2026, 3, 4, tzinfo=UTC)  # dotted: 4 March, never 3 April
    got = extract_page(page(doc(LONG_EN, meta_date("25/03/2026", "date"))))  # only one reading is a date
    assert got.published == datetime(2026, 3, 25, tzinfo=UTC)


@pytest.mark.parametrize(("printed", "expected"), [
    ("Publikované 3. apríla 2026, 10:15", datetime(2026, 4, 3, tzinfo=UTC)),  # sk, genitive
    ("3 Nisan 2026 Cuma", datetime(2026, 4, 3, tzinfo=UTC)),  # tr
    ("Published April 3, 2026", datetime(2026, 4, 3, tzinfo=UTC)),  # en, month first in words: not ambiguous
])
def test_a_date_with_the_month_in_words_is_read_from_a_date_element(printed: str, expected: datetime) -> None:
    got = extract_page(page(doc(f"<div class='meta-datum'>{printed}</div>" + LONG_EN)))
    assert got.published == expected and got.date_source == "text"


def test_no_page_date_falls_back_to_the_feed_and_nothing_is_none() -> None:
    feed = datetime(2026, 4, 9, 12, 0, tzinfo=UTC)
    assert extract_page(page(doc(LONG_EN), feed=feed)).published == feed
    assert extract_page(page(doc(LONG_EN))).published is None
    assert resolve_published([], None, FETCHED) == (None, "none")


# --- paywalled teasers -----------------------------------------------------------------------------------------


def test_json_ld_has_part_not_free_is_a_paywall() -> None:
    head = ld(headline="Council approves budget", isAccessibleForFree=True,
              hasPart={"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".locked"})
    got = extract_page(page(doc(SHORT_EN, head)))
    assert got.paywalled and got.paywall_reason == "jsonld" and "swimming pool" in got.text


def test_locked_content_tier_is_a_paywall_metered_is_not() -> None:
    locked = extract_page(page(doc(LONG_EN, meta_date("locked", "article:content_tier"))))
    assert locked.paywalled and locked.paywall_reason == "content_tier"
    assert not extract_page(page(doc(SHORT_EN, meta_date("metered", "article:content_tier")))).paywalled


@pytest.mark.parametrize("box", [
    "<div class='c-article-paywall'><p>This article is for subscribers.</p></div>",
    "<div data-paywall='true'></div>",
    "<section class='premium-content'><a href='/subscribe'>Subscribe</a></section>",
    "<div class='box'><p>Subscribe to continue reading this story.</p></div>",
])
def test_a_short_teaser_with_a_paywall_box_or_phrase_is_marked_and_kept(box: str) -> None:
    lead = "<p><strong>The town will build a new car park on Mill Street, residents object.</strong></p>"
    got = extract_page(page(doc(lead + box, ld(headline="New car park on Mill Street",
                                               description="The town will build a new car park."))))
    assert got.paywalled
    assert got.title == "New car park on Mill Street" and "new car park" in got.text


def test_ordinary_short_news_is_not_a_paywall() -> None:
    assert not extract_page(page(doc(SHORT_EN))).paywalled
    # the site sells subscriptions: the header says so on every page, the article itself is free
    header = "<a href='/subscribe'>Subscribe</a> Already a subscriber? <a href='/login'>Sign in to read</a>"
    assert not extract_page(page(doc(SHORT_EN, header=header))).paywalled
    # a long free article on a site whose paywall script leaves an empty container on every page
    got = extract_page(page(doc(LONG_EN + "<div class='paywall-slot'></div>")))
    assert not got.paywalled and got.paywall_reason is None


# --- decoding repairs that keep us level with trafilatura --------------------------------------------------


def test_utf8_with_a_few_broken_bytes_stays_utf8() -> None:
    text = "Žilina schválila rozpočet. " * 30
    body = f"<html><head><meta charset='utf-8'></head><body><p>{text}</p></body></html>".encode() + b"\xe9 end"
    out, enc = decode(body)
    assert enc == "utf-8" and "Žilina" in out


def test_a_declared_multibyte_charset_that_decodes_is_used() -> None:
    body = "<html><head><meta charset='gb2312'></head><body><p>新华网石家庄电 记者报道</p></body></html>"
    out, enc = decode(body.encode("gbk"))
    assert "新华网" in out and enc == "gb18030"


# --- metrics -------------------------------------------------------------------------------------------------


def test_shingle_metric_matches_the_benchmark_definition() -> None:
    assert shingle_counts("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)
    tp, fp, fn = shingle_counts("one two three four five", "one two three four six")
    assert (tp, fp, fn) == pytest.approx((1 / 3, 1 / 3, 1 / 3))  # shingles: 2 true, 2 predicted, 1 shared
    assert shingle_counts("", "") == (0.0, 0.0, 0.0)
    # per page normalised, averaged over pages; F1 from the averages
    scores = prf_from_counts([(1.0, 0.0, 0.0), (0.5, 0.5, 0.0)])
    assert scores["precision"] == 0.75 and scores["recall"] == 1.0 and scores["f1"] == pytest.approx(0.8571, 1e-3)


def test_snippet_counts_are_whitespace_insensitive() -> None:
    c = SnippetCounts()
    c.add("The  mayor\nsaid no.", ["mayor said", "missing part"], ["Cookie banner", "said no."])
    assert (c.tp, c.fn, c.fp, c.tn) == (1, 1, 1, 1)
    assert c.scores()["accuracy"] == 0.5


# --- the command line ---------------------------------------------------------------------------------------------


def test_presswatch_extract_prints_json_for_a_gzipped_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    head = (ld(headline="Council approves budget", datePublished="03/04/2026", author={"name": "Jane Doe"})
            + "<link rel='canonical' href='/a/council-budget'>")
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress(doc(LONG_EN, head).encode("utf-8")))
    assert main(["extract", "--url", "https://post.example/a/1?utm=x", "--feed-date", "2026-03-04T10:00:00+00:00",
                 str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"title", "text", "published", "authors", "lang", "paywalled"} <= set(out)
    assert out["title"] == "Council approves budget" and out["authors"] == ["Jane Doe"]
    assert out["published"] == "2026-03-04T00:00:00+00:00" and out["lang"] == "en" and out["paywalled"] is False
    assert out["canonical"] == "https://post.example/a/council-budget"
    assert "Mayor Helen Brooks" in out["text"]


def test_presswatch_extract_reports_an_empty_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><body></body></html>", encoding="utf-8")
    assert main(["extract", str(path)]) == 1
    assert "no title and no text" in capsys.readouterr().err


def test_presswatch_eval_needs_a_set_or_a_mode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["eval"]) == 2
    assert "--set" in capsys.readouterr().err
    assert main(["eval", "extraction", "--data", str(tmp_path / "absent")]) == 1
    assert "no extraction data" in capsys.readouterr().err


def test_extract_module_keeps_article_text_as_lead_plus_body() -> None:
    head = ld(headline="Council approves budget", description="Roads first, no new taxes, says the mayor.")
    got = extract_page(page(doc(LONG_EN, head)))
    art = ex.extract(page(doc(LONG_EN, head)))
    assert got.lead == "Roads first, no new taxes, says the mayor." and got.lead not in got.body
    assert art.text == got.text and art.text.startswith(got.lead) and art.text.endswith(got.body)
