"""CLI messages exist in all six languages with the same keys and placeholders."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from presswatch.messages import Messages, detect_language
from presswatch.profile import LANGS


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_every_message_with_the_same_placeholders(lang: str) -> None:
    assert Messages.keys(lang) == Messages.keys("en")
    en, other = Messages("en"), Messages(lang)
    for key in Messages.keys("en"):
        from presswatch.messages import _catalogue

        def fields(text: str) -> set[str]:
            return set(re.findall(r"{(\w+)", text))

        assert fields(_catalogue(lang)[key]) == fields(_catalogue("en")[key]), (lang, key)
    assert en("search_none") != other("search_none") or lang == "en"


@pytest.mark.parametrize("folder", ["pipeline/locales", "digest/locales"])
def test_no_catalogue_defines_a_key_twice(folder: str) -> None:
    # YAML keeps the last of two equal keys without a word, so an edited copy could silently shadow the first.
    for path in sorted((Path(__file__).resolve().parents[1] / folder).glob("*.yaml")):
        keys = Counter(re.findall(r"^([A-Za-z_]\w*):", path.read_text(encoding="utf-8"), re.MULTILINE))
        assert not [k for k, n in keys.items() if n > 1], f"{path.name}: {[k for k, n in keys.items() if n > 1]}"


def test_language_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PRESSWATCH_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    assert detect_language() == "en"
    monkeypatch.setenv("LANG", "sk_SK.UTF-8")
    assert detect_language() == "sk"
    monkeypatch.setenv("PRESSWATCH_LANG", "mk")
    assert detect_language() == "mk"
    assert detect_language("tr") == "tr"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.delenv("PRESSWATCH_LANG")
    assert detect_language() == "en"
