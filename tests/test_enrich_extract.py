"""Extraction: decoding that survives lying charsets, JSON-LD and meta metadata, paywalls, bad input.

The pages here are written for this test (our own words); real pages come from ../shared (skipped when absent)
and from the project's newsroom, rendered in-process.
"""

from __future__ import annotations

import codecs
import gzip
import json
import random
from datetime import UTC, datetime

import pytest

from presswatch import settings
from presswatch.enrich import extract as ex
from presswatch.enrich.extract import ExtractionError, decode, extract
from presswatch.records import RawPage
from tests.conftest import shared_path

NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)

BODY_SK = (
    "<p>Mestské zastupiteľstvo v Starej Hôrke schválilo v utorok rozpočet na budúci rok. Poslanci sa zhodli, že "
    "najviac peňazí pôjde na opravu ciest a chodníkov v mestskej časti Podháj, kde sa ľudia sťažujú najčastejšie.</p>"
    "<p>Primátor Marián Hrušovský povedal, že mesto nebude zvyšovať dane ani poplatky. Ďalšie úspory chce hľadať "
    "v správe budov a vo vozovom parku technických služieb.</p>"
    "<p>Opozícia navrhla presunúť časť peňazí na zateplenie škôl, jej návrh však neprešiel. Ťažké rokovanie "
    "trvalo do neskorého večera.</p>"
)


def page(html: str | bytes, *, charset: str | None = "utf-8", encoding: str = "utf-8", status: int = 200,
         feed_title: str | None = None, feed_published: datetime | None = None) -> RawPage:
    body = html if isinstance(html, bytes) else html.encode(encoding)
    headers = {"Content-Type": f"text/html; charset={charset}" if charset else "text/html"}
    return RawPage(url="https://noviny.example/clanok/1", final_url="https://noviny.example/clanok/1",
                   outlet="horcan", source="horcan-rss", fetched_at=NOW, status=status, headers=headers, body=body,
                   feed_title=feed_title, feed_published=feed_published)


def html_doc(body: str, head: str = "", title: str = "Zastupiteľstvo schválilo rozpočet") -> str:
    return (f"<!doctype html><html lang='sk'><head><meta charset='{{charset}}'><title>{title} | Hôrčan</title>"
            f"{head}</head><body><nav>Domov Správy Šport</nav><article><h1>{title}</h1>{body}</article>"
            "<footer>© Hôrčan</footer></body></html>")


def test_windows_1250_page_labelled_utf8_by_the_server_comes_out_right() -> None:
    doc = html_doc(BODY_SK).replace("{charset}", "windows-1250")
    art = extract(page(doc, charset="utf-8", encoding="cp1250"))
    assert art.title == "Zastupiteľstvo schválilo rozpočet"
    assert "Ťažké rokovanie" in art.text and "sťažujú" in art.text and "Hrušovský" in art.text
    assert "\ufffd" not in art.text


def test_windows_1250_page_declared_utf8_everywhere_still_decodes() -> None:
    doc = html_doc(BODY_SK).replace("{charset}", "utf-8")
    art = extract(page(doc, charset="utf-8", encoding="cp1250"))
    assert "Ťažké rokovanie" in art.text and "mestskej časti Podháj" in art.text


def test_utf8_bytes_win_over_a_wrong_single_byte_label() -> None:
    doc = html_doc(BODY_SK).replace("{charset}", "iso-8859-2")
    art = extract(page(doc, charset="windows-1250", encoding="utf-8"))
    assert "Ťažké rokovanie" in art.text


def test_byte_order_mark_decides() -> None:
    text, enc = decode(codecs.BOM_UTF16_LE + "Primátor Hrušovský".encode("utf-16-le"), {})
    assert text == "Primátor Hrušovský" and enc == "utf-16"
    text, enc = decode(codecs.BOM_UTF8 + "Ťažké".encode(), {"Content-Type": "text/html; charset=cp1250"})
    assert text == "Ťažké" and enc == "utf-8-sig"


def test_other_single_byte_encodings_of_our_languages() -> None:
    lt = "Savivaldybės tarybos posėdyje Šiaulių meras pristatė biudžetą, įrengta nauja aikštė ir žaidimų vieta."
    tr = "Belediye Başkanı, İlçe'nin yeni kütüphanesinin açılışını yaptı; öğrenciler çalışma salonunu kullanacak."
    mk = "Градоначалникот на општината ја отвори новата градинка, а советниците ќе гласаат за буџетот."
    for text, enc in ((lt, "cp1257"), (tr, "cp1254"), (mk, "cp1251")):
        got, used = decode(f"<p>{text}</p>".encode(enc), {"Content-Type": "text/html; charset=utf-8"})
        assert text in got, (enc, used)


def test_json_ld_gives_title_date_and_authors() -> None:
    ld = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "name": "Hôrčan"},
        {"@type": ["NewsArticle"], "headline": "Zastupiteľstvo schválilo rozpočet na rok 2027",
         "datePublished": "2026-10-19T18:30:00+02:00", "author": [{"@type": "Person", "name": "Beáta Sýkorová"},
                                                                   {"@type": "Person", "name": "Ján Kráľ"}]}]}
    head = f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>' \
           '<meta property="og:title" content="Iný titulok z og">'
    art = extract(page(html_doc(BODY_SK, head).replace("{charset}", "utf-8")))
    assert art.title == "Zastupiteľstvo schválilo rozpočet na rok 2027"
    assert art.published == datetime(2026, 10, 19, 16, 30, tzinfo=UTC)
    assert art.published is not None and art.published.tzinfo == UTC
    assert art.authors == ("Beáta Sýkorová", "Ján Kráľ")


def test_meta_tags_when_there_is_no_json_ld() -> None:
    head = ('<meta property="og:title" content="Primátor otvoril ihrisko | Hôrčan">'
            '<meta property="article:published_time" content="2026-10-18T07:15:00Z">'
            '<meta name="author" content="Beáta Sýkorová">')
    art = extract(page(html_doc(BODY_SK, head, title="").replace("{charset}", "utf-8")))
    assert art.title == "Primátor otvoril ihrisko"
    assert art.published == datetime(2026, 10, 18, 7, 15, tzinfo=UTC)
    assert art.authors == ("Beáta Sýkorová",)


def test_feed_title_and_date_are_the_fallback() -> None:
    doc = f"<html><body><div>{BODY_SK}</div></body></html>"
    when = datetime(2026, 10, 17, 9, 0, tzinfo=UTC)
    art = extract(page(doc, feed_title="Titulok z RSS", feed_published=when))
    assert art.title == "Titulok z RSS" and art.published == when
    assert "Hrušovský" in art.text


def test_naive_timestamps_take_the_given_zone_and_are_stored_in_utc() -> None:
    from zoneinfo import ZoneInfo

    head = '<meta property="article:published_time" content="2026-10-18 09:00:00">'
    art = extract(page(html_doc(BODY_SK, head).replace("{charset}", "utf-8")), ZoneInfo("Europe/Bratislava"))
    assert art.published == datetime(2026, 10, 18, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("flag", ["false", '"False"'])
def test_json_ld_paywall_keeps_title_and_lead(flag: str) -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Most otvoria až na jar", '
            f'"isAccessibleForFree": {flag}, "description": "Oprava mosta sa predĺži o tri mesiace."}}</script>')
    body = "<p class='perex'>Oprava mosta sa predĺži o tri mesiace.</p><div>Zvyšok článku je pre predplatiteľov.</div>"
    art = extract(page(html_doc(body, head).replace("{charset}", "utf-8")))
    assert art.paywalled
    assert art.title == "Most otvoria až na jar"
    assert "Oprava mosta sa predĺži o tri mesiace." in art.text


def test_short_text_with_a_subscription_box_is_a_paywall_but_a_menu_link_is_not() -> None:
    lead = "<p><strong>Mesto chystá nový parkovací dom, obyvatelia Podhája nesúhlasia.</strong></p>"
    box = "<div class='paywall'><h2>Celý článok si prečítate s predplatným</h2><a>Predplatné</a></div>"
    walled = extract(page(html_doc(lead + box).replace("{charset}", "utf-8")))
    assert walled.paywalled and "parkovací dom" in walled.text
    menu = "<div class='topbar'><a href='/predplatne/'>Predplatné</a> <a>Prihlásiť sa</a></div>"
    free = extract(page(html_doc(BODY_SK).replace("<nav>", menu + "<nav>").replace("{charset}", "utf-8")))
    assert not free.paywalled


@pytest.mark.parametrize("seed", range(8))
def test_garbage_bytes_never_crash(seed: int) -> None:
    rng = random.Random(seed)
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 5000)))
    try:
        art = extract(page(junk, charset=rng.choice([None, "utf-8", "x-unknown", "windows-1250"])))
    except ExtractionError:
        return
    assert isinstance(art.text, str) and isinstance(art.title, str)


@pytest.mark.parametrize("html", [
    b"", b"<html>", b"<html><head><title></title></head><body></body></html>", b"\x00\x00\x00",
    b"<?xml version='1.0' encoding='utf-8'?><html><body><p>Len text.</p></body></html>",
    b"<html><body><script type='application/ld+json'>{broken json</script><p>Text bez titulku, ale s obsahom.</p>",
    b"<<<>>><p<p<p>>",
])
def test_bad_html_returns_what_it_can_or_a_clear_error(html: bytes) -> None:
    try:
        art = extract(page(html))
    except ExtractionError as exc:
        assert "no title and no text" in str(exc)
        return
    assert art.title or art.text


def test_error_status_is_a_clear_error() -> None:
    with pytest.raises(ExtractionError, match="HTTP status 404"):
        extract(page(html_doc(BODY_SK).replace("{charset}", "utf-8"), status=404))


def test_huge_pages_are_cut_at_the_configured_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "PAGE_MAX_BYTES", 20_000)
    filler = "<p>" + "Výplňový odsek o ničom. " * 40 + "</p>"
    doc = html_doc(BODY_SK + filler * 200 + "<p>KONIEC-ČLÁNKU</p>").replace("{charset}", "utf-8")
    art = extract(page(doc))
    assert "Hrušovský" in art.text and "KONIEC-ČLÁNKU" not in art.text
    assert ex.settings.PAGE_MAX_BYTES == 20_000


def test_real_pages_title_date_authors() -> None:
    """fundus' ground truth on its Czech and Lithuanian pages (publishers' copyright, MIT fixtures); these
    publishers declare their metadata (JSON-LD, meta tags), which is what extraction reads."""
    base = shared_path("data", "extraction", "fundus")
    checked = 0
    for line in (base / "ground_truth_flat.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["country"] not in ("cz", "lt"):
            continue
        body = gzip.decompress((base / rec["html"]).read_bytes())
        raw = RawPage(url=rec["url"], final_url=rec["url"], outlet="x", source="x", fetched_at=NOW, status=200,
                      headers={}, body=body)
        art = extract(raw)
        assert " ".join(art.title.split()) == " ".join(rec["title"].split())
        assert rec["authors"][0] in art.authors
        assert len(art.text) > 500
        first_paragraph = rec["body_text"].split("\n\n")[1][:60]
        assert " ".join(first_paragraph.split()) in " ".join(art.text.split())
        if rec["country"] == "cz":
            gold = datetime.fromisoformat(rec["publishing_date"]).astimezone(UTC)
            assert art.published == gold
        checked += 1
    assert checked >= 4


def test_newsroom_pages_including_its_charset_trap() -> None:
    """Every page the project's newsroom serves: title, lead and paragraphs, paywall and date come out right."""
    content = pytest.importorskip("presswatch.newsroom.content")
    site_mod = pytest.importorskip("presswatch.newsroom.site")
    outlets = content.load_outlets()
    articles = content.load_articles(outlets, NOW)
    site = site_mod.Site(content.Catalogue(outlets, articles), "http://127.0.0.1:8765", NOW,
                         {o: NOW for o in outlets})
    mismatched = 0
    for a in articles:
        r = site.respond(a.path)
        raw = RawPage(url="http://127.0.0.1:8765" + a.path, final_url="http://127.0.0.1:8765" + a.path,
                      outlet=a.outlet, source="t", fetched_at=NOW, status=r.status,
                      headers={"Content-Type": r.content_type}, body=r.body)
        art = extract(raw)
        assert art.title == a.title, a.key
        assert art.paywalled == a.paywalled, a.key
        assert art.published == a.published, a.key
        for para in ([a.lead] if a.lead else []) + ([] if a.paywalled else list(a.body)):
            assert " ".join(para.split())[:50] in " ".join(art.text.split()), (a.key, para[:50])
        mismatched += a.http_charset is not None
    assert mismatched >= 1, "the newsroom should keep a page whose header charset lies"
