"""The workspace's catalogues: every language has every key, with the same placeholders and exactly the plural
forms its CLDR rule needs; and every key a template or routes module asks for exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from presswatch.digest.i18n import PLURAL_RULES, placeholders
from presswatch.web.i18n import LANGUAGES, LOCALES_DIR, WebLocaleError, text

WEB = Path(__file__).resolve().parents[1] / "web"


def test_every_language_has_every_key_with_the_same_placeholders() -> None:
    en = text("en")
    for code in LANGUAGES:
        cat = text(code)
        assert set(cat.labels) == set(en.labels), (code, set(cat.labels) ^ set(en.labels))
        assert set(cat.plurals) == set(en.plurals), (code, set(cat.plurals) ^ set(en.plurals))
        for key, template in en.labels.items():
            assert placeholders(cat.labels[key]) == placeholders(template), (code, key)
        for key, forms in cat.plurals.items():
            _, needed = PLURAL_RULES[cat.digest.plural_rule]
            assert set(forms) == set(needed), (code, key, sorted(forms))
            for form in forms.values():
                assert placeholders(form) <= placeholders(en.plurals[key]["other"]) | {"n"}, (code, key)


def test_the_same_files_exist_in_every_language() -> None:
    names = {p.name for p in (LOCALES_DIR / "en").glob("*.yaml")}
    for code in LANGUAGES:
        assert {p.name for p in (LOCALES_DIR / code).glob("*.yaml")} == names, code


def test_translations_are_not_english_copies() -> None:
    en = text("en")
    for code in ("sk", "cs", "lt", "tr", "mk"):
        cat = text(code)
        same = [k for k, v in cat.labels.items() if v == en.labels[k] and re.search(r"[a-z]{4,}", v)
                and k != "app_name"]
        assert len(same) <= max(3, len(en.labels) // 20), (code, same)


def test_macedonian_is_cyrillic() -> None:
    mk = text("mk")
    for key in ("login_title", "nav_search", "status_new", "forbidden_body"):
        assert re.search(r"[\u0400-\u04FF]", mk.t(key)), key


def test_keys_used_by_templates_and_routes_exist() -> None:
    en = text("en")
    used: set[str] = set()
    for path in [*WEB.glob("templates/*.html"), *(p for p in WEB.glob("*.py") if p.name != "i18n.py")]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']\s*[,)]""", source))
        used |= {("plural", k) for k in re.findall(r"""\bplural\(\s*["']([a-z0-9_]+)["']\s*[,)]""", source)}  # type: ignore[arg-type]
    words = {k for k in used if isinstance(k, str)}
    plurals = {k[1] for k in used if isinstance(k, tuple)}
    assert words <= set(en.labels), sorted(words - set(en.labels))
    assert plurals <= set(en.plurals), sorted(plurals - set(en.plurals))


def test_plural_forms_follow_the_language() -> None:
    assert text("sk").plural("login_throttled", 1).endswith("1 minútu.")
    assert text("sk").plural("login_throttled", 3).endswith("3 minúty.")
    assert text("sk").plural("login_throttled", 5).endswith("5 minút.")
    assert text("lt").plural("login_throttled", 21).count("21 minutės") == 1


def test_unknown_language_and_key_are_clear_errors() -> None:
    with pytest.raises(WebLocaleError, match="presswatch speaks"):
        text("de")
    with pytest.raises(WebLocaleError, match="no key 'nope'"):
        text("en").t("nope")
