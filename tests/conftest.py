"""Shared fixtures. Tests use real parts: SQLite files in tmp_path, servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.index.sqlite import SqliteIndex
from presswatch.state import State

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path under ../shared; the test is skipped with the reason when it is absent (a user's fresh clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real-world data sits beside the checkout only in CI")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[State, SqliteIndex]]:
    """A real State and SqliteIndex sharing one store file, as the pipeline has them."""
    state = State(tmp_path / "presswatch.db")
    index = SqliteIndex(tmp_path / "presswatch.db")
    yield state, index
    index.close()
    state.close()


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp() as server:
        yield server
