"""Audits that keep docs/security.md honest: no shell anywhere, one subprocess with a fixed argv, no secret in a
profile field, credentials only through environment variables."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from presswatch.profile import Profile, ProfileError, parse_profile
from tests.test_crawl_server import profile_yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("pipeline", "crawlers", "enrich", "index", "digest")
SECRET_WORDS = ("password", "passwd", "secret", "token", "api_key", "apikey", "credential")


def _sources() -> list[Path]:
    return [p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")]


def test_no_shell_is_ever_called() -> None:
    found: list[str] = []
    spawners: list[str] = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = ast.unparse(node.func)
                if fn in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput") \
                        or fn.startswith("os.exec") or fn.startswith("os.spawn"):
                    found.append(f"{path}:{node.lineno}: {fn}")
                if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                       for k in node.keywords):
                    found.append(f"{path}:{node.lineno}: shell=")
                if fn.startswith("subprocess."):
                    spawners.append(str(path.relative_to(REPO)))
    assert found == []
    # The one process we start: the Scrapy crawl, argv a list (no shell), built from the profile path and ids.
    assert set(spawners) <= {"crawlers/crawl.py"}, spawners


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        for arg in typing.get_args(field.annotation) or (field.annotation,):
            for t in typing.get_args(arg) or (arg,):
                if isinstance(t, type) and issubclass(t, BaseModel):
                    out += _fields(t, f"{prefix}{name}.")
    return out


def test_no_profile_field_holds_a_secret_only_the_name_of_a_variable() -> None:
    fields = _fields(Profile)
    secretish = [f for f in fields if any(w in f.rsplit(".", 1)[-1].lower() for w in SECRET_WORDS)]
    assert secretish and all(f.endswith("_env") for f in secretish), secretish


def test_example_profiles_name_variables_and_hold_no_password() -> None:
    for path in (REPO / "config").glob("*.yaml"):
        for line in path.read_text(encoding="utf-8").splitlines():
            low = line.lower()
            if any(w in low for w in SECRET_WORDS):
                assert "_env" in low, f"{path.name}: {line.strip()}"


@pytest.mark.parametrize("url", ["https://user:secret@es.example:9200", "ftp://es.example/"])
def test_store_url_with_credentials_or_another_scheme_is_refused(url: str) -> None:
    text = profile_yaml() + f"store: {{backend: elasticsearch, url: '{url}'}}\n"
    with pytest.raises(ProfileError):
        parse_profile(text)


def test_webhook_channel_must_be_http() -> None:
    text = profile_yaml() + "alerts:\n  channels:\n    - {type: webhook, url: 'file:///tmp/hook'}\n"
    with pytest.raises(ProfileError, match="http"):
        parse_profile(text)
