"""`presswatch index migrate --to es`: the parts that need no server (progress, count check, reading every clipping
of a real SQLite index, the command's errors), and the copy itself against a real Elasticsearch (`es`)."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from presswatch.cli import main
from presswatch.index.base import SavedSearch
from presswatch.index.migrate import MigrationError, Progress, compare_counts, migrate, source_batches
from presswatch.index.sqlite import SqliteIndex
from tests.test_index_contract import CORPUS, make
from tests.test_index_contract import _elastic as elastic_index


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as stderr does when a person runs the command."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_and_in_a_log() -> None:
    tty = Terminal()
    bar = Progress("Clippings", 200, tty, width=10, every=0.0)
    bar.advance(50)
    bar.advance(50)
    bar.finish()
    out = tty.getvalue()
    assert out == ("\rClippings [##........] 50/200 (25%)" "\rClippings [#####.....] 100/200 (50%)"
                   "\rClippings [#####.....] 100/200 (50%)\n")
    log = io.StringIO()
    bar = Progress("Clippings", 3, log, width=6)
    bar.advance(3)
    bar.finish()
    assert log.getvalue() == "Clippings [######] 3/3 (100%)\n"  # no carriage returns in a file
    empty = io.StringIO()
    Progress("Clippings", 0, empty, width=4).finish()
    assert empty.getvalue() == "Clippings [####] 0/0 (100%)\n"


def test_compare_counts_names_each_municipality_that_differs() -> None:
    assert compare_counts({"a": 3, "b": 1}, {"a": 3, "b": 1}) == []
    assert compare_counts({"a": 3, "b": 1}, {"a": 2, "c": 4}) == [
        "a: 3 in SQLite, 2 in Elasticsearch", "b: 1 in SQLite, 0 in Elasticsearch",
        "c: 0 in SQLite, 4 in Elasticsearch"]


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[SqliteIndex]:
    index = SqliteIndex(tmp_path / "presswatch.db")
    index.upsert(CORPUS)
    yield index
    index.close()


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_every_clipping_is_read_once_whatever_the_batch(sqlite: SqliteIndex, batch: int) -> None:
    pages = list(source_batches(sqlite, batch))
    seen = [c.id for page in pages for c in page]
    assert sorted(seen) == sorted(c.id for c in CORPUS)  # relevance not filtered: sk-holiday is there too
    assert all(len(page) <= batch for page in pages)


@pytest.mark.parametrize("batch", [0, -1, 1001])
def test_batch_out_of_range(sqlite: SqliteIndex, batch: int) -> None:
    with pytest.raises(ValueError, match="--batch"):
        list(source_batches(sqlite, batch))


# --- the command ---------------------------------------------------------------------------------------------
PROFILE = """
municipality: {id: bratislava, name: Bratislava, country: SK, languages: [sk], timezone: Europe/Bratislava}
store: {backend: sqlite%s}
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_command_without_elasticsearch_says_where_to_set_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PRESSWATCH_ES_URL", raising=False)
    monkeypatch.setenv("PRESSWATCH_DB", str(tmp_path / "presswatch.db"))
    profile = tmp_path / "town.yaml"
    profile.write_text(PROFILE % "", encoding="utf-8")
    assert main(["--ui-lang", "en", "index", "migrate", "--to", "es", "--profile", str(profile)]) == 2
    assert "PRESSWATCH_ES_URL" in capsys.readouterr().err
    port = _closed_port()
    profile.write_text(PROFILE % f", url: 'http://127.0.0.1:{port}'", encoding="utf-8")
    assert main(["--ui-lang", "en", "index", "migrate", "--to", "es", "--profile", str(profile)]) == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


# --- against a real Elasticsearch ----------------------------------------------------------------------------
@pytest.fixture
def elastic() -> Iterator[object]:
    yield from elastic_index()  # skips, saying why, when PRESSWATCH_ES_URL is unset


@pytest.mark.es
def test_migrate_copies_clippings_status_history_and_saved_searches(sqlite: SqliteIndex, elastic: object) -> None:
    from presswatch.index.elastic import ElasticIndex

    assert isinstance(elastic, ElasticIndex)
    sqlite.set_status("sk-bridge", "acknowledged", by="anna")
    sqlite.set_status("sk-bridge", "drafted", by="boris", note="odpoveď")
    sqlite.save_search(SavedSearch(id="bridge", municipality="bratislava", name="Most", query="most"))
    sqlite.save_search(SavedSearch(id="mayor", municipality="skopje", name="Г", query="gradonacalnik"))
    out = io.StringIO()
    report = migrate(sqlite, elastic, batch=2, stream=out)
    assert report.clippings == len(CORPUS) and report.history == 2 and report.searches == 2
    assert out.getvalue().endswith(f"{len(CORPUS)}/{len(CORPUS)} (100%)\n")
    got = elastic.get("sk-bridge")
    assert got is not None and got.status == "drafted"
    assert [(c.status, c.by, c.note) for c in elastic.status_history("sk-bridge")] == \
        [(c.status, c.by, c.note) for c in sqlite.status_history("sk-bridge")]
    assert [s.id for s in elastic.saved_searches("bratislava")] == ["bridge"]
    assert elastic.saved_searches("bratislava")[0].created_at == sqlite.saved_searches("bratislava")[0].created_at
    # run again: nothing doubles
    again = migrate(sqlite, elastic, batch=500, stream=io.StringIO())
    assert again.counts == report.counts and len(elastic.status_history("sk-bridge")) == 2
    # Elasticsearch holding a clipping SQLite does not have is a mismatch, named
    elastic.upsert([make("es-only", "Navyše", "Len v Elasticsearch.")])
    with pytest.raises(MigrationError, match="bratislava: 5 in SQLite, 6 in Elasticsearch"):
        migrate(sqlite, elastic, stream=io.StringIO())
