"""Accounts of the browser workspace (web/accounts.py) on a real store file: password hashes, logins, sessions,
throttling, roles and the audit trail. scrypt runs with n=2**10 here for speed, except in the one test that uses
the real parameters."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch import settings
from presswatch.state import State
from presswatch.web.accounts import (
    PERMISSIONS,
    ROLES,
    AccountError,
    Accounts,
    LoginFailed,
    LoginThrottled,
    can,
    verify_password,
)

REAL_N, REAL_R, REAL_P = settings.SCRYPT_N, settings.SCRYPT_R, settings.SCRYPT_P
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PASSWORD = "správne heslo 42"  # diacritics on purpose


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SCRYPT_N", 2**10)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "presswatch.db"


@pytest.fixture
def accounts(db: Path) -> Iterator[Accounts]:
    with Accounts(db) as acc:
        yield acc


def stored_hash(db: Path, name: str) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("SELECT password FROM web_users WHERE name = ?", (name,)).fetchone()[0])


# --- passwords ---------------------------------------------------------------------------------------------
def test_hash_names_its_parameters_and_verifies_with_the_real_ones(accounts: Accounts, db: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "SCRYPT_N", REAL_N)  # 2**15, r=8: needs maxmem above OpenSSL's 32 MB default
    accounts.add_user("jana", PASSWORD, "press")
    stored = stored_hash(db, "jana")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", REAL_N, REAL_R, REAL_P)
    assert len(salt) >= 21 and len(digest) >= 42  # 16 and 32 bytes in base64
    assert PASSWORD not in stored
    assert verify_password(PASSWORD, stored) and not verify_password(PASSWORD + "!", stored)
    assert accounts.authenticate("jana", PASSWORD, "10.0.0.1", now=T0).role == "press"
    # a second account with the same password gets another salt, so another hash
    accounts.add_user("peter", PASSWORD, "viewer")
    assert stored_hash(db, "peter") != stored


def test_the_same_password_typed_composed_or_decomposed_is_one_password(accounts: Accounts) -> None:
    accounts.add_user("jana", "Šťastný nový rok", "analyst")  # NFC
    decomposed = "S\u030ct\u030castny\u0301 novy\u0301 rok"  # the same text as base letters + combining marks
    assert accounts.authenticate("jana", decomposed, "c", now=T0).name == "jana"


def test_wrong_password_and_unknown_name_fail_the_same_way(accounts: Accounts) -> None:
    accounts.add_user("jana", PASSWORD, "press")
    with pytest.raises(LoginFailed) as wrong:
        accounts.authenticate("jana", "nesprávne heslo", "10.0.0.1", now=T0)
    with pytest.raises(LoginFailed) as unknown:
        accounts.authenticate("nikto", PASSWORD, "10.0.0.1", now=T0)
    assert str(wrong.value) == str(unknown.value)
    # the audit trail (for admins) does say which
    failed = accounts.audit_log(action="login_failed")
    assert [(e.user, e.detail, e.client) for e in failed] == [("nikto", "unknown name", "10.0.0.1"),
                                                              ("jana", "wrong password", "10.0.0.1")]


def test_a_password_of_a_megabyte_is_refused_without_hashing_it(accounts: Accounts) -> None:
    accounts.add_user("jana", PASSWORD, "press")
    with pytest.raises(LoginFailed):
        accounts.authenticate("jana", "x" * 1_000_000, "c", now=T0)
    with pytest.raises(AccountError) as exc:
        accounts.set_password("jana", "x" * 1_000_000)
    assert exc.value.reason == "password_long"


def test_raising_scrypt_n_rehashes_at_the_next_login(accounts: Accounts, db: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    accounts.add_user("jana", PASSWORD, "press")
    old = stored_hash(db, "jana")
    assert old.split("$")[1] == str(2**10)
    monkeypatch.setattr(settings, "SCRYPT_N", 2**11)
    with pytest.raises(LoginFailed):  # a failed login does not re-hash
        accounts.authenticate("jana", "nesprávne heslo", "c", now=T0)
    assert stored_hash(db, "jana") == old
    accounts.authenticate("jana", PASSWORD, "c", now=T0)  # verified with the stored n=2**10
    new = stored_hash(db, "jana")
    assert new.split("$")[1] == str(2**11) and new != old
    assert accounts.authenticate("jana", PASSWORD, "c", now=T0).name == "jana"
    assert stored_hash(db, "jana") == new  # up to date: left alone


def test_password_shorter_than_the_minimum_is_refused(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AccountError, match="at least 10") as exc:
        accounts.add_user("jana", "krátke", "press")
    assert exc.value.reason == "password_short" and exc.value.params == {"n": 10}
    assert accounts.user("jana") is None
    monkeypatch.setattr(settings, "PASSWORD_MIN_CHARS", 4)
    accounts.add_user("jana", "krátke", "press")


# --- accounts ----------------------------------------------------------------------------------------------
def test_names_are_case_insensitive_and_stored_lower_case(accounts: Accounts) -> None:
    user = accounts.add_user("Jana.Novak@Mesto.sk", PASSWORD, "analyst", lang="sk")
    assert user.name == "jana.novak@mesto.sk" and user.lang == "sk"
    with pytest.raises(AccountError, match="exists") as exc:
        accounts.add_user("JANA.NOVAK@mesto.SK", PASSWORD, "viewer")
    assert exc.value.reason == "name_taken"
    assert accounts.user("JANA.novak@MESTO.sk") == user
    assert accounts.authenticate("JANA.Novak@mesto.sk", PASSWORD, "c", now=T0).name == user.name
    assert [u.name for u in accounts.users()] == [user.name]


@pytest.mark.parametrize("name", ["", "x" * 65, "jana novak", "jana/..", "žofia", "ján", "<script>"])
def test_bad_names_are_refused(accounts: Accounts, name: str) -> None:
    with pytest.raises(AccountError) as exc:
        accounts.add_user(name, PASSWORD, "press")
    assert exc.value.reason == "name"
    assert accounts.users() == []


def test_roles_and_languages_are_checked(accounts: Accounts) -> None:
    with pytest.raises(AccountError, match="unknown role 'editor'"):
        accounts.add_user("jana", PASSWORD, "editor")
    with pytest.raises(AccountError, match="unknown language 'de'"):
        accounts.add_user("jana", PASSWORD, "press", lang="de")
    accounts.add_user("jana", PASSWORD, "press")
    assert accounts.set_role("JANA", "admin").role == "admin"
    with pytest.raises(AccountError, match="unknown role"):
        accounts.set_role("jana", "root")
    assert accounts.set_lang("jana", "mk").lang == "mk"
    assert accounts.set_lang("jana", None).lang is None
    for change in (lambda: accounts.set_role("nikto", "admin"), lambda: accounts.set_lang("nikto", "sk"),
                   lambda: accounts.disable("nikto"), lambda: accounts.set_password("nikto", PASSWORD)):
        with pytest.raises(AccountError, match="no account 'nikto'") as exc:
            change()
        assert exc.value.reason == "unknown_user"


def test_permission_table() -> None:
    assert not can("viewer", "status") and can("press", "status") and can("admin", "status")
    assert not can("analyst", "status") and can("analyst", "judge") and can("analyst", "saved")
    assert can("admin", "users") and not can("press", "users") and not can("press", "audit")
    assert can("press", "ack") and not can("analyst", "ack")
    assert all(can(role, "read") for role in ROLES)
    assert not can("viewer", "judge") and not can("viewer", "saved")
    assert not can("root", "read")
    with pytest.raises(KeyError):
        can("admin", "delete_everything")
    assert all(roles <= set(ROLES) for roles in PERMISSIONS.values())
    assert all(can("admin", action) for action in PERMISSIONS)


def test_accounts_share_the_store_with_state_and_a_new_store_is_private(db: Path) -> None:
    state = State(db)
    with Accounts(db) as accounts:
        accounts.add_user("jana", PASSWORD, "press")
        state.execute("SELECT count(*) FROM queue")
    state.close()
    assert db.stat().st_mode & 0o777 == 0o600
    with Accounts(db) as again:  # tables exist: opening again creates nothing and loses nothing
        assert again.user("jana") is not None
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# --- sessions ----------------------------------------------------------------------------------------------
def test_the_token_is_not_stored_in_clear(accounts: Accounts, db: Path) -> None:
    user = accounts.add_user("jana", PASSWORD, "press")
    token, session = accounts.open_session(user, now=T0)
    assert len(token) >= 43 and len(session.csrf) >= 43 and token != session.csrf
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT * FROM web_sessions").fetchall()
    assert len(rows) == 1 and not any(token in str(v) for v in rows[0])
    assert hashlib.sha256(token.encode()).hexdigest() in rows[0]
    raw = b"".join(p.read_bytes() for p in db.parent.glob("presswatch.db*"))  # the file and its WAL
    assert token.encode() not in raw
    assert accounts.session(hashlib.sha256(token.encode()).hexdigest(), now=T0) is None  # the hash opens nothing


def test_a_session_carries_its_own_csrf_token_and_the_current_role(accounts: Accounts) -> None:
    user = accounts.add_user("jana", PASSWORD, "analyst")
    token_a, a = accounts.open_session(user, now=T0)
    token_b, b = accounts.open_session(user, now=T0)
    assert token_a != token_b and a.csrf != b.csrf
    found = accounts.session(token_a, now=T0 + timedelta(minutes=5))
    assert found is not None and found.csrf == a.csrf and found.user.role == "analyst"
    accounts.set_role("jana", "viewer")  # takes effect at the next request, no new login needed
    found = accounts.session(token_a, now=T0 + timedelta(minutes=6))
    assert found is not None and found.user.role == "viewer"
    assert accounts.session("not a token", now=T0) is None
    accounts.close_session(token_a)
    assert accounts.session(token_a, now=T0 + timedelta(minutes=7)) is None
    assert accounts.session(token_b, now=T0 + timedelta(minutes=7)) is not None


def test_a_session_ends_when_idle_and_using_it_moves_the_idle_expiry(accounts: Accounts) -> None:
    idle = timedelta(hours=settings.WEB_SESSION_IDLE_H)
    user = accounts.add_user("jana", PASSWORD, "press")
    token, session = accounts.open_session(user, now=T0)
    assert session.expires_at == T0 + idle
    t = T0 + idle - timedelta(minutes=1)
    used = accounts.session(token, now=t)  # used just in time
    assert used is not None and used.expires_at == t + idle and used.created_at == T0
    t2 = t + idle - timedelta(minutes=1)
    assert accounts.session(token, now=t2) is not None  # used again just in time
    assert accounts.session(token, now=t2 + idle) is None  # then left for IDLE_H

    token, _ = accounts.open_session(user, now=T0)
    assert accounts.session(token, now=T0 + idle) is None  # not used for IDLE_H: gone
    assert accounts.session(token, now=T0 + timedelta(minutes=1)) is None  # and gone for good (row deleted)


def test_a_session_ends_after_max_days_however_much_it_is_used(accounts: Accounts) -> None:
    user = accounts.add_user("jana", PASSWORD, "press")
    token, session = accounts.open_session(user, now=T0)
    end = T0 + timedelta(days=settings.WEB_SESSION_MAX_DAYS)
    t = T0
    while t + timedelta(hours=6) < end:  # used every six hours
        t += timedelta(hours=6)
        live = accounts.session(token, now=t)
        assert live is not None and live.expires_at <= end
    assert accounts.session(token, now=end) is None


def test_expired_sessions_are_deleted_when_others_are_opened(accounts: Accounts, db: Path) -> None:
    user = accounts.add_user("jana", PASSWORD, "press")
    for i in range(3):
        accounts.open_session(user, now=T0 + timedelta(minutes=i))
    accounts.open_session(user, now=T0 + timedelta(days=1))
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM web_sessions").fetchone()[0] == 1


def test_set_password_and_disable_end_the_sessions(accounts: Accounts) -> None:
    jana = accounts.add_user("jana", PASSWORD, "press")
    peter = accounts.add_user("peter", PASSWORD, "analyst")
    token, _ = accounts.open_session(jana, now=T0)
    other, _ = accounts.open_session(peter, now=T0)
    accounts.set_password("jana", "iné dlhé heslo")
    assert accounts.session(token, now=T0) is None
    assert accounts.session(other, now=T0) is not None  # another account's session is untouched
    with pytest.raises(LoginFailed):
        accounts.authenticate("jana", PASSWORD, "c", now=T0)
    assert accounts.authenticate("jana", "iné dlhé heslo", "c", now=T0).name == "jana"

    accounts.disable("peter")
    assert accounts.session(other, now=T0) is None
    with pytest.raises(LoginFailed):  # the right password, but disabled: the same answer as a wrong one
        accounts.authenticate("peter", PASSWORD, "c", now=T0)
    assert accounts.audit_log(user="peter", action="login_failed")[0].detail == "account disabled"
    disabled = accounts.user("peter")
    assert disabled is not None and disabled.disabled
    with pytest.raises(AccountError):
        accounts.open_session(disabled, now=T0)


# --- throttling --------------------------------------------------------------------------------------------
def fail(accounts: Accounts, name: str, client: str, at: datetime) -> None:
    with pytest.raises(LoginFailed):
        accounts.authenticate(name, "nesprávne heslo", client, now=at)


def test_throttling_per_name_from_any_client_and_the_lockout_ending(accounts: Accounts) -> None:
    accounts.add_user("jana", PASSWORD, "press")
    for i in range(settings.LOGIN_MAX_FAILURES):
        fail(accounts, "jana", f"10.0.0.{i}", T0 + timedelta(minutes=i))
    last = T0 + timedelta(minutes=settings.LOGIN_MAX_FAILURES - 1)
    with pytest.raises(LoginThrottled) as exc:  # even the right password: it is not checked
        accounts.authenticate("JANA", PASSWORD, "10.9.9.9", now=last + timedelta(minutes=1))
    assert exc.value.retry_after_s == (settings.LOGIN_LOCKOUT_MIN - 1) * 60
    # refused attempts do not extend the lockout
    with pytest.raises(LoginThrottled) as exc:
        accounts.authenticate("jana", PASSWORD, "10.9.9.9", now=last + timedelta(minutes=10))
    assert exc.value.retry_after_s == (settings.LOGIN_LOCKOUT_MIN - 10) * 60
    # another account is not locked by jana's failures (from other clients)
    accounts.add_user("peter", PASSWORD, "press")
    assert accounts.authenticate("peter", PASSWORD, "10.9.9.8", now=last + timedelta(minutes=1)).name == "peter"
    end = last + timedelta(minutes=settings.LOGIN_LOCKOUT_MIN)
    assert accounts.authenticate("jana", PASSWORD, "10.9.9.9", now=end).name == "jana"
    # a success clears the name's failures: one more failure does not lock again
    fail(accounts, "jana", "10.9.9.9", end + timedelta(seconds=1))
    assert accounts.authenticate("jana", PASSWORD, "10.9.9.9", now=end + timedelta(seconds=2)).name == "jana"
    assert [e.action for e in accounts.audit_log(user="jana", limit=4)] == \
        ["login", "login_failed", "login", "login_throttled"]


def test_throttling_per_client_over_many_names(accounts: Accounts) -> None:
    accounts.add_user("jana", PASSWORD, "press")
    for i in range(settings.LOGIN_MAX_FAILURES):
        fail(accounts, f"guess{i}", "203.0.113.7", T0 + timedelta(seconds=i))
    with pytest.raises(LoginThrottled):
        accounts.authenticate("jana", PASSWORD, "203.0.113.7", now=T0 + timedelta(minutes=1))
    # jana from her own address is not affected
    assert accounts.authenticate("jana", PASSWORD, "198.51.100.1", now=T0 + timedelta(minutes=1)).name == "jana"
    throttled = accounts.audit_log(action="login_throttled")
    assert len(throttled) == 1 and throttled[0].client == "203.0.113.7" and "client" in (throttled[0].detail or "")


def test_failures_spread_wider_than_the_window_do_not_lock(accounts: Accounts) -> None:
    accounts.add_user("jana", PASSWORD, "press")
    step = timedelta(minutes=settings.LOGIN_WINDOW_MIN) / (settings.LOGIN_MAX_FAILURES - 1) + timedelta(seconds=1)
    t = T0
    for _ in range(settings.LOGIN_MAX_FAILURES + 2):
        fail(accounts, "jana", "c", t)
        t += step
    assert accounts.authenticate("jana", PASSWORD, "c", now=t).name == "jana"


def test_a_lockout_survives_a_restart(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "LOGIN_MAX_FAILURES", 3)
    with Accounts(db) as accounts:
        accounts.add_user("jana", PASSWORD, "press")
        for i in range(3):
            fail(accounts, "jana", "c", T0 + timedelta(seconds=i))
    with Accounts(db) as restarted:
        with pytest.raises(LoginThrottled) as exc:
            restarted.authenticate("jana", PASSWORD, "c", now=T0 + timedelta(minutes=1))
        assert 0 < exc.value.retry_after_s <= settings.LOGIN_LOCKOUT_MIN * 60


# --- the audit trail ---------------------------------------------------------------------------------------
def test_audit_log_newest_first_with_filters_and_paging(accounts: Accounts) -> None:
    accounts.audit("jana", "status", "c1", "acknowledged", "10.0.0.1", at=T0)
    accounts.audit("peter", "judge", "c2", "relevant=no", None, at=T0 + timedelta(minutes=2))
    accounts.audit("jana", "ack", "c3", at=T0 + timedelta(minutes=1))
    accounts.audit("jana", "status", "c4", "dismissed", at=T0 + timedelta(minutes=3))
    assert [e.target for e in accounts.audit_log()] == ["c4", "c2", "c3", "c1"]
    assert [e.target for e in accounts.audit_log(user="jana")] == ["c4", "c3", "c1"]
    assert [e.target for e in accounts.audit_log(action="status")] == ["c4", "c1"]
    assert [e.target for e in accounts.audit_log(user="jana", action="status", limit=1, offset=1)] == ["c1"]
    first = accounts.audit_log(action="status")[-1]
    assert first.at == T0 and first.at.tzinfo is not None and first.detail == "acknowledged"
    assert first.client == "10.0.0.1"


def test_the_audit_trail_cannot_be_changed_even_with_sql(accounts: Accounts, db: Path) -> None:
    accounts.audit("jana", "status", "c1", at=T0)
    with closing(sqlite3.connect(db)) as conn:
        for sql in ("UPDATE web_audit SET user = 'nikto'", "DELETE FROM web_audit"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)
    assert [e.user for e in accounts.audit_log()] == ["jana"]
