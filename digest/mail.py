"""Email: build a MIME message, keep a copy as .eml, deliver it over SMTP.

Messages are multipart/alternative (plain text first, HTML second, as RFC 2046 orders them: the last part is the
preferred one), UTF-8 with quoted-printable bodies (7-bit safe for any relay, still readable raw), and headers
encoded by the `email` package's default policy (RFC 2047 for a non-ASCII Subject or display name).

Credentials never come from the profile: `smtp.username_env` / `smtp.password_env` name environment variables
and only those are read. A password is sent only inside STARTTLS (certificate and host name verified, against
`smtp.ca_file` when the relay has a private CA), or to a loopback relay, where nothing crosses a network. Every delivery problem is raised as `DeliveryError`, naming host:port and the reason;
`transient` says whether trying again later can help (server unreachable, timeout, 4xx) or not (5xx refusal).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path

from presswatch.digest import defaults
from presswatch.profile import Profile

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message (or webhook call) that did not reach its server. `target` is host:port (or the webhook URL)."""

    def __init__(self, target: str, reason: str, *, transient: bool = True) -> None:
        super().__init__(f"cannot deliver via {target}: {reason}")
        self.target = target
        self.reason = reason
        self.transient = transient


def _domain(sender: str) -> str:
    addr = parseaddr(sender)[1]
    domain = addr.rpartition("@")[2] if "@" in addr else ""
    return domain or "presswatch.localhost"


def message_id(sender: str, *parts: str) -> str:
    """A Message-ID that is the same for the same content key (e.g. municipality, day, language): if a crash
    between the server's acceptance and our ledger write makes us send again, mail clients see a duplicate of
    the same message, not a second one."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]
    kind = parts[0] if parts else "mail"
    return f"<{kind}.{digest}@{_domain(sender)}>"


# Headers stored already encoded (`set_raw`: the Subject, a non-ASCII From) are written as they are, never refolded by
# the `email` package, whose folding of encoded words is what loses and adds spaces (see set_subject).
MESSAGE_POLICY = policy.default.clone(refold_source="none")


def set_subject(msg: EmailMessage, subject: str) -> None:
    """Set a Subject that every reader decodes to exactly `subject`.

    The `email` package's folding of a long non-ASCII header (Python 3.11) sometimes puts the space between two
    words outside the encoded-words, where RFC 2047 tells a reader to drop it: "v časti Dolná" arrived as
    "v častiDolná" in about one subject in ten (and a display name could gain a space). `Header.encode` keeps every space inside an encoded-word; the
    result is stored as is (`set_raw`: its lines are under 78 characters, so nothing refolds it)."""
    if subject.isascii():
        msg["Subject"] = subject
    else:
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def build_message(*, sender: str, to: Sequence[str], subject: str, text: str, html: str | None = None,
                  sender_name: str | None = None, msg_id: str | None = None, date: datetime | None = None,
                  language: str | None = None, headers: Mapping[str, str] | None = None) -> EmailMessage:
    """A complete message: text/plain alone, or multipart/alternative text + HTML."""
    msg = EmailMessage(policy=MESSAGE_POLICY)
    addr = parseaddr(sender)[1] or sender
    name = " ".join((sender_name or "").split())
    if name.isascii():
        msg["From"] = Address(display_name=name, addr_spec=addr)
    else:  # the same folding fault as the Subject's, inside a display name: one encoded-word, never split
        msg.set_raw("From", formataddr((name, addr), charset="utf-8"))
    msg["To"] = ", ".join(to)
    set_subject(msg, " ".join(subject.split()))  # a header is one line; titles can carry newlines and tabs
    when = date or datetime.now(UTC)
    msg["Date"] = format_datetime(when if when.tzinfo else when.replace(tzinfo=UTC))
    msg["Message-ID"] = msg_id or message_id(sender, "mail", subject, msg["Date"])
    msg["MIME-Version"] = "1.0"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders must not answer
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if language:  # after the body: set_content/add_alternative move Content-* headers into the parts
        msg["Content-Language"] = language
    return msg


def write_eml(msg: EmailMessage, path: Path) -> Path:
    """Write the message as an .eml file (CRLF line ends, as on the wire), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
    tmp.replace(path)
    return path


def recipients(msg: EmailMessage) -> list[str]:
    out: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        for value in msg.get_all(header, []):
            out += [a.addr_spec for a in getattr(value, "addresses", ())]
    return out


def _credentials(profile: Profile, env: Mapping[str, str], target: str) -> tuple[str, str] | None:
    user_var, pass_var = profile.smtp.username_env, profile.smtp.password_env
    if not user_var and not pass_var:
        return None
    missing = [v for v in (user_var, pass_var) if v and not env.get(v)]
    if not user_var or not pass_var or missing:
        what = ", ".join(missing) if missing else "smtp.username_env and smtp.password_env must both be set"
        raise DeliveryError(target, f"SMTP login configured but credentials are missing ({what}); set the "
                                    "environment variables the profile names", transient=False)
    return env[user_var], env[pass_var]


def send(profile: Profile, msg: EmailMessage, *, timeout: float | None = None,
         env: Mapping[str, str] | None = None) -> str:
    """Deliver `msg` through the profile's SMTP server; returns its Message-ID once the server accepted it.

    Raises DeliveryError (host:port and why) if the server cannot be reached, refuses TLS, the login or every
    recipient, or the message. Recipients refused while others were accepted are logged, not raised: the
    message was delivered, and sending it again would reach the others twice."""
    smtp = profile.smtp
    target = f"{smtp.host}:{smtp.port}"
    to = recipients(msg)
    if not to:
        raise DeliveryError(target, "the message has no recipients", transient=False)
    login = _credentials(profile, os.environ if env is None else env, target)
    if login and not smtp.starttls and not is_loopback(smtp.host):
        raise DeliveryError(target, "refusing to send the SMTP password without STARTTLS to a host that is not "
                                    "loopback; set smtp.starttls: true", transient=False)
    context = _tls_context(smtp.ca_file, target) if smtp.starttls else None
    timeout = defaults.SMTP_TIMEOUT_S if timeout is None else timeout
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout) as client:
            client.ehlo()
            if smtp.starttls:
                if not client.has_extn("starttls"):
                    raise DeliveryError(target, "the server does not offer STARTTLS (smtp.starttls is true)",
                                        transient=False)
                client.starttls(context=context)
                client.ehlo()
            if login:
                client.login(*login)
            refused = client.send_message(msg, to_addrs=to)
    except DeliveryError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(target, f"login refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                            transient=False) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        detail = "; ".join(f"{rcpt}: {code} {_text(err)}" for rcpt, (code, err) in exc.recipients.items())
        raise DeliveryError(target, f"every recipient refused ({detail})", transient=_all_4xx(
            code for code, _ in exc.recipients.values())) from exc
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, ...
        raise DeliveryError(target, f"server said {exc.smtp_code} {_text(exc.smtp_error)}",
                            transient=400 <= exc.smtp_code < 500) from exc
    except TimeoutError as exc:
        raise DeliveryError(target, f"timed out after {timeout:g} s") from exc
    except ssl.SSLError as exc:
        raise DeliveryError(target, f"TLS failed: {exc}", transient=False) from exc
    except ConnectionRefusedError as exc:
        raise DeliveryError(target, "connection refused (is the SMTP server running?)") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(target, f"{type(exc).__name__}: {exc}") from exc
    if refused:
        log.warning("%s accepted %s but refused %s", target, msg["Message-ID"],
                    ", ".join(f"{r} ({c} {_text(e)})" for r, (c, e) in refused.items()))
    return str(msg["Message-ID"])


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`: a connection that never leaves the machine."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower().rstrip(".") == "localhost"


def _tls_context(ca_file: str | None, target: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)  # verifies the chain and the host name
    except (OSError, ssl.SSLError) as exc:
        raise DeliveryError(target, f"cannot read smtp.ca_file {ca_file!r}: {exc}", transient=False) from exc


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _all_4xx(codes: Iterable[int]) -> bool:
    values = list(codes)
    return bool(values) and all(400 <= c < 500 for c in values)


__all__ = ["DeliveryError", "build_message", "is_loopback", "message_id", "recipients", "send", "write_eml"]
