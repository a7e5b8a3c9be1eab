"""End to end: the README's first command (`make demo`), run as written, twice, then `status` and `search` on the
store it left. Real parts throughout: the local newsroom on loopback, the Scrapy subprocess, the SQLite file,
the loopback SMTP server."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_docs import readme_commands

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "DEMO_OUT": str(tmp / "out"), "PRESSWATCH_DB": str(tmp / "presswatch.db"),
           "PRESSWATCH_LANG": "en"}
    command = readme_commands()[0].split()
    runs = []
    statuses = []
    mail_counts = []
    for _ in range(2):
        runs.append(subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600))
        statuses.append(json.loads(cli(env, "status", "--json")))
        mail_counts.append(len(list((tmp / "out" / "mail").glob("*.eml"))))
    return {"tmp": tmp, "env": env, "runs": runs, "status": statuses, "mail": mail_counts}


def cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "presswatch.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_demo_exits_zero_and_says_where_everything_went(demo: dict[str, Any]) -> None:
    first = demo["runs"][0]
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    for needle in ("Local newsroom: http://127.0.0.1:", "Clippings indexed:", "Alerts:", "Morning briefing (sk)",
                   "Morning briefing (en)", "Store:"):
        assert needle in out, f"{needle!r} missing from the demo's output:\n{out}"
    files = {p.suffix for p in (demo["tmp"] / "out").glob("briefing-*")}
    assert {".html", ".txt", ".eml"} <= files


def test_demo_fills_the_store(demo: dict[str, Any]) -> None:
    status = demo["status"][0]
    assert status["clippings"]["total"] >= 60
    assert 20 <= status["clippings"]["relevant"] < status["clippings"]["total"]
    assert status["clippings"]["critical"] >= 3
    assert status["clusters"] < status["clippings"]["total"]  # the syndicated copy joined its story
    assert status["alerts"]["sent"] >= 2
    assert status["briefings"]["sent"] >= 1
    assert status["queue"]["queued"] == 0
    health = {s["id"]: s for s in status["sources"]}
    assert health["horcan-rss"]["last_success"] and not health["horcan-rss"]["consecutive_failures"]
    assert health["pohronie-sport"]["last_error"], "the broken feed's problem must be recorded in its health"
    assert health["hronske-site"]["last_success"], "the Scrapy crawl must report into source health"


def test_second_run_duplicates_nothing(demo: dict[str, Any]) -> None:
    second = demo["runs"][1]
    assert second.returncode == 0, second.stdout + second.stderr
    first, again = demo["status"]
    assert again["clippings"]["total"] == first["clippings"]["total"]
    assert again["clusters"] == first["clusters"]
    assert again["alerts"] == first["alerts"]
    assert again["briefings"]["sent"] == first["briefings"]["sent"]
    assert demo["mail"][1] == demo["mail"][0], "no alert or briefing may be mailed twice"


def test_alert_and_briefing_mail_parse_back(demo: dict[str, Any]) -> None:
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in sorted((demo["tmp"] / "out" / "mail").glob("*.eml"))]
    assert messages
    for msg in messages:
        assert msg.get_body(("plain",)) is not None
    assert any(msg.get_body(("html",)) is not None for msg in messages)


def test_search_finds_inflected_and_undiacritic_forms(demo: dict[str, Any]) -> None:
    env = demo["env"]
    hits = json.loads(cli(env, "search", "primátor", "--json", "--limit", "50"))["hits"]
    texts = " ".join(h["clipping"]["title"] + " " + h["clipping"]["text"] for h in hits)
    assert "primátora" in texts or "primátorovi" in texts
    hits = json.loads(cli(env, "search", "Hrusovsky", "--json", "--limit", "50"))["hits"]
    assert any("Hrušovsk" in h["clipping"]["text"] for h in hits)
    critical = json.loads(cli(env, "search", "--critical", "--json"))["hits"]
    assert critical and all(h["clipping"]["critical"] for h in critical)
    assert "Stará Hôrka" in cli(env, "status") or "Stará Hôrka" in cli(env, "--ui-lang", "sk", "status")


def test_digest_preview_writes_files_and_sends_nothing(demo: dict[str, Any]) -> None:
    out = demo["tmp"] / "preview"
    before = json.loads(cli(demo["env"], "status", "--json"))["briefings"]
    cli(demo["env"], "digest", "preview", "--out", str(out))
    assert {p.suffix for p in out.iterdir()} == {".html", ".txt", ".eml"}
    assert json.loads(cli(demo["env"], "status", "--json"))["briefings"] == before


def test_bad_input_gets_a_clear_error(demo: dict[str, Any], tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "presswatch.cli", "search", 'a"b OR ('], env=demo["env"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and "quote" in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "town.yaml"
    bad.write_text((REPO / "config/demo.yaml").read_text(encoding="utf-8").replace("timezone:", "timzone:"))
    proc = subprocess.run([sys.executable, "-m", "presswatch.cli", "status", "--profile", str(bad)],
                          env=demo["env"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 2 and f"{bad}:" in proc.stderr and "municipality.timzone" in proc.stderr
    assert "Traceback" not in proc.stderr
