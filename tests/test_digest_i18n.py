"""The digest's catalogues: every locale has every key, the same placeholders and its language's plural forms;
dates and numbers look as a local reader expects; every label the templates and code ask for exists."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presswatch.digest.i18n import LANGUAGES, PLURAL_RULES, locale, placeholders

DIGEST = Path(__file__).resolve().parents[1] / "digest"
D = date(2026, 11, 22)


def test_every_locale_file_exists_and_loads() -> None:
    assert sorted(p.stem for p in (DIGEST / "locales").glob("*.yaml")) == sorted(LANGUAGES)
    for lang in LANGUAGES:
        assert locale(lang).code == lang


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_locale_has_every_key_with_the_same_placeholders(lang: str) -> None:
    en, other = locale("en"), locale(lang)
    assert set(other.labels) == set(en.labels), f"{lang}: missing {set(en.labels) - set(other.labels)}, " \
                                                f"extra {set(other.labels) - set(en.labels)}"
    for key, text in en.labels.items():
        assert placeholders(other.labels[key]) == placeholders(text), f"{lang}.{key}"
        assert other.labels[key].strip(), f"{lang}.{key} is empty"
    assert set(other.plurals) == set(en.plurals)
    for key in en.plurals:
        for form in other.plurals[key].values():
            assert placeholders(form) == {"n"}, f"{lang}.plurals.{key}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_forms_are_exactly_the_languages_categories(lang: str) -> None:
    loc = locale(lang)
    _, categories = PLURAL_RULES[loc.plural_rule]
    for key, forms in loc.plurals.items():
        assert set(forms) == set(categories), f"{lang}.plurals.{key}: {sorted(forms)} != {sorted(categories)}"


def test_translations_are_translated() -> None:
    en = locale("en").labels
    for lang in ("sk", "cs", "lt", "tr", "mk"):
        same = [k for k, v in locale(lang).labels.items() if v == en[k] and placeholders(v) != {v.strip("{}")}
                and not re.fullmatch(r"[{}\w\s:()]*", v.replace("flag", "").replace("title", "").replace(
                    "outlet", ""))]
        assert not same, f"{lang}: still English: {same}"


def test_macedonian_is_cyrillic() -> None:
    mk = locale("mk")
    for key, text in mk.labels.items():
        letters = re.sub(r"\{\w+\}|presswatch", "", text)
        assert not re.search(r"[A-Za-z]", letters), f"mk.{key} has Latin letters: {text!r}"
        if re.search(r"\w", letters):
            assert re.search(r"[\u0400-\u04FF]", letters), f"mk.{key}"
    assert all(re.fullmatch(r"[\u0400-\u04FF]+", m) for m in mk.months + mk.weekdays)


@pytest.mark.parametrize(("lang", "short", "long"), [
    ("sk", "22. 11. 2026", "nedeľa 22. novembra 2026"),
    ("cs", "22. 11. 2026", "neděle 22. listopadu 2026"),
    ("lt", "2026-11-22", "2026 m. lapkričio 22 d., sekmadienis"),
    ("tr", "22.11.2026", "22 Kasım 2026 Pazar"),
    ("mk", "22.11.2026", "недела, 22 ноември 2026"),
    ("en", "22 November 2026", "Sunday, 22 November 2026"),
])
def test_local_dates(lang: str, short: str, long: str) -> None:
    assert locale(lang).date(D) == short
    assert locale(lang).date_long(D) == long


def test_single_digit_dates_and_times() -> None:
    d = date(2026, 3, 5)
    assert locale("sk").date(d) == "5. 3. 2026"
    assert locale("lt").date(d) == "2026-03-05"
    assert locale("tr").date(d) == "05.03.2026"
    assert locale("sk").time(time(7, 5)) == "7:05"
    assert locale("en").time(time(7, 5)) == "07:05"


def test_datetimes_are_shown_in_the_profile_zone() -> None:
    utc = datetime(2026, 11, 21, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert locale("sk").datetime(utc, ZoneInfo("Europe/Bratislava")) == "22. 11. 2026 0:30"
    assert locale("tr").datetime(utc, ZoneInfo("Europe/Istanbul")) == "22.11.2026 02:30"


@pytest.mark.parametrize(("lang", "big", "small", "pct"), [
    ("sk", "12\u00a0345,7", "2,5", "50\u00a0%"),
    ("cs", "12\u00a0345,7", "2,5", "50\u00a0%"),
    ("lt", "12\u00a0345,7", "2,5", "50\u00a0%"),
    ("tr", "12.345,7", "2,5", "%50"),
    ("mk", "12.345,7", "2,5", "50%"),
    ("en", "12,345.7", "2.5", "50%"),
])
def test_numbers(lang: str, big: str, small: str, pct: str) -> None:
    loc = locale(lang)
    assert loc.number(12345.67, 1) == big
    assert loc.number(2.5, 1) == small
    assert loc.percent(0.5) == pct
    assert loc.number(1000) in ("1000", "1.000", "1,000")


@pytest.mark.parametrize(("lang", "n", "expected"), [
    ("sk", 1, "1 článok"), ("sk", 3, "3 články"), ("sk", 5, "5 článkov"), ("sk", 0, "0 článkov"),
    ("cs", 2, "2 články"), ("cs", 11, "11 článků"),
    ("lt", 1, "1 straipsnis"), ("lt", 21, "21 straipsnis"), ("lt", 2, "2 straipsniai"), ("lt", 10, "10 straipsnių"),
    ("lt", 11, "11 straipsnių"), ("lt", 12, "12 straipsnių"),
    ("mk", 1, "1 статија"), ("mk", 11, "11 статии"), ("mk", 21, "21 статија"),
    ("tr", 3, "3 haber"), ("en", 1, "1 clipping"), ("en", 2, "2 clippings"),
])
def test_plurals(lang: str, n: int, expected: str) -> None:
    assert locale(lang).plural("clippings", n) == expected


def test_every_label_the_templates_and_code_use_exists() -> None:
    used: set[str] = set()
    plural_used: set[str] = set()
    for path in list((DIGEST / "templates").glob("*.j2")) + [p for p in DIGEST.glob("*.py") if p.name != "i18n.py"]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", source))
        plural_used |= set(re.findall(r"""\.plural\(\s*["']([a-z0-9_]+)["']""", source))
    # keys built at run time: flag_<type>, alert_title_<type>, num_<count>, sentiment_<label>
    used |= {f"flag_{t}" for t in ("critical", "misleading")} | {f"alert_title_{t}" for t in ("critical", "misleading")}
    used |= {f"num_{k}" for k in ("clippings", "critical", "misleading", "negative")}
    used |= {f"sentiment_{s}" for s in ("negative", "neutral", "positive")}
    assert len(used) > 40
    for lang in LANGUAGES:
        assert used <= set(locale(lang).labels), f"{lang}: {used - set(locale(lang).labels)}"
        assert plural_used <= set(locale(lang).plurals)
    unused = set(locale("en").labels) - used
    assert not unused, f"labels nobody uses: {unused}"


def test_unknown_language_and_key_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="no digest locale 'de'"):
        locale("de")
    with pytest.raises(KeyError, match="sk.yaml has no label 'nope'"):
        locale("sk").t("nope")
