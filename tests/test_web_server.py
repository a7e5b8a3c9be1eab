"""`presswatch web` as an operator starts it: a taken port, a remote interface without Secure cookies, a store
without accounts, a clean exit on SIGTERM, and the client address behind a trusted reverse proxy."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from presswatch.web.accounts import Accounts
from tests.web_support import StoreCopy, demo_store, workspace_store  # noqa: F401

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web(store: StoreCopy, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "presswatch.cli", "web", "--profile", str(store.profile_path),
                             *args], cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PRESSWATCH_DB": str(store.db_path), "PRESSWATCH_LANG": "en",
                                 **(env or {})})


def wait_up(base: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/login", timeout=2):
                return
        except OSError:
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.2)
    raise AssertionError("presswatch web did not answer")


def test_a_taken_port_is_a_clear_error(workspace_store: StoreCopy) -> None:  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = web(workspace_store, "--port", str(port))
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err


def test_remote_interface_without_secure_cookies_is_refused(workspace_store: StoreCopy) -> None:  # noqa: F811
    proc = web(workspace_store, "--host", "0.0.0.0", "--port", str(free_port()),
               env={"PRESSWATCH_WEB_SECURE_COOKIES": "0"})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "Refusing to serve 0.0.0.0" in err


def test_no_accounts_says_how_to_make_one_and_sigterm_exits_zero(demo_store: StoreCopy,  # noqa: F811
                                                                  tmp_path: Path) -> None:
    from tests.web_support import copy_store

    db = tmp_path / "presswatch.db"
    copy_store(demo_store.db_path, db)
    store = StoreCopy(demo_store.profile, demo_store.profile_path, db)
    port = free_port()
    proc = web(store, "--port", str(port))
    wait_up(f"http://127.0.0.1:{port}", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "presswatch user add NAME --role admin" in err
    assert f"http://127.0.0.1:{port}/" in err


def test_client_address_from_a_trusted_proxy_only(workspace_store: StoreCopy) -> None:  # noqa: F811
    """Failed logins are counted per client: behind a trusted proxy that is the forwarded address, otherwise the
    peer's (a forged X-Forwarded-For from anyone else is ignored)."""

    def fail_login(base: str, forwarded: str) -> None:
        with urllib.request.urlopen(base + "/login", timeout=10) as r:
            html = r.read().decode()
            cookie = r.headers["set-cookie"].split(";")[0]
        token = re.search(r'name="csrf" value="([^"]+)"', html)
        assert token
        body = urllib.parse.urlencode({"csrf": token.group(1), "name": "proxied", "password": "wrong wrong"})
        req = urllib.request.Request(base + "/login", data=body.encode(), method="POST",
                                     headers={"Cookie": cookie, "X-Forwarded-For": forwarded})
        try:
            urllib.request.urlopen(req, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        else:
            raise AssertionError("a wrong password logged in")

    clients = {}
    for trusted in ("127.0.0.1", ""):
        port = free_port()
        proc = web(workspace_store, "--port", str(port), env={"PRESSWATCH_WEB_TRUSTED_PROXIES": trusted,
                                                              "PRESSWATCH_WEB_SECURE_COOKIES": "0"})
        try:
            wait_up(f"http://127.0.0.1:{port}", proc)
            fail_login(f"http://127.0.0.1:{port}", "203.0.113.7")
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
        with Accounts(workspace_store.db_path) as accounts:
            clients[trusted] = accounts.audit_log(limit=1, action="login_failed")[0].client
    assert clients["127.0.0.1"] == "203.0.113.7"
    assert clients[""] == "127.0.0.1"
