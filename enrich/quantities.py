"""Figures and dates in text, in the formats of our six languages, for comparing claims with the profile's facts.

Figures: "38,4 milióna eur", "75 mln. eurų", "520 milionů korun", "1,84 milyar TL", "52 TL'ye", "£1,987.42",
"£142.5m", "27 480 gyventojų", "700-tisíc eur", "yüzde 40" — a number, an optional scale word and a unit word or
symbol, all read from `lexicons/<lang>/units.txt` of every language (a Czech article about a Slovak town uses
Czech words). Decimal and thousands separators follow the language: "1,84" is 1.84 in Turkish, "1,200" is 1200
in English; "27 480" with a space is one number.

Dates: "14. novembra 2026", "1. září", "2026 m. gruodžio 1 d.", "gruodžio 1-ąją", "20 Kasım'da",
"15 ноември 2026", "9 November 2026", "November 9, 2026", "14.11.2026", "2026-11-14"; month names from
`lexicons/<lang>/months.txt`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from presswatch.enrich import lexicons
from presswatch.enrich.document import FieldText
from presswatch.enrich.inflect import word_forms
from presswatch.enrich.text import WORD_RE, fold, translit_variants

_NUM = re.compile(r"(?<![\w])(\d[\d\u00a0\u202f ,.]*\d|\d)(?:-?([a-zA-Z]{1,2})\b)?")
_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD", "₺": "TRY", "%": "%"}
_SUFFIX_SCALE = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9}
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?!\d)|(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|\.)?$")
_YEAR = re.compile(r"^(19|20)\d\d$")


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float  # with the scale applied: 38.4 million → 38_400_000
    unit: str | None  # EUR, CZK, TRY, MKD, GBP, USD, %, days, persons, ...
    start: int  # character offsets in the field text
    end: int
    tok: int  # index of the first token of the number

    def text(self, ft: FieldText) -> str:
        return ft.text[self.start : self.end]


@dataclass(frozen=True, slots=True)
class DateMention:
    year: int | None
    month: int
    day: int
    start: int
    end: int
    tok: int

    def matches(self, d: date) -> bool:
        return self.month == d.month and self.day == d.day and (self.year is None or self.year == d.year)


@lru_cache(maxsize=1)
def _unit_words() -> dict[str, tuple[str, float | str]]:
    """folded word → ("scale", factor) | ("unit", code), from every language's units.txt."""
    out: dict[str, tuple[str, float | str]] = {}
    for lang in lexicons.LANGS:
        for key, phrases in lexicons.keyed(lang, "units").items():
            kind, _, code = key.partition("_")
            for p in phrases:
                for spelling in translit_variants(p):
                    w = spelling.strip(".").split("'", 1)[0]
                    if not w:
                        continue
                    if kind == "scale":
                        out.setdefault(w, ("scale", float(code)))
                    elif kind == "cur":
                        out.setdefault(w, ("unit", code))
                    else:
                        out.setdefault(w, ("unit", {"percent": "%"}.get(kind, kind)))
    return out


@lru_cache(maxsize=1)
def _months() -> dict[str, int]:
    out: dict[str, int] = {}
    for lang in lexicons.LANGS:
        for key, phrases in lexicons.keyed(lang, "months").items():
            for p in phrases:
                for spelling in translit_variants(p):
                    forms = word_forms(spelling, ["tr"]) if lang == "tr" else {spelling}
                    for f in forms:
                        out.setdefault(f, int(key))
    return out


def month_number(folded_word: str) -> int | None:
    """1..12 for a month name in any of our languages and cases (folded: lower case, no diacritics), else None."""
    return _months().get(folded_word)


def month_words() -> frozenset[str]:
    return frozenset(_months())


def unit_words() -> frozenset[str]:
    return frozenset(_unit_words())


def parse_number(raw: str, lang: str) -> float | None:
    """A number as written in `lang` ("38,4", "1,987.42", "27 480", "1.450"), or None."""
    s = raw.replace("\u00a0", " ").replace("\u202f", " ").strip(" .,")
    if " " in s:
        groups = s.split(" ")
        if all(len(g) == 3 and g.isdigit() for g in groups[1:-1]) and len(groups[-1].split(",")[0].split(".")[0]) == 3:
            s = "".join(groups)
        else:
            s = groups[0]
    has_dot, has_comma = "." in s, "," in s
    if has_dot and has_comma:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        thou = "," if dec == "." else "."
        s = s.replace(thou, "").replace(dec, ".")
    elif has_dot or has_comma:
        sep = "." if has_dot else ","
        parts = s.split(sep)
        thousands = len(parts) > 2 or (len(parts[-1]) == 3 and (
            (sep == "," and lang == "en") or (sep == "." and lang != "en")))
        s = "".join(parts) if thousands else parts[0] + "." + "".join(parts[1:])
    try:
        return float(s)
    except ValueError:
        return None


def quantities(ft: FieldText, lang: str, found_dates: list[DateMention] | None = None) -> list[Quantity]:
    """Numbers with their scale and unit in one field (numbers without a unit are kept with unit None);
    numbers inside the field's dates (`found_dates`, computed when not given) are not figures."""
    units = _unit_words()
    text = ft.text
    starts = [t.start for t in ft.tokens]
    out: list[Quantity] = []
    date_spans = [(d.start, d.end) for d in (dates(ft) if found_dates is None else found_dates)]
    for m in _NUM.finditer(text):
        raw = m.group(1)
        # a trailing separator is punctuation, not part of the number
        end = m.start(1) + len(raw.rstrip(" .,\u00a0\u202f"))
        start = m.start(1)
        if any(s <= start < e for s, e in date_spans):
            continue
        value = parse_number(text[start:end], lang)
        if value is None:
            continue
        tok = bisect.bisect_left(starts, start)
        scale = 1.0
        unit: str | None = None
        suffix = (m.group(2) or "").lower()
        q_end = end
        if suffix:
            if suffix in _SUFFIX_SCALE:
                scale, q_end = _SUFFIX_SCALE[suffix], m.end(2)
            elif suffix in units and units[suffix][0] == "scale":
                scale, q_end = float(units[suffix][1]), m.end(2)
        p = start - 1
        if p >= 0 and text[p] in " \u00a0":
            p -= 1
        if p >= 0 and text[p] in _SYMBOLS:
            unit, start = _SYMBOLS[text[p]], p
        # words after the number: [scale] [unit]
        k = bisect.bisect_left(starts, q_end)
        if k < len(ft.tokens) and ft.tokens[k].start < q_end:
            k += 1  # the token that holds the number itself
        for _ in range(3):
            if k >= len(ft.tokens):
                break
            gap = text[q_end : ft.tokens[k].start]
            if gap.strip(" .-\u00a0'’") != "":
                sym = gap.strip(" .-\u00a0")
                if sym[:1] in _SYMBOLS and unit is None:
                    unit = _SYMBOLS[sym[:1]]
                break
            entry = units.get(ft.tokens[k].key)
            if entry is None:
                break
            if entry[0] == "scale" and scale == 1.0:
                scale = float(entry[1])
            elif entry[0] == "unit" and unit is None:
                unit = str(entry[1])
            else:
                break
            q_end = ft.tokens[k].end
            k += 1
        after = text[q_end : q_end + 2].strip()
        if unit is None and after[:1] in _SYMBOLS:
            unit = _SYMBOLS[after[:1]]
            q_end = text.index(after[:1], q_end) + 1
        if unit is None and tok > 0 and tok <= len(ft.tokens):
            prev = ft.tokens[tok - 1]
            entry = units.get(prev.key)
            if entry is not None and entry[1] == "%" and not text[prev.end : start].strip():
                unit, start = "%", prev.start  # "yüzde 40"
        out.append(Quantity(value * scale, unit, start, q_end, min(tok, max(0, len(ft.tokens) - 1))))
    return out


def dates(ft: FieldText) -> list[DateMention]:
    """Day-and-month dates (with the year when it is written) in one field."""
    months = _months()
    toks = ft.tokens
    out: list[DateMention] = []
    used: set[int] = set()
    starts = [t.start for t in toks]
    for m in _NUMERIC_DATE.finditer(ft.text):
        if m.group(1):
            d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            y, mo, d = int(m.group(4)), int(m.group(5)), int(m.group(6))
        if 1 <= mo <= 12 and 1 <= d <= 31:
            tok = bisect.bisect_left(starts, m.start())
            out.append(DateMention(y, mo, d, m.start(), m.end(), tok))
            used.update(range(tok, tok + 3))
    for i, t in enumerate(toks):
        if i in used or t.key not in months:
            continue
        month = months[t.key]
        day = year = None
        start, end = t.start, t.end
        first = i
        # day before the month: "14. novembra", "20 Kasım", "9th November"
        if i > 0 and toks[i - 1].sent == t.sent and ft.gap(i - 1).strip() in ("", "."):
            dm = _ORDINAL.match(toks[i - 1].norm)
            if dm and 1 <= int(dm.group(1)) <= 31:
                day, start, first = int(dm.group(1)), toks[i - 1].start, i - 1
        # day after the month: "gruodžio 1 d.", "November 9"
        if day is None and i + 1 < len(toks) and toks[i + 1].sent == t.sent and ft.gap(i).strip() in ("",):
            dm = _ORDINAL.match(toks[i + 1].norm)
            if dm and 1 <= int(dm.group(1)) <= 31 and not _YEAR.match(toks[i + 1].norm):
                day, end = int(dm.group(1)), toks[i + 1].end
        if day is None:
            continue
        # the year: after ("14. novembra 2026", "November 9, 2026") or before ("2026 m. gruodžio 1 d.")
        j = i + 1 if end == t.end else i + 2
        if j < len(toks) and toks[j].sent == t.sent and ft.gap(j - 1).strip() in ("", ",", ".") \
                and _YEAR.match(toks[j].key):
            year, end = int(toks[j].key), toks[j].end
        elif first >= 2 and toks[first - 1].key == "m" and _YEAR.match(toks[first - 2].key):
            year, start = int(toks[first - 2].key), toks[first - 2].start
        elif first >= 1 and _YEAR.match(toks[first - 1].key):
            year, start = int(toks[first - 1].key), toks[first - 1].start
        out.append(DateMention(year, month, day, start, end, first))
    out.sort(key=lambda d: d.start)
    return out


def parse_unit(unit: str) -> tuple[float, str | None]:
    """The scale and unit code of a fact's unit ("mil. EUR" → (1e6, "EUR"), "TL/m³" → (1, "TRY"))."""
    units = _unit_words()
    scale, code = 1.0, None
    for part in unit.split("/")[:1]:
        for sym, c in _SYMBOLS.items():
            if sym in part and code is None:
                code = c
        for m in WORD_RE.finditer(fold(part)):
            w = m.group().split("'", 1)[0]
            entry = units.get(w)
            if entry is None:
                continue
            if entry[0] == "scale":
                scale = float(entry[1])
            elif code is None:
                code = str(entry[1])
    return scale, code


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
