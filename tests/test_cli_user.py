"""`presswatch user add|list|passwd|role|disable` on a real store file (PRESSWATCH_DB in tmp_path): once as a real
subprocess reading the password from stdin as a script would, the rest through the CLI's `main()`."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presswatch import settings
from presswatch.cli import main
from presswatch.messages import Messages
from presswatch.web.accounts import Accounts, LoginFailed

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "správne heslo 42"
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(path))
    monkeypatch.setenv("USER", "operator")
    monkeypatch.delenv("PRESSWATCH_LANG", raising=False)
    monkeypatch.setattr(settings, "SCRYPT_N", 2**10)
    return path


@pytest.fixture
def accounts(db: Path) -> Iterator[Accounts]:
    with Accounts(db) as acc:
        yield acc


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "",
        lang: str = "en") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a terminal, as in a script or a pipe
    code = main(["--ui-lang", lang, "user", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_from_a_script_in_a_real_process(db: Path) -> None:
    env = dict(os.environ, PRESSWATCH_DB=str(db), USER="operator")
    proc = subprocess.run([sys.executable, "-m", "presswatch.cli", "--ui-lang", "en", "user", "add", "Jana",
                           "--role", "press", "--lang", "sk", "--password-stdin", "--profile", "demo"],
                          input=PASSWORD + "\n", capture_output=True, text=True, timeout=60, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "jana" in proc.stdout and "press" in proc.stdout
    assert PASSWORD not in proc.stdout + proc.stderr
    with Accounts(db) as accounts:
        user = accounts.authenticate("jana", PASSWORD, "127.0.0.1", now=NOW)  # the newline is not part of it
        assert (user.role, user.lang) == ("press", "sk")
        entry = accounts.audit_log(action="user_add")[0]
        assert (entry.user, entry.target, entry.client) == ("cli:operator", "jana", "cli")


def test_list_shows_name_role_language_and_state(db: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "list")
    assert code == 0 and "presswatch user add" in out
    assert run(capsys, monkeypatch, "add", "jana", "--role", "press", "--password-stdin", stdin=PASSWORD)[0] == 0
    assert run(capsys, monkeypatch, "add", "peter", "--role", "viewer", "--lang", "mk", "--password-stdin",
               stdin=PASSWORD)[0] == 0
    assert run(capsys, monkeypatch, "disable", "PETER")[0] == 0
    code, out, _ = run(capsys, monkeypatch, "list", lang="sk")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].split() == ["jana", "press", "(profil)", "aktívny"]
    assert lines[1].split() == ["peter", "viewer", "mk", "deaktivovaný"]


def test_passwd_role_and_disable_change_the_account_and_are_audited(db: Path, accounts: Accounts,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    user = accounts.add_user("jana", PASSWORD, "analyst")
    token, _ = accounts.open_session(user)
    code, out, _ = run(capsys, monkeypatch, "passwd", "Jana", "--password-stdin", stdin="nové dlhé heslo\n")
    assert code == 0 and "jana" in out
    assert accounts.session(token) is None  # the browser session ended with the change
    with pytest.raises(LoginFailed):
        accounts.authenticate("jana", PASSWORD, "c", now=NOW)
    assert accounts.authenticate("jana", "nové dlhé heslo", "c", now=NOW).name == "jana"

    code, out, _ = run(capsys, monkeypatch, "role", "jana", "admin", lang="tr")
    assert code == 0 and out.strip() == Messages("tr")("user_role_changed", name="jana", role="admin")
    admin = accounts.user("jana")
    assert admin is not None and admin.role == "admin"

    token, _ = accounts.open_session(admin)
    assert run(capsys, monkeypatch, "disable", "jana")[0] == 0
    assert accounts.session(token) is None
    with pytest.raises(LoginFailed):
        accounts.authenticate("jana", "nové dlhé heslo", "c", now=NOW)
    trail = [(e.user, e.action, e.target, e.detail) for e in accounts.audit_log(user="cli:operator")]
    assert trail == [("cli:operator", "user_disable", "jana", None),
                     ("cli:operator", "user_role", "jana", "analyst -> admin"),
                     ("cli:operator", "user_passwd", "jana", None)]


@pytest.mark.parametrize("argv", [("passwd", "nikto", "--password-stdin"), ("role", "nikto", "press"),
                                  ("disable", "nikto")])
def test_an_unknown_account_is_exit_code_1(db: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]) -> None:
    code, out, err = run(capsys, monkeypatch, *argv, stdin=PASSWORD, lang="cs")
    assert code == 1 and out == ""
    assert err.strip() == Messages("cs")("user_unknown", name="nikto")


@pytest.mark.parametrize("lang", ["sk", "cs", "lt", "tr", "mk", "en"])
def test_bad_input_is_exit_code_2_with_a_localised_reason(db: Path, accounts: Accounts, lang: str,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    say = Messages(lang)
    code, _, err = run(capsys, monkeypatch, "add", "jana", "--role", "press", "--password-stdin", stdin="krátke",
                       lang=lang)
    assert code == 2 and err.strip() == say("user_password_short", n=settings.PASSWORD_MIN_CHARS)
    code, _, err = run(capsys, monkeypatch, "add", "jana novák", "--role", "press", "--password-stdin",
                       stdin=PASSWORD, lang=lang)
    assert code == 2 and err.strip() == say("user_bad_name", name="jana novák")
    code, _, err = run(capsys, monkeypatch, "add", "jana", "--role", "press", lang=lang)  # stdin is no terminal
    assert code == 2 and err.strip() == say("user_password_no_tty")
    assert accounts.users() == []
    accounts.add_user("jana", PASSWORD, "press")
    code, _, err = run(capsys, monkeypatch, "add", "JANA", "--role", "viewer", "--password-stdin", stdin=PASSWORD,
                       lang=lang)
    assert code == 2 and err.strip() == say("user_name_taken", name="jana")
    if lang != "en":
        assert say("user_password_short", n=10) != Messages("en")("user_password_short", n=10)


def test_an_unknown_role_is_refused_by_the_parser(db: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as exc:
        run(capsys, monkeypatch, "add", "jana", "--role", "editor", "--password-stdin", stdin=PASSWORD)
    assert exc.value.code == 2


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_password_is_asked_twice(db: Path, accounts: Accounts, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    typed: list[str] = []
    prompts: list[str] = []

    def ask(prompt: str = "") -> str:  # stands in for the person at the keyboard, not for the code under test
        prompts.append(prompt)
        return typed.pop(0)

    monkeypatch.setattr(getpass, "getpass", ask)
    monkeypatch.setattr(sys, "stdin", Terminal())
    typed[:] = [PASSWORD, PASSWORD + "x"]
    assert main(["--ui-lang", "lt", "user", "add", "jana", "--role", "press"]) == 2
    assert capsys.readouterr().err.strip() == Messages("lt")("user_password_mismatch")
    assert accounts.user("jana") is None
    typed[:] = [PASSWORD, PASSWORD]
    assert main(["--ui-lang", "lt", "user", "add", "jana", "--role", "press"]) == 0
    assert prompts[-2:] == [Messages("lt")("user_password_prompt", name="jana"), Messages("lt")("user_password_again")]
    assert accounts.authenticate("jana", PASSWORD, "c", now=NOW).name == "jana"
