"""The workspace's web application: one Starlette app over the profile's index, store and accounts.

Every page is a `WebRoute` in a routes module's ROUTES table (order is data: app.py lists the modules). A route
names the action it needs (web/accounts.py: PERMISSIONS), and `guard` wraps it before Starlette sees it, so no
page can be reached without a session and the right role, and no form is accepted without its CSRF token: the
app refuses to start with a route that is not wrapped. Handlers are plain functions of a `Page`; they run in
Starlette's thread pool (the index and the store serialise their own connections).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from presswatch import settings
from presswatch.index import open_index
from presswatch.index.base import ClippingIndex
from presswatch.profile import Profile
from presswatch.state import State
from presswatch.web.accounts import Accounts, Session, can
from presswatch.web.i18n import LANGUAGES, WebText, text

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "pw_session"
LOGIN_CSRF_COOKIE = "pw_login_csrf"  # the login form's token before there is a session (double submit)
CSRF_FIELD = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# No inline script at all; style attributes only (bars of charts are SVG attributes, not CSS). Pages that show a
# stored briefing put it in a sandboxed frame served with its own, stricter policy (routes_archive.py).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


@dataclass
class Workspace:
    """What every request needs, opened once per app: the profile, its index, its store and the accounts."""

    profile: Profile
    index: ClippingIndex
    state: State
    accounts: Accounts
    secure_cookies: bool = settings.WEB_SECURE_COOKIES

    @property
    def tz(self) -> tzinfo:
        return self.profile.tz

    @property
    def municipality(self) -> str:
        return self.profile.id

    def close(self) -> None:
        self.accounts.close()
        self.state.close()
        self.index.close()


@dataclass
class Page:
    """One request as a handler sees it: who asks, in which language, with which form."""

    request: Request
    ws: Workspace
    env: Environment
    session: Session | None
    form: FormData | None
    text: WebText

    @property
    def user(self) -> str:
        return self.session.user.name if self.session else ""

    @property
    def role(self) -> str:
        return self.session.user.role if self.session else ""

    def can(self, action: str) -> bool:
        return self.session is not None and can(self.session.user.role, action)

    @property
    def client(self) -> str:
        return self.request.client.host if self.request.client else "unknown"

    def field(self, name: str, default: str = "") -> str:
        """A form field as text ('' when absent; an uploaded file is not text)."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    def arg(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default)

    def audit(self, action: str, target: str, detail: str | None = None) -> None:
        self.ws.accounts.audit(self.user, action, target, detail, client=self.client)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(page=self, t=self.text.t, plural=self.text.plural,
                                                       text=self.text, profile=self.ws.profile, **context)
        return HTMLResponse(html, status_code=status)

    def redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(local_url(url), status_code=303)

    def forbidden(self) -> HTMLResponse:
        return self.render("error.html", status=403, title=self.text.t("forbidden_title"),
                           message=self.text.t("forbidden_body"))

    def not_found(self) -> HTMLResponse:
        return self.render("error.html", status=404, title=self.text.t("not_found_title"),
                           message=self.text.t("not_found_body"))

    def bad_request(self, message: str) -> HTMLResponse:
        return self.render("error.html", status=400, title=self.text.t("bad_request_title"), message=message)


Handler = Callable[[Page], Response]


@dataclass(frozen=True, slots=True)
class WebRoute:
    path: str
    handler: Handler
    action: str  # what the user must be allowed to do (web/accounts.py PERMISSIONS); "public" for the login page
    methods: tuple[str, ...] = ("GET",)
    name: str | None = None


def guard(route: WebRoute, ws: Workspace, env: Environment) -> Callable[[Request], Awaitable[Response]]:
    """`route`'s handler behind the session, role and CSRF checks: the only kind of endpoint create_app mounts."""

    async def endpoint(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        session = await run_in_threadpool(ws.accounts.session, token) if token else None
        form = await request.form() if request.method in UNSAFE_METHODS else None
        page = Page(request, ws, env, session, form, text(page_language(ws, session, request)))
        if route.action != "public":
            if session is None:
                here = request.url.path + ("?" + request.url.query if request.url.query else "")
                return RedirectResponse("/login?next=" + quote(here, safe=""), status_code=303)
            if request.method in UNSAFE_METHODS and not csrf_ok(page.field(CSRF_FIELD), session.csrf):
                return await run_in_threadpool(csrf_refused, page)
            if not can(session.user.role, route.action):
                return await run_in_threadpool(page.forbidden)
        response: Response = await run_in_threadpool(route.handler, page)
        return response

    endpoint.guarded = True  # type: ignore[attr-defined]
    return endpoint


def csrf_ok(sent: str, expected: str) -> bool:
    return bool(sent) and bool(expected) and secrets.compare_digest(sent, expected)


def csrf_refused(page: Page) -> Response:
    return page.render("error.html", status=403, title=page.text.t("csrf_title"), message=page.text.t("csrf_body"))


def page_language(ws: Workspace, session: Session | None, request: Request | None) -> str:
    """The user's own choice, else the profile's (its digest language: what its readers read), else English."""
    if session is not None and session.user.lang in LANGUAGES:
        return session.user.lang
    chosen = ws.profile.digest_language
    return chosen if chosen in LANGUAGES else "en"


def local_url(url: str) -> str:
    """Only paths on this site: a `next=` pointing elsewhere (an open redirect) becomes the start page."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


class SecurityHeaders:
    """Headers on every response, static files and errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                for key, value in (
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cache-control", b"no-store"),
                ):
                    if key not in present:
                        headers.append((key, value))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def route_modules() -> Sequence[Sequence[WebRoute]]:
    """The pages, in the order of the navigation."""
    from presswatch.web import routes_archive, routes_auth, routes_clipping, routes_saved, routes_search

    return (routes_auth.ROUTES, routes_search.ROUTES, routes_clipping.ROUTES, routes_saved.ROUTES,
            routes_archive.ROUTES)


def template_env() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    return env


def create_app(profile: Profile, *, db_path: Path | None = None, secure_cookies: bool | None = None) -> Starlette:
    """The workspace for `profile`, over its store (`db_path` or the profile's) and its index backend."""
    path = db_path if db_path is not None else profile.db_path()
    ws = Workspace(profile=profile, index=open_index(profile, path if profile.store.backend == "sqlite" else None),
                   state=State(path), accounts=Accounts(path))
    if secure_cookies is not None:
        ws.secure_cookies = secure_cookies
    env = template_env()
    routes: list[Route | Mount] = []
    for table in route_modules():
        for r in table:
            routes.append(Route(r.path, guard(r, ws, env), methods=list(r.methods), name=r.name))
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    for mounted in routes:  # fail closed: a page that is not behind the guard must not be served
        if isinstance(mounted, Route) and not getattr(mounted.endpoint, "guarded", False):
            raise RuntimeError(f"web route {mounted.path} is not guarded")

    def failure(title: str, body: str, status: int, detail: str = "") -> Response:
        words = text(page_language(ws, None, None))
        html = env.get_template("error.html").render(page=None, t=words.t, plural=words.plural, text=words,
                                                     profile=profile, title=words.t(title),
                                                     message=words.t(body, error=detail[:300]))
        return HTMLResponse(html, status_code=status)

    async def not_found(request: Request, exc: Exception) -> Response:
        return failure("not_found_title", "not_found_body", 404)

    async def unavailable(request: Request, exc: Exception) -> Response:
        # the index (Elasticsearch down) or the store (locked for longer than its timeout, I/O error): the page
        # says so and the daemon keeps collecting; nothing is lost by a failed page view
        log.warning("workspace: %s %s: %s", request.method, request.url.path, exc)
        return failure("unavailable_title", "unavailable_body", 503, str(exc))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("workspace: %s %s failed", request.method, request.url.path, exc_info=exc)
        return failure("server_error_title", "server_error_body", 500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        ws.close()

    app = Starlette(routes=routes, lifespan=lifespan, max_body_size=settings.WEB_MAX_BODY_BYTES, exception_handlers={
        404: not_found, ConnectionError: unavailable, sqlite3.OperationalError: unavailable,
        Exception: server_error})
    app.state.workspace = ws
    app.add_middleware(SecurityHeaders)
    return app


def set_session_cookie(response: Response, ws: Workspace, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.WEB_SESSION_MAX_DAYS * 86400, httponly=True,
                        secure=ws.secure_cookies, samesite="lax", path="/")


def clear_session_cookie(response: Response, ws: Workspace) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=ws.secure_cookies, samesite="lax")


__all__ = ["CSRF_FIELD", "Handler", "Page", "WebRoute", "Workspace", "create_app", "local_url",
           "set_session_cookie", "clear_session_cookie"]
