"""Saved searches and the press office's response status for the SQLite index (`SqliteIndex` inherits this mixin).

Tables (created by `init_workflow`, next to index/sqlite.py's):
- `clip_saved`: the saved searches, keyed by (municipality, id); `origin` says who owns a row: "profile" rows are
  rewritten from the profile on every start (`sync_profile_searches`), "store" rows belong to the press office and
  only change through `save_search`/`delete_search`;
- `clip_status`: every status change, in the order made. The current status lives in `clip_clippings.status`, so
  that the `status` filter and facet read one column; the history only serves `status_history`.

`clip_status` has no foreign key to `clip_clippings`: the history is the press office's record of what it did, and
must not disappear with a cascade if a clipping row is ever deleted and re-inserted.

Matching (`match_saved`) reuses the search machinery: each alerting search is compiled by `SqliteIndex._match_sql`
exactly as `search` would run it, and the result is cut down to the batch, so a saved search matches what an
analyst typing the same query would find.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from presswatch.index.base import (
    STATUSES,
    ClippingIndex,
    SavedSearch,
    SearchQuery,
    StatusChange,
    StatusError,
)
from presswatch.index.query import QueryError, parse_query
from presswatch.records import Clipping
from presswatch.state import utcnow

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS clip_saved (
    municipality TEXT NOT NULL,
    id TEXT NOT NULL,                 -- [a-z0-9_-]+
    name TEXT NOT NULL,
    query TEXT NOT NULL,              -- index/query.py language, as the analyst typed it
    alert INTEGER NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('profile', 'store')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,         -- UTC, fixed width
    PRIMARY KEY (municipality, id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS clip_status (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- change order (times may repeat or be back-dated)
    clipping_id TEXT NOT NULL,
    status TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,         -- UTC, fixed width
    note TEXT
);
CREATE INDEX IF NOT EXISTS clip_status_by_clipping ON clip_status(clipping_id, id);
"""

SEARCH_ID = re.compile(r"[a-z0-9_-]+")
ORIGINS = ("profile", "store")
# Bound parameters per statement: SQLite before 3.32 allows 999; a batch of clippings is split to stay below it.
_CHUNK = 500


def init_workflow(conn: sqlite3.Connection) -> None:
    """Create the workflow tables (idempotent); called by `SqliteIndex.__init__` outside any transaction."""
    conn.executescript(SCHEMA)


# Same fixed-width text as index/sqlite.py (not imported from there: sqlite.py imports this module).
def _ts(dt: datetime) -> str:
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _from_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _search_from_row(row: sqlite3.Row) -> SavedSearch:
    return SavedSearch(id=row["id"], municipality=row["municipality"], name=row["name"], query=row["query"],
                       alert=bool(row["alert"]), origin=row["origin"], created_by=row["created_by"],
                       created_at=_from_ts(row["created_at"]))


def validate_search(search: SavedSearch) -> None:
    """Raise ValueError for a bad id/municipality/origin and QueryError for a query that does not parse or is
    blank (a blank saved search would alert on every clipping)."""
    if not SEARCH_ID.fullmatch(search.id):
        raise ValueError(f"saved search id {search.id!r}: use lower-case letters, digits, '-' and '_' only")
    if not search.municipality:
        raise ValueError(f"saved search {search.id!r} has no municipality")
    if search.origin not in ORIGINS:
        raise ValueError(f"saved search {search.id!r}: origin {search.origin!r} is not one of {', '.join(ORIGINS)}")
    if parse_query(search.query) is None:
        raise QueryError(f"saved search {search.id!r} has an empty query; it would match every clipping",
                         search.query, 0)


class SqliteWorkflow:
    """Saved searches and response status on the SQLite index. A mixin: `SqliteIndex` provides the connection,
    its lock, `_transaction` and `_match_sql`."""

    if TYPE_CHECKING:  # provided by SqliteIndex; declared only for the type checker so the MRO reaches the real ones
        _conn: sqlite3.Connection
        _lock: threading.RLock

        def _transaction(self, mode: str = "IMMEDIATE") -> AbstractContextManager[sqlite3.Connection]: ...

        def _match_sql(self, conn: sqlite3.Connection, query: SearchQuery) -> tuple[str, list[Any]] | None: ...

    # --- saved searches -------------------------------------------------------------------------------------
    def save_search(self, search: SavedSearch) -> SavedSearch:
        validate_search(search)
        with self._transaction() as conn:
            if search.created_at is None:
                # Replacing a search keeps when it was first created, unless the caller says otherwise.
                row = conn.execute("SELECT created_at FROM clip_saved WHERE municipality = ? AND id = ?",
                                   (search.municipality, search.id)).fetchone()
                search = replace(search, created_at=_from_ts(row["created_at"]) if row else utcnow())
            assert search.created_at is not None
            conn.execute(
                "INSERT OR REPLACE INTO clip_saved(municipality, id, name, query, alert, origin, created_by,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (search.municipality, search.id, search.name, search.query, int(search.alert), search.origin,
                 search.created_by, _ts(search.created_at)))
        # Stored at microsecond precision in UTC: return what `saved_searches` will return.
        return replace(search, created_at=_from_ts(_ts(search.created_at)))

    def saved_searches(self, municipality: str) -> list[SavedSearch]:
        with self._lock:
            rows = self._conn.execute("SELECT * FROM clip_saved WHERE municipality = ? ORDER BY id",
                                      (municipality,)).fetchall()
        return [_search_from_row(r) for r in rows]

    def delete_search(self, municipality: str, search_id: str) -> bool:
        with self._transaction() as conn:
            cur = conn.execute("DELETE FROM clip_saved WHERE municipality = ? AND id = ?", (municipality, search_id))
            return cur.rowcount > 0

    def match_saved(self, clippings: Sequence[Clipping]) -> dict[str, tuple[str, ...]]:
        ids = list(dict.fromkeys(c.id for c in clippings))
        if not ids:
            return {}
        found: dict[str, list[str]] = {}
        with self._transaction("DEFERRED") as conn:  # one snapshot: the batch and the searches as of now
            # The stored row, not the record passed in, says where a clipping belongs: the batch is "already
            # upserted", and a clipping that is not in the index cannot match anything.
            docs: dict[str, dict[int, str]] = {}  # municipality → {doc: clipping id}
            for chunk in _chunks(ids):
                for r in conn.execute(f"SELECT doc, id, municipality FROM clip_clippings"
                                      f" WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
                    docs.setdefault(r["municipality"], {})[r["doc"]] = r["id"]
            for municipality, batch in docs.items():
                searches = conn.execute("SELECT * FROM clip_saved WHERE municipality = ? AND alert = 1 ORDER BY id",
                                        (municipality,)).fetchall()
                for row in searches:
                    for doc in self._run_saved(conn, _search_from_row(row), batch):
                        found.setdefault(batch[doc], []).append(row["id"])
        # Batch order, searches by id.
        return {cid: tuple(found[cid]) for cid in ids if cid in found}

    def _run_saved(self, conn: sqlite3.Connection, search: SavedSearch, batch: dict[int, str]) -> set[int]:
        """The docs of `batch` that `search` matches; empty (with a warning) when its query no longer runs."""
        query = SearchQuery(text=search.query, municipality=search.municipality, relevant=None, limit=0)
        try:
            compiled = self._match_sql(conn, query)
            if compiled is None:
                return set()
            sql, params = compiled
            matched: set[int] = set()
            for chunk in _chunks(list(batch)):
                # Wrapped rather than appended to: the compiled SELECT may be a UNION of per-language branches.
                rows = conn.execute(f"SELECT doc FROM ({sql}) WHERE doc IN ({', '.join('?' * len(chunk))})",
                                    [*params, *chunk])
                matched.update(r[0] for r in rows)
            return matched
        except (QueryError, sqlite3.OperationalError) as exc:
            if isinstance(exc, sqlite3.OperationalError) and "fts5" not in str(exc).lower():
                raise  # a broken store, not a broken query
            # Saved before a grammar change (or hit by a compiler bug): one stale search must not stop the alerts
            # of all the others.
            log.warning("saved search %r of %s is skipped: its query %r no longer works (%s); edit or delete it",
                        search.id, search.municipality, search.query, exc)
            return set()

    # --- response status ------------------------------------------------------------------------------------
    def set_status(self, clipping_id: str, status: str, by: str, note: str | None = None,
                   at: datetime | None = None) -> StatusChange:
        if status not in STATUSES:
            raise StatusError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
        when = utcnow() if at is None else at
        with self._transaction() as conn:
            cur = conn.execute("UPDATE clip_clippings SET status = ? WHERE id = ?", (status, clipping_id))
            if cur.rowcount == 0:
                raise StatusError(f"no clipping {clipping_id!r} in the index")  # the transaction rolls back
            conn.execute("INSERT INTO clip_status(clipping_id, status, changed_by, changed_at, note)"
                         " VALUES (?, ?, ?, ?, ?)", (clipping_id, status, by, _ts(when), note))
        return StatusChange(clipping_id=clipping_id, status=status, by=by, at=_from_ts(_ts(when)), note=note)

    def status_history(self, clipping_id: str) -> list[StatusChange]:
        """Every change, oldest first (in the order they were made); empty for an unknown clipping too."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM clip_status WHERE clipping_id = ? ORDER BY id",
                                      (clipping_id,)).fetchall()
        return [StatusChange(clipping_id=r["clipping_id"], status=r["status"], by=r["changed_by"],
                             at=_from_ts(r["changed_at"]), note=r["note"]) for r in rows]


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


# --- the profile's saved searches ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProfileSync:
    """What `sync_profile_searches` changed, by search id."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()  # profile entries whose id the press office already uses: left alone


def sync_profile_searches(index: ClippingIndex, municipality: str, entries: Iterable[SavedSearch]) -> ProfileSync:
    """Make the municipality's profile-origin saved searches equal `entries` (read from the profile on start):
    add the new ones, rewrite the changed ones, delete the ones no longer listed. Store-origin searches (made by the
    press office through the API or CLI) are never touched; a profile entry with the id of one is skipped with a
    warning. Every entry is validated before anything changes, so a bad profile leaves the stored ones as they were.
    Works on any backend: it only uses the `ClippingIndex` interface."""
    wanted: dict[str, SavedSearch] = {}
    for entry in entries:
        search = replace(entry, municipality=municipality, origin="profile")
        validate_search(search)
        if search.id in wanted:
            raise ValueError(f"profile {municipality!r} lists saved search {search.id!r} twice")
        wanted[search.id] = search
    current = {s.id: s for s in index.saved_searches(municipality)}
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    conflicts: list[str] = []
    for sid, search in wanted.items():
        old = current.get(sid)
        if old is None:
            index.save_search(search)
            added.append(sid)
        elif old.origin != "profile":
            log.warning("%s: the profile's saved search %r is ignored: the press office has its own search with that"
                        " id; rename one of them", municipality, sid)
            conflicts.append(sid)
        elif (old.name, old.query, old.alert, old.created_by) != (search.name, search.query, search.alert,
                                                                  search.created_by):
            index.save_search(replace(search, created_at=search.created_at or old.created_at))
            updated.append(sid)
    for sid, old in current.items():
        if old.origin == "profile" and sid not in wanted:
            index.delete_search(municipality, sid)
            removed.append(sid)
    return ProfileSync(tuple(added), tuple(updated), tuple(removed), tuple(conflicts))


__all__ = ["SCHEMA", "ProfileSync", "SqliteWorkflow", "init_workflow", "sync_profile_searches", "validate_search"]
