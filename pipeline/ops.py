"""Operations endpoint: `/healthz` and `/metrics` (Prometheus text exposition format 0.0.4) over the store.

A small threaded `http.server`, bound to 127.0.0.1 unless told otherwise: the numbers name municipalities and
sources, which is nobody's business off the machine (put a reverse proxy with TLS and auth in front to scrape it
from elsewhere). Every request opens the store file read-only and closes it again, so the endpoint never writes,
never holds a lock across requests and shares no connection with the daemon's jobs.

The heartbeat is one row per component in `ops_heartbeat` in the store: the daemon calls `heartbeat(state)` from a
scheduler job (and `heartbeat(state, CYCLE)` after each collection cycle). `/healthz` answers 503 when the store
cannot be read or the scheduler's heartbeat is older than `max_age_s`: a daemon whose scheduler thread died, or
that stopped, is unhealthy even though the process (and this server) still answers.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from presswatch import settings
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"  # written by a scheduler job every FEED_DUE_CHECK_S: the daemon is alive and scheduling
CYCLE = "cycle"  # written after each collection cycle (fetch, process, alerts): the last cycle time
# A heartbeat older than this is stale: three missed beats of the one-minute poll job, so one slow job (a long
# enrichment batch holds the single store executor) does not flap the health check.
HEARTBEAT_MAX_AGE_S = 3 * max(settings.FEED_DUE_CHECK_S, settings.PROCESS_INTERVAL_S)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

HEARTBEAT_SCHEMA = """
CREATE TABLE IF NOT EXISTS ops_heartbeat (
    component TEXT PRIMARY KEY,      -- scheduler | cycle
    at TEXT NOT NULL,                -- UTC ISO-8601
    pid INTEGER,
    detail TEXT
)
"""


def heartbeat(state: State, component: str = SCHEDULER, detail: str | None = None,
              at: datetime | None = None) -> None:
    """Record that `component` is alive now (one short write; the table is created on first use)."""
    when = (at or utcnow()).astimezone(UTC).isoformat()
    state.execute(HEARTBEAT_SCHEMA)
    state.execute("INSERT INTO ops_heartbeat(component, at, pid, detail) VALUES (?,?,?,?) ON CONFLICT(component)"
                  " DO UPDATE SET at=excluded.at, pid=excluded.pid, detail=excluded.detail",
                  (component, when, os.getpid(), detail))


def last_heartbeat(conn: sqlite3.Connection | State, component: str = SCHEDULER) -> datetime | None:
    rows = _rows(conn, "SELECT at FROM ops_heartbeat WHERE component = ?", (component,))  # none: never ran here
    return datetime.fromisoformat(rows[0]["at"]) if rows else None


# --- reading the store --------------------------------------------------------------------------------------
def open_readonly(path: Path) -> sqlite3.Connection:
    """The store, read-only: a missing file is an error here, not a new empty store."""
    if not path.is_file():
        raise sqlite3.OperationalError(f"no store file at {path}")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _rows(conn: sqlite3.Connection | State, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """Rows of a query; none when the table is not there yet (a store the daemon has not filled)."""
    try:
        if isinstance(conn, State):
            return conn.execute(sql, args)
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc) or "no such column" in str(exc):
            return []
        raise


def _ts(dt: datetime) -> str:
    """The index's fixed-width UTC text form (index/sqlite.py `_ts`), so that text comparison is time order."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def day_start(now: datetime, tz: tzinfo) -> datetime:
    """Midnight of `now`'s day in `tz`, in UTC: where "today" starts for the press office."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def clipping_counts(conn: sqlite3.Connection | State, since: datetime) -> dict[str, tuple[int, int]]:
    """municipality -> (clippings in the SQLite index, of which indexed since `since`). Empty for an
    Elasticsearch-backed store (the index is not in this file)."""
    rows = _rows(conn, "SELECT municipality, count(*) AS n, sum(indexed_at >= ?) AS today FROM clip_clippings"
                       " GROUP BY municipality", (_ts(since),))
    return {r["municipality"]: (int(r["n"]), int(r["today"] or 0)) for r in rows}


# --- Prometheus text format 0.0.4 -----------------------------------------------------------------------------
def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) and not value.is_integer() else str(int(value))


@dataclass(slots=True)
class Metric:
    name: str
    kind: str  # counter | gauge
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> None:
        self.samples.append((labels, value))

    def render(self) -> str:
        help_text = self.help.replace("\\", "\\\\").replace("\n", "\\n")
        lines = [f"# HELP {self.name} {help_text}", f"# TYPE {self.name} {self.kind}"]
        for labels, value in self.samples:
            label_text = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
            lines.append(f"{self.name}{{{label_text}}} {_number(value)}" if label_text
                         else f"{self.name} {_number(value)}")
        return "\n".join(lines) + "\n"


def collect_metrics(conn: sqlite3.Connection, now: datetime | None = None,
                    tz: tzinfo | Mapping[str, tzinfo] = UTC, store: str = "") -> list[Metric]:
    """Every metric of one store file. Store-wide numbers (queue, heartbeats) carry a `store` label (the file's
    path) so that a daemon running profiles with separate stores reports each; the rest are per municipality.
    `tz`: where "today" starts, one zone or one per municipality id (UTC for one not named)."""
    now = now or utcnow()
    queue = Metric("presswatch_queue_items", "gauge", "Raw pages in the durable queue, by state.")
    counts = {"queued": 0, "done": 0, "failed": 0, "duplicate": 0}
    counts.update({r["state"]: int(r["n"]) for r in _rows(conn, "SELECT state, count(*) AS n FROM queue GROUP BY"
                                                                 " state")})
    for state_name, n in sorted(counts.items()):
        queue.add(n, store=store, state=state_name)
    unfetched = Metric("presswatch_discoveries_unfetched", "gauge", "Discovered article URLs not fetched yet.")
    rows = _rows(conn, "SELECT count(*) AS n FROM discoveries WHERE fetched_at IS NULL")
    unfetched.add(int(rows[0]["n"]) if rows else 0, store=store)

    total = Metric("presswatch_clippings_total", "counter", "Clippings in the index, per municipality.")
    today = Metric("presswatch_clippings_today", "gauge",
                   "Clippings indexed since local midnight (the daemon's time zone), per municipality.")
    zones = tz if isinstance(tz, Mapping) else {}
    default_tz = UTC if isinstance(tz, Mapping) else tz
    counts_by_zone: dict[tzinfo, dict[str, tuple[int, int]]] = {}
    for zone in {default_tz, *zones.values()}:
        counts_by_zone[zone] = clipping_counts(conn, day_start(now, zone))
    for municipality, (n, _) in sorted(counts_by_zone[default_tz].items()):
        total.add(n, municipality=municipality)
        today.add(counts_by_zone[zones.get(municipality, default_tz)][municipality][1], municipality=municipality)

    alerts = Metric("presswatch_alerts", "gauge", "Alerts in the ledger, per municipality and state"
                    " (pending, sent, failed, dropped).")
    alert_counts: dict[str, dict[str, int]] = {}
    for r in _rows(conn, "SELECT municipality, state, count(*) AS n FROM alerts GROUP BY municipality, state"):
        alert_counts.setdefault(r["municipality"], {"pending": 0, "sent": 0})[r["state"]] = int(r["n"])
    for municipality, by_state in sorted(alert_counts.items()):
        for state_name, n in sorted(by_state.items()):
            alerts.add(n, municipality=municipality, state=state_name)

    briefings = Metric("presswatch_briefings_sent_total", "counter", "Morning briefings sent, per municipality.")
    for r in _rows(conn, "SELECT municipality, sum(state = 'sent') AS n FROM briefings GROUP BY municipality"
                         " ORDER BY municipality"):
        briefings.add(int(r["n"] or 0), municipality=r["municipality"])

    success = Metric("presswatch_source_last_success_timestamp_seconds", "gauge",
                     "Unix time of the source's last successful poll or crawl (0: never).")
    polled = Metric("presswatch_source_last_poll_timestamp_seconds", "gauge",
                    "Unix time of the source's last poll or crawl, successful or not (0: never).")
    failures = Metric("presswatch_source_consecutive_failures", "gauge",
                      "Failed polls or crawls of the source in a row (0: the last one succeeded).")
    items = Metric("presswatch_source_items_total", "counter", "New items the source has yielded.")
    for r in _rows(conn, "SELECT id, municipality, kind, last_poll, last_success, consecutive_failures,"
                         " items_total FROM sources ORDER BY municipality, id"):
        labels = {"municipality": r["municipality"], "source": r["id"], "kind": r["kind"]}
        success.add(_seconds(r["last_success"]) or 0, **labels)
        polled.add(_seconds(r["last_poll"]) or 0, **labels)
        failures.add(int(r["consecutive_failures"]), **labels)
        items.add(int(r["items_total"]), **labels)

    beats = Metric("presswatch_heartbeat_timestamp_seconds", "gauge",
                   "Unix time of the last heartbeat per component (scheduler; cycle: the last collection cycle).")
    for r in _rows(conn, "SELECT component, at FROM ops_heartbeat ORDER BY component"):
        beats.add(_seconds(r["at"]) or 0, store=store, component=r["component"])
    cycle = Metric("presswatch_last_cycle_timestamp_seconds", "gauge",
                   "Unix time the last collection cycle finished (0: none recorded).")
    at = last_heartbeat(conn, CYCLE)
    cycle.add(at.timestamp() if at else 0, store=store)
    return [queue, unfetched, total, today, alerts, briefings, success, polled, failures, items, beats, cycle]


def merge(families: Iterable[list[Metric]]) -> list[Metric]:
    """One family per metric name (the format allows one HELP/TYPE block each), samples of every store in it."""
    out: dict[str, Metric] = {}
    for metrics in families:
        for m in metrics:
            if m.name in out:
                out[m.name].samples.extend(m.samples)
            else:
                out[m.name] = Metric(m.name, m.kind, m.help, list(m.samples))
    return list(out.values())


def render(metrics: Iterable[Metric]) -> str:
    return "".join(m.render() for m in metrics)


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    reason: str  # "ok", or why not


def check_health(conn: sqlite3.Connection, now: datetime | None = None,
                 max_age_s: float = HEARTBEAT_MAX_AGE_S) -> Health:
    now = now or utcnow()
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return Health(False, f"store not readable: {exc}")
    at = last_heartbeat(conn, SCHEDULER)
    if at is None:
        return Health(False, "no scheduler heartbeat in the store yet (is presswatch run running?)")
    age = (now - at).total_seconds()
    if age > max_age_s:
        return Health(False, f"scheduler heartbeat stale: last at {at.isoformat()}, {age:.0f} s ago"
                             f" (limit {max_age_s:g} s)")
    return Health(True, "ok")


# --- the server ---------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "presswatch-ops"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.debug("ops %s " + format, self.client_address[0], *args)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        ops = self.server.ops
        if path not in ("/healthz", "/metrics"):
            self._send(404, "not found: try /healthz or /metrics\n", head)
            return
        problems: list[str] = []
        families: list[list[Metric]] = []
        for store in ops.stores:
            where = f"{store}: " if len(ops.stores) > 1 else ""
            try:
                conn = open_readonly(store)
            except sqlite3.Error as exc:
                problems.append(f"{where}store not readable: {exc}")
                continue
            try:
                if path == "/healthz":
                    health = check_health(conn, max_age_s=ops.max_age_s)
                    if not health.ok:
                        problems.append(where + health.reason)
                else:
                    families.append(collect_metrics(conn, tz=ops.tz, store=str(store)))
            except sqlite3.Error as exc:
                problems.append(f"{where}store not readable: {exc}")
            finally:
                conn.close()
        if problems:
            self._send(503, "\n".join(problems) + "\n", head)
        elif path == "/healthz":
            self._send(200, "ok\n", head)
        else:
            self._send(200, render(merge(families)), head, CONTENT_TYPE)

    def _send(self, status: int, text: str, head: bool, content_type: str = "text/plain; charset=utf-8") -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    ops: OpsServer


class OpsServer:
    """`OpsServer.start(store_path)` serves until `stop()`; `url` is where (port 0 picks a free one)."""

    def __init__(self, stores: Path | Sequence[Path], host: str = "127.0.0.1", port: int = 0, *,
                 tz: tzinfo | Mapping[str, tzinfo] = UTC,
                 max_age_s: float = HEARTBEAT_MAX_AGE_S) -> None:
        paths = [stores] if isinstance(stores, str | Path) else list(stores)
        # profiles that share a store file are one store here (resolved, so ./a.db and a.db are the same)
        self.stores = list(dict.fromkeys(Path(p).resolve() for p in paths))
        self.tz = tz
        self.max_age_s = max_age_s
        self._httpd = _Server((host, port), _Handler)
        self._httpd.ops = self
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, stores: Path | Sequence[Path], host: str = "127.0.0.1", port: int = 0, *,
              tz: tzinfo | Mapping[str, tzinfo] = UTC,
              max_age_s: float = HEARTBEAT_MAX_AGE_S) -> OpsServer:
        server = cls(stores, host, port, tz=tz, max_age_s=max_age_s)
        server._thread = threading.Thread(target=server._httpd.serve_forever, name="presswatch-ops", daemon=True)
        server._thread.start()
        log.info("ops endpoint at %s", server.url, extra={"url": server.url})
        return server

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(stores: Path | Sequence[Path], host: str = "127.0.0.1", port: int = 0, *,
          tz: tzinfo | Mapping[str, tzinfo] = UTC,
          max_age_s: float = HEARTBEAT_MAX_AGE_S) -> OpsServer:
    """Serve /healthz and /metrics for the store file(s) in a background thread; `stop()` ends it."""
    return OpsServer.start(stores, host, port, tz=tz, max_age_s=max_age_s)


def next_briefing(send_at: str, tz: tzinfo, now: datetime | None = None) -> datetime:
    """The next time the morning briefing job fires (digest.send_at, HH:MM in the profile's time zone), in UTC."""
    now = (now or utcnow()).astimezone(tz)
    hour, minute = (int(x) for x in send_at.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if at <= now:
        at = (now + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at.astimezone(UTC)


__all__ = ["OpsServer", "start", "heartbeat", "last_heartbeat", "check_health", "collect_metrics", "render",
           "merge", "next_briefing", "clipping_counts", "day_start", "HEARTBEAT_MAX_AGE_S", "SCHEDULER", "CYCLE"]
