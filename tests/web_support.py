"""Shared scaffolding of the workspace tests: a store filled by the real demo pipeline (local newsroom, Scrapy,
enrichment, SQLite, loopback SMTP), copied for each test module, accounts in it, and a logged-in client.

`demo_store` runs the demo once per test session (~10 s); `workspace_store` gives a module its own copy, so
tests that change statuses or judgements cannot see each other's changes.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from presswatch import settings
from presswatch.demo import run_demo
from presswatch.messages import Messages
from presswatch.profile import Profile, load_profile
from presswatch.web.accounts import Accounts
from presswatch.web.app import create_app

PASSWORD = "correct horse battery"  # every test account's password
ROLES_USERS = {"viewer": "vera", "analyst": "anton", "press": "petra", "admin": "adam"}


@dataclass(frozen=True)
class StoreCopy:
    profile: Profile
    profile_path: Path
    db_path: Path


def copy_store(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included), by SQLite's own backup."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> StoreCopy:
    out = tmp_path_factory.mktemp("web-demo")
    db = out / "presswatch.db"
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        result = run_demo(out / "out", db_path=db, say=Messages("en"))
    profile_path = out / "out" / "profile.yaml"
    return StoreCopy(profile=load_profile(profile_path), profile_path=profile_path, db_path=result.db_path)


@pytest.fixture(scope="module")
def workspace_store(demo_store: StoreCopy, tmp_path_factory: pytest.TempPathFactory) -> StoreCopy:
    """The module's own copy of the demo store with one account per role (password PASSWORD)."""
    db = tmp_path_factory.mktemp("web-store") / "presswatch.db"
    copy_store(demo_store.db_path, db)
    accounts = Accounts(db)
    try:
        for role, name in ROLES_USERS.items():
            accounts.add_user(name, PASSWORD, role)
    finally:
        accounts.close()
    return StoreCopy(profile=demo_store.profile, profile_path=demo_store.profile_path, db_path=db)


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Logins in these tests use a cheap scrypt cost: the KDF itself is tested at full cost in test_web_accounts."""
    monkeypatch.setattr(settings, "SCRYPT_N", 2**10)


@pytest.fixture(scope="module")
def app_client(workspace_store: StoreCopy) -> Iterator[TestClient]:
    """A client of the real app (over https, so Secure cookies are sent as a browser would)."""
    app = create_app(workspace_store.profile, db_path=workspace_store.db_path)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    m = CSRF_RE.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client: TestClient, role: str) -> str:
    """Log in as the account of `role`; returns the session's CSRF token (from the page after login)."""
    client.cookies.clear()
    form = client.get("/login")
    r = client.post("/login", data={"csrf": csrf_of(form.text), "name": ROLES_USERS[role], "password": PASSWORD,
                                    "next": "/search"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/search"
    return session_csrf(client)


def session_csrf(client: TestClient) -> str:
    """The CSRF token of the logged-in session, read from a page's logout form."""
    page = client.get("/search")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)
