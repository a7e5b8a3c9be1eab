"""The workspace's words in the six languages presswatch serves.

Each language has a folder `web/locales/<lang>/` of YAML files (one per page family: common.yaml, search.yaml,
clipping.yaml, ...) whose keys are merged; the same keys must exist in every language with the same placeholders
(tests/test_web_i18n.py). Plural forms are written as a mapping `{one: ..., few: ..., other: ...}` and chosen
with the language's CLDR rule. Dates, times and numbers are formatted by the briefing's locales (digest/i18n.py),
so a date reads the same in the workspace as in the morning email.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from presswatch.digest.i18n import LANGUAGES, PLURAL_RULES, Locale, locale

LOCALES_DIR = Path(__file__).resolve().parent / "locales"


class WebLocaleError(ValueError):
    """A missing or malformed catalogue file or key; the message names the file or key."""


@dataclass(frozen=True, slots=True)
class WebText:
    """One language's catalogue: `t("key", n=3)` (plain text; templates escape it) and `plural("key", n)`."""

    code: str
    labels: Mapping[str, str]
    plurals: Mapping[str, Mapping[str, str]]
    digest: Locale  # dates, numbers, status/flag/sentiment names shared with the briefing

    def t(self, key: str, **values: Any) -> str:
        try:
            template = self.labels[key]
        except KeyError:
            raise WebLocaleError(f"web/locales/{self.code}/ has no key {key!r}") from None
        return template.format_map(values) if values else template

    def plural(self, key: str, n: int, **values: Any) -> str:
        rule, _ = PLURAL_RULES[self.digest.plural_rule]
        try:
            forms = self.plurals[key]
        except KeyError:
            raise WebLocaleError(f"web/locales/{self.code}/ has no plural {key!r}") from None
        return forms[rule(n)].format_map({"n": self.digest.number(n), **values})

    def date(self, d: dt.date) -> str:
        return self.digest.date(d)

    def datetime(self, moment: dt.datetime, tz: dt.tzinfo | None = None) -> str:
        return self.digest.datetime(moment, tz)

    def number(self, value: float, decimals: int = 0) -> str:
        return self.digest.number(value, decimals)

    def status(self, status: str) -> str:
        return self.t(f"status_{status}")


def _load(code: str) -> WebText:
    labels: dict[str, str] = {}
    plurals: dict[str, dict[str, str]] = {}
    folder = LOCALES_DIR / code
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise WebLocaleError(f"{path}: {exc}") from None
        if not isinstance(data, dict):
            raise WebLocaleError(f"{path}: expected a mapping of keys to texts")
        for key, value in data.items():
            if str(key) in labels or str(key) in plurals:
                raise WebLocaleError(f"{path}: key {key!r} is defined twice in web/locales/{code}/")
            if isinstance(value, dict):
                plurals[str(key)] = {str(k): str(v) for k, v in value.items()}
            else:
                labels[str(key)] = str(value)
    if not labels:
        raise WebLocaleError(f"{folder}: no catalogue files")
    return WebText(code=code, labels=labels, plurals=plurals, digest=locale(code))


@functools.cache
def text(code: str) -> WebText:
    """The workspace catalogue for `code`, read on first use; an unknown code is an error naming the languages."""
    if code not in LANGUAGES:
        raise WebLocaleError(f"no workspace language {code!r}; presswatch speaks {', '.join(LANGUAGES)}")
    return _load(code)


__all__ = ["LANGUAGES", "LOCALES_DIR", "WebLocaleError", "WebText", "text"]
