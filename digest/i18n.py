"""Labels, dates and numbers as a reader in each of presswatch's languages expects them.

Every word the briefing and the alerts show lives in `digest/locales/<lang>.yaml` (sk, cs, lt, tr, mk, en),
together with that language's date and number conventions, month and weekday names and plural forms. A file is
read once, on first use. `tests/test_digest_i18n.py` checks that every locale has every key, the same
placeholders and exactly the plural forms its language needs.

Plurals follow the CLDR integer rules (https://cldr.unicode.org/index/cldr-spec/plural-rules): Slovak and Czech
one/few/other, Lithuanian one/few/other, Macedonian one/other, Turkish and English one/other. Where a number is
not a whole count (an average such as 2,3) the labels are phrased as "label: value", which needs no plural.
"""

from __future__ import annotations

import datetime as dt
import functools
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LANGUAGES: tuple[str, ...] = ("sk", "cs", "lt", "tr", "mk", "en")
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


def _slavic_west(n: int) -> str:  # sk, cs
    if n == 1:
        return "one"
    if 2 <= n <= 4:
        return "few"
    return "other"


def _lithuanian(n: int) -> str:
    if n % 10 == 1 and not 11 <= n % 100 <= 19:
        return "one"
    if 2 <= n % 10 <= 9 and not 11 <= n % 100 <= 19:
        return "few"
    return "other"


def _macedonian(n: int) -> str:
    return "one" if n % 10 == 1 and n % 100 != 11 else "other"


def _one_other(n: int) -> str:  # en, tr
    return "one" if n == 1 else "other"


PLURAL_RULES: dict[str, tuple[Callable[[int], str], tuple[str, ...]]] = {
    "slavic_west": (_slavic_west, ("one", "few", "other")),
    "lithuanian": (_lithuanian, ("one", "few", "other")),
    "macedonian": (_macedonian, ("one", "other")),
    "one_other": (_one_other, ("one", "other")),
}

# The tokens a date/time pattern in `format:` may use.
DATE_TOKENS = frozenset({"day", "dd", "month", "mm", "month_name", "month_gen", "year", "weekday"})
TIME_TOKENS = frozenset({"hour", "hh", "minute"})


class LocaleError(ValueError):
    """A locale file is missing or malformed; the message names the file and the key."""


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True, slots=True)
class Locale:
    """One language's catalogue. `t("key", name=...)` and `plural("key", n)` return plain text (the templates
    escape it for HTML)."""

    code: str
    name: str
    plural_rule: str
    labels: Mapping[str, str]
    plurals: Mapping[str, Mapping[str, str]]
    formats: Mapping[str, str]
    months: tuple[str, ...]
    months_genitive: tuple[str, ...]
    weekdays: tuple[str, ...]

    # --- words ---------------------------------------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> str:
        try:
            template = self.labels[key]
        except KeyError:
            raise KeyError(f"digest/locales/{self.code}.yaml has no label {key!r}") from None
        return template.format_map(values) if values else template

    def plural(self, key: str, n: int, **values: Any) -> str:
        rule, _ = PLURAL_RULES[self.plural_rule]
        try:
            forms = self.plurals[key]
        except KeyError:
            raise KeyError(f"digest/locales/{self.code}.yaml has no plural {key!r}") from None
        return forms[rule(abs(int(n)))].format_map({"n": self.number(n), **values})

    def quote(self, text: str) -> str:
        return self.formats["quote"].format(text=text)

    def join(self, items: Iterable[str]) -> str:
        return self.formats["list_sep"].join(items)

    # --- dates and times -----------------------------------------------------------------------------------------
    def date(self, d: dt.date) -> str:
        """The short local date: sk/cs `22. 11. 2026`, lt `2026-11-22`, tr/mk `22.11.2026`, en `22 November 2026`."""
        return self.formats["date"].format_map(self._date_values(d))

    def date_long(self, d: dt.date) -> str:
        """With the weekday and the month's name, for subjects and headings."""
        return self.formats["date_long"].format_map(self._date_values(d))

    def time(self, t: dt.time | dt.datetime) -> str:
        return self.formats["time"].format(hour=t.hour, hh=f"{t.hour:02d}", minute=f"{t.minute:02d}")

    def datetime(self, moment: dt.datetime, tz: dt.tzinfo | None = None) -> str:
        """A moment in the reader's zone (`tz`; the store keeps UTC)."""
        local = moment.astimezone(tz) if tz is not None else moment
        return self.formats["datetime"].format(date=self.date(local), time=self.time(local))

    def _date_values(self, d: dt.date) -> dict[str, Any]:
        return {"day": d.day, "dd": f"{d.day:02d}", "month": d.month, "mm": f"{d.month:02d}", "year": d.year,
                "month_name": self.months[d.month - 1], "month_gen": self.months_genitive[d.month - 1],
                "weekday": self.weekdays[d.weekday()]}

    # --- numbers -------------------------------------------------------------------------------------------------
    def number(self, value: float, decimals: int = 0) -> str:
        """`1234.5` → sk `1 234,5`, tr `1.234,5`, en `1,234.5` (grouping from 5 digits in sk/cs/lt, as their
        style guides recommend, from 4 elsewhere)."""
        raw = f"{value:,.{decimals}f}"  # "1,234.5"
        integer, _, fraction = raw.partition(".")
        digits = integer.lstrip("-")
        group = self.formats["group"]
        if len(digits.replace(",", "")) < int(self.formats.get("group_min_digits", "4")):
            integer = integer.replace(",", "")
        else:
            integer = integer.replace(",", group)
        return integer + (self.formats["decimal"] + fraction if fraction else "")

    def percent(self, ratio: float, decimals: int = 0) -> str:
        """`0.5` → sk `50 %`, tr `%50`, en `50%`."""
        return self.formats["percent"].format(value=self.number(ratio * 100, decimals))


_REQUIRED_FORMATS = ("date", "date_long", "time", "datetime", "decimal", "group", "percent", "quote", "list_sep")


def _parse(code: str, data: Any, path: Path) -> Locale:
    if not isinstance(data, dict):
        raise LocaleError(f"{path}: expected a mapping")

    def section(key: str) -> Any:
        if key not in data:
            raise LocaleError(f"{path}: missing section {key!r}")
        return data[key]

    meta = section("meta")
    formats = {str(k): str(v) for k, v in section("format").items()}
    for key in _REQUIRED_FORMATS:
        if key not in formats:
            raise LocaleError(f"{path}: format.{key} is missing")
    rule = str(meta.get("plural", ""))
    if rule not in PLURAL_RULES:
        raise LocaleError(f"{path}: meta.plural must be one of {sorted(PLURAL_RULES)}, got {rule!r}")
    months, months_gen, weekdays = section("months"), section("months_genitive"), section("weekdays")
    if len(months) != 12 or len(months_gen) != 12 or len(weekdays) != 7:
        raise LocaleError(f"{path}: months/months_genitive need 12 names and weekdays 7 (Monday first)")
    return Locale(
        code=code,
        name=str(meta.get("name", code)),
        plural_rule=rule,
        labels={str(k): str(v) for k, v in section("labels").items()},
        plurals={str(k): {str(c): str(f) for c, f in forms.items()} for k, forms in section("plurals").items()},
        formats=formats,
        months=tuple(str(m) for m in months),
        months_genitive=tuple(str(m) for m in months_gen),
        weekdays=tuple(str(w) for w in weekdays),
    )


@functools.cache
def locale(code: str) -> Locale:
    """The catalogue for `code` (one of LANGUAGES), read from its file on first use."""
    if code not in LANGUAGES:
        raise LocaleError(f"no digest locale {code!r}; presswatch speaks {', '.join(LANGUAGES)}")
    path = LOCALES_DIR / f"{code}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LocaleError(f"{path}: {exc}") from None
    return _parse(code, data, path)


__all__ = ["LANGUAGES", "Locale", "LocaleError", "PLURAL_RULES", "locale", "placeholders"]
