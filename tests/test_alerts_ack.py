"""`presswatch ack` on real parts: a profile file and a SQLite store in tmp_path, alerts sent to aiosmtpd on
127.0.0.1, the command run through `presswatch.cli.main` as a user types it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from presswatch.cli import main
from presswatch.digest.alerts import Alerter, short_id
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import load_profile
from presswatch.state import State
from tests.test_digest_support import MUNI, audit_story, text_part

REPO = Path(__file__).resolve().parents[1]
DAYTIME = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
NIGHT = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)


@pytest.fixture
def setup(tmp_path: Path, smtp: LoopbackSmtp,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, State, SqliteIndex]]:
    monkeypatch.delenv("PRESSWATCH_DB", raising=False)
    data: dict[str, Any] = yaml.safe_load((REPO / "config/demo.yaml").read_text(encoding="utf-8"))
    data["store"] = {"path": str(tmp_path / "presswatch.db"), "backend": "sqlite"}
    data["smtp"] = {"host": "127.0.0.1", "port": smtp.port, "sender": "presswatch@stara-horka.example"}
    data["alerts"]["clipping_url"] = "https://intranet.stara-horka.example/vystrizky/{id}"
    path = tmp_path / "stara-horka.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    state, index = State(tmp_path / "presswatch.db"), SqliteIndex(tmp_path / "presswatch.db")
    yield path, state, index
    index.close()
    state.close()


def _alert(setup: tuple[Path, State, SqliteIndex], at: datetime) -> tuple[Alerter, list[Any]]:
    path, state, index = setup
    story = audit_story()
    index.upsert(story)
    alerter = Alerter.from_profile(load_profile(path), state, index)
    alerter.route(story)
    alerter.deliver_pending(at)
    return alerter, story


def test_the_alert_shows_its_links_and_ack_id_and_ack_acknowledges_the_story(
        setup: tuple[Path, State, SqliteIndex], smtp: LoopbackSmtp, capsys: pytest.CaptureFixture[str]) -> None:
    path, state, index = setup
    _, story = _alert(setup, DAYTIME)
    (msg,) = smtp.messages
    text = text_part(msg)
    short = short_id(story[0].id)
    assert f"Odkaz: {story[0].article.url}" in text
    assert f"Výstrižok: https://intranet.stara-horka.example/vystrizky/{story[0].id}" in text
    assert f"Potvrdiť prevzatie: presswatch ack {short}" in text

    code = main(["--ui-lang", "sk", "ack", short, "--by", "jana", "--note", "voláme hovorcovi",
                 "--profile", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{story[0].id}: berieme na vedomie (jana, " in out and "Primátor Hrušovský zatajil výsledky auditu" in out
    clipping = index.get(story[0].id)
    assert clipping is not None and clipping.status == "acknowledged"
    (change,) = index.status_history(story[0].id)
    assert (change.status, change.by, change.note) == ("acknowledged", "jana", "voláme hovorcovi")
    (row,) = state.execute("SELECT acked_by, acked_at FROM alerts WHERE municipality=?", (MUNI,))
    assert row["acked_by"] == "jana" and row["acked_at"]

    # again (by the full clipping id): already acknowledged, nothing changes, not an error
    assert main(["--ui-lang", "en", "ack", story[0].id, "--by", "peter", "--profile", str(path)]) == 0
    assert "is already acknowledged: nothing changed" in capsys.readouterr().out
    assert len(index.status_history(story[0].id)) == 1


def test_ack_never_undoes_a_response_further_along(setup: tuple[Path, State, SqliteIndex],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path, _, index = setup
    _, story = _alert(setup, DAYTIME)
    index.set_status(story[0].id, "drafted", "jana")
    assert main(["--ui-lang", "cs", "ack", short_id(story[0].id), "--profile", str(path)]) == 0
    assert f"{story[0].id} je už ve stavu reakce připravena: nic se nezměnilo" in capsys.readouterr().out
    clipping = index.get(story[0].id)
    assert clipping is not None and clipping.status == "drafted"


def test_an_unknown_id_is_a_clear_localised_error(setup: tuple[Path, State, SqliteIndex],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path, _, _ = setup
    _alert(setup, DAYTIME)
    assert main(["--ui-lang", "mk", "ack", "deadbeef", "--profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Нема исечок или известување со id deadbeef" in err
    assert main(["--ui-lang", "sk", "ack", "zz", "--profile", str(path)]) == 2
    assert "Výstrižok ani upozornenie s id zz neexistuje" in capsys.readouterr().err


def test_ack_does_not_drop_an_alert_still_held(setup: tuple[Path, State, SqliteIndex], smtp: LoopbackSmtp,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path, state, _ = setup
    alerter, story = _alert(setup, NIGHT)  # held by the quiet hours
    assert smtp.messages == []
    assert main(["--ui-lang", "en", "ack", short_id(story[0].id), "--by", "jana", "--profile", str(path)]) == 0
    assert "Alerts for this story still to be sent: 1" in capsys.readouterr().out
    morning = alerter.deliver_pending(datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    assert morning.sent == 1 and morning.dropped == 0 and len(smtp.messages) == 1
    assert alerter.deliver_pending(datetime(2026, 11, 23, 5, 0, tzinfo=UTC) + timedelta(minutes=1)).sent == 0
    assert state.alert_counts(MUNI)["sent"] == 1
