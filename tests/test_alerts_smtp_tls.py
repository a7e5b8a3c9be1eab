"""SMTP with STARTTLS and login on real parts: aiosmtpd on 127.0.0.1 offering STARTTLS with a self-signed
certificate made at test time (the `cryptography` package), requiring AUTH only inside TLS, as a real relay does.
Credentials come from the environment variables the profile names; the profile never holds a secret."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from presswatch.digest.alerts import Alerter
from presswatch.digest.mail import DeliveryError, build_message, send
from presswatch.digest.smtpd import LoopbackSmtp, _Controller, _Handler
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import Alerts, Channel, ProfileError, Smtp, parse_profile
from presswatch.state import State
from tests.test_digest_support import MUNI, audit_story, demo_profile, text_part

PRESS = "tlacove@stara-horka.example"
DAYTIME = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost) that is its own CA, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "presswatch test relay")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class TlsSmtp(LoopbackSmtp):
    """LoopbackSmtp that offers STARTTLS, requires it before anything else, and requires AUTH inside it."""

    def __init__(self, context: ssl.SSLContext, credentials: tuple[str, str]) -> None:
        super().__init__(credentials=credentials)
        self.context = context

    def start(self) -> TlsSmtp:
        controller = _Controller(_Handler(self), hostname=self.host, port=self._requested_port,
                                 tls_context=self.context, require_starttls=True, authenticator=self._authenticate,
                                 auth_required=True, auth_require_tls=True)
        controller.start()
        self._controller = controller
        return self


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[TlsSmtp, Path]]:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with TlsSmtp(context, ("press", "s3cret")) as server:
        yield server, cert


def _profile(port: int, **smtp: Any) -> Any:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "sender": "presswatch@stara-horka.example",
                                "starttls": True, "username_env": "PW_SMTP_USER", "password_env": "PW_SMTP_PASSWORD"}
    settings.update(smtp)
    return demo_profile(port).model_copy(update={"smtp": Smtp(**settings)})


def test_an_alert_goes_out_over_starttls_with_the_login_from_the_environment(
        store: tuple[State, SqliteIndex], relay: tuple[TlsSmtp, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    server, cert = relay
    monkeypatch.setenv("PW_SMTP_USER", "press")
    monkeypatch.setenv("PW_SMTP_PASSWORD", "s3cret")
    profile = _profile(server.port, ca_file=str(cert))
    profile = profile.model_copy(update={"alerts": Alerts(rules=profile.alerts.rules,
                                                          channels=[Channel(type="email", to=[PRESS])])})
    state, index = store
    story = audit_story()
    index.upsert(story)
    alerter = Alerter.from_profile(profile, state, index)
    alerter.route(story)
    report = alerter.deliver_pending(DAYTIME)
    assert (report.sent, report.errors) == (1, ())
    assert server.logins == ["press"]
    (msg,) = server.messages
    assert "Kritický článok" in msg["Subject"] and "Kľúčový výraz: zatajil" in text_part(msg)
    assert state.alert_counts(MUNI)["sent"] == 1


def test_an_unverifiable_certificate_is_refused_not_ignored(relay: tuple[TlsSmtp, Path],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = relay
    monkeypatch.setenv("PW_SMTP_USER", "press")
    monkeypatch.setenv("PW_SMTP_PASSWORD", "s3cret")
    msg = build_message(sender="presswatch@stara-horka.example", to=[PRESS], subject="x", text="x")
    with pytest.raises(DeliveryError, match="TLS failed.*CERTIFICATE_VERIFY_FAILED") as refused:
        send(_profile(server.port), msg)  # no ca_file: the system's trust store does not know this relay
    assert not refused.value.transient and server.logins == [] and server.messages == []


def test_a_wrong_password_inside_tls_is_a_clear_permanent_error(relay: tuple[TlsSmtp, Path]) -> None:
    server, cert = relay
    msg = build_message(sender="presswatch@stara-horka.example", to=[PRESS], subject="x", text="x")
    with pytest.raises(DeliveryError, match="login refused: 535") as refused:
        send(_profile(server.port, ca_file=str(cert)), msg, env={"PW_SMTP_USER": "press",
                                                                  "PW_SMTP_PASSWORD": "wrong"})
    assert not refused.value.transient and server.messages == []


def test_a_password_is_never_sent_without_starttls_to_a_remote_host() -> None:
    profile = _profile(587, host="smtp.stara-horka.example", starttls=False)
    msg = build_message(sender="presswatch@stara-horka.example", to=[PRESS], subject="x", text="x")
    with pytest.raises(DeliveryError, match="refusing to send the SMTP password without STARTTLS") as refused:
        send(profile, msg, env={"PW_SMTP_USER": "press", "PW_SMTP_PASSWORD": "s3cret"})  # refused before connecting
    assert not refused.value.transient


def test_login_without_tls_is_allowed_on_loopback_only() -> None:
    with LoopbackSmtp(credentials=("press", "s3cret")) as smtp:
        msg = build_message(sender="presswatch@stara-horka.example", to=[PRESS], subject="x", text="x")
        send(_profile(smtp.port, starttls=False), msg, env={"PW_SMTP_USER": "press", "PW_SMTP_PASSWORD": "s3cret"})
        assert smtp.logins == ["press"] and len(smtp.messages) == 1


def test_the_profile_has_no_place_for_a_secret() -> None:
    text = ("municipality: {id: x, name: X, country: SK, languages: [sk], timezone: Europe/Bratislava}\n"
            "smtp:\n  host: smtp.example.org\n  password: hunter2\n")
    with pytest.raises(ProfileError, match=r"smtp\.password: unknown key"):
        parse_profile(text)
