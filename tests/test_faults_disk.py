"""Issue #7, fault 5: the disk fills up while clippings are written. First on a real full filesystem (a small
tmpfs mounted for the test, when this machine lets us mount: CI runs as root), then, everywhere, with SQLite's
`PRAGMA max_page_count` on the index connection, which fails the batch in its middle at a chosen point.

The error names the store file and says the disk is full, the failed write rolled back whole (clippings, their
documents and full-text rows agree; integrity_check is ok), the pages not indexed are still queued, and once
there is space the next run indexes them, each exactly once."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from presswatch.cycle import CycleReport, Pipeline
from presswatch.index.sqlite import FTS_LANGS, fts_table
from tests.test_faults_support import StreamServer, article, body, fault_profile, pipeline, rss

PAGES = 6


def _consistency(db: Path) -> dict[str, object]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        def one(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])
        tables = {fts_table(code) for code in (*FTS_LANGS, None)}
        return {
            "clippings": one("SELECT count(*) FROM clip_clippings"),
            "docs": one("SELECT count(*) FROM clip_docs"),
            "fts": sum(one(f"SELECT count(*) FROM {t}") for t in tables),
            "done": one("SELECT count(*) FROM queue WHERE state='done'"),
            "queued": one("SELECT count(*) FROM queue WHERE state='queued'"),
            "failed": one("SELECT count(*) FROM queue WHERE state='failed'"),
            "integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
        }
    finally:
        conn.close()


@pytest.fixture
def server() -> Iterator[StreamServer]:
    with StreamServer() as srv:
        srv.routes["/feed.xml"] = body(rss([srv.url(f"/a{i}") for i in range(PAGES)]),
                                       content_type="application/rss+xml")
        for i in range(PAGES):
            srv.routes[f"/a{i}"] = body(article(f"a{i}", words=3000))  # ~60 KB of text each
        yield srv


def _collect(pipe: Pipeline) -> None:
    report = CycleReport()
    pipe.poll_feeds(report)
    pipe.fetch_pages(report)
    assert report.fetched == PAGES, report.errors


def _check_after_full(db: Path, report: CycleReport) -> dict[str, object]:
    outage = report.process.outage
    assert outage is not None and f"store {db}: the disk is full" in outage, report.errors
    assert outage in report.errors
    after = _consistency(db)
    assert after["integrity"] == "ok"
    assert after["clippings"] == after["docs"] == after["fts"]  # nothing half-written
    # A clipping may be in the index with its page still queued (the index committed, then marking the page done
    # found the disk full): reprocessing it is an upsert by id, so it is still indexed once (checked below).
    assert int(str(after["done"])) <= int(str(after["clippings"])) < PAGES
    assert after["failed"] == 0 and after["done"] + after["queued"] == PAGES  # the rest waits in the queue
    return after


def _check_recovered(db: Path, pipe: Pipeline, report: CycleReport, before: dict[str, object]) -> None:
    assert report.process.outage is None and not report.errors
    assert report.process.new == PAGES - int(str(before["clippings"]))  # each page indexed once in all
    final = _consistency(db)
    assert final["integrity"] == "ok"
    assert final["clippings"] == final["docs"] == final["fts"] == final["done"] == PAGES
    again = CycleReport()
    pipe.process_queue(again)
    assert again.process.indexed == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], check=True,
                       capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here ({exc}); the max_page_count test covers the fault")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True, timeout=10).returncode:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=10)


def _fill(path: Path, leave: int) -> None:
    """Fill the filesystem of `path`, then give back `leave` bytes."""
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    os.truncate(path, max(0, path.stat().st_size - leave))


def test_real_full_disk_keeps_the_store_consistent(tmp_path: Path, small_disk: Path, server: StreamServer) -> None:
    db = small_disk / "presswatch.db"
    pipe = pipeline(fault_profile({"f": server.url("/feed.xml")}), tmp_path, db)
    filler = small_disk / "filler"
    try:
        _collect(pipe)
        _fill(filler, leave=200 * 1024)  # room for a clipping or two, not for six
        full = CycleReport()
        pipe.process_queue(full)
        before = _check_after_full(db, full)
        filler.unlink()  # space is freed
        freed = CycleReport()
        pipe.process_queue(freed)
        _check_recovered(db, pipe, freed, before)
    finally:
        pipe.close()


def test_store_full_in_the_middle_of_a_batch(tmp_path: Path, server: StreamServer) -> None:
    db = tmp_path / "presswatch.db"
    pipe = pipeline(fault_profile({"f": server.url("/feed.xml")}), tmp_path, db)
    try:
        _collect(pipe)
        index = pipe.index
        conn: sqlite3.Connection = index._conn  # type: ignore[attr-defined]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 40}")  # ~160 KB more: two clippings, not six
        full = CycleReport()
        pipe.process_queue(full)
        before = _check_after_full(db, full)
        assert 0 < int(str(before["done"])) < PAGES  # it failed in the middle, not at the start
        assert {r["attempts"] for r in pipe.state.execute("SELECT attempts FROM queue WHERE state='queued'")} == {0}
        conn.execute("PRAGMA max_page_count = 1073741823")  # space is freed
        freed = CycleReport()
        pipe.process_queue(freed)
        _check_recovered(db, pipe, freed, before)
    finally:
        pipe.close()
