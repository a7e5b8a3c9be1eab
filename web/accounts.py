"""Accounts of the analysts' workspace: users and roles, password hashes, sessions, login throttling and the
audit trail, all in the profile's store file (tables prefixed `web_`, next to pipeline/state.py's and the index's).

Passwords are hashed with the standard library's scrypt; the hash string names its own parameters, so raising
SCRYPT_N later re-hashes each password at its next login. The browser holds a random session token; the store keeps
only its SHA-256, so a copy of the store opens no session. Failed logins are counted in the store, per account name
and per client address, so a restart does not reset a lockout. The audit trail is append-only: there is no method to
change it, and triggers refuse UPDATE and DELETE on its table. See docs/decisions.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from presswatch import settings
from presswatch.profile import LANGS
from presswatch.state import LockedStore

ROLES: tuple[str, ...] = ("viewer", "analyst", "press", "admin")  # viewer = leadership, press = press office

# Who may do what: one table, read by `can`. Order is the order of the roles above.
_EDITORS = frozenset({"analyst", "press", "admin"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset(ROLES),  # search, clipping pages, export, briefing archive, source health
    "judge": _EDITORS,  # mark relevance and flags right or wrong
    "saved": _EDITORS,  # create, edit and delete saved searches
    "status": frozenset({"press", "admin"}),  # a clipping's response status
    "ack": frozenset({"press", "admin"}),  # acknowledge an alert
    "users": frozenset({"admin"}),  # manage accounts
    "audit": frozenset({"admin"}),  # read the audit trail
}

NAME_RE = re.compile(r"[a-z0-9._@-]{1,64}", re.ASCII)
# scrypt's first step hashes the whole password: a megabyte-long one sent to the login form would cost time for
# nothing, so longer passwords are refused (and fail at login without being hashed).
PASSWORD_MAX_CHARS = 1024
_HASH_SCHEME = "scrypt"
_SALT_BYTES = 16
_KEY_BYTES = 32
_TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute per session, not per request
_NAME_KEEP = 64  # a failed login's name and client are kept truncated to this many characters
_CLIENT_KEEP = 128

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    name TEXT PRIMARY KEY,           -- lower-case; unique regardless of case
    role TEXT NOT NULL,
    lang TEXT,                       -- NULL: the profile's language
    password TEXT NOT NULL,          -- scrypt$n$r$p$salt$hash (base64)
    created_at TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS web_sessions (
    token_hash TEXT PRIMARY KEY,     -- SHA-256 of the cookie's token; the token itself is never stored
    name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_by_name ON web_sessions(name);
CREATE TABLE IF NOT EXISTS web_login_failures (
    at TEXT NOT NULL,
    name TEXT NOT NULL,              -- as typed (lower-cased), known or not
    client TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_login_failures_by_name ON web_login_failures(name, at);
CREATE INDEX IF NOT EXISTS web_login_failures_by_client ON web_login_failures(client, at);
CREATE TABLE IF NOT EXISTS web_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT,
    client TEXT
);
CREATE INDEX IF NOT EXISTS web_audit_by_at ON web_audit(at);
CREATE TRIGGER IF NOT EXISTS web_audit_no_update BEFORE UPDATE ON web_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS web_audit_no_delete BEFORE DELETE ON web_audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""


def can(role: str, action: str) -> bool:
    """May `role` do `action`? An unknown action raises KeyError: a typo must neither allow nor deny silently."""
    return role in PERMISSIONS[action]


class AccountError(ValueError):
    """A refused account change. The message says what is wrong; `reason` (name, name_taken, role, lang,
    password_short, password_long, unknown_user, disabled) and `params` let a caller say it in its own language."""

    def __init__(self, message: str, reason: str = "", **params: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


class LoginFailed(Exception):
    """Wrong name or wrong password: one exception for both, so a caller cannot reveal which."""


class LoginThrottled(Exception):
    """Too many failed logins for this name or from this client; try again after `retry_after_s` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    lang: str | None  # None: follow the profile
    created_at: datetime
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    user: User
    csrf: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    user: str
    action: str
    target: str
    detail: str | None
    client: str | None


# --- passwords ---------------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _normalise(password: str) -> bytes:
    # NFKC (NIST SP 800-63B 5.1.1.2): "š" typed as one code point or as s + caron is the same password.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    # OpenSSL needs 128*r*(n+p+2) bytes (33.6 MB at n=2**15, r=8) and refuses above maxmem (32 MB by default).
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=_KEY_BYTES)


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash` with a random salt and the parameters in settings now."""
    n, r, p = settings.SCRYPT_N, settings.SCRYPT_R, settings.SCRYPT_P
    salt = secrets.token_bytes(_SALT_BYTES)
    return f"{_HASH_SCHEME}${n}${r}${p}${_b64(salt)}${_b64(_scrypt(_normalise(password), salt, n, r, p))}"


def verify_password(password: str, stored: str) -> bool:
    """Check `password` against a stored hash, with the parameters the hash names; constant-time comparison."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != _HASH_SCHEME:
            return False
        actual = _scrypt(_normalise(password), _unb64(salt), int(n), int(r), int(p))
        return hmac.compare_digest(actual, _unb64(expected))
    except (ValueError, TypeError):
        return False


def _outdated(stored: str) -> bool:
    """Was the hash made with other parameters than settings hold now?"""
    parts = stored.split("$")
    return parts[1:4] != [str(settings.SCRYPT_N), str(settings.SCRYPT_R), str(settings.SCRYPT_P)]


def _burn(password: str) -> None:
    """One scrypt with the current parameters whose result is thrown away: an unknown name costs as long as a
    known one, so the time of the answer does not tell whether an account exists."""
    _scrypt(_normalise(password[:PASSWORD_MAX_CHARS]), b"\0" * _SALT_BYTES, settings.SCRYPT_N, settings.SCRYPT_R,
            settings.SCRYPT_P)


# --- time --------------------------------------------------------------------------------------------------
def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _iso(dt: datetime) -> str:
    # One fixed width, so that the stored strings sort (and compare in SQL) as the times do.
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- the store ---------------------------------------------------------------------------------------------
class Accounts(LockedStore):
    """The `web_` tables of one store file. Thread-safe: one connection, serialised by a lock (as State)."""

    SCHEMA = SCHEMA

    # --- users -----------------------------------------------------------------------------------------------
    @staticmethod
    def _user(row: sqlite3.Row) -> User:
        return User(name=row["name"], role=row["role"], lang=row["lang"], created_at=_dt(row["created_at"]),
                    disabled=bool(row["disabled"]))

    @staticmethod
    def _valid_name(name: str) -> str:
        key = name.strip().lower()
        if not NAME_RE.fullmatch(key):
            raise AccountError(f"{name!r} is not a valid account name: 1 to 64 characters of a-z, 0-9, . _ @ -",
                               "name", name=name)
        return key

    @staticmethod
    def _valid_role(role: str) -> str:
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}: one of {', '.join(ROLES)}", "role", role=role)
        return role

    @staticmethod
    def _valid_lang(lang: str | None) -> str | None:
        if lang is not None and lang not in LANGS:
            raise AccountError(f"unknown language {lang!r}: one of {', '.join(LANGS)}, or none for the profile's",
                               "lang", lang=lang)
        return lang

    @staticmethod
    def _new_hash(password: str) -> str:
        length = len(unicodedata.normalize("NFKC", password))
        if length < settings.PASSWORD_MIN_CHARS:
            raise AccountError(f"the password is too short: at least {settings.PASSWORD_MIN_CHARS} characters",
                               "password_short", n=settings.PASSWORD_MIN_CHARS)
        if length > PASSWORD_MAX_CHARS:
            raise AccountError(f"the password is too long: at most {PASSWORD_MAX_CHARS} characters",
                               "password_long", n=PASSWORD_MAX_CHARS)
        return hash_password(password)

    def _require(self, conn: sqlite3.Connection, name: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM web_users WHERE name = ?", (name.strip().lower(),)).fetchone()
        if row is None:
            raise AccountError(f"no account {name!r}", "unknown_user", name=name)
        return row

    def add_user(self, name: str, password: str, role: str, lang: str | None = None) -> User:
        key = self._valid_name(name)
        self._valid_role(role)
        self._valid_lang(lang)
        if self.user(key) is not None:  # checked before hashing: a taken name should not cost a scrypt
            raise AccountError(f"the account {key!r} exists already", "name_taken", name=key)
        stored = self._new_hash(password)
        created = _now(None)
        with self._write() as conn:
            try:
                conn.execute("INSERT INTO web_users(name, role, lang, password, created_at) VALUES (?,?,?,?,?)",
                             (key, role, lang, stored, _iso(created)))
            except sqlite3.IntegrityError:  # added meanwhile by another process
                raise AccountError(f"the account {key!r} exists already", "name_taken", name=key) from None
        return User(name=key, role=role, lang=lang, created_at=created)

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the account ends (a stolen cookie must not outlive the change)."""
        stored = self._new_hash(password)
        with self._write() as conn:
            key = self._require(conn, name)["name"]
            conn.execute("UPDATE web_users SET password = ? WHERE name = ?", (stored, key))
            conn.execute("DELETE FROM web_sessions WHERE name = ?", (key,))

    def set_role(self, name: str, role: str) -> User:
        """Takes effect at the account's next request: a session reads the role from the account each time."""
        self._valid_role(role)
        with self._write() as conn:
            key = self._require(conn, name)["name"]
            conn.execute("UPDATE web_users SET role = ? WHERE name = ?", (role, key))
            row = self._require(conn, key)
        return self._user(row)

    def set_lang(self, name: str, lang: str | None) -> User:
        self._valid_lang(lang)
        with self._write() as conn:
            key = self._require(conn, name)["name"]
            conn.execute("UPDATE web_users SET lang = ? WHERE name = ?", (lang, key))
            row = self._require(conn, key)
        return self._user(row)

    def disable(self, name: str) -> None:
        """The account can no longer log in and its sessions end. Its name stays taken and in the audit trail."""
        with self._write() as conn:
            key = self._require(conn, name)["name"]
            conn.execute("UPDATE web_users SET disabled = 1 WHERE name = ?", (key,))
            conn.execute("DELETE FROM web_sessions WHERE name = ?", (key,))

    def user(self, name: str) -> User | None:
        rows = self.execute("SELECT * FROM web_users WHERE name = ?", (name.strip().lower(),))
        return self._user(rows[0]) if rows else None

    def users(self) -> list[User]:
        return [self._user(r) for r in self.execute("SELECT * FROM web_users ORDER BY name")]

    # --- logging in ------------------------------------------------------------------------------------------
    def _lockout(self, column: str, value: str, now: datetime) -> int:
        """Seconds `value` (a name or a client) stays locked out at `now`, 0 if it is not. Locked: the last failure
        is less than LOGIN_LOCKOUT_MIN ago and LOGIN_MAX_FAILURES failures fall within LOGIN_WINDOW_MIN up to it.
        Measured from the last failure, so a lockout does not end early because its first failures left the window;
        refused attempts are not failures, so hammering does not extend it."""
        window = timedelta(minutes=settings.LOGIN_WINDOW_MIN)
        lockout = timedelta(minutes=settings.LOGIN_LOCKOUT_MIN)
        rows = self.execute(f"SELECT at FROM web_login_failures WHERE {column} = ? AND at > ? ORDER BY at DESC",
                          (value, _iso(now - window - lockout)))
        if not rows:
            return 0
        last = _dt(rows[0]["at"])
        recent = sum(1 for r in rows if _dt(r["at"]) >= last - window)
        until = last + lockout
        if recent < settings.LOGIN_MAX_FAILURES or now >= until:
            return 0
        return max(1, math.ceil((until - now).total_seconds()))

    def authenticate(self, name: str, password: str, client: str, now: datetime | None = None) -> User:
        """The account of `name` if `password` is its password. Raises LoginThrottled (password not checked) while
        the name or the client is locked out, LoginFailed for a wrong name, wrong password or disabled account.
        Every outcome goes into the audit trail."""
        at = _now(now)
        key = name.strip().lower()[:_NAME_KEEP]
        client = client[:_CLIENT_KEEP]
        with self._write() as conn:  # failures that can no longer lock anything out
            horizon = at - timedelta(minutes=settings.LOGIN_WINDOW_MIN + settings.LOGIN_LOCKOUT_MIN)
            conn.execute("DELETE FROM web_login_failures WHERE at < ?", (_iso(horizon),))
        for column, value in (("name", key), ("client", client)):
            wait = self._lockout(column, value, at)
            if wait:
                self.audit(key, "login_throttled", key, f"{column} locked out for {wait} s", client, at)
                raise LoginThrottled(wait)
        row = self.execute("SELECT * FROM web_users WHERE name = ?", (key,))
        if not row or len(password) > PASSWORD_MAX_CHARS:
            _burn(password)
            reason = "unknown name" if not row else "password too long"
        elif not verify_password(password, row[0]["password"]):
            reason = "wrong password"
        elif row[0]["disabled"]:
            reason = "account disabled"
        else:
            user = self._user(row[0])
            with self._write() as conn:
                conn.execute("DELETE FROM web_login_failures WHERE name = ?", (key,))
                if _outdated(row[0]["password"]):  # SCRYPT_* were raised: the new parameters from now on
                    conn.execute("UPDATE web_users SET password = ? WHERE name = ?", (hash_password(password), key))
            self.audit(key, "login", key, None, client, at)
            return user
        with self._write() as conn:
            conn.execute("INSERT INTO web_login_failures(at, name, client) VALUES (?,?,?)", (_iso(at), key, client))
        self.audit(key, "login_failed", key, reason, client, at)
        raise LoginFailed("wrong name or password")

    # --- sessions --------------------------------------------------------------------------------------------
    @staticmethod
    def _expires(created: datetime, last_seen: datetime) -> datetime:
        return min(created + timedelta(days=settings.WEB_SESSION_MAX_DAYS),
                   last_seen + timedelta(hours=settings.WEB_SESSION_IDLE_H))

    def _sweep(self, conn: sqlite3.Connection, now: datetime) -> None:
        conn.execute("DELETE FROM web_sessions WHERE created_at <= ? OR last_seen <= ?",
                     (_iso(now - timedelta(days=settings.WEB_SESSION_MAX_DAYS)),
                      _iso(now - timedelta(hours=settings.WEB_SESSION_IDLE_H))))

    def open_session(self, user: User, now: datetime | None = None) -> tuple[str, Session]:
        """A new session: (the raw token for the cookie, the session). Only the token's SHA-256 is stored."""
        at = _now(now)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._write() as conn:
            row = self._require(conn, user.name)
            if row["disabled"]:
                raise AccountError(f"the account {user.name!r} is disabled", "disabled", name=user.name)
            self._sweep(conn, at)
            conn.execute("INSERT INTO web_sessions(token_hash, name, csrf, created_at, last_seen) VALUES (?,?,?,?,?)",
                         (_token_hash(token), row["name"], csrf, _iso(at), _iso(at)))
        return token, Session(user=self._user(row), csrf=csrf, created_at=at, expires_at=self._expires(at, at))

    def session(self, token: str, now: datetime | None = None) -> Session | None:
        """The live session of a cookie's token, with the account as it is now; None if the token is unknown, the
        session expired or the account is disabled. Using a session moves its idle expiry on."""
        at = _now(now)
        rows = self.execute("SELECT s.token_hash, s.csrf, s.created_at, s.last_seen, u.* FROM web_sessions s"
                          " JOIN web_users u ON u.name = s.name WHERE s.token_hash = ?", (_token_hash(token),))
        if not rows:
            return None
        row = rows[0]
        created, last_seen = _dt(row["created_at"]), _dt(row["last_seen"])
        if at >= self._expires(created, last_seen) or row["disabled"]:
            with self._write() as conn:
                conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (row["token_hash"],))
                self._sweep(conn, at)
            return None
        if at - last_seen >= _TOUCH_EVERY:
            with self._write() as conn:
                conn.execute("UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?",
                             (_iso(at), row["token_hash"]))
            last_seen = at
        return Session(user=self._user(row), csrf=row["csrf"], created_at=created,
                       expires_at=self._expires(created, last_seen))

    def close_session(self, token: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (_token_hash(token),))

    # --- the audit trail -------------------------------------------------------------------------------------
    def audit(self, user: str, action: str, target: str, detail: str | None = None, client: str | None = None,
              at: datetime | None = None) -> None:
        """Append one entry. Entries are never changed or deleted (the table's triggers refuse it)."""
        with self._write() as conn:
            conn.execute("INSERT INTO web_audit(at, user, action, target, detail, client) VALUES (?,?,?,?,?,?)",
                         (_iso(_now(at)), user, action, target, detail, client))

    def audit_log(self, limit: int = 100, offset: int = 0, user: str | None = None,
                  action: str | None = None) -> list[AuditEntry]:
        """Entries newest first, optionally of one user and/or one action."""
        where, args = [], []
        if user is not None:
            where.append("user = ?")
            args.append(user)
        if action is not None:
            where.append("action = ?")
            args.append(action)
        sql = "SELECT * FROM web_audit" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.execute(sql + " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?", (*args, limit, offset))
        return [AuditEntry(at=_dt(r["at"]), user=r["user"], action=r["action"], target=r["target"],
                           detail=r["detail"], client=r["client"]) for r in rows]
