"""`presswatch web`: serve the workspace with uvicorn.

Loopback by default (settings.WEB_HOST). Session cookies carry the Secure attribute, which browsers honour over
HTTPS and on loopback: serving another interface over plain HTTP would make logging in impossible, so the server
says so instead of failing silently (docs/security.md: put a TLS reverse proxy in front).
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from presswatch import settings
from presswatch.profile import Profile
from presswatch.web.accounts import Accounts
from presswatch.web.app import create_app

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, opened before uvicorn starts so that a taken port is a clear error naming it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn stops gracefully on SIGINT/SIGTERM, then raises the signal again so that the process dies of it.
    `presswatch web` exits 0 after a clean stop instead, like the daemon (`presswatch run`): a supervisor then
    tells a clean stop from a crash."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                getattr(self, "_captured_signals", []).clear()


def account_count(db_path: Path) -> int:
    with Accounts(db_path) as accounts:
        return sum(1 for u in accounts.users() if not u.disabled)


def serve(profile: Profile, host: str = settings.WEB_HOST, port: int = settings.WEB_PORT,
          db_path: Path | None = None, secure_cookies: bool | None = None) -> None:
    """Run until SIGINT/SIGTERM (uvicorn's own handling: open requests finish, then the store closes)."""
    app = create_app(profile, db_path=db_path, secure_cookies=secure_cookies)
    sock = bind(host, port)
    proxies = settings.WEB_TRUSTED_PROXIES.strip()
    config = uvicorn.Config(app, log_level="warning", server_header=False, proxy_headers=bool(proxies),
                            forwarded_allow_ips=proxies or None, access_log=False, lifespan="on")
    _Server(config).run(sockets=[sock])


__all__ = ["account_count", "bind", "is_loopback", "serve"]
