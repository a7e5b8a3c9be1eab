"""The store holds the press office's judgements and the scheduler's pickled jobs (docs/security.md): a store file
presswatch creates is readable and writable by its owner only, whatever the umask; an existing file keeps the mode
the operator gave it. Real SQLite files in tmp_path."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from presswatch.index.sqlite import SqliteIndex
from presswatch.state import State, connect


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common default (022: world-readable files), so the test does not pass because of a strict umask."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_store_and_its_wal_files_are_owner_only(tmp_path: Path, open_umask: None) -> None:
    db = tmp_path / "sub" / "presswatch.db"
    state = State(db)
    index = SqliteIndex(db)
    try:
        state.execute("INSERT INTO sources(id, municipality, kind, url) VALUES"
                      " ('x', 'town', 'feed', 'https://example.org/rss')")
        companions = [p for p in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()]
        assert companions, "WAL mode: SQLite keeps -wal and -shm beside the store while it is open"
        for path in [db, *companions]:
            assert _mode(path) & 0o077 == 0, f"{path.name} is {oct(_mode(path))}"
    finally:
        index.close()
        state.close()
    assert _mode(db) & 0o077 == 0 and _mode(db) & 0o600 == 0o600


def test_an_existing_store_keeps_the_mode_the_operator_set(tmp_path: Path, open_umask: None) -> None:
    db = tmp_path / "presswatch.db"
    connect(db).close()
    db.chmod(0o640)  # e.g. readable by a backup group: the operator's choice
    state = State(db)
    state.close()
    assert _mode(db) == 0o640
