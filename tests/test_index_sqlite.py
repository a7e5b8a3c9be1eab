"""The SQLite/FTS5 clipping index against a real store file: upserts, inflection-aware search in every language we
serve, the query language, filters, snippets, stats, fingerprints, persistence."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from presswatch.index import BackendUnavailable, QueryError, SearchQuery, open_index, parse_query
from presswatch.index.snippet import make_snippet
from presswatch.index.sqlite import FTS_TABLES, SqliteIndex
from presswatch.profile import parse_profile
from presswatch.records import Article, Clipping, Enrichment, Flag, Mention, Reason, Sentiment
from presswatch.state import State

T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def make(cid: str, title: str, text: str, *, lang: str = "sk", day: int = 0, municipality: str = "bratislava",
         relevant: bool = True, officials: tuple[str, ...] = (), bodies: tuple[str, ...] = (),
         critical: float | None = None, misleading: float | None = None, cluster_id: str | None = None,
         fingerprint: int | None = None, outlet: str = "sme", published: bool = True) -> Clipping:
    """A clipping built from the real records; `day` is days after T0."""
    when = T0 + timedelta(days=day)
    flags = []
    if critical is not None:
        flags.append(Flag("critical", critical, (Reason("kritizovali", text[:40], "text", 0, 40),)))
    if misleading is not None:
        flags.append(Flag("misleading", misleading, (Reason("nepravda", text[:40], "text", 0, 40,
                                                             record="Most stojí 10 mil. €", fact_id="bridge"),)))
    mentions = tuple(Mention("official", o, o, 0, len(o), "text") for o in officials)
    return Clipping(
        article=Article(id=cid, url=f"https://news.example/{cid}", outlet=outlet, title=title, text=text,
                        published=when if published else None, lang=lang, fetched_at=when + timedelta(hours=1)),
        enrichment=Enrichment(lang=lang, relevant=relevant, officials=officials, bodies=bodies, mentions=mentions,
                              sentiment=Sentiment("negative" if critical else "neutral", -0.5 if critical else 0.0),
                              flags=tuple(flags)),
        municipality=municipality, cluster_id=cluster_id, fingerprint=fingerprint)


CORPUS = [
    make("sk-bridge", "Primátor Hrušovský otvoril nový most",
         "Primátora Michala Hrušovského kritizovali za meškanie stavby. Vedúca odboru Ingrid Kováčiková povedala, "
         "že mestské zastupiteľstvo rozhodne o pokute v máji.",
         day=1, officials=("hrusovsky", "kovacikova"), bodies=("council",), critical=0.8, cluster_id="sk-bridge",
         fingerprint=0xFFFF_0000_FFFF_0000),
    make("sk-parking", "Petícia za parkovanie v centre",
         "Obyvatelia poslali primátorovi petíciu o parkovaní. Podľa Kováčikovej zastupiteľstvo mestské "
         "dotácie na parkovanie neschválilo.",
         day=2, officials=("kovacikova",), misleading=0.6, outlet="dennikn", fingerprint=0x1234),
    make("sk-holiday", "Hrusovsky na dovolenke", "Bez diakritiky: primator Hrusovsky odisiel na dovolenku.",
         day=3, relevant=False, officials=("hrusovsky",)),
    make("sk-kovac", "Tréner Kováč o zápase", "Kováč chváli mládežnícke družstvo mesta.", day=0),
    make("cs-radnice", "Starosta Dvořák jednal na radnici",
         "Se starostou Dvořákem jednali zástupci spolků. Rada města schválila rozpočet radnice.",
         lang="cs", day=-5, municipality="brno", officials=("dvorak",), bodies=("rada",)),
    make("lt-school", "Merė Petrauskienė atidarė mokyklą",
         "Mero pavaduotojos Petrauskienės sprendimas sulaukė kritikos iš tėvų.", lang="lt", day=-3,
         municipality="kaunas", officials=("petrauskiene",)),
    make("tr-water", "Belediye Başkanı Aydemir'in açıklaması",
         "Aydemir'in açıklamasına göre su kesintisi yarın sona erecek. Kovacı ailesi de şikâyetçi.",
         lang="tr", day=-2, municipality="bursa", officials=("aydemir",)),
    make("mk-cyr", "Градоначалникот Шилегов ја отвори улицата",
         "Градоначалникот Петре Шилегов изјави дека реконструкцијата ќе заврши наесен.", lang="mk", day=-1,
         municipality="skopje", officials=("silegov",)),
    make("mk-lat", "Gradonačalnikot Šilegov za budžetot",
         "Šilegov najavi nov budžet za Skopje.", lang="mk", day=-4, municipality="skopje",
         officials=("silegov",)),
    make("en-mayor", "Mayor announces budget", "The mayor's office said the council approved the budget.",
         lang="en", day=-6, municipality="bristol"),
]
BY_ID = {c.id: c for c in CORPUS}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteIndex]:
    idx = SqliteIndex(tmp_path / "store.db")
    assert idx.upsert(CORPUS) == len(CORPUS)
    yield idx
    idx.close()


def ids(index: SqliteIndex, text: str = "", **filters: Any) -> set[str]:
    """Ids of every match; relevant and irrelevant alike unless `relevant` is given."""
    result = index.search(SearchQuery(text=text, relevant=filters.pop("relevant", None), **filters))
    assert result.total == len(result.hits)
    return {h.clipping.id for h in result.hits}


# --- upsert ------------------------------------------------------------------------------------------------------
def test_upsert_is_idempotent_and_replaces(tmp_path: Path) -> None:
    with SqliteIndex(tmp_path / "store.db") as idx:
        first = make("a1", "Primátor otvoril most", "Text o moste.")
        assert idx.upsert([first]) == 1
        assert idx.upsert([first]) == 0
        newer = replace(first, article=replace(first.article, title="Starosta zatvoril cestu"))
        assert idx.upsert([newer, newer]) == 0
        assert idx.stats().clippings == 1
        got = idx.get("a1")
        assert got is not None and got.article.title == "Starosta zatvoril cestu"
        assert ids(idx, "primátor") == set()  # the old FTS row is gone
        assert ids(idx, "cestu") == {"a1"}
        assert idx.upsert([make("a2", "x", "y"), make("a2", "x", "z")]) == 1  # a duplicate inside one batch
        assert idx.upsert([]) == 0


def test_get_returns_what_was_stored(index: SqliteIndex) -> None:
    got = index.get("sk-bridge")
    assert got is not None and got.indexed_at is not None  # the index stamps when it indexed
    assert replace(got, indexed_at=None) == BY_ID["sk-bridge"]
    assert index.get("nope") is None


# --- words in every language ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "expected"), [
    ("primátor", {"sk-bridge", "sk-parking", "sk-holiday"}),     # primátora, primátorovi, primator
    ("primátora", {"sk-bridge", "sk-parking", "sk-holiday"}),
    ("primátorovi", {"sk-bridge", "sk-parking", "sk-holiday"}),
    ("Hrušovský", {"sk-bridge", "sk-holiday"}),
    ("Hrusovsky", {"sk-bridge", "sk-holiday"}),                 # typed without diacritics
    ("Hrušovského", {"sk-bridge", "sk-holiday"}),
    # and not Kováč; the Turkish clipping's "Kovacı" matches because the Turkish rule keeps 5 letters ("kovac")
    ("Kováčikovej", {"sk-bridge", "sk-parking", "tr-water"}),
    ("Kováčiková", {"sk-bridge", "sk-parking", "tr-water"}),
    ("kovacikova", {"sk-bridge", "sk-parking", "tr-water"}),
    ("starosta", {"cs-radnice"}),                               # starostou
    ("Dvořáka", {"cs-radnice"}),                                # Dvořák, Dvořákem
    ("radnice", {"cs-radnice"}),                                # radnici
    ("Petrauskienė", {"lt-school"}),                            # Petrauskienės
    ("Petrauskienes", {"lt-school"}),
    ("Aydemir", {"tr-water"}),                                  # Aydemir'in
    ("Aydemir'in", {"tr-water"}),
    ("baskani", {"tr-water"}),                                  # Başkanı, no diacritics, dotless i
    ("градоначалник", {"mk-cyr", "mk-lat"}),                    # Cyrillic finds Latin too
    ("gradonacalnik", {"mk-cyr", "mk-lat"}),                    # Latin without carons finds Cyrillic
    ("Шилегов", {"mk-cyr", "mk-lat"}),
    ("Silegov", {"mk-cyr", "mk-lat"}),
    ("mayors", {"en-mayor"}),                                   # mayor's
])
def test_word_finds_inflected_and_unaccented_forms(index: SqliteIndex, query: str, expected: set[str]) -> None:
    assert ids(index, query) == expected


def test_stems_are_compared_within_a_language(index: SqliteIndex) -> None:
    # Under the Turkish rule "Kováčikovej" stems to "kovac", which is also the Slovak stem of "Kováč"; only the
    # Turkish clipping may match on it.
    assert "sk-kovac" not in ids(index, "Kováčikovej")
    assert ids(index, "Kováčikovej", lang="tr") == {"tr-water"}  # Kovacı: a Turkish form of the same prefix
    assert ids(index, "Kováčikovej", lang="sk") == {"sk-bridge", "sk-parking"}


def test_several_words_must_all_match(index: SqliteIndex) -> None:
    assert ids(index, "primátor Kováčiková") == {"sk-bridge", "sk-parking"}
    assert ids(index, "primátor most") == {"sk-bridge"}
    assert ids(index, "primátor Dvořák") == set()


# --- phrases, OR, exclusion, groups -----------------------------------------------------------------------------
def test_phrase_matches_exact_words_in_order(index: SqliteIndex) -> None:
    assert ids(index, '"mestské zastupiteľstvo"') == {"sk-bridge"}  # sk-parking has "zastupiteľstvo mestské"
    assert ids(index, '"mestske zastupitelstvo"') == {"sk-bridge"}
    assert ids(index, "„mestské zastupiteľstvo“") == {"sk-bridge"}  # Slovak typographic quotes
    assert ids(index, '"primátor"') == {"sk-bridge", "sk-holiday"}  # a phrase is not stemmed: not primátorovi
    assert ids(index, "\"Aydemir'in açıklaması\"") == {"tr-water"}


def test_or_exclusion_and_groups(index: SqliteIndex) -> None:
    assert ids(index, "Hrušovský OR Petrauskienė") == {"sk-bridge", "sk-holiday", "lt-school"}
    assert ids(index, "primátor -parkovanie") == {"sk-bridge", "sk-holiday"}  # parkovaní is excluded too
    assert ids(index, 'primátor -"mestské zastupiteľstvo"') == {"sk-parking", "sk-holiday"}
    assert ids(index, "primátor NOT parkovanie") == {"sk-bridge", "sk-holiday"}
    assert ids(index, "(most OR petícia) primátor") == {"sk-bridge", "sk-parking"}
    assert ids(index, "primátor AND most") == {"sk-bridge"}
    everything_else = {c.id for c in CORPUS} - {"sk-bridge", "sk-parking", "sk-holiday"}
    assert ids(index, "-primátor") == everything_else  # exclusions only: everything except


def test_ranking_prefers_the_title_and_scores_decrease(index: SqliteIndex) -> None:
    hits = index.search(SearchQuery(text="parkovanie", relevant=None)).hits
    assert [h.clipping.id for h in hits] == ["sk-parking"]
    hits = index.search(SearchQuery(text="Hrušovský", relevant=None)).hits
    assert hits[0].score >= hits[-1].score > 0


# --- filters -----------------------------------------------------------------------------------------------------
def test_relevant_by_default(index: SqliteIndex) -> None:
    default = index.search(SearchQuery(text="Hrusovsky"))
    assert {h.clipping.id for h in default.hits} == {"sk-bridge"}
    assert ids(index, "Hrusovsky", relevant=False) == {"sk-holiday"}


def test_filters(index: SqliteIndex) -> None:
    assert ids(index, since=T0 + timedelta(days=1)) == {"sk-bridge", "sk-parking", "sk-holiday"}
    assert ids(index, since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)) == {"sk-bridge"}
    assert ids(index, "primátor", since=T0 + timedelta(days=2)) == {"sk-parking", "sk-holiday"}
    assert ids(index, lang="mk") == {"mk-cyr", "mk-lat"}
    assert ids(index, "Kováčiková", official="hrusovsky") == {"sk-bridge"}
    assert ids(index, official="kovacikova") == {"sk-bridge", "sk-parking"}
    assert ids(index, body="council") == {"sk-bridge"}
    assert ids(index, critical=True) == {"sk-bridge"}
    assert ids(index, misleading=True) == {"sk-parking"}
    assert ids(index, "primátor", critical=False) == {"sk-parking", "sk-holiday"}
    assert ids(index, municipality="skopje") == {"mk-cyr", "mk-lat"}
    assert ids(index, "Šilegov", municipality="skopje", lang="mk") == {"mk-cyr", "mk-lat"}
    assert ids(index, "primátor", lang="cs") == set()


def test_published_falls_back_to_fetch_time(tmp_path: Path) -> None:
    with SqliteIndex(tmp_path / "store.db") as idx:
        idx.upsert([make("nodate", "a", "b", day=10, published=False)])
        fetched = T0 + timedelta(days=10, hours=1)
        assert ids(idx, since=fetched) == {"nodate"}
        assert ids(idx, since=fetched + timedelta(seconds=1)) == set()


# --- results -----------------------------------------------------------------------------------------------------
def test_snippet_marks_what_matched(index: SqliteIndex) -> None:
    hit = index.search(SearchQuery(text="primátor Kováčiková")).hits
    by_id = {h.clipping.id: h.snippet for h in hit}
    assert "[Primátora]" in by_id["sk-bridge"] and "[Kováčiková]" in by_id["sk-bridge"]
    assert "[primátorovi]" in by_id["sk-parking"] and "[Kováčikovej]" in by_id["sk-parking"]
    (mk,) = [h for h in index.search(SearchQuery(text="Silegov", lang="mk")).hits if h.clipping.id == "mk-cyr"]
    assert "[Шилегов]" in mk.snippet
    (phrase,) = index.search(SearchQuery(text='"mestske zastupitelstvo"')).hits
    assert "[mestské zastupiteľstvo]" in phrase.snippet
    excluded = parse_query("primátor -Hrušovský")
    assert excluded is not None
    marked = make_snippet(BY_ID["sk-bridge"].article.text, "sk", excluded.terms())
    assert "[Primátora]" in marked and "[Hrušovského]" not in marked  # exclusions are never marked


def test_snippet_is_a_window_of_a_long_text(tmp_path: Path) -> None:
    text = " ".join(["slovo"] * 200 + ["Hrušovského"] + ["koniec"] * 200)
    with SqliteIndex(tmp_path / "store.db") as idx:
        idx.upsert([make("long", "Dlhý článok", text)])
        (hit,) = idx.search(SearchQuery(text="Hrušovský")).hits
    assert "[Hrušovského]" in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…") and len(hit.snippet) < 300


def test_no_text_lists_newest_first_with_paging(index: SqliteIndex) -> None:
    newest = sorted((c for c in CORPUS if c.enrichment.relevant), key=lambda c: c.article.published or T0,
                    reverse=True)
    result = index.search(SearchQuery())
    assert result.total == len(newest)
    assert [h.clipping.id for h in result.hits] == [c.id for c in newest]
    assert all(h.score == 0.0 and h.snippet for h in result.hits)
    page = index.search(SearchQuery(limit=3, offset=2))
    assert page.total == len(newest) and [h.clipping.id for h in page.hits] == [c.id for c in newest[2:5]]
    assert index.search(SearchQuery(limit=0)).total == len(newest)
    assert index.search(SearchQuery(text="primátor", offset=50, relevant=None)).total == 3


# --- hostile and malformed queries -------------------------------------------------------------------------------
HOSTILE = ['a"b OR (', '"', '""', "OR", "AND", "NOT", "-", "--", "*", "prim*", "NEAR(a b)", "title:primátor",
           "{title}: x", "^primátor", "a:b", "'", "\\", "'; DROP TABLE clip_clippings; --", "\x00", "😀", "ъ", "_",
           '-"', "(", ")", "()", "a OR OR b", "a OR -b", "-(", "((((((((((((((((((((a))))))))))))))))))))",
           "stems : x", 'x" OR stems : "y', "a" * 5000, " ".join(["w"] * 100), "„nezatvorené", "NOT NOT a",
           "AND a", "a AND", "(-a)", "()a", "\"'\"", "a'b'c", "[primátor]", "1.5.2024"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_queries_never_reach_sqlite_as_syntax(index: SqliteIndex, text: str) -> None:
    try:
        index.search(SearchQuery(text=text, relevant=None))
    except QueryError as exc:
        assert str(exc) and exc.reason
    assert index.stats().clippings == len(CORPUS)


@pytest.mark.parametrize(("text", "reason", "position"), [
    ('a"b OR (', "quote is never closed", 1),
    ("primátor OR", "OR needs", 9),
    ("(primátor most", "never closed", 0),
    ("primátor)", "no opening", 8),
    ("most OR -primátor", "excluded term", 5),
    ("most -", None, None),  # a lone dash is punctuation, not an error
])
def test_malformed_queries_say_what_and_where(index: SqliteIndex, text: str, reason: str | None,
                                              position: int | None) -> None:
    if reason is None:
        assert ids(index, text) == {"sk-bridge"}
        return
    with pytest.raises(QueryError) as info:
        index.search(SearchQuery(text=text))
    assert reason in info.value.reason and info.value.position == position
    assert position is not None and f"character {position + 1}" in str(info.value)


def test_negative_paging_is_refused(index: SqliteIndex) -> None:
    with pytest.raises(QueryError):
        index.search(SearchQuery(limit=-1))


# --- stats, fingerprints, persistence ----------------------------------------------------------------------------
def test_stats(index: SqliteIndex) -> None:
    s = index.stats()
    assert (s.clippings, s.relevant, s.critical, s.misleading) == (len(CORPUS), len(CORPUS) - 1, 1, 1)
    assert s.clusters == len(CORPUS)  # unclustered clippings are stories of their own
    assert s.by_lang == {"cs": 1, "en": 1, "lt": 1, "mk": 2, "sk": 4, "tr": 1}
    assert s.newest == T0 + timedelta(days=3)
    b = index.stats("bratislava")
    assert (b.clippings, b.relevant, b.critical, b.by_lang) == (4, 3, 1, {"sk": 4})
    index.upsert([make("copy", "Primátor otvoril most", "Kópia.", day=1, cluster_id="sk-bridge")])
    assert index.stats("bratislava").clusters == 4
    empty = index.stats("nowhere")
    assert (empty.clippings, empty.clusters, empty.newest, empty.by_lang) == (0, 0, None, {})


def test_fingerprints(index: SqliteIndex) -> None:
    got = index.fingerprints("bratislava", T0 + timedelta(days=1))
    assert got == [("sk-bridge", "sk-bridge", 0xFFFF_0000_FFFF_0000), ("sk-parking", "sk-parking", 0x1234)]
    assert index.fingerprints("bratislava", T0 + timedelta(days=2)) == [("sk-parking", "sk-parking", 0x1234)]
    assert index.fingerprints("skopje", T0 - timedelta(days=30)) == []  # no fingerprints there


def test_survives_close_and_reopen_next_to_the_spine_tables(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    state = State(path)  # the queue and ledgers share the file
    idx = SqliteIndex(path)
    idx.upsert(CORPUS)
    idx.close()
    state.close()
    with SqliteIndex(path) as again:
        assert again.stats().clippings == len(CORPUS)
        assert ids(again, "Petrauskienės") == {"lt-school"}
        assert again.upsert(CORPUS[:2]) == 0
        assert not again.stems_outdated
    assert {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {
        "queue", "alerts", "clip_clippings", "clip_docs", "clip_refs", "clip_fts_sk", "clip_fts_xx", "clip_meta"}


def _downgrade_to_schema_2(path: Path) -> None:
    """Rewrite a store into the schema-2 layout: the document inside clip_clippings, one FTS table (title, text,
    stems) for every language."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("ALTER TABLE clip_clippings ADD COLUMN document TEXT NOT NULL DEFAULT ''")
        conn.execute("UPDATE clip_clippings SET document = (SELECT document FROM clip_docs d"
                     " WHERE d.doc = clip_clippings.doc)")
        conn.execute("CREATE VIRTUAL TABLE clip_fts USING fts5(title, text, stems,"
                     " tokenize = 'unicode61 remove_diacritics 2')")
        for table in FTS_TABLES:
            conn.execute(f"INSERT INTO clip_fts(rowid, title, text, stems) SELECT rowid, title, text, stems"
                         f" FROM {table}")
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP TABLE clip_docs")
        conn.execute("UPDATE clip_meta SET value = '2' WHERE key = 'schema'")
    conn.close()


def test_a_schema_2_store_is_migrated_on_open_and_finds_the_same(tmp_path: Path) -> None:
    german = make("de-rathaus", "Bürgermeister im Rathaus", "Der Bürgermeister sprach im Rathaus über den Haushalt.",
                  lang="de", municipality="graz")
    corpus = [*CORPUS, german]
    queries = ["primátorovi", "Petrauskienės", "Aydemir", "Шилегов", "Silegov", "rozpočet", "budget",
               "Rathaus", '"nový most"', "mesto -Kováč", "official:hrusovsky", "flag:critical"]
    with SqliteIndex(tmp_path / "fresh.db") as fresh:
        fresh.upsert(corpus)
        expected = {q: ids(fresh, q) for q in queries}
        expected_relevant = fresh.search(SearchQuery(text="primátorovi", municipality="bratislava")).total
    path = tmp_path / "old.db"
    with SqliteIndex(path) as idx:
        idx.upsert(corpus)
        idx._conn.execute("UPDATE clip_clippings SET status = 'acknowledged' WHERE id = 'lt-school'")
    _downgrade_to_schema_2(path)
    with SqliteIndex(path) as idx:
        assert {q: ids(idx, q) for q in queries} == expected
        assert idx.search(SearchQuery(text="primátorovi", municipality="bratislava")).total == expected_relevant
        assert idx.get("lt-school").status == "acknowledged"
        assert idx.get("de-rathaus") == fresh_get(corpus, "de-rathaus", idx)
        idx.upsert([replace(german, article=replace(german.article, title="Bürgermeister im Park"))])
        assert ids(idx, "Park") == {"de-rathaus"} and ids(idx, "Rathaus") == {"de-rathaus"}  # the text still has it
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = {r[1] for r in conn.execute("PRAGMA table_info(clip_clippings)")}
    conn.close()
    assert "clip_fts" not in tables and "clip_docs" in tables and "document" not in columns


def fresh_get(corpus: list[Clipping], cid: str, idx: SqliteIndex) -> Clipping | None:
    """What `get` returns for a clipping of `corpus` (the stored round trip, with the index's time stamp)."""
    stored = idx.get(cid)
    original = next(c for c in corpus if c.id == cid)
    return replace(original, indexed_at=stored.indexed_at if stored else None)


def test_changed_stemming_rules_are_noticed_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteIndex(path) as idx:
        idx.upsert(CORPUS)
        idx._conn.execute("UPDATE clip_meta SET value = 'older-rules' WHERE key = 'stemmer'")
        for table in FTS_TABLES:
            idx._conn.execute(f"UPDATE {table} SET stems = ''")
        assert ids(idx, "primátorovi") == {"sk-parking"}  # only the exact form is left
    with SqliteIndex(path) as idx:
        assert idx.stems_outdated
        assert idx.rebuild() == len(CORPUS)
        assert not idx.stems_outdated
        assert ids(idx, "primátorovi") == {"sk-bridge", "sk-parking", "sk-holiday"}
        rebuilt = idx.get("sk-bridge")
        assert rebuilt is not None and replace(rebuilt, indexed_at=None) == BY_ID["sk-bridge"]


# --- open_index --------------------------------------------------------------------------------------------------
PROFILE = """
municipality: {id: demo, name: Demo, country: SK, languages: [sk], timezone: Europe/Bratislava}
store: {backend: %s}
"""


def test_open_index_follows_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSWATCH_DB", str(tmp_path / "env.db"))
    idx = open_index(parse_profile(PROFILE % "sqlite"))
    assert isinstance(idx, SqliteIndex) and idx.path == tmp_path / "env.db"
    idx.close()
    idx = open_index(parse_profile(PROFILE % "sqlite"), tmp_path / "explicit.db")
    assert isinstance(idx, SqliteIndex) and idx.path == tmp_path / "explicit.db"
    idx.close()
    monkeypatch.delenv("PRESSWATCH_ES_URL", raising=False)
    with pytest.raises(BackendUnavailable, match="PRESSWATCH_ES_URL"):  # elasticsearch, but no server named
        open_index(parse_profile(PROFILE % "elasticsearch"))
    assert issubclass(BackendUnavailable, NotImplementedError)


# --- field filters on this corpus (tests/test_index_search_filters.py has the full set) ------------------------
HOSTILE_FILTERS = ["outlet:", "outlet:'", 'outlet:"', "date:0001-01-01", "date:..0001-01-01", "date:9999-12",
                   "date:0001..9999", "date:>9999-12-31", "lang:xx", "outlet:x' OR 1=1 --", "official:\"a\"\"b\"",
                   "status:new OR", "-(-outlet:sme)", "(outlet:a", "flag:critical)", "outet:sme", "date:2024-5",
                   "body:%", "outlet:_", "date:2024-05-01..2024-05-01 -date:2024-05-01"]


@pytest.mark.parametrize("text", HOSTILE_FILTERS)
@pytest.mark.parametrize("tz", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_hostile_filters_never_reach_sqlite_as_syntax(index: SqliteIndex, text: str, tz: str) -> None:
    try:
        index.search(SearchQuery(text=text, relevant=None, tz=tz))
        index.aggregate(SearchQuery(text=text, relevant=None, tz=tz))
    except QueryError as exc:
        assert exc.reason and exc.position is not None
    assert index.stats().clippings == len(CORPUS)


def test_field_filters_on_the_multilingual_corpus(index: SqliteIndex) -> None:
    assert ids(index, "outlet:dennikn") == {"sk-parking"}
    assert ids(index, "official:kovacikova") == {"sk-bridge", "sk-parking"}
    assert ids(index, "body:rada lang:cs") == {"cs-radnice"}
    assert ids(index, "flag:critical OR flag:misleading") == {"sk-bridge", "sk-parking"}
    assert ids(index, "primátor -flag:critical") == ids(index, "primátor") - {"sk-bridge"}
    assert ids(index, "Шилегов OR lang:lt") == {"mk-cyr", "mk-lat", "lt-school"}
    assert ids(index, "date:2024-05-02", relevant=None) == {"sk-bridge"}
    assert ids(index, "status:new") == set(BY_ID)


@pytest.mark.parametrize("word", ["primátor", "rozpočet", "Šilegov", "budget", "Kováčiková", "mesto"])
@pytest.mark.parametrize("field", ["outlet:sme", "outlet:SME", "outlet:dennikn", "official:hrusovsky",
                                   "official:KOVACIKOVA", "body:council", "sentiment:neutral", "flag:critical",
                                   "flag:misleading", "status:new"])
def test_a_filter_next_to_words_selects_what_it_selects_alone(index: SqliteIndex, word: str, field: str) -> None:
    # With words, these filters are answered by FTS5 tags; alone, by SQL on the row: both must agree.
    assert ids(index, f"{word} {field}") == ids(index, word) & ids(index, field)
    assert ids(index, f"{word} -{field}") == ids(index, word) - ids(index, field)
