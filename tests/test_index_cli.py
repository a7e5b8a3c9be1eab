"""`presswatch search` (filters, collapse, facets, CSV/JSON export), `presswatch saved` and `presswatch respond`,
run through the CLI's `main()` on a real SQLite store of 25 clippings, in English and Slovak."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from presswatch.cli import main
from presswatch.index import export as export_module
from presswatch.index.base import SavedSearch
from presswatch.index.export import FIELDS
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import ProfileError, parse_profile
from presswatch.records import Clipping
from tests.test_digest_support import IN_WINDOW, MUNI, audit_story, budget_claim, clip, park_xss

OUTLETS = ("horcan", "pohronie", "hronske", "spravy24", "herald")
TONES = ("neutral", "negative", "positive")


def clippings() -> list[Clipping]:
    """25 relevant clippings: a critical story with two copies, a misleading claim, a park, a formula-looking
    headline and 19 reports on the bridge spread over outlets, tones and ten days."""
    bridge = [clip(f"most-{i}", f"Nový most cez Hron, časť {i}", outlet=OUTLETS[i % 5], sentiment=TONES[i % 3],
                   published=IN_WINDOW - timedelta(days=i % 10, hours=i), officials=["deputy_mayor"] if i < 4 else ())
              for i in range(19)]
    formula = clip("vzorec", "=HYPERLINK(\"http://zle.example\"; \"Klikni\") Hôrka v číslach", outlet="hronske",
                   published=IN_WINDOW - timedelta(days=2))
    return audit_story() + [budget_claim(), park_xss(), formula] + bridge


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(path))
    monkeypatch.delenv("PRESSWATCH_LANG", raising=False)
    with SqliteIndex(path) as index:
        assert index.upsert(clippings()) == 25
    yield path


def run(capsys: pytest.CaptureFixture[str], *argv: str, lang: str = "en") -> tuple[int, str, str]:
    code = main(["--ui-lang", lang, *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- export ------------------------------------------------------------------------------------------------
def test_csv_export_has_every_hit_not_one_page(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "PAGE_SIZE", 7)  # 25 hits over four pages
    out = tmp_path / "report.csv"
    code, _, err = run(capsys, "search", "--limit", "5", "--export", "csv", "--out", str(out))
    assert code == 0 and "25" in err and str(out) in err

    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM, so that Excel reads UTF-8
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == FIELDS
    records = [dict(zip(FIELDS, r, strict=True)) for r in rows[1:]]
    assert len(records) == 25 and len({r["id"] for r in records}) == 25

    audit = audit_story()
    by_id = {r["id"]: r for r in records}
    original = by_id[audit[0].id]
    assert original["title"] == "Primátor Hrušovský zatajil výsledky auditu"  # diacritics intact
    assert (original["outlet"], original["critical"], original["misleading"], original["sentiment"]) == \
        ("spravy24", "true", "false", "negative")
    assert original["officials"] == "mayor" and original["bodies"] == "tech_services"
    assert original["severity"] == "0.8" and original["status"] == "new" and original["lang"] == "sk"
    assert original["published"] == "2026-11-21T19:00:00+01:00"  # the profile's zone, with its offset
    assert by_id[audit[2].id]["cluster"] == audit[0].id  # a copy names its story
    formula = next(r for r in records if "HYPERLINK" in r["title"])
    assert formula["title"].startswith("'=HYPERLINK")  # never run as a formula by a spreadsheet
    assert not any(r["title"].startswith(("=", "+", "@")) for r in records)


def test_json_export_of_a_query_with_collapse(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "critical.json"
    assert run(capsys, "search", "flag:critical", "--export", "json", "--out", str(out))[0] == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["query"] == "flag:critical" and data["count"] == 3 and len(data["clippings"]) == 3
    assert data["fields"] == list(FIELDS)
    first = data["clippings"][0]
    assert set(FIELDS) <= set(first) and first["critical"] is True and isinstance(first["officials"], list)

    assert run(capsys, "search", "flag:critical", "--collapse", "--export", "json", "--out", str(out))[0] == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["count"] == 1
    story = data["clippings"][0]
    assert len(story["copies"]) == 2 and story["cluster"] == audit_story()[0].id

    assert run(capsys, "search", "most", "--outlet", "herald", "--export", "json", "--out", str(out))[0] == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["count"] == 3 and {c["outlet"] for c in data["clippings"]} == {"herald"}


def test_export_needs_a_file(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "search", "--export", "csv")
    assert code == 2 and "--out" in err and not out


# --- search output -----------------------------------------------------------------------------------------
def test_collapse_shows_one_hit_per_story_with_its_copies(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "audit", "--collapse")
    assert code == 0
    assert "1 story" in out and out.count("http://") == 1
    assert "also in 2 more clipping(s)" in out
    assert all(name in out for name in ("Hôrčan", "Pohronie dnes", "Správy24"))
    code, out, _ = run(capsys, "search", "audit")
    assert "3 clipping(s)" in out and "also in" not in out


def test_filters_by_sentiment_and_outlet(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "--sentiment", "positive", "--outlet", "pohronie", "--json")
    hits = json.loads(out)["hits"]
    assert code == 0 and hits
    assert all(h["clipping"]["outlet"] == "pohronie" for h in hits)
    assert all(h["clipping"]["sentiment"]["label"] == "positive" for h in hits)


def test_facets_in_english_and_slovak(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "--facets")
    assert code == 0
    assert "Counts over 25 matching clipping(s)" in out
    for heading in ("By outlet", "By official", "By language", "By sentiment", "By flag", "By response status",
                    "Per day"):
        assert heading in out
    assert "Správy24" in out and "Marián Hrušovský" in out and "Eva Kováčiková" in out  # names, not ids
    assert "critical" in out and "misleading" in out and "2026-11-21" in out
    assert "zatajil" not in out  # counts, not hits

    code, out, _ = run(capsys, "search", "--facets", lang="sk")
    assert code == 0
    for heading in ("Podľa média", "Podľa predstaviteľa", "Podľa vyznenia", "Po dňoch"):
        assert heading in out
    assert "kritický" in out and "nový" in out and "By outlet" not in out

    code, out, _ = run(capsys, "search", "--facets", "--json", "flag:critical")
    data = json.loads(out)
    assert data["total"] == 3
    assert {b["key"]: b["count"] for b in data["facets"]["outlet"]} == {"spravy24": 1, "horcan": 1, "pohronie": 1}


def test_a_bad_query_points_at_the_problem(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "search", "outet:pohronie")
    assert code == 2 and "^" in err


# --- saved searches ----------------------------------------------------------------------------------------
def test_saved_add_list_rm(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "saved", "list")
    assert code == 0 and "No saved searches." in out

    code, out, _ = run(capsys, "saved", "add", "most", "--name", "Nový most", "--query", "most -outlet:herald",
                       "--by", "jana")
    assert code == 0 and "Saved search most added: Nový most" in out
    code, out, _ = run(capsys, "saved", "add", "audit", "--name", "Audit", "--query", "audit flag:critical",
                       "--no-alert")
    assert code == 0
    code, out, _ = run(capsys, "saved", "list")
    assert "most  Nový most  [alerts, press office]  most -outlet:herald" in out
    assert "audit  Audit  [no alerts, press office]" in out

    with SqliteIndex(db) as index:
        searches = {s.id: s for s in index.saved_searches(MUNI)}
        assert searches["most"].created_by == "jana" and searches["most"].alert
        assert not searches["audit"].alert

    code, out, _ = run(capsys, "saved", "add", "most", "--name", "Most", "--query", "most", lang="sk")
    assert code == 0 and "Uložené vyhľadávanie most nahradené: Most" in out

    code, _, err = run(capsys, "saved", "add", "zle", "--name", "Zlé", "--query", "(most")
    assert code == 2 and "^" in err
    code, _, err = run(capsys, "saved", "add", "Zlé ID", "--name", "x", "--query", "most")
    assert code == 2 and "Zlé ID" in err

    code, out, _ = run(capsys, "saved", "rm", "audit")
    assert code == 0 and "Saved search audit removed" in out
    code, _, err = run(capsys, "saved", "rm", "audit", lang="sk")
    assert code == 1 and "Uložené vyhľadávanie audit neexistuje" in err


def test_profile_searches_are_changed_in_the_profile_only(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SqliteIndex(db) as index:
        index.save_search(SavedSearch(id="rozpocet", municipality=MUNI, name="Rozpočet", query="rozpočet",
                                      origin="profile", created_by="profile"))
    code, out, _ = run(capsys, "saved", "list")
    assert "[alerts, from the profile]" in out
    for argv in (("saved", "rm", "rozpocet"), ("saved", "add", "rozpocet", "--name", "x", "--query", "x")):
        code, _, err = run(capsys, *argv)
        assert code == 1 and "comes from the profile" in err
    with SqliteIndex(db) as index:
        assert [s.id for s in index.saved_searches(MUNI)] == ["rozpocet"]


def test_profile_refuses_a_bad_saved_search_naming_the_line() -> None:
    text = """municipality: {id: x, name: X, country: SK, languages: [sk], timezone: Europe/Bratislava}
saved_searches:
  - {id: most, name: Most, query: most}
  - id: zly
    name: Zlý
    query: 'outet:pohronie'
"""
    with pytest.raises(ProfileError) as exc:
        parse_profile(text, "town.yaml")
    assert "town.yaml:6: saved_searches[1].query" in str(exc.value) and "outet" in str(exc.value)
    with pytest.raises(ProfileError, match="empty search"):
        parse_profile(text.replace("'outet:pohronie'", "'  '"), "town.yaml")
    with pytest.raises(ProfileError, match="twice"):
        parse_profile(text.replace("id: zly", "id: most").replace("'outet:pohronie'", "x"), "town.yaml")
    profile = parse_profile(text.replace("'outet:pohronie'", "'rozpočet -outlet:herald'"), "town.yaml")
    assert [(s.id, s.alert) for s in profile.saved_searches] == [("most", True), ("zly", True)]


# --- response status ---------------------------------------------------------------------------------------
def test_respond_records_status_with_history(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audit_id = audit_story()[0].id
    code, out, _ = run(capsys, "respond", audit_id, "--history")
    assert code == 0 and "still new" in out

    code, out, _ = run(capsys, "respond", audit_id, "--status", "acknowledged", "--by", "jana")
    assert code == 0 and f"{audit_id}: acknowledged (by jana)" in out
    code, out, _ = run(capsys, "respond", audit_id, "--status", "drafted", "--by", "peter", "--note",
                       "vyjadrenie hovorkyne", lang="sk")
    assert code == 0 and f"{audit_id}: reakcia pripravená (zmenil(a) peter)" in out

    code, out, _ = run(capsys, "respond", audit_id, "--history")
    lines = [line for line in out.splitlines() if "  by " in line]
    assert len(lines) == 2
    assert "acknowledged  by jana" in lines[0]
    assert "response drafted  by peter  (vyjadrenie hovorkyne)" in lines[1]

    code, out, _ = run(capsys, "search", "--status", "drafted", "--json")
    hits = json.loads(out)["hits"]
    assert [(h["clipping"]["id"], h["status"]) for h in hits] == [(audit_id, "drafted")]
    code, out, _ = run(capsys, "search", "audit")
    assert "Response: response drafted" in out

    code, _, err = run(capsys, "respond", "nonexistent", "--status", "dismissed", lang="sk")
    assert code == 1 and "Výstrižok s id nonexistent v úložisku nie je" in err
    code, _, err = run(capsys, "respond", audit_id)
    assert code == 2 and "--status" in err
    with pytest.raises(SystemExit):  # argparse refuses an unknown status before anything is stored
        main(["respond", audit_id, "--status", "ignored"])
