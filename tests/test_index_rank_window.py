"""Relevance ranking over a window: at most RANK_WINDOW candidates, shared among the languages by their number of
matches and each language's most recently indexed ones, are ranked by bm25; the older matches follow newest first.
The order is one total order, so pages never repeat or skip a clipping, and below the window the ranking is the
full bm25 ranking."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import presswatch.index.sqlite as sqlite_index
from presswatch.index import SearchQuery
from presswatch.index.sqlite import SqliteIndex
from presswatch.records import Clipping
from tests.test_index_sqlite import make

FILLER = "Mesto oznámilo, že zmeny sa dotknú viacerých ulíc v centre a na sídliskách."


def corpus() -> list[Clipping]:
    """Twelve Slovak clippings about the budget, indexed in id order, with publication days shuffled against the
    indexing order and the word repeated a different number of times (so bm25 tells them apart)."""
    out = []
    for i in range(12):
        day = (i * 5) % 12  # indexing order ≠ publication order
        text = " ".join(["Rozpočet mesta na budúci rok."] * (1 + (i * 7) % 5) + [FILLER] * (1 + i % 3))
        out.append(make(f"sk-{i:02d}", f"Správa {i}", text, day=day, relevant=i % 4 != 3,
                        municipality="bratislava" if i % 6 else "kosice"))
    # Another language with the same word, and clippings without it.
    out.append(make("cs-00", "Rozpočet města", "Rozpočet města schválen.", lang="cs", day=2))
    out.append(make("sk-other", "Nová lávka", FILLER, day=4))
    return out


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteIndex]:
    idx = SqliteIndex(tmp_path / "store.db")
    for c in corpus():  # one by one: the indexing order is the order of the list
        idx.upsert([c])
    yield idx
    idx.close()


def listing(index: SqliteIndex, query: SearchQuery) -> list[tuple[str, float]]:
    result = index.search(query)
    assert result.total == len(result.hits)
    return [(h.clipping.id, h.score) for h in result.hits]


def paged(index: SqliteIndex, query: SearchQuery, size: int) -> list[str]:
    out: list[str] = []
    total = index.search(query).total
    for offset in range(0, total + size, size):
        page = index.search(replace(query, limit=size, offset=offset))
        assert page.total == total
        out.extend(h.clipping.id for h in page.hits)
    return out


def test_below_the_window_the_ranking_is_whole(index: SqliteIndex) -> None:
    hits = listing(index, SearchQuery(text="rozpočet", lang="sk", relevant=None, limit=50))
    assert len(hits) == 12
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


@pytest.mark.parametrize("filters", [{}, {"relevant": True}, {"municipality": "bratislava", "relevant": True}])
def test_past_the_window_older_matches_follow_newest_first(index: SqliteIndex, monkeypatch: pytest.MonkeyPatch,
                                                           filters: dict[str, object]) -> None:
    query = replace(SearchQuery(text="rozpočet", lang="sk", limit=50, relevant=None), **filters)
    whole = listing(index, query)
    monkeypatch.setattr(sqlite_index, "RANK_WINDOW", 4)
    windowed = listing(index, query)
    assert len(windowed) > 4 and {i for i, _ in windowed} == {i for i, _ in whole}
    ids_in_index_order = [c.id for c in corpus() if c.id in {i for i, _ in whole}]
    newest = set(ids_in_index_order[-4:])  # the window: the four matches indexed last
    head, tail = windowed[:4], windowed[4:]
    assert {i for i, _ in head} == newest
    assert [s for _, s in head] == sorted((s for _, s in head), reverse=True)
    assert [i for i, _ in head] == [i for i, _ in whole if i in newest]  # same relative order as the whole ranking
    by_id = {c.id: c for c in corpus()}
    published = [by_id[i].article.published for i, _ in tail]
    assert published == sorted(published, reverse=True)  # type: ignore[type-var]
    assert all(score == 0.0 for _, score in tail)
    # Pages of any size give the same order, each clipping once.
    for size in (1, 3, 4, 5):
        assert paged(index, query, size) == [i for i, _ in windowed]


def test_the_window_is_shared_among_languages_and_none_is_left_out(index: SqliteIndex,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_index, "RANK_WINDOW", 4)
    hits = listing(index, SearchQuery(text="rozpočet", relevant=None, limit=50))
    assert len(hits) == 13
    # 12 Slovak matches and 1 Czech: 4 × 12/13 ≈ 4 Slovak candidates, and the Czech one (every language with a
    # match has at least one candidate).
    assert "cs-00" in [i for i, _ in hits[:5]]
    assert sum(1 for _, s in hits if s > 0) == 5
    assert paged(index, SearchQuery(text="rozpočet", relevant=None, limit=50), 2) == [i for i, _ in hits]


@pytest.mark.parametrize("window", [4, 5000])
def test_collapsed_stories_follow_the_same_window_and_page_consistently(tmp_path: Path, window: int,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_index, "RANK_WINDOW", window)
    clustered = [replace(c, cluster_id=f"story-{int(c.id[3:]) % 5}") if c.id[3:].isdigit() else c
                 for c in corpus()]
    with SqliteIndex(tmp_path / "store.db") as idx:
        for c in clustered:
            idx.upsert([c])
        query = SearchQuery(text="rozpočet", lang="sk", relevant=None, collapse=True, limit=50)
        result = idx.search(query)
        assert result.total == len(result.hits) == 5  # twelve clippings, five stories
        stories = [h.clipping.cluster_id for h in result.hits]
        assert len(set(stories)) == 5
        assert sum(1 + len(h.copies) for h in result.hits) == 12  # every match once, as a hit or a copy
        paged_ids = []
        for offset in range(0, 6, 2):
            paged_ids += [h.clipping.id for h in idx.search(replace(query, limit=2, offset=offset)).hits]
        assert paged_ids == [h.clipping.id for h in result.hits]
        if window == 4:  # the stories with one of the four newest matches come first, by score
            newest = {c.cluster_id for c in clustered[8:12]}
            head = [h for h in result.hits if h.score > 0]
            assert {h.clipping.cluster_id for h in head} == newest
            assert result.hits[:len(head)] == tuple(head)
        else:
            scores = [h.score for h in result.hits]
            assert scores == sorted(scores, reverse=True) and scores[-1] > 0
