"""Ranking a query with exclusions (`a OR b -c`). The index reads the MATCH once for the count, the rank window and
the candidates, and ranks the candidates by bm25 of the MATCH without its exclusions (index/sqlite.py,
`_Plan.rank`): an excluded phrase never occurs in a match and the tags column weighs 0, so the scores must be
exactly those of bm25 over the whole MATCH, and the hits, totals and pages exactly those of ranking it whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import presswatch.index.sqlite as sqlite_index
from presswatch.index import SearchQuery
from presswatch.index.query import AllOf, AnyOf, parse_query
from presswatch.index.sqlite import BM25_WEIGHTS, SqliteIndex, _flag_tag, _quote, fts_expression, fts_table
from presswatch.records import Clipping
from tests.test_index_sqlite import make

WORDS = ("rozpočet", "parkovanie", "most", "škola")


def corpus() -> list[Clipping]:
    """Slovak clippings mixing four words in different amounts (so bm25 tells them apart), syndicated copies with
    the same text (so scores tie and the publication time decides), a few Czech and Turkish ones (other FTS tables,
    and `clip_fts_xx` through Turkish's sibling `az`), in an indexing order unlike the publication order."""
    out = []
    for i in range(30):
        words = [WORDS[j] for j in range(4) if (i >> j) & 1 or (i * 7 + j) % 5 == 0]
        text = " ".join(f"{w} mesta {w}." * (1 + (i + k) % 3) for k, w in enumerate(words)) or "Nič nové."
        out.append(make(f"sk-{i:02d}", f"Správa {' '.join(words[:1])}", text, day=(i * 11) % 30,
                        relevant=i % 4 != 3, municipality="bratislava" if i % 5 else "kosice",
                        cluster_id=f"story-{i % 6}"))
    for i in range(4):  # copies: the same title and text as sk-05, other days and outlets
        base = out[5]
        out.append(replace(base, article=replace(base.article, id=f"sk-copy-{i}", url=f"https://copy.example/{i}",
                                                 outlet=f"copy{i}", published=base.article.published.replace(
                                                     day=1 + i) if base.article.published else None)))
    out.append(make("cs-00", "Rozpočet města", "Rozpočet města a most přes řeku.", lang="cs", day=3))
    out.append(make("cs-01", "Parkování", "Parkování u školy, most a rozpočet.", lang="cs", day=4))
    out.append(make("az-00", "Büdcə", "rozpočet most parkovanie", lang="az", day=5))
    return out


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteIndex]:
    idx = SqliteIndex(tmp_path / "store.db")
    for c in corpus():  # one by one: the indexing order is the order of the list
        idx.upsert([c])
    yield idx
    idx.close()


QUERIES = ["rozpočet OR most -parkovanie", "rozpočet -škola", "(most OR škola) rozpočet -parkovanie -bratislava",
           '"mesta rozpočet" OR parkovanie -most', "most OR škola OR parkovanie -rozpočet"]


def reference(path: Path, text: str, lang: str, relevant: bool | None) -> dict[int, float]:
    """bm25 of the whole MATCH as the index compiled it before (`((a) NOT c) AND tags`), straight from FTS5."""
    parsed = parse_query(text)
    assert parsed is not None
    positive = fts_expression(AllOf(parsed.include), lang)
    expr = f"{positive} NOT {fts_expression(AnyOf(tuple(n for n in parsed.exclude)), lang)}"
    if relevant is not None:
        expr = f"({expr}) AND tags : ({_quote(_flag_tag('rel', relevant))})"
    table = fts_table(lang)
    conn = sqlite3.connect(path)
    try:
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        rows = conn.execute(f"SELECT f.rowid, bm25({table}, {weights}) FROM {table} f JOIN clip_clippings c"
                            f" ON c.doc = f.rowid WHERE {table} MATCH ? AND c.lang = ?", (expr, lang)).fetchall()
    finally:
        conn.close()
    return {doc: -score for doc, score in rows}


def doc_ids(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, doc FROM clip_clippings").fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("relevant", [None, True])
def test_scores_are_exactly_bm25_of_the_whole_match(index: SqliteIndex, text: str, relevant: bool | None) -> None:
    result = index.search(SearchQuery(text=text, relevant=relevant, limit=100))
    assert result.total == len(result.hits) > 0
    docs = doc_ids(index.path)
    expected: dict[int, float] = {}
    for lang in ("sk", "cs", "az"):
        expected.update(reference(index.path, text, lang, relevant))
    assert {docs[h.clipping.id]: h.score for h in result.hits} == expected  # exact floats, not approximately
    # Best first; equal scores (the syndicated copies) newest first.
    keys = [(-h.score, -h.clipping.article.published.timestamp()) for h in result.hits]
    assert keys == sorted(keys)


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("window", [1, 3, 7])
def test_the_window_with_exclusions_ranks_the_newest_matches_and_pages_consistently(
        index: SqliteIndex, monkeypatch: pytest.MonkeyPatch, text: str, window: int) -> None:
    query = SearchQuery(text=text, relevant=None, limit=100)
    whole = [(h.clipping.id, h.score) for h in index.search(query).hits]
    monkeypatch.setattr(sqlite_index, "RANK_WINDOW", window)
    result = index.search(query)
    windowed = [(h.clipping.id, h.score) for h in result.hits]
    assert result.total == len(whole) and {i for i, _ in windowed} == {i for i, _ in whole}
    docs = doc_ids(index.path)
    ranked = [(i, s) for i, s in windowed if s > 0]
    tail = windowed[len(ranked):]
    assert all(s == 0.0 for _, s in tail)
    # Each ranked hit keeps its whole-ranking score; within a language the candidates are its newest matches.
    assert all(dict(whole)[i] == s for i, s in ranked)
    for lang in ("sk-", "cs-", "az-"):
        in_lang = sorted((docs[i] for i, _ in whole if i.startswith(lang)), reverse=True)
        chosen = [docs[i] for i, _ in ranked if i.startswith(lang)]
        assert sorted(chosen, reverse=True) == in_lang[:len(chosen)]
    # The ranked head in whole-ranking order, the rest newest first, and pages of any size agree.
    assert [i for i, _ in ranked] == [i for i, _ in whole if i in {j for j, _ in ranked}]
    published = [h.clipping.article.published for h in result.hits[len(ranked):]]
    assert published == sorted(published, reverse=True)
    for size in (1, 4):
        paged: list[str] = []
        for offset in range(0, result.total, size):
            page = index.search(replace(query, limit=size, offset=offset))
            assert page.total == result.total
            paged += [h.clipping.id for h in page.hits]
        assert paged == [i for i, _ in windowed]


@pytest.mark.parametrize("window", [2, 5000])
def test_exclusions_with_row_filters_and_collapse(index: SqliteIndex, monkeypatch: pytest.MonkeyPatch,
                                                  window: int) -> None:
    """Conditions FTS5 cannot answer (status, a date) join clip_clippings in the counting pass; the candidates it
    returns carry them into the rank pass. Collapse ranks stories over the same window."""
    monkeypatch.setattr(sqlite_index, "RANK_WINDOW", window)
    everything = index.search(SearchQuery(text="rozpočet OR most -parkovanie", relevant=None, limit=100))
    index.set_status(everything.hits[0].clipping.id, "acknowledged", by="test")
    narrowed = index.search(SearchQuery(text="rozpočet OR most -parkovanie", relevant=None, status="new",
                                        limit=100))
    assert narrowed.total == everything.total - 1
    assert everything.hits[0].clipping.id not in {h.clipping.id for h in narrowed.hits}
    dated = index.search(SearchQuery(text="rozpočet OR most -parkovanie date:..2024-05-15", relevant=None,
                                     limit=100, tz="UTC"))
    assert 0 < dated.total < everything.total
    assert {h.clipping.id for h in dated.hits} <= {h.clipping.id for h in everything.hits}
    collapsed = index.search(SearchQuery(text="rozpočet OR most -parkovanie", relevant=None, collapse=True,
                                         limit=100))
    assert sum(1 + len(h.copies) for h in collapsed.hits) == everything.total
    if window == 5000:
        scores = [h.score for h in collapsed.hits]
        assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_languages_counted_on_two_connections_see_one_snapshot(index: SqliteIndex,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The second reader counts some languages only when it sees the same FTS data as the search's own
    transaction; a clipping written in between is not counted by either (nor half of it by one)."""
    query = SearchQuery(text="rozpočet OR most -škola", relevant=None, limit=100)
    before = index.search(query)
    assert {h.clipping.id[:2] for h in before.hits} >= {"sk", "cs"}  # two languages: two connections at work
    with index._transaction("DEFERRED") as conn:
        compiled = index._compiled(conn, query)  # the search's snapshot starts here
        assert compiled is not None
        with SqliteIndex(index.path) as writer:  # another process indexing meanwhile
            writer.upsert([make("sk-new", "Rozpočet", "Nový rozpočet mesta.", day=40),
                           make("cs-new", "Most", "Nový most přes řeku.", lang="cs", day=40)])
        window = index._window(conn, compiled)
        assert window.total == before.total
    after = index.search(query)
    assert after.total == before.total + 2
    monkeypatch.setattr(sqlite_index, "PARALLEL_READS", False)
    assert [(h.clipping.id, h.score) for h in index.search(query).hits] == \
           [(h.clipping.id, h.score) for h in after.hits]
