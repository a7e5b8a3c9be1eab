"""The `ClippingIndex` contract, one suite for every backend (DESIGN.md: "Both backends pass the same contract
tests"). Only the interface is used: no SQL, no Elasticsearch request. `sqlite` runs on a real store file in
tmp_path; `es` needs a real server at PRESSWATCH_ES_URL (each test gets its own index prefix, removed after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch.index.base import ClippingIndex, SavedSearch, SearchQuery, StatusError
from presswatch.index.query import QueryError
from presswatch.records import Article, Clipping, Enrichment, Flag, Mention, Reason, Sentiment

ES_SKIP = "PRESSWATCH_ES_URL is not set: the Elasticsearch contract tests need a real server"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Bratislava


def make(cid: str, title: str, text: str, *, lang: str = "sk", day: int = 0, municipality: str = "bratislava",
         relevant: bool = True, officials: tuple[str, ...] = (), bodies: tuple[str, ...] = (),
         critical: float | None = None, misleading: float | None = None, cluster_id: str | None = None,
         fingerprint: int | None = None, outlet: str = "sme", sentiment: str = "neutral",
         hours: int = 0) -> Clipping:
    when = T0 + timedelta(days=day, hours=hours)
    flags = []
    if critical is not None:
        flags.append(Flag("critical", critical, (Reason("kritizovali", text[:30], "text", 0, 30),)))
    if misleading is not None:
        flags.append(Flag("misleading", misleading, (Reason("nepravda", text[:30], "text", 0, 30,
                                                             record="Most stojí 10 mil. €", fact_id="bridge"),)))
    mentions = tuple(Mention("official", o, o, 0, len(o), "text") for o in officials)
    return Clipping(
        article=Article(id=cid, url=f"https://news.example/{cid}", outlet=outlet, title=title, text=text,
                        published=when, lang=lang, fetched_at=when + timedelta(hours=1)),
        enrichment=Enrichment(lang=lang, relevant=relevant, officials=officials, bodies=bodies, mentions=mentions,
                              sentiment=Sentiment(sentiment, {"negative": -0.5, "positive": 0.5}.get(sentiment, 0.0)),
                              flags=tuple(flags)),
        municipality=municipality, cluster_id=cluster_id, fingerprint=fingerprint)


CORPUS = [
    make("sk-bridge", "Primátor Hrušovský otvoril nový most",
         "Primátora Michala Hrušovského kritizovali za meškanie stavby. Zastupiteľstvo rozhodne o pokute.",
         day=0, officials=("hrusovsky",), bodies=("council",), critical=0.8, cluster_id="story-bridge",
         fingerprint=0xFFFF_0000_FFFF_0000, sentiment="negative"),
    make("sk-bridge-copy", "Nový most otvorili", "Primátor Hrušovský otvoril most cez rieku, píše agentúra.",
         day=0, hours=3, outlet="dennikn", cluster_id="story-bridge", fingerprint=0xFFFF_0000_FFFF_0001,
         officials=("hrusovsky",)),
    make("sk-parking", "Petícia za parkovanie v centre",
         "Obyvatelia poslali primátorovi petíciu o parkovaní. Mestské dotácie na parkovanie neschválili.",
         day=1, misleading=0.6, outlet="dennikn", fingerprint=0x1234, sentiment="negative"),
    make("sk-holiday", "Hrusovsky na dovolenke", "Bez diakritiky: primator Hrusovsky odisiel na dovolenku.",
         day=3, relevant=False, officials=("hrusovsky",)),
    make("sk-hockey", "Hokejisti vyhrali", "Mestský hokejový klub vyhral, primátor gratuloval na štadióne.",
         day=3, outlet="pohronie", sentiment="positive"),
    make("cs-radnice", "Starosta Dvořák jednal na radnici", "Se starostou Dvořákem jednali zástupci spolků.",
         lang="cs", day=-1, municipality="brno", officials=("dvorak",), bodies=("rada",)),
    make("mk-cyr", "Градоначалникот Шилегов ја отвори улицата",
         "Градоначалникот Петре Шилегов изјави дека реконструкцијата ќе заврши наесен.", lang="mk", day=-2,
         municipality="skopje", officials=("silegov",)),
]
BY_ID = {c.id: c for c in CORPUS}
BRATISLAVA = [c.id for c in CORPUS if c.municipality == "bratislava"]


# --- the backends --------------------------------------------------------------------------------------------
def _sqlite(tmp_path: Path) -> Iterator[ClippingIndex]:
    from presswatch.index.sqlite import SqliteIndex

    index = SqliteIndex(tmp_path / "presswatch.db")
    yield index
    index.close()


def _elastic() -> Iterator[ClippingIndex]:
    url = os.environ.get("PRESSWATCH_ES_URL")
    if not url:
        pytest.skip(ES_SKIP)
    from presswatch.index.elastic import ElasticIndex

    prefix = f"pwtest-{uuid.uuid4().hex[:10]}"
    index = ElasticIndex.from_url(url, prefix=prefix, refresh="wait_for")
    try:
        yield index
    finally:
        index.client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
        for name in (f"{prefix}-clippings", f"{prefix}-saved", f"{prefix}-status"):
            index.client.indices.delete_index_template(name=name)
        index.close()


@pytest.fixture(params=["sqlite", pytest.param("es", marks=pytest.mark.es)])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ClippingIndex]:
    yield from (_sqlite(tmp_path) if request.param == "sqlite" else _elastic())


@pytest.fixture
def filled(index: ClippingIndex) -> ClippingIndex:
    assert index.upsert(CORPUS) == len(CORPUS)
    return index


def ids(index: ClippingIndex, text: str = "", **kw: object) -> set[str]:
    kw.setdefault("relevant", None)
    kw.setdefault("limit", 100)
    return {h.clipping.id for h in index.search(SearchQuery(text=text, **kw)).hits}  # type: ignore[arg-type]


# --- upsert and get ------------------------------------------------------------------------------------------
def test_upsert_and_get_round_trip(index: ClippingIndex) -> None:
    assert index.upsert(CORPUS) == len(CORPUS)
    assert index.upsert(CORPUS[:2]) == 0  # replacements are not new
    got = index.get("sk-bridge")
    assert got is not None and got.status == "new"
    c = BY_ID["sk-bridge"]
    assert (got.article, got.enrichment, got.municipality, got.cluster_id, got.fingerprint) == \
        (c.article, c.enrichment, c.municipality, c.cluster_id, c.fingerprint)
    assert got.indexed_at is not None
    assert index.get("nope") is None
    assert index.stats().clippings == len(CORPUS)


def test_replacing_a_clipping_keeps_its_status(filled: ClippingIndex) -> None:
    filled.set_status("sk-parking", "acknowledged", by="anna")
    changed = replace(BY_ID["sk-parking"], article=replace(BY_ID["sk-parking"].article, title="Petícia opravená"),
                      status="new")
    assert filled.upsert([changed]) == 0
    got = filled.get("sk-parking")
    assert got is not None and got.status == "acknowledged" and got.article.title == "Petícia opravená"
    assert ids(filled, "opravená") == {"sk-parking"}
    assert ids(filled, status="acknowledged") == {"sk-parking"}


# --- text search ---------------------------------------------------------------------------------------------
def test_words_phrases_or_and_exclusion(filled: ClippingIndex) -> None:
    assert ids(filled, "most") == {"sk-bridge", "sk-bridge-copy"}
    assert ids(filled, '"nový most"') == {"sk-bridge", "sk-bridge-copy"}
    assert ids(filled, '"most nový"') == set()
    assert ids(filled, "parkovanie OR hokejisti") == {"sk-parking", "sk-hockey"}
    assert ids(filled, "primátor -most") == {"sk-parking", "sk-holiday", "sk-hockey"}
    assert ids(filled, "most -agentúra") == {"sk-bridge"}
    assert "sk-bridge" not in ids(filled, "-most")


def test_inflection_and_diacritics(filled: ClippingIndex) -> None:
    assert {"sk-bridge", "sk-parking"} <= ids(filled, "primátor")  # primátora, primátorovi
    assert ids(filled, "Hrusovsky") >= {"sk-bridge", "sk-bridge-copy", "sk-holiday"}  # Hrušovský, Hrušovského
    assert "sk-holiday" in ids(filled, "Hrušovský")  # text written without diacritics
    assert ids(filled, "Dvořák") == {"cs-radnice"}  # Dvořákem
    assert ids(filled, "gradonacalnik") == {"mk-cyr"}  # Cyrillic, found in Latin


def test_hits_newest_first_without_text_and_snippets_mark_matches(filled: ClippingIndex) -> None:
    hits = filled.search(SearchQuery(municipality="bratislava", relevant=None, limit=100)).hits
    times = [h.clipping.article.published for h in hits]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    [hit] = filled.search(SearchQuery(text="petícia", relevant=None)).hits
    assert "[" in hit.snippet and "]" in hit.snippet


def test_limit_offset_and_total(filled: ClippingIndex) -> None:
    page = filled.search(SearchQuery(municipality="bratislava", relevant=None, limit=2, offset=1))
    assert page.total == len(BRATISLAVA) and len(page.hits) == 2
    with pytest.raises(QueryError):
        filled.search(SearchQuery(limit=-1))


# --- filters -------------------------------------------------------------------------------------------------
def test_keyword_filters(filled: ClippingIndex) -> None:
    assert ids(filled, outlet="dennikn") == {"sk-bridge-copy", "sk-parking"}
    assert ids(filled, official="hrusovsky") == {"sk-bridge", "sk-bridge-copy", "sk-holiday"}
    assert ids(filled, body="council") == {"sk-bridge"}
    assert ids(filled, lang="cs") == {"cs-radnice"}
    assert ids(filled, sentiment="negative") == {"sk-bridge", "sk-parking"}
    assert ids(filled, critical=True) == {"sk-bridge"}
    assert ids(filled, misleading=True) == {"sk-parking"}
    assert ids(filled, municipality="skopje") == {"mk-cyr"}
    assert ids(filled, since=T0 + timedelta(days=3)) == {"sk-holiday", "sk-hockey"}
    assert ids(filled, until=T0 - timedelta(days=1)) == {"mk-cyr"}
    assert ids(filled, status="new") == set(BY_ID)
    assert "sk-holiday" not in {h.clipping.id for h in filled.search(SearchQuery(limit=100)).hits}  # relevant only
    assert ids(filled, "primátor", outlet="pohronie") == {"sk-hockey"}
    with pytest.raises(QueryError):
        filled.search(SearchQuery(status="closed"))


def test_field_filters_in_the_query_text(filled: ClippingIndex) -> None:
    assert ids(filled, "outlet:dennikn") == {"sk-bridge-copy", "sk-parking"}
    assert ids(filled, "most -outlet:dennikn") == {"sk-bridge"}
    assert ids(filled, "flag:critical OR flag:misleading") == {"sk-bridge", "sk-parking"}
    assert ids(filled, "official:HRUSOVSKY lang:sk -most") == {"sk-holiday"}
    assert ids(filled, "sentiment:positive") == {"sk-hockey"}
    assert ids(filled, "date:2026-11-05") == {"sk-holiday", "sk-hockey"}
    assert ids(filled, "date:..2026-11-01", tz="Europe/Skopje") == {"mk-cyr", "cs-radnice"}
    filled.set_status("sk-hockey", "dismissed", by="anna")
    assert ids(filled, "status:dismissed") == {"sk-hockey"}
    assert ids(filled, "primátor -status:dismissed") == {"sk-bridge", "sk-bridge-copy", "sk-parking", "sk-holiday"}


# --- collapse ------------------------------------------------------------------------------------------------
def test_collapse_gives_one_hit_per_story_with_its_copies(filled: ClippingIndex) -> None:
    result = filled.search(SearchQuery(text="most", relevant=None, collapse=True))
    assert result.total == 1
    [hit] = result.hits
    assert {hit.clipping.id, *(c.id for c in hit.copies)} == {"sk-bridge", "sk-bridge-copy"}
    assert len(hit.copies) == 1
    everything = filled.search(SearchQuery(municipality="bratislava", relevant=None, collapse=True, limit=100))
    assert everything.total == len(BRATISLAVA) - 1
    assert sum(1 + len(h.copies) for h in everything.hits) == len(BRATISLAVA)


# --- facets --------------------------------------------------------------------------------------------------
def test_aggregate_counts_every_match(filled: ClippingIndex) -> None:
    facets = filled.aggregate(SearchQuery(municipality="bratislava", relevant=None, limit=1))
    assert facets.total == len(BRATISLAVA)
    counts = {f: {b.key: b.count for b in buckets} for f, buckets in facets.counts.items()}
    assert counts["outlet"] == {"sme": 2, "dennikn": 2, "pohronie": 1}
    assert [b.key for b in facets.counts["outlet"]] == ["dennikn", "sme", "pohronie"]  # largest first, ties by key
    assert counts["official"] == {"hrusovsky": 3}
    assert counts["body"] == {"council": 1}
    assert counts["flag"] == {"critical": 1, "misleading": 1}
    assert counts["sentiment"] == {"neutral": 2, "negative": 2, "positive": 1}
    assert counts["status"] == {"new": 5}
    assert counts["lang"] == {"sk": 5}
    assert [(b.key, b.count) for b in facets.counts["day"]] == [
        ("2026-11-02", 2), ("2026-11-03", 1), ("2026-11-04", 0), ("2026-11-05", 2)]
    assert [(b.key, b.count) for b in facets.counts["week"]] == [("2026-W45", 5)]
    narrow = filled.aggregate(SearchQuery(text="most", relevant=None), facets=("outlet",), size=1)
    assert narrow.total == 2 and len(narrow.counts["outlet"]) == 1 and set(narrow.counts) == {"outlet"}
    with pytest.raises(ValueError, match="colour"):
        filled.aggregate(SearchQuery(), facets=("colour",))


def test_day_facets_follow_the_time_zone(index: ClippingIndex) -> None:
    late = make("late", "Neskoro večer", "Správa o polnoci.", day=0, hours=15)  # 23:00 UTC = 00:00 in Bratislava
    index.upsert([late])
    utc = index.aggregate(SearchQuery(relevant=None), facets=("day",))
    local = index.aggregate(SearchQuery(relevant=None, tz="Europe/Bratislava"), facets=("day",))
    assert [b.key for b in utc.counts["day"]] == ["2026-11-02"]
    assert [b.key for b in local.counts["day"]] == ["2026-11-03"]


# --- saved searches ------------------------------------------------------------------------------------------
def test_saved_searches_crud(filled: ClippingIndex) -> None:
    made = filled.save_search(SavedSearch(id="bridge", municipality="bratislava", name="Most", query="most"))
    assert made.created_at is not None
    filled.save_search(SavedSearch(id="audit", municipality="bratislava", name="Audit", query="audit",
                                   alert=False))
    filled.save_search(SavedSearch(id="bridge", municipality="brno", name="Most", query="most"))
    listed = filled.saved_searches("bratislava")
    assert [s.id for s in listed] == ["audit", "bridge"]
    again = filled.save_search(SavedSearch(id="bridge", municipality="bratislava", name="Most a rieka",
                                           query="most rieka"))
    assert again.created_at == made.created_at  # replacing keeps when it was created
    assert [s.name for s in filled.saved_searches("bratislava")] == ["Audit", "Most a rieka"]
    assert filled.delete_search("bratislava", "audit") is True
    assert filled.delete_search("bratislava", "audit") is False
    assert [s.id for s in filled.saved_searches("bratislava")] == ["bridge"]
    with pytest.raises(QueryError):
        filled.save_search(SavedSearch(id="bad", municipality="bratislava", name="x", query="(most"))


def test_match_saved_reports_the_alerting_searches_each_clipping_matches(filled: ClippingIndex) -> None:
    filled.save_search(SavedSearch(id="bridge", municipality="bratislava", name="Most", query="most -agentúra"))
    filled.save_search(SavedSearch(id="mayor", municipality="bratislava", name="Primátor", query="primátor"))
    filled.save_search(SavedSearch(id="quiet", municipality="bratislava", name="Ticho", query="most", alert=False))
    filled.save_search(SavedSearch(id="crit", municipality="bratislava", name="Kritika",
                                   query="flag:critical OR outlet:pohronie"))
    filled.save_search(SavedSearch(id="other", municipality="brno", name="Most", query="most OR starosta"))
    batch = [BY_ID[i] for i in ("sk-bridge", "sk-bridge-copy", "sk-parking", "cs-radnice")]
    assert filled.match_saved(batch) == {
        "sk-bridge": ("bridge", "crit", "mayor"),
        "sk-bridge-copy": ("mayor",),
        "sk-parking": ("mayor",),
        "cs-radnice": ("other",),
    }
    assert filled.match_saved([]) == {}
    assert filled.match_saved([make("unknown", "most", "most")]) == {}  # not upserted: nothing to match


# --- response status -----------------------------------------------------------------------------------------
def test_set_status_and_history(filled: ClippingIndex) -> None:
    assert filled.status_history("sk-bridge") == []
    at = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    first = filled.set_status("sk-bridge", "acknowledged", by="anna", at=at)
    assert (first.status, first.by, first.at) == ("acknowledged", "anna", at)
    filled.set_status("sk-bridge", "drafted", by="boris", note="odpoveď pripravená", at=at + timedelta(hours=1))
    history = filled.status_history("sk-bridge")
    assert [(c.status, c.by, c.note) for c in history] == [("acknowledged", "anna", None),
                                                           ("drafted", "boris", "odpoveď pripravená")]
    assert all(c.clipping_id == "sk-bridge" for c in history)
    got = filled.get("sk-bridge")
    assert got is not None and got.status == "drafted"
    assert ids(filled, status="drafted") == {"sk-bridge"}
    with pytest.raises(StatusError, match="closed"):
        filled.set_status("sk-bridge", "closed", by="anna")
    with pytest.raises(StatusError, match="nope"):
        filled.set_status("nope", "acknowledged", by="anna")
    assert [c.status for c in filled.status_history("sk-bridge")] == ["acknowledged", "drafted"]


# --- clusters, fingerprints, stats ---------------------------------------------------------------------------
def test_cluster_lists_copies_earliest_first(filled: ClippingIndex) -> None:
    assert [c.id for c in filled.cluster("story-bridge")] == ["sk-bridge", "sk-bridge-copy"]
    assert [c.id for c in filled.cluster("sk-parking")] == ["sk-parking"]  # not clustered: a story of its own
    assert filled.cluster("nope") == []


def test_fingerprints_since(filled: ClippingIndex) -> None:
    prints = filled.fingerprints("bratislava", T0)
    assert prints == [("sk-bridge", "story-bridge", 0xFFFF_0000_FFFF_0000),
                      ("sk-bridge-copy", "story-bridge", 0xFFFF_0000_FFFF_0001),
                      ("sk-parking", "sk-parking", 0x1234)]
    assert filled.fingerprints("bratislava", T0 + timedelta(days=1)) == [("sk-parking", "sk-parking", 0x1234)]
    assert filled.fingerprints("brno", T0 - timedelta(days=5)) == []


def test_stats(filled: ClippingIndex) -> None:
    everything = filled.stats()
    assert everything.clippings == len(CORPUS)
    assert everything.by_lang == {"cs": 1, "mk": 1, "sk": 5}
    ba = filled.stats("bratislava")
    assert (ba.clippings, ba.relevant, ba.critical, ba.misleading, ba.clusters) == (5, 4, 1, 1, 4)
    assert ba.newest == T0 + timedelta(days=3)
    empty = filled.stats("nowhere")
    assert (empty.clippings, empty.clusters, empty.newest, empty.by_lang) == (0, 0, None, {})
