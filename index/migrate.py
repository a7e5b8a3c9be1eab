"""`presswatch index migrate --to es`: copy the SQLite clipping index into Elasticsearch, then check it.

What is copied: every clipping with its current response status, every status change (history), and the saved
searches of every municipality that has clippings or is named by the caller. The copy is idempotent: clippings are
written by id, history lines with ids derived from their position, saved searches by (municipality, id), so an
interrupted migration is simply run again.

The check compares the number of clippings per municipality in both stores after the copy (Elasticsearch refreshed
first). Other municipalities' clippings in the same Elasticsearch are not counted (one cluster may serve several
press offices), but a municipality with more clippings there than in SQLite (indexed there before) is a mismatch:
the report names the municipality and both counts, and the command fails.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from presswatch.index.base import ClippingIndex, SearchQuery, StatusChange
from presswatch.records import Clipping

if TYPE_CHECKING:
    from presswatch.index.elastic import ElasticIndex

DEFAULT_BATCH = 500
MAX_BATCH = 1000  # SqliteIndex.search returns at most this many per page


class MigrationError(RuntimeError):
    """The copy finished but the stores disagree; the message lists each municipality and both counts."""


class Progress:
    """A one-line progress bar on a terminal stream (`\\r` rewrites it), plain lines elsewhere; no dependency."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, width: int = 30,
                 every: float = 0.2) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.every = every  # seconds between redraws on a terminal
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def line(self) -> str:
        share = self.done / self.total if self.total else 1.0
        filled = min(self.width, int(share * self.width))
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
                f" ({share:.0%})")

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self._tty and now - self._last >= self.every:
            self._last = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def finish(self) -> None:
        self.stream.write(("\r" if self._tty else "") + self.line() + "\n")
        self.stream.flush()


@dataclass(frozen=True, slots=True)
class MigrationReport:
    clippings: int
    history: int
    searches: int
    counts: dict[str, int]  # municipality → clippings, equal in both stores


def source_batches(source: ClippingIndex, batch: int) -> Iterator[list[Clipping]]:
    """Every clipping of `source`, newest first, `batch` at a time (relevance not filtered). Offset paging: run
    it while nothing writes to the source (stop the daemon), as the migration asks."""
    if not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"--batch must be between 1 and {MAX_BATCH}, not {batch}")
    offset = 0
    while True:
        page = source.search(SearchQuery(relevant=None, limit=batch, offset=offset)).hits
        if not page:
            return
        yield [h.clipping for h in page]
        offset += len(page)


def compare_counts(expected: Mapping[str, int], actual: Mapping[str, int]) -> list[str]:
    """One line per municipality whose counts differ ("sk-x: 12 in SQLite, 11 in Elasticsearch")."""
    return [f"{m}: {expected.get(m, 0)} in SQLite, {actual.get(m, 0)} in Elasticsearch"
            for m in sorted({*expected, *actual}) if expected.get(m, 0) != actual.get(m, 0)]


def migrate(source: ClippingIndex, target: ElasticIndex, batch: int = DEFAULT_BATCH,
            municipalities: tuple[str, ...] = (), stream: TextIO | None = None,
            label: str = "clippings") -> MigrationReport:
    """Copy `source` into `target` and verify the counts per municipality; raises MigrationError on a mismatch."""
    progress = Progress(label, source.stats().clippings, stream)
    seen: dict[str, int] = {}
    history = 0
    for page in source_batches(source, batch):
        changes: list[StatusChange] = [ch for c in page for ch in source.status_history(c.id)]
        target.load(page, changes)
        history += len(changes)
        for c in page:
            seen[c.municipality] = seen.get(c.municipality, 0) + 1
        progress.advance(len(page))
    progress.finish()
    searches = 0
    for municipality in sorted({*seen, *municipalities}):
        for search in source.saved_searches(municipality):
            target.save_search(search)  # keeps created_at and origin
            searches += 1
    target.client.indices.refresh(index=target.clippings)
    expected = {m: source.stats(m).clippings for m in sorted({*seen, *municipalities})}
    actual = {m: target.stats(m).clippings for m in expected}
    problems = compare_counts(expected, actual)
    if problems:
        raise MigrationError("; ".join(problems))
    return MigrationReport(clippings=sum(seen.values()), history=history, searches=searches, counts=expected)


__all__ = ["DEFAULT_BATCH", "MigrationError", "MigrationReport", "Progress", "compare_counts", "migrate",
           "source_batches"]
