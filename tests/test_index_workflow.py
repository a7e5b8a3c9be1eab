"""Saved searches and response status on the SQLite index (index/sqlite_workflow.py), against a real store file:
CRUD and validation, the profile sync, matching a batch of new clippings, status changes and their history."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from presswatch.index import QueryError
from presswatch.index.base import STATUSES, SavedSearch, StatusError
from presswatch.index.sqlite import SqliteIndex
from presswatch.index.sqlite_workflow import ProfileSync, sync_profile_searches
from presswatch.records import Article, Clipping, Enrichment, Flag, Reason, Sentiment

T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


# --- the index under test --------------------------------------------------------------------------------------
# Until the lead makes SqliteIndex inherit SqliteWorkflow (issue 5), `_Index` does that wiring and nothing else;
# afterwards the real class is used as is (and `_Index` can go).
open_index = SqliteIndex


# --- clippings built from the real records ---------------------------------------------------------------------
def make(cid: str, title: str, text: str, *, day: int = 0, municipality: str = "bratislava", lang: str = "sk",
         outlet: str = "sme", relevant: bool = True, critical: bool = False) -> Clipping:
    when = T0 + timedelta(days=day)
    flags = (Flag("critical", 0.8, (Reason("kritizovali", text[:30], "text", 0, 30),)),) if critical else ()
    return Clipping(
        article=Article(id=cid, url=f"https://news.example/{cid}", outlet=outlet, title=title, text=text,
                        published=when, lang=lang, fetched_at=when),
        enrichment=Enrichment(lang=lang, relevant=relevant, officials=(), bodies=(), mentions=(),
                              sentiment=Sentiment("negative" if critical else "neutral", -0.5 if critical else 0.0),
                              flags=flags),
        municipality=municipality)


OLD_BRIDGE = make("old-bridge", "Most na Dunaji", "Primátor Hrušovský sľúbil nový most už pred rokom.", day=-30)
BRIDGE = make("bridge", "Primátora Hrušovského kritizovali pre most",
              "Stavba mosta mešká. Mestské zastupiteľstvo rozhodne o pokute.", day=1, critical=True)
HOLIDAY = make("holiday", "Hrusovsky na dovolenke", "Bez diakritiky: primator odisiel na dovolenku, most pocka.",
               day=1, relevant=False, outlet="dennikn")
PARKING = make("parking", "Petícia za parkovanie", "Obyvatelia poslali primátorovi petíciu o parkovaní.", day=1,
               outlet="dennikn")
BRNO = make("brno-bridge", "Starosta Brna otevřel most", "Primátor Brna otevřel nový most přes řeku.", day=1,
            municipality="brno", lang="cs")


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteIndex]:
    idx = open_index(tmp_path / "store.db")
    yield idx
    idx.close()


def search(sid: str, query: str, *, municipality: str = "bratislava", alert: bool = True,
           origin: Any = "store", name: str | None = None) -> SavedSearch:
    return SavedSearch(id=sid, municipality=municipality, name=name or sid.title(), query=query, alert=alert,
                       origin=origin, created_by="analyst")


# --- saved searches: CRUD and validation -----------------------------------------------------------------------
def test_save_list_replace_delete(index: SqliteIndex, tmp_path: Path) -> None:
    stored = index.save_search(search("zz-last", "most"))
    assert stored.created_at is not None and stored.created_at.tzinfo is not None
    index.save_search(search("bridge", "most OR lávka"))
    index.save_search(search("bridge", "most", municipality="brno"))
    assert [s.id for s in index.saved_searches("bratislava")] == ["bridge", "zz-last"]  # by id
    assert [s.id for s in index.saved_searches("brno")] == ["bridge"]
    assert index.saved_searches("kaunas") == []

    # Replacing keeps the creation time, changes the rest.
    again = index.save_search(search("zz-last", "primátor -dovolenka", alert=False, name="Mayor"))
    assert again.created_at == stored.created_at
    (got,) = [s for s in index.saved_searches("bratislava") if s.id == "zz-last"]
    assert got == again
    assert (got.query, got.alert, got.name, got.origin, got.created_by) == (
        "primátor -dovolenka", False, "Mayor", "store", "analyst")

    assert index.delete_search("bratislava", "bridge") is True
    assert index.delete_search("bratislava", "bridge") is False
    assert [s.id for s in index.saved_searches("brno")] == ["bridge"]  # another municipality's is untouched

    index.close()
    with open_index(tmp_path / "store.db") as reopened:  # stored in the file, not in memory
        assert reopened.saved_searches("bratislava") == [got]


def test_explicit_created_at_is_kept_in_utc(index: SqliteIndex) -> None:
    when = datetime(2024, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    stored = index.save_search(replace(search("s", "most"), created_at=when))
    assert stored.created_at == when and stored.created_at.utcoffset() == timedelta(0)
    assert index.saved_searches("bratislava")[0].created_at == when


@pytest.mark.parametrize("sid", ["", "Bridge", "has space", "a/b", "mesto.most", "most!", "ľavý"])
def test_bad_search_ids_are_refused(index: SqliteIndex, sid: str) -> None:
    with pytest.raises(ValueError, match="lower-case letters, digits"):
        index.save_search(search(sid, "most"))
    assert index.saved_searches("bratislava") == []


@pytest.mark.parametrize("query", ['"unclosed phrase', "(most", "most OR", "most OR -lávka", "   "])
def test_bad_queries_raise_query_error_and_store_nothing(index: SqliteIndex, query: str) -> None:
    index.save_search(search("keep", "most"))
    with pytest.raises(QueryError):
        index.save_search(search("keep", query))
    with pytest.raises(QueryError):
        index.save_search(search("new", query))
    assert [(s.id, s.query) for s in index.saved_searches("bratislava")] == [("keep", "most")]


def test_unknown_origin_is_refused(index: SqliteIndex) -> None:
    with pytest.raises(ValueError, match="origin 'yaml'"):
        index.save_search(search("s", "most", origin="yaml"))


# --- the profile's saved searches ------------------------------------------------------------------------------
def test_profile_sync_never_touches_store_searches(index: SqliteIndex) -> None:
    own = index.save_search(search("parking", "parkovanie"))
    own_brno = index.save_search(search("old", "most", municipality="brno", origin="profile"))

    first = sync_profile_searches(index, "bratislava", [search("bridge", "most"), search("mayor", "primátor")])
    assert first == ProfileSync(added=("bridge", "mayor"))
    by_id = {s.id: s for s in index.saved_searches("bratislava")}
    assert sorted(by_id) == ["bridge", "mayor", "parking"]
    assert by_id["bridge"].origin == by_id["mayor"].origin == "profile"
    assert by_id["parking"] == own

    # Unchanged entries are left alone (same creation time); a changed one is rewritten; a dropped one goes.
    second = sync_profile_searches(index, "bratislava", [search("mayor", "primátor -dovolenka")])
    assert second == ProfileSync(updated=("mayor",), removed=("bridge",))
    by_id2 = {s.id: s for s in index.saved_searches("bratislava")}
    assert sorted(by_id2) == ["mayor", "parking"]
    assert by_id2["mayor"].query == "primátor -dovolenka"
    assert by_id2["mayor"].created_at == by_id["mayor"].created_at
    assert sync_profile_searches(index, "bratislava", [search("mayor", "primátor -dovolenka")]) == ProfileSync()

    # The press office's own search wins over a profile entry with its id, and an empty profile keeps it.
    third = sync_profile_searches(index, "bratislava", [search("parking", "auto", origin="profile")])
    assert third == ProfileSync(removed=("mayor",), conflicts=("parking",))
    assert index.saved_searches("bratislava") == [own]
    assert sync_profile_searches(index, "bratislava", []) == ProfileSync()
    assert index.saved_searches("bratislava") == [own]
    assert index.saved_searches("brno") == [own_brno]  # other municipalities are never looked at


def test_profile_sync_validates_everything_before_changing_anything(index: SqliteIndex) -> None:
    sync_profile_searches(index, "bratislava", [search("bridge", "most")])
    before = index.saved_searches("bratislava")
    with pytest.raises(QueryError):
        sync_profile_searches(index, "bratislava", [search("mayor", "primátor"), search("broken", "(most")])
    with pytest.raises(ValueError, match="twice"):
        sync_profile_searches(index, "bratislava", [search("mayor", "primátor"), search("mayor", "most")])
    assert index.saved_searches("bratislava") == before


# --- matching a batch ------------------------------------------------------------------------------------------
def test_match_saved_words_inflection_exclusion_and_batch_only(index: SqliteIndex) -> None:
    index.upsert([OLD_BRIDGE])  # an earlier cycle
    for s in (search("bridge", "most"),  # "mosta" by stem, "most" in the diacritics-free text
              search("mayor", "primátor -dovolenka"),  # "Primátora", "primator", "primátorovi"; not the holiday one
              search("hrusovsky", "Hrusovsky"),  # without diacritics finds Hrušovského
              search("phrase", '"poslali primátorovi"'),
              search("either", "pokuta OR petícia"),
              search("muted", "most", alert=False),  # not alerting: never reported
              search("brno-only", "řeku", municipality="bratislava")):  # matches only a clipping of another town
        index.save_search(s)
    index.save_search(search("brno", "most", municipality="brno"))
    batch = [BRIDGE, HOLIDAY, PARKING, BRNO]
    index.upsert(batch)

    got = index.match_saved(batch)
    assert got == {
        "bridge": ("bridge", "either", "hrusovsky", "mayor"),
        "holiday": ("bridge", "hrusovsky"),  # not relevant, still matched: saved searches see everything
        "parking": ("either", "mayor", "phrase"),
        "brno-bridge": ("brno",),  # only its own municipality's searches
    }
    assert list(got) == ["bridge", "holiday", "parking", "brno-bridge"]  # batch order
    assert "old-bridge" not in got  # matches "bridge", but was not in this batch

    assert index.match_saved([PARKING]) == {"parking": ("either", "mayor", "phrase")}
    assert index.match_saved([]) == {}
    assert index.match_saved([make("never-indexed", "most", "most")]) == {}


def test_match_saved_with_no_searches_or_no_matches(index: SqliteIndex) -> None:
    index.upsert([BRIDGE])
    assert index.match_saved([BRIDGE]) == {}
    index.save_search(search("nothing", "futbal"))
    assert index.match_saved([BRIDGE]) == {}


def test_stale_saved_search_is_skipped_with_a_warning(index: SqliteIndex, caplog: pytest.LogCaptureFixture) -> None:
    index.save_search(search("bridge", "most"))
    index.save_search(search("stale", "primátor"))
    # A query stored under an older grammar that the current one refuses.
    index._conn.execute("UPDATE clip_saved SET query = '(primátor' WHERE id = 'stale'")
    index.upsert([BRIDGE])
    with caplog.at_level(logging.WARNING, logger="presswatch.index.sqlite_workflow"):
        assert index.match_saved([BRIDGE]) == {"bridge": ("bridge",)}
    (record,) = [r for r in caplog.records if "stale" in r.getMessage()]
    assert record.levelno == logging.WARNING and "bratislava" in record.getMessage()


def test_match_saved_with_field_filters(index: SqliteIndex) -> None:
    index.save_search(search("critical-bridge", "most flag:critical"))
    index.save_search(search("dennikn", "outlet:dennikn"))
    index.save_search(search("not-dennikn", "primátor -outlet:dennikn"))
    batch = [BRIDGE, HOLIDAY, PARKING]
    index.upsert(batch)
    assert index.match_saved(batch) == {
        "bridge": ("critical-bridge", "not-dennikn"),
        "holiday": ("dennikn",),
        "parking": ("dennikn",),
    }
    # A status filter sees the current status: once handled, a clipping stops matching "status:new".
    index.save_search(search("unhandled", "status:new most"))
    assert index.match_saved([BRIDGE])["bridge"] == ("critical-bridge", "not-dennikn", "unhandled")
    index.set_status("bridge", "acknowledged", "jana")
    assert index.match_saved([BRIDGE])["bridge"] == ("critical-bridge", "not-dennikn")


# --- response status -------------------------------------------------------------------------------------------
def _status_column(index: SqliteIndex, cid: str) -> str:
    return str(index._conn.execute("SELECT status FROM clip_clippings WHERE id = ?", (cid,)).fetchone()[0])


def test_status_changes_and_history(index: SqliteIndex) -> None:
    index.upsert([BRIDGE, PARKING])
    assert index.status_history("bridge") == []
    assert _status_column(index, "bridge") == "new"

    t1 = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
    first = index.set_status("bridge", "acknowledged", "jana", at=t1)
    assert (first.clipping_id, first.status, first.by, first.at, first.note) == (
        "bridge", "acknowledged", "jana", t1, None)
    # Back-dated and out of order on purpose: history keeps the order the changes were made in.
    index.set_status("bridge", "drafted", "peter", note="reply sent to legal", at=t1 - timedelta(hours=1))
    now = index.set_status("bridge", "published", "jana")
    assert now.at.tzinfo is not None and abs(now.at - datetime.now(UTC)) < timedelta(minutes=1)

    history = index.status_history("bridge")
    assert [(h.status, h.by, h.note) for h in history] == [
        ("acknowledged", "jana", None), ("drafted", "peter", "reply sent to legal"), ("published", "jana", None)]
    assert history[0] == first and history[-1] == now
    assert _status_column(index, "bridge") == "published"
    assert _status_column(index, "parking") == "new" and index.status_history("parking") == []
    got = index.get("bridge")
    assert got is not None and got.status == "published"  # `get` returns the current status


def test_status_at_is_stored_in_utc(index: SqliteIndex) -> None:
    index.upsert([BRIDGE])
    local = datetime(2024, 5, 2, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    change = index.set_status("bridge", "dismissed", "jana", at=local)
    assert change.at == local and change.at.utcoffset() == timedelta(0)
    assert index.status_history("bridge")[0].at == local


def test_status_errors_name_the_problem_and_change_nothing(index: SqliteIndex) -> None:
    index.upsert([BRIDGE])
    with pytest.raises(StatusError) as bad_status:
        index.set_status("bridge", "answered", "jana")
    message = str(bad_status.value)
    assert "'answered'" in message and all(s in message for s in STATUSES)
    with pytest.raises(StatusError, match="no clipping 'missing'"):
        index.set_status("missing", "acknowledged", "jana")
    with pytest.raises(ValueError):  # StatusError is a ValueError for callers that catch those
        index.set_status("bridge", "NEW", "jana")
    assert index.status_history("bridge") == [] and index.status_history("missing") == []
    assert _status_column(index, "bridge") == "new"


def test_status_survives_reupsert(index: SqliteIndex, tmp_path: Path) -> None:
    index.upsert([BRIDGE])
    index.set_status("bridge", "acknowledged", "jana", note="seen")
    index.upsert([replace(BRIDGE, article=replace(BRIDGE.article, title="Most: oprava titulku"))])
    assert _status_column(index, "bridge") == "acknowledged"
    got = index.get("bridge")
    assert got is not None and got.status == "acknowledged" and got.article.title == "Most: oprava titulku"
    assert [h.status for h in index.status_history("bridge")] == ["acknowledged"]
    index.close()
    with open_index(tmp_path / "store.db") as reopened:
        assert [h.note for h in reopened.status_history("bridge")] == ["seen"]
