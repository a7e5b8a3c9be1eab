"""`presswatch index rebuild` through the CLI's `main()` on a real store, and SqliteIndex.rebuild's progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from presswatch.cli import main
from presswatch.index import SearchQuery
from presswatch.index.sqlite import SqliteIndex
from tests.test_index_cli import clippings


def test_rebuild_reports_the_count_and_search_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(db))
    with SqliteIndex(db) as index:
        assert index.upsert(clippings()) == 25
        # as after a change of the stemming rules: stale stems that no longer match anything
        index._conn.execute("UPDATE clip_meta SET value = 'old-rules' WHERE key = 'stemmer'")
        for table in ("clip_fts_sk",):
            index._conn.execute(f"UPDATE {table} SET stems = ''")
    with SqliteIndex(db) as index:
        assert index.stems_outdated
        assert index.search(SearchQuery(text="mostom")).total == 0, "the inflected form needs the stems"
    assert main(["--ui-lang", "en", "index", "rebuild", "--profile", "demo"]) == 0
    out, err = capsys.readouterr()
    assert "Index rebuilt: 25 clippings" in err
    assert "Rebuilding [" in err and "25/25 (100%)" in err, "the progress bar of index migrate"
    with SqliteIndex(db) as index:
        assert not index.stems_outdated
        assert index.stats().clippings == 25
        assert index.search(SearchQuery(text="mostom")).total == 19
        assert index.search(SearchQuery(text="most")).total == 19


def test_rebuild_messages_are_localised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(db))
    with SqliteIndex(db) as index:
        index.upsert(clippings()[:3])
    assert main(["--ui-lang", "sk", "index", "rebuild", "--profile", "demo"]) == 0
    err = capsys.readouterr().err
    assert "Index prestavaný: 3 výstrižkov" in err and "Prestavba [" in err


def test_progress_is_called_with_increasing_counts(tmp_path: Path) -> None:
    with SqliteIndex(tmp_path / "presswatch.db") as index:
        index.upsert(clippings())
        calls: list[tuple[int, int]] = []
        assert index.rebuild(progress=lambda done, total: calls.append((done, total)), every=10) == 25
        assert calls == [(10, 25), (20, 25), (25, 25)]
        assert index.rebuild() == 25  # without a callback, as before
        empty: list[tuple[int, int]] = []
    with SqliteIndex(tmp_path / "empty.db") as index:
        assert index.rebuild(progress=lambda d, t: empty.append((d, t))) == 0
        assert empty == [(0, 0)]
