"""Operational state in the SQLite store: the durable queue, what was discovered, source health, and the ledgers
of alerts and briefings that make "never twice" true.

The clipping index (index/sqlite.py) lives in the same file but owns its own tables; this module is the spine's
memory. WAL mode lets the daemon's jobs read while one of them writes. Every write is one short transaction, so a
crash (or `kill -9`) leaves either the old row or the new one, never half of each.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from presswatch.records import Discovery, RawPage, clipping_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS discoveries (
    url TEXT PRIMARY KEY,            -- canonical URL: an article page is fetched once per canonical URL
    outlet TEXT NOT NULL,
    source TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    feed_title TEXT,
    feed_published TEXT,
    feed_summary TEXT,
    fetched_at TEXT,                 -- NULL until the page is in the queue
    fetch_error TEXT,
    fetch_attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS discoveries_unfetched ON discoveries(fetched_at) WHERE fetched_at IS NULL;

CREATE TABLE IF NOT EXISTS queue (
    id TEXT PRIMARY KEY,             -- clipping id (hash of the canonical URL)
    url TEXT NOT NULL,
    final_url TEXT NOT NULL,
    outlet TEXT NOT NULL,
    source TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    feed_title TEXT,
    feed_published TEXT,
    state TEXT NOT NULL DEFAULT 'queued',   -- queued | done | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_state ON queue(state, fetched_at);

CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    municipality TEXT NOT NULL,
    kind TEXT NOT NULL,              -- feed | site | release
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_poll TEXT,
    last_success TEXT,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_total INTEGER NOT NULL DEFAULT 0,
    last_new_item TEXT
);

CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY,            -- municipality/rule/story cluster: one alert per story and rule
    municipality TEXT NOT NULL,
    rule TEXT NOT NULL,
    clipping_id TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    error TEXT,
    message_id TEXT
);

CREATE TABLE IF NOT EXISTS briefings (
    municipality TEXT NOT NULL,
    day TEXT NOT NULL,               -- local date the briefing covers the morning of
    language TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    sent_at TEXT,
    error TEXT,
    subject TEXT NOT NULL,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (municipality, day, language)
);
"""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def connect(path: Path) -> sqlite3.Connection:
    """Open the store file in WAL mode. Raises a clear OSError/sqlite3 error naming the path when it cannot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes, fast
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@dataclass(frozen=True, slots=True)
class SourceHealth:
    id: str
    kind: str
    url: str
    last_poll: datetime | None
    last_success: datetime | None
    last_error: str | None
    consecutive_failures: int
    items_total: int
    last_new_item: datetime | None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    page: RawPage
    attempts: int


class State:
    """The spine's tables in the store file. Thread-safe: one connection, serialised by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # --- discoveries -----------------------------------------------------------------------------------------
    def discover(self, items: list[Discovery]) -> list[Discovery]:
        """Record discoveries; returns those never seen before (by canonical URL)."""
        new: list[Discovery] = []
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for d in items:
                    cur = self._conn.execute(
                        "INSERT OR IGNORE INTO discoveries(url, outlet, source, first_seen, feed_title,"
                        " feed_published, feed_summary) VALUES (?,?,?,?,?,?,?)",
                        (d.url, d.outlet, d.source, _iso(d.seen_at), d.feed_title, _iso(d.feed_published),
                         d.feed_summary),
                    )
                    if cur.rowcount:
                        new.append(d)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return new

    def unfetched(self, limit: int = 500, max_attempts: int = 3) -> list[Discovery]:
        rows = self.execute(
            "SELECT * FROM discoveries WHERE fetched_at IS NULL AND fetch_attempts < ? ORDER BY first_seen LIMIT ?",
            (max_attempts, limit),
        )
        return [
            Discovery(url=r["url"], outlet=r["outlet"], source=r["source"], seen_at=_dt(r["first_seen"]) or utcnow(),
                      feed_title=r["feed_title"], feed_published=_dt(r["feed_published"]),
                      feed_summary=r["feed_summary"])
            for r in rows
        ]

    def fetch_failed(self, url: str, error: str) -> None:
        self.execute("UPDATE discoveries SET fetch_attempts = fetch_attempts + 1, fetch_error = ? WHERE url = ?",
                     (error, url))

    # A fetch that cannot succeed by trying again (robots.txt disallows it, 404/410, too large, not http):
    # parked with its error so `unfetched` never offers it again, whatever max_attempts the caller uses.
    ABANDONED_ATTEMPTS = 1 << 30

    def fetch_abandoned(self, url: str, error: str) -> None:
        self.execute("UPDATE discoveries SET fetch_attempts = ?, fetch_error = ? WHERE url = ?",
                     (self.ABANDONED_ATTEMPTS, error, url))

    def is_known(self, url: str) -> bool:
        return bool(self.execute("SELECT 1 FROM discoveries WHERE url = ?", (url,)))

    # --- the durable queue -----------------------------------------------------------------------------------
    def enqueue(self, page: RawPage) -> bool:
        """Store a fetched page before anything else happens to it. Returns False if it was already queued.

        The discovery is marked fetched in the same transaction, so a crash between the two cannot fetch twice
        or lose the page."""
        now = _iso(utcnow())
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.execute(
                    "INSERT OR IGNORE INTO queue(id, url, final_url, outlet, source, fetched_at, status, headers,"
                    " body, feed_title, feed_published, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (page.id, page.url, page.final_url, page.outlet, page.source, _iso(page.fetched_at),
                     page.status, json.dumps(page.headers), page.body, page.feed_title,
                     _iso(page.feed_published), now),
                )
                self._conn.execute(
                    "INSERT INTO discoveries(url, outlet, source, first_seen, feed_title, feed_published, fetched_at)"
                    " VALUES (?,?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at,"
                    " fetch_error = NULL",
                    (page.url, page.outlet, page.source, now, page.feed_title, _iso(page.feed_published),
                     _iso(page.fetched_at)),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return bool(cur.rowcount)

    def claim(self, limit: int, max_attempts: int) -> list[QueueItem]:
        """The oldest queued pages. Claiming counts an attempt first, so a page that crashes the worker every time
        is parked as failed after `max_attempts` instead of looping forever."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = self._conn.execute(
                    "SELECT * FROM queue WHERE state = 'queued' ORDER BY fetched_at LIMIT ?", (limit,)
                ).fetchall()
                for r in rows:
                    if r["attempts"] >= max_attempts:
                        self._conn.execute(
                            "UPDATE queue SET state='failed', error=coalesce(error, 'gave up after repeated crashes'),"
                            " updated_at=? WHERE id=?", (_iso(utcnow()), r["id"]))
                    else:
                        self._conn.execute("UPDATE queue SET attempts = attempts + 1 WHERE id = ?", (r["id"],))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return [QueueItem(page=_page(r), attempts=r["attempts"] + 1) for r in rows if r["attempts"] < max_attempts]

    def done(self, page_id: str) -> None:
        self.execute("UPDATE queue SET state='done', error=NULL, updated_at=? WHERE id=?", (_iso(utcnow()), page_id))

    def failed(self, page_id: str, error: str, retry: bool) -> None:
        self.execute("UPDATE queue SET state=?, error=?, updated_at=? WHERE id=?",
                     ("queued" if retry else "failed", error[:2000], _iso(utcnow()), page_id))

    def requeue(self, page_id: str) -> None:
        """Put a processed page back (e.g. after an enrichment upgrade, `presswatch reprocess`)."""
        self.execute("UPDATE queue SET state='queued', attempts=0, error=NULL WHERE id=?", (page_id,))

    def queue_counts(self) -> dict[str, int]:
        rows = self.execute("SELECT state, count(*) AS n FROM queue GROUP BY state")
        counts = {"queued": 0, "done": 0, "failed": 0}
        counts.update({r["state"]: r["n"] for r in rows})
        return counts

    def raw_page(self, page_id: str) -> RawPage | None:
        rows = self.execute("SELECT * FROM queue WHERE id = ?", (page_id,))
        return _page(rows[0]) if rows else None

    # --- sources -----------------------------------------------------------------------------------------------
    def source(self, source_id: str) -> SourceHealth | None:
        rows = self.execute("SELECT * FROM sources WHERE id = ?", (source_id,))
        return _health(rows[0]) if rows else None

    def register_source(self, source_id: str, municipality: str, kind: str, url: str) -> None:
        self.execute(
            "INSERT INTO sources(id, municipality, kind, url) VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
            " url = excluded.url, kind = excluded.kind", (source_id, municipality, kind, url))

    def poll_succeeded(self, source_id: str, *, new_items: int, etag: str | None = None,
                       last_modified: str | None = None, warning: str | None = None) -> None:
        now = _iso(utcnow())
        self.execute(
            "UPDATE sources SET last_poll=?, last_success=?, consecutive_failures=0, last_error=?,"
            " etag=coalesce(?, etag), last_modified=coalesce(?, last_modified), items_total=items_total+?,"
            " last_new_item=CASE WHEN ? > 0 THEN ? ELSE last_new_item END WHERE id=?",
            (now, now, warning, etag, last_modified, new_items, new_items, now, source_id))

    def poll_failed(self, source_id: str, error: str) -> None:
        self.execute(
            "UPDATE sources SET last_poll=?, last_error=?, consecutive_failures=consecutive_failures+1 WHERE id=?",
            (_iso(utcnow()), error[:2000], source_id))

    def sources(self, municipality: str | None = None) -> list[SourceHealth]:
        if municipality:
            rows = self.execute("SELECT * FROM sources WHERE municipality=? ORDER BY id", (municipality,))
        else:
            rows = self.execute("SELECT * FROM sources ORDER BY id")
        return [_health(r) for r in rows]

    # --- alerts ledger -------------------------------------------------------------------------------------------
    def alert_claim(self, key: str, municipality: str, rule: str, clipping_id: str, cluster_id: str) -> bool:
        """Record that an alert is owed. False if this story already has one for this rule (never twice)."""
        rows = self.execute(
            "INSERT OR IGNORE INTO alerts(key, municipality, rule, clipping_id, cluster_id, created_at)"
            " VALUES (?,?,?,?,?,?) RETURNING key", (key, municipality, rule, clipping_id, cluster_id, _iso(utcnow())))
        return bool(rows)

    def alerts_pending(self, municipality: str, max_attempts: int = 50) -> list[sqlite3.Row]:
        return self.execute("SELECT * FROM alerts WHERE municipality=? AND state='pending' AND attempts < ?"
                            " ORDER BY created_at", (municipality, max_attempts))

    def alert_sent(self, key: str, message_id: str | None) -> None:
        self.execute("UPDATE alerts SET state='sent', sent_at=?, attempts=attempts+1, error=NULL, message_id=?"
                     " WHERE key=?", (_iso(utcnow()), message_id, key))

    def alert_failed(self, key: str, error: str) -> None:
        self.execute("UPDATE alerts SET attempts=attempts+1, error=? WHERE key=?", (error[:2000], key))

    def alert_deferred(self, key: str, error: str) -> None:
        """Record why a pending alert could not go out without counting an attempt: the server was unreachable,
        which says nothing about the alert, so an outage of any length must not use up its attempts (digest)."""
        self.execute("UPDATE alerts SET error=? WHERE key=? AND state='pending'", (error[:2000], key))

    def alert_counts(self, municipality: str | None = None) -> dict[str, int]:
        where, args = ("WHERE municipality=?", (municipality,)) if municipality else ("", ())
        rows = self.execute(f"SELECT state, count(*) AS n FROM alerts {where} GROUP BY state", args)
        counts = {"pending": 0, "sent": 0, "failed": 0}
        counts.update({r["state"]: r["n"] for r in rows})
        return counts

    # --- briefings ledger ----------------------------------------------------------------------------------------
    def briefing(self, municipality: str, day: str, language: str) -> sqlite3.Row | None:
        rows = self.execute("SELECT * FROM briefings WHERE municipality=? AND day=? AND language=?",
                            (municipality, day, language))
        return rows[0] if rows else None

    def briefing_store(self, municipality: str, day: str, language: str, subject: str, html: str,
                       text: str) -> None:
        """Archive a briefing before it is sent; an already-sent briefing is never replaced."""
        self.execute(
            "INSERT INTO briefings(municipality, day, language, created_at, subject, html, text)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT(municipality, day, language) DO UPDATE SET"
            " subject=excluded.subject, html=excluded.html, text=excluded.text, created_at=excluded.created_at"
            " WHERE briefings.state != 'sent'",
            (municipality, day, language, _iso(utcnow()), subject, html, text))

    def briefing_sent(self, municipality: str, day: str, language: str) -> None:
        self.execute("UPDATE briefings SET state='sent', sent_at=?, error=NULL WHERE municipality=? AND day=?"
                     " AND language=?", (_iso(utcnow()), municipality, day, language))

    def briefing_failed(self, municipality: str, day: str, language: str, error: str) -> None:
        self.execute("UPDATE briefings SET error=? WHERE municipality=? AND day=? AND language=?",
                     (error[:2000], municipality, day, language))

    def briefing_counts(self, municipality: str | None = None) -> dict[str, int]:
        where, args = ("WHERE municipality=?", (municipality,)) if municipality else ("", ())
        rows = self.execute(f"SELECT state, count(*) AS n FROM briefings {where} GROUP BY state", args)
        counts = {"pending": 0, "sent": 0}
        counts.update({r["state"]: r["n"] for r in rows})
        return counts


def _page(r: sqlite3.Row) -> RawPage:
    return RawPage(url=r["url"], final_url=r["final_url"], outlet=r["outlet"], source=r["source"],
                   fetched_at=_dt(r["fetched_at"]) or utcnow(), status=r["status"], headers=json.loads(r["headers"]),
                   body=bytes(r["body"]), feed_title=r["feed_title"], feed_published=_dt(r["feed_published"]))


def _health(r: sqlite3.Row) -> SourceHealth:
    return SourceHealth(id=r["id"], kind=r["kind"], url=r["url"], last_poll=_dt(r["last_poll"]),
                        last_success=_dt(r["last_success"]), last_error=r["last_error"],
                        consecutive_failures=r["consecutive_failures"], items_total=r["items_total"],
                        last_new_item=_dt(r["last_new_item"]), etag=r["etag"], last_modified=r["last_modified"])


__all__ = ["State", "SourceHealth", "QueueItem", "connect", "utcnow", "clipping_id"]
