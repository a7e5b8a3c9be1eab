"""Operational state in the SQLite store: the durable queue, what was discovered, source health, and the ledgers
of alerts and briefings that make "never twice" true.

The clipping index (index/sqlite.py) lives in the same file but owns its own tables; this module is the spine's
memory. WAL mode lets the daemon's jobs read while one of them writes. Every write is one short transaction, so a
crash (or `kill -9`) leaves either the old row or the new one, never half of each.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from presswatch import settings
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
CREATE INDEX IF NOT EXISTS discoveries_by_source ON discoveries(source, first_seen);  -- items/day per source

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

-- Exact duplicates: the first page of an outlet with this extracted text (enrich.cluster.content_hash). A later
-- page of the same outlet with the same text is recorded in `duplicates` and not indexed (process.py).
CREATE TABLE IF NOT EXISTS content_hashes (
    outlet TEXT NOT NULL,
    hash TEXT NOT NULL,
    page_id TEXT NOT NULL,           -- the first copy's clipping id
    url TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (outlet, hash)
);
CREATE TABLE IF NOT EXISTS duplicates (
    page_id TEXT PRIMARY KEY,        -- the later copy (its raw page stays in the queue, state 'duplicate')
    url TEXT NOT NULL,
    duplicate_of TEXT NOT NULL,      -- the first copy's clipping id
    hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- Updated articles: the last modification time a feed (`updated`) or a sitemap (`lastmod`) gave for a URL. A newer
-- one for a fetched URL sets `refetch`, the page is fetched again and `enqueue` replaces the stored version.
CREATE TABLE IF NOT EXISTS revisions (
    url TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    refetch INTEGER NOT NULL DEFAULT 0,
    refetches INTEGER NOT NULL DEFAULT 0
);

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
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed | dropped (story dismissed/answered)
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    error TEXT,
    message_id TEXT
);

-- Which channels already have an alert (the message or webhook call its server accepted), so that a retry after
-- one channel failed never repeats what another one accepted; `sent_at` also starts a rule's cooldown.
CREATE TABLE IF NOT EXISTS alert_deliveries (
    key TEXT NOT NULL,               -- the alert (alerts.key)
    channel TEXT NOT NULL,           -- channel_id(): email:<recipients> | webhook:<hash of the URL>
    sent_at TEXT NOT NULL,
    message_id TEXT,
    PRIMARY KEY (key, channel)
);

-- Alerts that wait on one channel: `quiet` until the profile's quiet hours end, `cooldown` until `until` (a rule's
-- cooldown). Held here, not in memory, so that a restart neither loses nor repeats them; sent as one roll-up.
CREATE TABLE IF NOT EXISTS alert_holds (
    key TEXT NOT NULL,               -- the alert (alerts.key)
    channel TEXT NOT NULL,           -- digest.alerts.channel_id()
    reason TEXT NOT NULL,            -- quiet | cooldown
    rule TEXT,                       -- cooldown: the rule whose cooldown holds it
    until TEXT,                      -- cooldown: when it ends; quiet: NULL (when the quiet hours end)
    held_at TEXT NOT NULL,
    PRIMARY KEY (key, channel)
);

-- A channel that could not be reached: failures in a row and when it is tried next (exponential back-off).
CREATE TABLE IF NOT EXISTS alert_channels (
    municipality TEXT NOT NULL,
    channel TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    PRIMARY KEY (municipality, channel)
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

-- The press office's judgements of a clipping's relevance and flags (`presswatch feedback`), kept as history: the
-- latest judgement per clipping and field wins (enrich/learn.py trains on those).
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    clipping_id TEXT NOT NULL,
    municipality TEXT NOT NULL,
    field TEXT NOT NULL,             -- relevant | critical | misleading
    value INTEGER NOT NULL,          -- what the press office says it is: 1 yes, 0 no
    judged_by TEXT NOT NULL,
    judged_at TEXT NOT NULL,
    note TEXT
);
CREATE INDEX IF NOT EXISTS feedback_by_clipping ON feedback(municipality, clipping_id, field, id);

-- The official record from the municipality's own releases: each figure and full date a release states
-- (enrich/official.py). A new version of a release replaces its rows; misleading claims are checked against them.
CREATE TABLE IF NOT EXISTS official_records (
    id TEXT PRIMARY KEY,             -- <release clipping id>#<n>
    municipality TEXT NOT NULL,
    release_id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    published TEXT,
    lang TEXT NOT NULL,
    statement TEXT NOT NULL,
    context TEXT NOT NULL,
    cue TEXT NOT NULL,
    value REAL,
    day TEXT,
    unit TEXT,
    year INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS official_records_by_release ON official_records(municipality, release_id);
"""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _create_private(path: Path) -> None:
    """Create a new store file readable and writable by its owner only (0600): it holds the press office's
    judgements, and the scheduler's pickled jobs (pipeline/jobstore.py), so write access to it is code execution
    in the daemon (docs/security.md). SQLite gives the -wal, -shm and -journal files the database file's own
    permissions, so they follow. An existing file is left as it is: its mode is the operator's choice."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def connect(path: Path) -> sqlite3.Connection:
    """Open the store file in WAL mode. Raises a clear OSError/sqlite3 error naming the path when it cannot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _create_private(path)
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
    first_success: datetime | None = None  # the first successful poll: what it found is backlog, not rate
    next_poll_at: datetime | None = None  # the adaptive schedule (crawlers/health.py); None: poll now
    poll_interval_s: float | None = None  # the interval that set next_poll_at
    items_per_day: float | None = None  # new items over the recent window; None until watched long enough


@dataclass(frozen=True, slots=True)
class QueueItem:
    page: RawPage
    attempts: int


class LockedStore:
    """One connection to a store file, serialised by a lock, so one object can serve many threads (the daemon's
    jobs, the workspace's request threads). The tables of State and of the workspace's accounts build on it."""

    SCHEMA = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.executescript(self.SCHEMA)
            self._migrate()

    def _migrate(self) -> None:
        """Columns added after a table's first release (ALTER TABLE for older store files)."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock. On an error it is rolled back, unless SQLite already did it
        itself (SQLITE_FULL, IOERR), when a second ROLLBACK would raise and hide the error that matters."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise


class State(LockedStore):
    """The spine's tables in the store file. Thread-safe: one connection, serialised by a lock."""

    SCHEMA = SCHEMA

    def _migrate(self) -> None:
        _add_columns(self._conn, "sources", SOURCE_COLUMNS)
        _add_columns(self._conn, "alerts", ALERT_COLUMNS)

    # --- discoveries -----------------------------------------------------------------------------------------
    def discover(self, items: list[Discovery]) -> list[Discovery]:
        """Record discoveries; returns those never seen before (by canonical URL)."""
        new: list[Discovery] = []
        with self._write() as conn:
            for d in items:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO discoveries(url, outlet, source, first_seen, feed_title,"
                    " feed_published, feed_summary) VALUES (?,?,?,?,?,?,?)",
                    (d.url, d.outlet, d.source, _iso(d.seen_at), d.feed_title, _iso(d.feed_published),
                     d.feed_summary),
                )
                if cur.rowcount:
                    new.append(d)
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

    def mark_aliases(self, urls: set[str] | list[str], of_url: str, outlet: str, source: str) -> int:
        """Record other URLs of an article already fetched as `of_url` (where a redirect ended, its rel=canonical,
        its AMP page, the URL with or without the trailing slash) as fetched, so nobody fetches them again. A URL
        discovered but not yet fetched is settled too; one with a page of its own is left alone. Returns how many
        URLs were settled."""
        now = _iso(utcnow())
        settled = 0
        with self._lock:
            for url in sorted(set(urls) - {of_url}):
                cur = self._conn.execute(
                    "INSERT INTO discoveries(url, outlet, source, first_seen, fetched_at, fetch_error)"
                    " VALUES (?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at,"
                    " fetch_error = excluded.fetch_error WHERE discoveries.fetched_at IS NULL",
                    (url, outlet, source, now, now, f"alias of {of_url}"))
                settled += cur.rowcount
        return settled

    # --- updated articles ----------------------------------------------------------------------------------
    def note_modified(self, url: str, modified: datetime) -> bool:
        """A feed or sitemap says `url` was modified at `modified`. The first time only remembers it; a later,
        newer time that is also after the page was fetched puts the URL back for fetching (`unfetched`) and marks
        it so that `enqueue` replaces the stored page. Returns True when a refetch was requested."""
        when = _iso(modified)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute("SELECT modified FROM revisions WHERE url = ?", (url,)).fetchone()
                if row is None:
                    self._conn.execute("INSERT INTO revisions(url, modified) VALUES (?, ?)", (url, when))
                    self._conn.execute("COMMIT")
                    return False
                before = _dt(row["modified"])
                if before is not None and modified <= before:
                    self._conn.execute("COMMIT")
                    return False
                row = self._conn.execute("SELECT fetched_at FROM discoveries WHERE url = ? AND fetched_at IS NOT"
                                         " NULL AND fetch_error IS NULL", (url,)).fetchone()
                # Only a change after our fetch is news: a page fetched after its modification has it already
                # (and feeds whose dates move on every build, like the demo newsroom's, cause no refetch storm).
                fetched_at = _dt(row["fetched_at"]) if row is not None else None
                fetched = fetched_at is not None and modified > fetched_at
                self._conn.execute("UPDATE revisions SET modified = ?, refetch = CASE WHEN ? THEN 1 ELSE refetch END"
                                   " WHERE url = ?", (when, bool(fetched), url))
                if fetched:
                    self._conn.execute("UPDATE discoveries SET fetched_at = NULL, fetch_attempts = 0,"
                                       " fetch_error = NULL WHERE url = ?", (url,))
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back itself (SQLITE_FULL, IOERR)
                    self._conn.execute("ROLLBACK")
                raise
        return bool(fetched)

    def revise(self, items: list[Discovery]) -> list[Discovery]:
        """`note_modified` for each discovery that carries a modification time; returns those put back for
        fetching (an article updated after it was fetched)."""
        return [d for d in items if d.feed_updated is not None and self.note_modified(d.url, d.feed_updated)]

    def modified(self, url: str) -> datetime | None:
        """The last modification time recorded for `url` by a feed or a sitemap."""
        rows = self.execute("SELECT modified FROM revisions WHERE url = ?", (url,))
        return _dt(rows[0]["modified"]) if rows else None

    # --- the durable queue -----------------------------------------------------------------------------------
    def enqueue(self, page: RawPage) -> bool:
        """Store a fetched page before anything else happens to it. Returns False if it was already queued.

        The discovery is marked fetched in the same transaction, so a crash between the two cannot fetch twice
        or lose the page."""
        now = _iso(utcnow())
        with self._write() as conn:
            refetch = conn.execute("SELECT 1 FROM revisions WHERE url = ? AND refetch = 1",
                                   (page.url,)).fetchone()
            # An updated article (note_modified) replaces its stored page and goes back into the queue.
            conflict = ("ON CONFLICT(id) DO UPDATE SET final_url=excluded.final_url, fetched_at=excluded.fetched_at,"
                        " status=excluded.status, headers=excluded.headers, body=excluded.body, state='queued',"
                        " attempts=0, error=NULL, updated_at=excluded.updated_at" if refetch else
                        "ON CONFLICT(id) DO NOTHING")
            cur = conn.execute(
                "INSERT INTO queue(id, url, final_url, outlet, source, fetched_at, status, headers,"
                f" body, feed_title, feed_published, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) {conflict}",
                (page.id, page.url, page.final_url, page.outlet, page.source, _iso(page.fetched_at),
                 page.status, json.dumps(page.headers), page.body, page.feed_title,
                 _iso(page.feed_published), now),
            )
            if refetch:
                conn.execute("UPDATE revisions SET refetch = 0, refetches = refetches + 1 WHERE url = ?",
                             (page.url,))
            conn.execute(
                "INSERT INTO discoveries(url, outlet, source, first_seen, feed_title, feed_published, fetched_at)"
                " VALUES (?,?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET fetched_at = excluded.fetched_at,"
                " fetch_error = NULL",
                (page.url, page.outlet, page.source, now, page.feed_title, _iso(page.feed_published),
                 _iso(page.fetched_at)),
            )
        return bool(cur.rowcount)

    def claim(self, limit: int, max_attempts: int) -> list[QueueItem]:
        """The oldest queued pages. Claiming counts an attempt first, so a page that crashes the worker every time
        is parked as failed after `max_attempts` instead of looping forever."""
        with self._write() as conn:
            rows = conn.execute(
                "SELECT * FROM queue WHERE state = 'queued' ORDER BY fetched_at LIMIT ?", (limit,)
            ).fetchall()
            for r in rows:
                if r["attempts"] >= max_attempts:
                    conn.execute(
                        "UPDATE queue SET state='failed', error=coalesce(error, 'gave up after repeated crashes'),"
                        " updated_at=? WHERE id=?", (_iso(utcnow()), r["id"]))
                else:
                    conn.execute("UPDATE queue SET attempts = attempts + 1 WHERE id = ?", (r["id"],))
        return [QueueItem(page=_page(r), attempts=r["attempts"] + 1) for r in rows if r["attempts"] < max_attempts]

    def done(self, page_id: str) -> None:
        self.execute("UPDATE queue SET state='done', error=NULL, updated_at=? WHERE id=?", (_iso(utcnow()), page_id))

    def failed(self, page_id: str, error: str, retry: bool) -> None:
        self.execute("UPDATE queue SET state=?, error=?, updated_at=? WHERE id=?",
                     ("queued" if retry else "failed", error[:2000], _iso(utcnow()), page_id))

    def postpone(self, page_ids: list[str], reason: str) -> None:
        """Give claimed pages back without counting the attempt their claim took: the index or the store could not
        be written (an outage says nothing about the pages, so it must not park them as failed)."""
        if not page_ids:
            return
        marks = ",".join("?" * len(page_ids))
        self.execute(f"UPDATE queue SET state='queued', attempts=max(attempts - 1, 0), error=?, updated_at=?"
                     f" WHERE state='queued' AND id IN ({marks})", (reason[:2000], _iso(utcnow()), *page_ids))

    def requeue(self, page_id: str) -> None:
        """Put a processed page back (e.g. after an enrichment upgrade, `presswatch reprocess`)."""
        self.execute("UPDATE queue SET state='queued', attempts=0, error=NULL WHERE id=?", (page_id,))

    # --- exact duplicates ------------------------------------------------------------------------------------
    def claim_content(self, page_id: str, url: str, outlet: str, content_hash: str) -> str | None:
        """Register `content_hash` (of the page's extracted text) for the outlet. Returns the clipping id of an
        earlier page of the outlet with the same text, or None when this page is the first (or the same page)."""
        with self._write() as conn:
            row = conn.execute("SELECT page_id FROM content_hashes WHERE outlet = ? AND hash = ?",
                               (outlet, content_hash)).fetchone()
            if row is None:
                conn.execute("INSERT INTO content_hashes(outlet, hash, page_id, url, first_seen)"
                             " VALUES (?,?,?,?,?)", (outlet, content_hash, page_id, url, _iso(utcnow())))
        return None if row is None or row["page_id"] == page_id else str(row["page_id"])

    def release_content(self, outlet: str, content_hash: str, page_id: str) -> None:
        """Forget a hash claimed by `page_id` (its clipping went away), so the next copy becomes the first."""
        self.execute("DELETE FROM content_hashes WHERE outlet = ? AND hash = ? AND page_id = ?",
                     (outlet, content_hash, page_id))

    def mark_duplicate(self, page_id: str, url: str, duplicate_of: str, content_hash: str) -> None:
        """The page is an exact copy of `duplicate_of`: its raw page stays, in queue state 'duplicate'."""
        now = _iso(utcnow())
        with self._write() as conn:
            conn.execute(
                "INSERT INTO duplicates(page_id, url, duplicate_of, hash, recorded_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT(page_id) DO UPDATE SET duplicate_of=excluded.duplicate_of, hash=excluded.hash,"
                " recorded_at=excluded.recorded_at", (page_id, url, duplicate_of, content_hash, now))
            conn.execute("UPDATE queue SET state='duplicate', error=NULL, updated_at=? WHERE id=?",
                         (now, page_id))

    def duplicate_of(self, page_id: str) -> str | None:
        rows = self.execute("SELECT duplicate_of FROM duplicates WHERE page_id = ?", (page_id,))
        return str(rows[0]["duplicate_of"]) if rows else None

    def duplicate_count(self) -> int:
        return int(self.execute("SELECT count(*) AS n FROM duplicates")[0]["n"])

    def queue_counts(self) -> dict[str, int]:
        rows = self.execute("SELECT state, count(*) AS n FROM queue GROUP BY state")
        counts = {"queued": 0, "done": 0, "failed": 0, "duplicate": 0}
        counts.update({r["state"]: r["n"] for r in rows})
        return counts

    def raw_page(self, page_id: str) -> RawPage | None:
        rows = self.execute("SELECT * FROM queue WHERE id = ?", (page_id,))
        return _page(rows[0]) if rows else None

    # --- sources -----------------------------------------------------------------------------------------------
    def source(self, source_id: str) -> SourceHealth | None:
        rows = self.execute("SELECT * FROM sources WHERE id = ?", (source_id,))
        return self._with_rate(_health(rows[0])) if rows else None

    def register_source(self, source_id: str, municipality: str, kind: str, url: str) -> None:
        self.execute(
            "INSERT INTO sources(id, municipality, kind, url) VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET"
            " url = excluded.url, kind = excluded.kind", (source_id, municipality, kind, url))

    def poll_succeeded(self, source_id: str, *, new_items: int, etag: str | None = None,
                       last_modified: str | None = None, warning: str | None = None) -> None:
        now = _iso(utcnow())
        self.execute(
            "UPDATE sources SET last_poll=?, last_success=?, first_success=coalesce(first_success, ?),"
            " consecutive_failures=0, last_error=?,"
            " etag=coalesce(?, etag), last_modified=coalesce(?, last_modified), items_total=items_total+?,"
            " last_new_item=CASE WHEN ? > 0 THEN ? ELSE last_new_item END WHERE id=?",
            (now, now, now, warning, etag, last_modified, new_items, new_items, now, source_id))

    def poll_failed(self, source_id: str, error: str) -> None:
        self.execute(
            "UPDATE sources SET last_poll=?, last_error=?, consecutive_failures=consecutive_failures+1 WHERE id=?",
            (_iso(utcnow()), error[:2000], source_id))

    def sources(self, municipality: str | None = None) -> list[SourceHealth]:
        if municipality:
            rows = self.execute("SELECT * FROM sources WHERE municipality=? ORDER BY id", (municipality,))
        else:
            rows = self.execute("SELECT * FROM sources ORDER BY id")
        return [self._with_rate(_health(r)) for r in rows]

    def schedule(self, source_id: str, next_poll_at: datetime, interval_s: float) -> None:
        """When the source is polled next (the adaptive schedule is computed by crawlers/health.py)."""
        self.execute("UPDATE sources SET next_poll_at=?, poll_interval_s=? WHERE id=?",
                     (_iso(next_poll_at), interval_s, source_id))

    def items_per_day(self, source_id: str, first_success: datetime | None, now: datetime | None = None,
                      window_days: float = settings.FEED_RATE_WINDOW_DAYS) -> float | None:
        """New items per day over the recent window, derived from `discoveries.first_seen` (a URL counts for the
        source that found it first). What the first successful poll found is the feed's backlog and is left out;
        None while the source has been watched for less than FEED_RATE_MIN_DAYS."""
        if first_success is None:
            return None
        now = now or utcnow()
        start = max(first_success, now - timedelta(days=window_days))
        days = (now - start).total_seconds() / 86400
        if days < settings.FEED_RATE_MIN_DAYS:
            return None
        rows = self.execute("SELECT count(*) AS n FROM discoveries WHERE source=? AND first_seen > ? AND first_seen <= ?",
                            (source_id, _iso(start), _iso(now)))
        return float(rows[0]["n"]) / days

    def _with_rate(self, health: SourceHealth) -> SourceHealth:
        return replace(health, items_per_day=self.items_per_day(health.id, health.first_success))

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

    def alerts_due(self, municipality: str, now: datetime, max_attempts: int = 50) -> list[sqlite3.Row]:
        """The pending alerts that may be tried at `now`: those whose back-off (after a refusal) has run out."""
        return self.execute("SELECT * FROM alerts WHERE municipality=? AND state='pending' AND attempts < ?"
                            " AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY created_at",
                            (municipality, max_attempts, _iso(now)))

    def alert_retry_at(self, key: str, when: datetime | None) -> None:
        self.execute("UPDATE alerts SET next_attempt_at=? WHERE key=? AND state='pending'", (_iso(when), key))

    def alert_hold(self, key: str, channel: str, reason: str, now: datetime, rule: str | None = None,
                   until: datetime | None = None) -> None:
        """Hold an alert on one channel (first hold wins: a story held by quiet hours stays in that roll-up)."""
        self.execute("INSERT OR IGNORE INTO alert_holds(key, channel, reason, rule, until, held_at)"
                     " VALUES (?,?,?,?,?,?)", (key, channel, reason, rule, _iso(until), _iso(now)))

    def alert_holds(self, channel: str, keys: list[str]) -> list[sqlite3.Row]:
        marks = ",".join("?" * len(keys))
        return self.execute(f"SELECT * FROM alert_holds WHERE channel=? AND key IN ({marks})", (channel, *keys))

    def alert_release(self, channel: str, keys: list[str]) -> None:
        marks = ",".join("?" * len(keys))
        self.execute(f"DELETE FROM alert_holds WHERE channel=? AND key IN ({marks})", (channel, *keys))

    def alert_last_sent(self, municipality: str, rule: str, channel: str) -> datetime | None:
        """When an alert of this rule last went out on this channel (the start of the rule's cooldown)."""
        rows = self.execute("SELECT max(d.sent_at) AS at FROM alert_deliveries d JOIN alerts a ON a.key = d.key"
                            " WHERE a.municipality=? AND a.rule=? AND d.channel=?", (municipality, rule, channel))
        return _dt(rows[0]["at"]) if rows else None

    def channel_backoff(self, municipality: str, channel: str) -> tuple[datetime, str] | None:
        """When a channel that failed is tried next, and its last error; None: it is not backing off."""
        rows = self.execute("SELECT next_attempt_at, last_error FROM alert_channels WHERE municipality=? AND"
                            " channel=?", (municipality, channel))
        when = _dt(rows[0]["next_attempt_at"]) if rows else None
        return (when, rows[0]["last_error"] or "") if when is not None else None

    def channel_failed(self, municipality: str, channel: str, error: str, now: datetime, base_s: float,
                       max_s: float) -> datetime:
        """Count one more failure in a row of a channel; returns when it is tried next (base · 2^(n-1), capped)."""
        rows = self.execute(
            "INSERT INTO alert_channels(municipality, channel, failures, last_error) VALUES (?,?,1,?)"
            " ON CONFLICT(municipality, channel) DO UPDATE SET failures=failures+1, last_error=excluded.last_error"
            " RETURNING failures", (municipality, channel, error[:2000]))
        failures = int(rows[0]["failures"])
        when = now + timedelta(seconds=min(max_s, base_s * 2 ** min(failures - 1, 30)))
        self.execute("UPDATE alert_channels SET next_attempt_at=? WHERE municipality=? AND channel=?",
                     (_iso(when), municipality, channel))
        return when

    def channel_ok(self, municipality: str, channel: str) -> None:
        self.execute("DELETE FROM alert_channels WHERE municipality=? AND channel=?", (municipality, channel))

    def alert_find(self, municipality: str, ident: str) -> list[sqlite3.Row]:
        """Alerts of a clipping by its id, or by the short id an alert shows (a prefix of the clipping id)."""
        prefix = ident.replace("%", "").replace("_", "") + "%"
        return self.execute("SELECT * FROM alerts WHERE municipality=? AND (clipping_id = ? OR clipping_id LIKE ?)"
                            " ORDER BY created_at", (municipality, ident, prefix))

    def alert_acked(self, municipality: str, cluster_id: str, by: str, at: datetime) -> int:
        """Note who acknowledged a story's alerts, and when (the response status itself lives in the index)."""
        rows = self.execute("UPDATE alerts SET acked_at=?, acked_by=? WHERE municipality=? AND cluster_id=?"
                            " RETURNING key", (_iso(at), by, municipality, cluster_id))
        return len(rows)

    def alert_counts(self, municipality: str | None = None) -> dict[str, int]:
        where, args = ("WHERE municipality=?", (municipality,)) if municipality else ("", ())
        rows = self.execute(f"SELECT state, count(*) AS n FROM alerts {where} GROUP BY state", args)
        counts = {"pending": 0, "sent": 0, "failed": 0}
        counts.update({r["state"]: r["n"] for r in rows})
        return counts

    # --- the press office's feedback ---------------------------------------------------------------------------
    def feedback_add(self, clipping_id: str, municipality: str, field: str, value: bool, judged_by: str,
                     note: str | None = None, at: datetime | None = None) -> int:
        """Record one judgement (history is kept; the latest per clipping and field wins). Returns its id."""
        rows = self.execute(
            "INSERT INTO feedback(clipping_id, municipality, field, value, judged_by, judged_at, note)"
            " VALUES (?,?,?,?,?,?,?) RETURNING id",
            (clipping_id, municipality, field, int(value), judged_by, _iso(at or utcnow()), note))
        return int(rows[0]["id"])

    def feedback_latest(self, municipality: str) -> dict[str, dict[str, bool]]:
        """{clipping id: {field: value}}: the latest judgement per clipping and field."""
        rows = self.execute(
            "SELECT clipping_id, field, value FROM feedback WHERE id IN (SELECT max(id) FROM feedback"
            " WHERE municipality=? GROUP BY clipping_id, field)", (municipality,))
        out: dict[str, dict[str, bool]] = {}
        for r in rows:
            out.setdefault(r["clipping_id"], {})[r["field"]] = bool(r["value"])
        return out

    def feedback_history(self, municipality: str, limit: int = 50,
                         clipping_id: str | None = None) -> list[sqlite3.Row]:
        """The newest judgements first (who, when, what, note), of the municipality or of one of its clippings."""
        where, args = ("AND clipping_id=?", (clipping_id,)) if clipping_id else ("", ())
        return self.execute(f"SELECT * FROM feedback WHERE municipality=? {where} ORDER BY id DESC LIMIT ?",
                            (municipality, *args, limit))

    def feedback_count(self, municipality: str) -> int:
        return int(self.execute("SELECT count(*) AS n FROM feedback WHERE municipality=?", (municipality,))[0]["n"])

    # --- the official record from releases ---------------------------------------------------------------------
    def records_replace(self, municipality: str, release_id: str, rows: list[dict[str, Any]]) -> None:
        """Store the figures of one release, replacing what an earlier version of it stated (one transaction)."""
        cols = ("id", "release_id", "url", "title", "published", "lang", "statement", "context", "cue", "value",
                "day", "unit", "year")
        with self._write() as conn:
            conn.execute("DELETE FROM official_records WHERE municipality=? AND release_id=?",
                         (municipality, release_id))
            now = _iso(utcnow())
            conn.executemany(
                f"INSERT OR REPLACE INTO official_records(municipality, recorded_at, {', '.join(cols)})"
                f" VALUES (?, ?, {', '.join('?' for _ in cols)})",
                [(municipality, now, *(r[c] for c in cols)) for r in rows])

    def records(self, municipality: str) -> list[sqlite3.Row]:
        return self.execute("SELECT * FROM official_records WHERE municipality=? ORDER BY published, id",
                            (municipality,))

    # --- briefings ledger ----------------------------------------------------------------------------------------
    def briefing(self, municipality: str, day: str, language: str) -> sqlite3.Row | None:
        rows = self.execute("SELECT * FROM briefings WHERE municipality=? AND day=? AND language=?",
                            (municipality, day, language))
        return rows[0] if rows else None

    def briefings(self, municipality: str, limit: int = 50, offset: int = 0) -> list[sqlite3.Row]:
        """The archive, newest day first (the workspace's list): no bodies, only what a listing shows."""
        return self.execute("SELECT day, language, subject, state, sent_at, created_at, error FROM briefings"
                            " WHERE municipality=? ORDER BY day DESC, language LIMIT ? OFFSET ?",
                            (municipality, limit, offset))

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

    # --- retention (pipeline/retention.py): each call is one short transaction over at most `limit` rows ----------
    def _has_index(self) -> bool:
        """Whether the SQLite clipping index lives in this file (the default backend): then a page's or an alert's
        clipping can be checked in SQL before anything of it is dropped."""
        return bool(self.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='clip_clippings'"))

    def _batch(self, sql: str, args: tuple[Any, ...]) -> int:
        with self._write() as conn:
            n = conn.execute(sql, args).rowcount
        return max(n, 0)

    def _processed_where(self) -> str:
        """Queue rows whose work is finished: done (its clipping is indexed: `done` is only called after the upsert)
        or an exact duplicate (its first copy is indexed). With the SQLite index in this file, that is checked too;
        queued and failed rows never match."""
        where = "state IN ('done', 'duplicate') AND updated_at < ?"
        if self._has_index():
            where += (" AND EXISTS (SELECT 1 FROM clip_clippings c WHERE c.id = CASE WHEN queue.state = 'done'"
                      " THEN queue.id ELSE (SELECT d.duplicate_of FROM duplicates d WHERE d.page_id = queue.id) END)")
        return where

    def strip_raw_pages(self, before: datetime, limit: int) -> int:
        """Drop the HTML body and headers of up to `limit` processed pages last processed before `before` (the row
        stays: `enqueue` and `reroute_recent` still see it). Returns how many bodies were dropped."""
        return self._batch(
            "UPDATE queue SET body = x'', headers = '{}' WHERE rowid IN (SELECT rowid FROM queue WHERE"
            f" {self._processed_where()} AND length(body) > 0 LIMIT ?)", (_iso(before), limit))

    def delete_processed(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` processed queue rows (and the duplicate records of those that were copies) last
        processed before `before`. Returns how many queue rows went."""
        with self._write() as conn:
            ids = [r["id"] for r in conn.execute(
                f"SELECT id FROM queue WHERE {self._processed_where()} LIMIT ?", (_iso(before), limit))]
            marks = ",".join("?" * len(ids))
            if ids:
                conn.execute(f"DELETE FROM duplicates WHERE page_id IN ({marks})", ids)
                conn.execute(f"DELETE FROM queue WHERE id IN ({marks}) AND state IN ('done', 'duplicate')",
                             ids)
        return len(ids)

    def slim_discoveries(self, before: datetime, limit: int) -> int:
        """Forget the feed summary of up to `limit` URLs fetched before `before` (the page has the text). The row
        itself stays: it is what keeps a URL from being fetched twice (sitemaps list old articles for years)."""
        return self._batch(
            "UPDATE discoveries SET feed_summary = NULL WHERE rowid IN (SELECT rowid FROM discoveries WHERE"
            " fetched_at IS NOT NULL AND fetched_at < ? AND feed_summary IS NOT NULL LIMIT ?)", (_iso(before), limit))

    def delete_alerts(self, municipality: str, before: datetime, limit: int,
                      story_quiet_since: datetime | None = None) -> int:
        """Delete up to `limit` settled alerts (sent, dropped or failed; never pending) settled before `before`, with
        their deliveries and holds. With `story_quiet_since` and the SQLite index in this file, an alert whose story
        got a copy published since then is kept: that key is what stops the story alerting twice."""
        where = ("municipality = ? AND state IN ('sent', 'dropped', 'failed') AND coalesce(sent_at, created_at) < ?")
        args: list[Any] = [municipality, _iso(before)]
        if story_quiet_since is not None and self._has_index():
            # clip_clippings.published is fixed-width UTC text (index/sqlite.py `_ts`)
            where += (" AND NOT EXISTS (SELECT 1 FROM clip_clippings c WHERE (c.cluster_id = alerts.cluster_id OR"
                      " c.id = alerts.cluster_id) AND c.published >= ?)")
            args.append(story_quiet_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        with self._write() as conn:
            keys = [r["key"] for r in conn.execute(f"SELECT key FROM alerts WHERE {where} LIMIT ?",
                                                   (*args, limit))]
            marks = ",".join("?" * len(keys))
            if keys:
                conn.execute(f"DELETE FROM alert_deliveries WHERE key IN ({marks})", keys)
                conn.execute(f"DELETE FROM alert_holds WHERE key IN ({marks})", keys)
                conn.execute(f"DELETE FROM alerts WHERE key IN ({marks}) AND state != 'pending'", keys)
        return len(keys)

    def delete_briefings(self, municipality: str, before: datetime, limit: int) -> int:
        """Delete up to `limit` sent briefings sent before `before` (pending and failed ones are still owed)."""
        return self._batch(
            "DELETE FROM briefings WHERE rowid IN (SELECT rowid FROM briefings WHERE municipality = ? AND"
            " state = 'sent' AND sent_at < ? LIMIT ?)", (municipality, _iso(before), limit))

    def reclaim_space(self) -> int:
        """Give freed pages back to the file system where the store allows it without a VACUUM (never run on a live
        store: it rewrites the whole file under an exclusive lock). Only a file with auto_vacuum=INCREMENTAL can; in
        any other, SQLite reuses the freed pages for new rows, so the file stops growing. Returns the pages freed."""
        with self._lock:
            mode = self._conn.execute("PRAGMA auto_vacuum").fetchone()[0]
            free = int(self._conn.execute("PRAGMA freelist_count").fetchone()[0])
            if mode != 2 or not free:
                return 0
            self._conn.execute("PRAGMA incremental_vacuum").fetchall()
            return free - int(self._conn.execute("PRAGMA freelist_count").fetchone()[0])


def _page(r: sqlite3.Row) -> RawPage:
    return RawPage(url=r["url"], final_url=r["final_url"], outlet=r["outlet"], source=r["source"],
                   fetched_at=_dt(r["fetched_at"]) or utcnow(), status=r["status"], headers=json.loads(r["headers"]),
                   body=bytes(r["body"]), feed_title=r["feed_title"], feed_published=_dt(r["feed_published"]))


def _health(r: sqlite3.Row) -> SourceHealth:
    return SourceHealth(id=r["id"], kind=r["kind"], url=r["url"], last_poll=_dt(r["last_poll"]),
                        last_success=_dt(r["last_success"]), last_error=r["last_error"],
                        consecutive_failures=r["consecutive_failures"], items_total=r["items_total"],
                        last_new_item=_dt(r["last_new_item"]), etag=r["etag"], last_modified=r["last_modified"],
                        first_success=_dt(r["first_success"]), next_poll_at=_dt(r["next_poll_at"]),
                        poll_interval_s=r["poll_interval_s"])


# Columns added to `sources` after the first release: a store file from before gets them on open.
SOURCE_COLUMNS = {"first_success": "TEXT", "next_poll_at": "TEXT", "poll_interval_s": "REAL"}
# Columns added to `alerts`: when a refused alert is tried next (back-off), and who acknowledged it, when.
ALERT_COLUMNS = {"next_attempt_at": "TEXT", "acked_at": "TEXT", "acked_by": "TEXT"}


def _add_columns(conn: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    have = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
    for name, decl in columns.items():
        if name not in have:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
            except sqlite3.OperationalError as exc:  # another process added it between the check and now
                if "duplicate column" not in str(exc):
                    raise


__all__ = ["State", "SourceHealth", "QueueItem", "connect", "utcnow", "clipping_id"]
