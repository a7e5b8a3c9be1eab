"""`presswatch backfill --since DATE`: sitemap indexes, dated sitemap entries and paginated archives of a loopback
site, deduplicated by canonical URL, fetched, processed, with a progress bar on stderr."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presswatch.cli import main
from presswatch.crawlers.backfill import PAGINATION, Progress, run_backfill
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import parse_profile
from presswatch.records import Discovery, clipping_id
from presswatch.state import State
from tests.test_crawl_server import Reply, Server, profile_yaml
from tests.test_duplicates import article

TOPICS = ["oprava-cesty-na-hlavnej-ulici", "nova-skolka-v-centre-mesta", "rozpocet-mesta-na-buduci-rok",
          "zimna-udrzba-ciest-sa-zacina", "stary-clanok-z-leta-minuleho-roka", "koncert-na-namesti-v-sobotu",
          "clanok-len-v-archive-mesta", "clanok-z-oktobra-v-starej-mape"]


def _text(topic: str) -> str:
    words = topic.replace("-", " ")
    return (f"Správa o téme {words} prišla v pondelok z mestského úradu. Hovorca mesta k téme {words} uviedol "
            f"podrobnosti, ktoré zaujímajú obyvateľov. Téma {words} sa bude riešiť aj na najbližšom zastupiteľstve, "
            f"kde poslanci rozhodnú o ďalšom postupe. K téme {words} sa vyjadrila aj opozícia.")


def _site(srv: Server) -> None:
    for topic in TOPICS:
        srv.routes[f"/2026/11/{topic}/"] = Reply(body=article(topic.replace("-", " ").capitalize(), _text(topic),
                                                              "2026-11-15T08:00:00Z"))
    news = "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'"
    srv.routes.update({
        "/robots.txt": Reply(body=b"User-agent: *\nDisallow: /private/\nSitemap: /sitemap_index.xml\n",
                             content_type="text/plain"),
        "/sitemap_index.xml": Reply(content_type="application/xml", body=(
            b"<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            b"<sitemap><loc>/sitemap-2026-11.xml</loc><lastmod>2026-11-20</lastmod></sitemap>"
            b"<sitemap><loc>/sitemap-2026-10.xml</loc><lastmod>2026-10-31</lastmod></sitemap>"
            b"</sitemapindex>")),
        "/sitemap-2026-11.xml": Reply(content_type="application/xml", body=(
            f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' {news}>"
            "<url><loc>/2026/11/oprava-cesty-na-hlavnej-ulici/?utm_source=sitemap</loc>"
            "<news:news><news:title>Oprava cesty</news:title>"
            "<news:publication_date>2026-11-15T08:00:00Z</news:publication_date></news:news></url>"
            "<url><loc>/2026/11/nova-skolka-v-centre-mesta/</loc><lastmod>2026-11-16T10:00:00Z</lastmod></url>"
            "<url><loc>/2026/11/rozpocet-mesta-na-buduci-rok/</loc><lastmod>2026-11-17</lastmod></url>"
            "<url><loc>/2026/11/zimna-udrzba-ciest-sa-zacina/</loc></url>"  # no date: kept
            "<url><loc>/2026/11/stary-clanok-z-leta-minuleho-roka/</loc><lastmod>2025-07-01</lastmod></url>"
            "<url><loc>/private/2026/11/tajne-interne-oznamenie-mesta/</loc></url>"
            "</urlset>").encode()),
        "/sitemap-2026-10.xml": Reply(content_type="application/xml", body=(
            b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            b"<url><loc>/2026/11/clanok-z-oktobra-v-starej-mape/</loc></url></urlset>")),
        "/spravy/": Reply(body=(
            "<html><body><a href='/2026/11/koncert-na-namesti-v-sobotu/'>Koncert</a>"
            "<a href='/2026/11/oprava-cesty-na-hlavnej-ulici/#komentare'>Oprava</a>"
            "<a href='/spravy/?strana=2'>Ďalšia</a><a href='/kontakt/'>Kontakt</a></body></html>").encode()),
        "/spravy/?strana=2": Reply(body=(
            "<html><head><link rel='next' href='/spravy/?strana=3'></head><body>"
            "<a href='/2026/11/clanok-len-v-archive-mesta/'>Archív</a></body></html>").encode()),
        "/spravy/?strana=3": Reply(body=b"<html><body><a href='/spravy/?strana=2'>Spat</a></body></html>"),
    })


def _profile_file(tmp_path: Path, srv: Server) -> Path:
    sites = (f"    - {{id: web, outlet: o, start_urls: ['{srv.url('/spravy/')}'], depth: 1}}\n")
    path = tmp_path / "town.yaml"
    path.write_text(profile_yaml(feeds={"f": srv.url("/rss.xml")}, sites=sites), encoding="utf-8")
    return path


def test_backfill_walks_sitemap_indexes_and_archives_since_a_date(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(db))
    with Server() as srv:
        _site(srv)
        profile = parse_profile(_profile_file(tmp_path, srv).read_text(encoding="utf-8"))
        state = State(db)
        known = srv.url("/2026/11/rozpocet-mesta-na-buduci-rok/")  # a feed found it already
        state.discover([Discovery(url=known, outlet="o", source="f", seen_at=datetime.now(UTC))])
        state.close()
        err = io.StringIO()
        report = run_backfill(profile, datetime(2026, 11, 1, tzinfo=UTC), stream=err,
                              labels={"fetch": "Sťahujem", "process": "Spracúvam"})
        assert srv.count("/2026/11/stary-clanok-z-leta-minuleho-roka/") == 0  # before the date
        assert srv.count("/sitemap-2026-10.xml") == 0  # the whole child sitemap is older than the date
        assert srv.count("/private/2026/11/tajne-interne-oznamenie-mesta/") == 0  # robots.txt
        assert srv.count("/2026/11/oprava-cesty-na-hlavnej-ulici/") == 1  # in the sitemap and the archive
        again = run_backfill(profile, datetime(2026, 11, 1, tzinfo=UTC), stream=io.StringIO())

    (site,) = report.sites
    assert (site.sitemaps, site.archive_pages) == (2, 3)
    # sitemap: oprava, skolka, rozpocet, zimna (undated), private (refused later); archive: koncert, archiv
    assert (site.found, site.new) == (7, 6)
    assert report.fetched == 6 and report.indexed == 6 and report.new == 6
    assert any("robots.txt" in e for e in report.errors)
    assert "Sťahujem [" in err.getvalue() and "Spracúvam [" in err.getvalue()
    assert "6/6" in err.getvalue()
    index = SqliteIndex(db)
    try:
        assert index.stats().clippings == 6
        clip = index.get(clipping_id(srv.url("/2026/11/oprava-cesty-na-hlavnej-ulici/")))
        assert clip is not None and clip.article.published == datetime(2026, 11, 15, 8, 0, tzinfo=UTC)
    finally:
        index.close()
    # a second run finds the same links and fetches nothing
    assert (again.sites[0].new, again.fetched, again.indexed) == (0, 0, 0)


def test_backfill_command_prints_localised_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PRESSWATCH_DB", str(tmp_path / "store.db"))
    with Server() as srv:
        _site(srv)
        path = _profile_file(tmp_path, srv)
        code = main(["--ui-lang", "sk", "backfill", "--profile", str(path), "--since", "2026-11-01",
                     "--source", "web"])
        unknown = main(["--ui-lang", "en", "backfill", "--profile", str(path), "--since", "2026-11-01",
                        "--source", "nope"])
    out, err = capsys.readouterr()
    assert code == 0 and unknown == 2
    assert "Doplnenie web: 7 odkazov na články v 2 mapách stránok a 3 stranách archívu" in out
    assert "stiahnutých 6 stránok (1 zlyhalo), zaindexovaných 6 článkov (6 nových)" in out
    assert "Doplnenie archívu od 2026-11-01" in err and "Sťahujem stránky [" in err
    assert "No site source to backfill (site sources in the profile: web)" in err


def test_pagination_shapes_and_progress_without_a_terminal() -> None:
    for url in ("http://x/spravy/?strana=2", "http://x/news/page/3/", "http://x/haberler?sayfa=4",
                "http://x/naujienos?puslapis=2", "http://x/vesti/?stranica=2"):
        assert PAGINATION.search(url), url
    for url in ("http://x/2026/11/page-turner-story/", "http://x/spravy/?id=2"):
        assert not PAGINATION.search(url), url
    out = io.StringIO()
    bar = Progress("fetch", 20, out, width=10)
    for _ in range(20):
        bar.update()
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) <= 12 and lines[-1] == "fetch [##########] 20/20"  # a line per tenth, not per page
