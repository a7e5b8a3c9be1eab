"""Logging in and out, and the user's interface language."""

from __future__ import annotations

import secrets

from starlette.responses import RedirectResponse, Response

from presswatch.web.accounts import LoginFailed, LoginThrottled
from presswatch.web.app import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    Page,
    WebRoute,
    clear_session_cookie,
    csrf_ok,
    csrf_refused,
    local_url,
    set_session_cookie,
)
from presswatch.web.i18n import LANGUAGES


def home(page: Page) -> Response:
    return RedirectResponse("/search", status_code=303)


def login_form(page: Page, error: str = "", status: int = 200) -> Response:
    if page.session is not None and not error:
        return page.redirect(page.arg("next", "/search"))
    token = secrets.token_urlsafe(32)
    response = page.render("login.html", status=status, login_csrf=token, error=error,
                           next=local_url(page.arg("next", "/search")), name=page.field("name"))
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, secure=page.ws.secure_cookies,
                        samesite="strict", path="/login")
    return response


def login(page: Page) -> Response:
    # Before a session exists the form's token is checked against its cookie (double submit): a forged login
    # (logging the victim into the attacker's account) is refused like any other forged form.
    if not csrf_ok(page.field(CSRF_FIELD), page.request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        return csrf_refused(page)
    name, password = page.field("name").strip(), page.field("password")
    try:
        user = page.ws.accounts.authenticate(name, password, client=page.client)
    except LoginThrottled as exc:
        minutes = max(1, (exc.retry_after_s + 59) // 60)
        return login_form(page, page.text.plural("login_throttled", minutes), status=429)
    except LoginFailed:
        return login_form(page, page.text.t("login_failed"), status=401)
    token, _ = page.ws.accounts.open_session(user)
    response = page.redirect(page.field("next") or "/search")
    set_session_cookie(response, page.ws, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def logout(page: Page) -> Response:
    token = page.request.cookies.get("pw_session", "")
    page.audit("logout", page.user)
    page.ws.accounts.close_session(token)
    response = page.redirect("/login")
    clear_session_cookie(response, page.ws)
    return response


def set_language(page: Page) -> Response:
    lang = page.field("lang")
    if lang not in (*LANGUAGES, ""):
        return page.bad_request(page.text.t("lang_unknown", lang=lang))
    page.ws.accounts.set_lang(page.user, lang or None)
    page.audit("lang", page.user, lang or "profile")
    return page.redirect(page.field("back") or "/search")


ROUTES: list[WebRoute] = [
    WebRoute("/", home, "read"),
    WebRoute("/login", login_form, "public"),
    WebRoute("/login", login, "public", methods=("POST",)),
    WebRoute("/logout", logout, "read", methods=("POST",)),
    WebRoute("/lang", set_language, "read", methods=("POST",)),
]
