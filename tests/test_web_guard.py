"""The guard in front of every page: nothing without a session, no form without its CSRF token, no action
outside the role, and the security headers on every answer. Routes are enumerated from the app itself, so a
page added later is covered without touching this file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from presswatch.web.accounts import PERMISSIONS, ROLES
from presswatch.web.app import create_app, local_url, route_modules
from presswatch.web.i18n import text
from tests.web_support import (  # noqa: F401
    ROLES_USERS,
    StoreCopy,
    app_client,
    copy_store,
    demo_store,
    fast_kdf,
    login,
    session_csrf,
    workspace_store,
)

PUBLIC = {"/login"}


def concrete(path: str) -> str:
    """A path with its parameters filled with something that exists nowhere (the guard answers before lookup)."""
    return re.sub(r"\{[^}]+\}", "x0", path)


def app_routes(client: TestClient) -> list[Route]:
    return [r for r in client.app.routes if isinstance(r, Route)]  # type: ignore[attr-defined]


def test_every_route_is_guarded_and_names_a_known_action(app_client: TestClient) -> None:  # noqa: F811
    for r in app_routes(app_client):
        assert getattr(r.endpoint, "guarded", False), r.path
    for table in route_modules():
        for route in table:
            assert route.action == "public" or route.action in PERMISSIONS, (route.path, route.action)
            if route.action == "public":
                assert route.path in PUBLIC, f"{route.path} is public: only the login page may be"


def test_logged_out_every_page_redirects_to_login(app_client: TestClient) -> None:  # noqa: F811
    app_client.cookies.clear()
    for r in app_routes(app_client):
        if r.path in PUBLIC:
            continue
        for method in sorted(r.methods or ()):
            if method == "HEAD":
                continue
            response = app_client.request(method, concrete(r.path))
            assert response.status_code == 303, (method, r.path, response.status_code)
            assert response.headers["location"].startswith("/login?next="), (method, r.path)


def test_every_form_post_without_the_csrf_token_is_refused(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "admin")
    lang = app_client.app.state.workspace.profile.digest_language  # type: ignore[attr-defined]
    posts = [r for r in app_routes(app_client) if "POST" in (r.methods or ())]
    assert posts, "the workspace has forms"
    for r in posts:
        for data in ({}, {"csrf": "forged"}):
            response = app_client.post(concrete(r.path), data=data)
            assert response.status_code == 403, (r.path, data, response.status_code)
            assert text(lang).t("csrf_title") in response.text, r.path


def test_a_token_from_another_session_is_refused(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "press")
    other = session_csrf(app_client)
    login(app_client, "admin")
    response = app_client.post("/lang", data={"csrf": other, "lang": "sk"})
    assert response.status_code == 403


def test_roles_see_only_their_actions(workspace_store: StoreCopy) -> None:  # noqa: F811
    """For each role and each GET page that needs an action the role lacks: 403, never the page."""
    app = create_app(workspace_store.profile, db_path=workspace_store.db_path)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        gets = [(route.path, route.action) for table in route_modules() for route in table
                if route.methods == ("GET",) and "{" not in route.path and route.action != "public"]
        for role in ROLES:
            login(client, role)
            for path, action in gets:
                response = client.get(path)
                status = response.status_code
                if role in PERMISSIONS[action]:
                    assert status != 403 and not response.headers.get("location", "").startswith("/login"), (
                        role, path, status)
                else:
                    assert status == 403, (role, path, status)


def test_security_headers_everywhere(app_client: TestClient) -> None:  # noqa: F811
    app_client.cookies.clear()
    for path in ("/login", "/static/app.css", "/search", "/nowhere"):
        headers = app_client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path


def test_session_cookie_attributes(app_client: TestClient) -> None:  # noqa: F811
    app_client.cookies.clear()
    form = app_client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    r = app_client.post("/login", data={"csrf": token.group(1), "name": ROLES_USERS["viewer"],
                                        "password": "correct horse battery", "next": "//evil.example/x"})
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("pw_session="))
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower(), attribute
    assert r.headers["location"] == "/", "an off-site next= must not redirect elsewhere"


def test_login_without_its_token_is_refused(app_client: TestClient) -> None:  # noqa: F811
    app_client.cookies.clear()
    r = app_client.post("/login", data={"name": ROLES_USERS["admin"], "password": "correct horse battery"})
    assert r.status_code == 403
    assert "pw_session" not in r.headers.get("set-cookie", "")


def test_login_is_throttled_after_repeated_failures(demo_store: StoreCopy, tmp_path: Path) -> None:  # noqa: F811
    # a store of its own: the lockout counts per client address too, and would lock this module's other tests out
    db = tmp_path / "presswatch.db"
    copy_store(demo_store.db_path, db)
    app = create_app(demo_store.profile, db_path=db)
    statuses = []
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        for _ in range(7):
            form = client.get("/login")
            m = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert m
            statuses.append(client.post("/login", data={"csrf": m.group(1), "name": "nobody-here",
                                                        "password": "wrong password"}).status_code)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429, statuses


@pytest.mark.parametrize("url,expected", [("/search?q=a", "/search?q=a"), ("https://evil.example/", "/"),
                                          ("//evil.example", "/"), ("/\\evil", "/"), ("javascript:alert(1)", "/")])
def test_local_url_keeps_only_paths_of_this_site(url: str, expected: str) -> None:
    assert local_url(url) == expected


def test_a_failing_index_gives_a_page_that_says_so(workspace_store: StoreCopy) -> None:  # noqa: F811
    """The index unreachable mid-run (Elasticsearch down: a ConnectionError) is a 503 page naming the problem; any
    other failure a 500 page; both in the profile's language, without a traceback."""
    app = create_app(workspace_store.profile, db_path=workspace_store.db_path)
    ws = app.state.workspace
    lang = text(ws.profile.digest_language)
    real_index = ws.index

    class Unreachable:
        """Stands in for a backend whose server went away (the real ElasticIndex raises ElasticUnavailable, a
        ConnectionError, naming the URL; no Elasticsearch can run here)."""

        def __getattr__(self, name: str) -> object:
            def fail(*args: object, **kwargs: object) -> None:
                raise ConnectionError("Elasticsearch at http://127.0.0.1:9 is unreachable")
            return fail

    with TestClient(app, base_url="https://testserver", follow_redirects=False,
                    raise_server_exceptions=False) as client:
        login(client, "analyst")
        ws.index = Unreachable()
        r = client.get("/search?q=mesto")
        assert r.status_code == 503
        assert lang.t("unavailable_title") in r.text and "http://127.0.0.1:9 is unreachable" in r.text
        ws.index = real_index
        real_index.close()  # a real failure of the real index: its connection is gone
        r = client.get("/search?q=mesto")
        assert r.status_code == 500
        assert lang.t("server_error_title") in r.text and "Traceback" not in r.text
