"""A real SMTP server on loopback that keeps what it receives: for the demo and for tests (STYLE.md, 12).

`LoopbackSmtp` runs aiosmtpd's threaded `Controller` on 127.0.0.1. Port 0 asks the OS for a free port; the
port actually bound is `.port` once started. Every accepted message is parsed with `email.policy.default` into
`.messages` (and its envelope into `.envelopes`), and written as `<n>.eml` into `maildir` when one is given.
It can require a login (`credentials`) and refuse chosen recipients (`refuse`), so that delivery code is tested
against the answers a real server gives.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes


class _Controller(Controller):
    def factory(self) -> SMTP:
        # AUTH without TLS is what LoopbackSmtp is for (127.0.0.1 only); aiosmtpd warns about it on each connection.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return cast(SMTP, super().factory())

    def _trigger_server(self) -> None:
        # With port 0 the OS chose the port when the listening socket was bound (in _run, before this is called):
        # read it back so that the readiness probe, and everyone else, connects to the right one.
        server = cast(asyncio.Server | None, self.server)
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    def __init__(self, owner: LoopbackSmtp) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.owner.refuse:
            return f"550 5.1.1 <{address}>: recipient refused by LoopbackSmtp"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.owner._accept(str(envelope.mail_from or ""), tuple(envelope.rcpt_tos), raw)
        return "250 2.0.0 Message accepted for delivery"


class LoopbackSmtp:
    """`with LoopbackSmtp(maildir=path) as smtp: ... smtp.port ... smtp.messages`"""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", maildir: Path | None = None,
                 credentials: tuple[str, str] | None = None, refuse: Collection[str] = ()) -> None:
        self.host = host
        self._requested_port = port
        self.maildir = maildir
        self.credentials = credentials
        self.refuse = {r.lower() for r in refuse}
        self.received: list[Received] = []
        self.logins: list[str] = []
        self._cond = threading.Condition()
        self._controller: _Controller | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> LoopbackSmtp:
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=False)
        controller = _Controller(_Handler(self), hostname=self.host, port=self._requested_port, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LoopbackSmtp:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("LoopbackSmtp is not running: use it as a context manager or call start()")
        return int(self._controller.port)

    # --- what arrived ------------------------------------------------------------------------------------------
    @property
    def messages(self) -> list[EmailMessage]:
        with self._cond:
            return [r.message for r in self.received]

    @property
    def envelopes(self) -> list[tuple[str, tuple[str, ...]]]:
        with self._cond:
            return [(r.mail_from, r.rcpt_tos) for r in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived (the sender returns only after the server's 250, so
        tests rarely need this; a daemon thread sending in the background does)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {count} messages, got {len(self.received)} in {timeout:g} s")
                self._cond.wait(left)
            return [r.message for r in self.received]

    def clear(self) -> None:
        with self._cond:
            self.received.clear()

    # --- internals ---------------------------------------------------------------------------------------------
    def _accept(self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> None:
        message = cast(EmailMessage, message_from_bytes(raw, policy=policy.default))
        with self._cond:
            self.received.append(Received(mail_from, rcpt_tos, message, raw))
            n = len(self.received)
            self._cond.notify_all()
        if self.maildir is not None:
            self.maildir.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^\w.-]+", "-", str(message.get("Subject", "")), flags=re.ASCII).strip("-")[:60]
            (self.maildir / f"{n:04d}-{slug or 'message'}.eml").write_bytes(raw)

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.credentials is not None:
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if (login, password) == self.credentials:
                self.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


__all__ = ["LoopbackSmtp", "Received"]
