"""Figures and dates in text, in the formats of our six languages, for comparing claims with the profile's facts.

Figures: "38,4 milióna eur", "75 mln. eurų", "520 milionů korun", "1,84 milyar TL", "52 TL'ye", "£1,987.42",
"£142.5m", "27 480 gyventojų", "700-tisíc eur", "yüzde 40" — a number, an optional scale word and a unit word or
symbol, all read from `lexicons/<lang>/units.txt` of every language (a Czech article about a Slovak town uses
Czech words). Decimal and thousands separators follow the language: "1,84" is 1.84 in Turkish, "1,200" is 1200
in English; "27 480" with a space (or NBSP, narrow NBSP) is one number, but only as thousands groups: "v roku 2026
140 ľudí" is 2026 and 140. A unit word is read in the article's language first (Czech "den" is a day, Macedonian
"ден." the denar); a dotted abbreviation of a currency word of that language is that currency.

Dates: "14. novembra 2026", "1. září", "2026 m. gruodžio 1 d.", "gruodžio 1-ąją", "20 Kasım'da",
"15 ноември 2026", "9 November 2026", "November 9, 2026", "14.11.2026", "2026-11-14", and month and year without
a day: "v marci 2028", "v březnu 2028", "2028 m. kovo mėn.", "Mart 2028'de", "во март 2028", "September 2027";
month names from `lexicons/<lang>/months.txt` (Turkish suffixes and the Lithuanian accusative added in code).
Times of day ("14:30", "saat 14.00'te", "o 17.00 h", "во 12.00 часот") are neither figures nor days.
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

# A number: digit groups split by spaces (also NBSP and narrow NBSP) are one number only when they are thousands
# groups, 1-3 digits then groups of exactly three ("1 040", "27\u202f480", "2 500 000,50"); "v roku 2026 140 ľudí"
# is two numbers. Otherwise digits with "," or "." separators ("38,4", "1,987.42", "1.450").
_NUM = re.compile(r"(?<![\w])(\d{1,3}(?:[\u00a0\u202f ]\d{3})+(?:[.,]\d+)?(?![\d])|\d[\d,.]*\d|\d)"
                  r"(?:-?([a-zA-Z]{1,2})\b)?")
# A time of day: "14:30" always; "14.00" when a time word stands before it or an hour word (or, in Turkish, a case
# suffix: "14.00'te") after it, and in the languages that write decimals with a comma also when no unit follows.
# A time is never a figure nor a day of a date. (The time words are few and shared by the languages, so they are
# kept here; lexicons/<lang>/units.txt has no key for them yet.)
_TIME = re.compile(r"(?<![\w.,:])([01]?\d|2[0-3])([:.])([0-5]\d)(?![\d]|[.,:]\d)")
_TIME_BEFORE = frozenset(fold(w) for w in "saat at from until till o od do ve nuo iki во од до".split())
_TIME_AFTER = frozenset(fold(w) for w in "h hod hodin hodiny hodine val valandą ч часот часа am pm saatte saatinde"
                        .split())
_COMMA_DECIMALS = frozenset({"sk", "cs", "lt", "tr", "mk"})
ABBREVIATION_MIN = 3  # letters of a dotted currency abbreviation ("ден.", "kor.")
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
    day: int | None  # None: a month-and-year date ("v marci 2028"), whose year is then always known
    start: int
    end: int
    tok: int

    def matches(self, d: date) -> bool:
        """The same day as `d` as far as this mention says: a month-and-year date agrees with any day of its month
        ("in May 2027" with 1 May 2027); a bare day and month agrees with the day in any year."""
        if self.month != d.month or (self.year is not None and self.year != d.year):
            return False
        return self.day is None or self.day == d.day


@lru_cache(maxsize=8)
def _lang_unit_words(lang: str) -> dict[str, tuple[str, float | str]]:
    """folded word → ("scale", factor) | ("unit", code), from one language's units.txt."""
    out: dict[str, tuple[str, float | str]] = {}
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
def _unit_words() -> dict[str, tuple[str, float | str]]:
    """folded word → ("scale", factor) | ("unit", code), from every language's units.txt (the first language
    listed wins a word two languages read differently)."""
    out: dict[str, tuple[str, float | str]] = {}
    for lang in lexicons.LANGS:
        for w, entry in _lang_unit_words(lang).items():
            out.setdefault(w, entry)
    return out


@lru_cache(maxsize=8)
def _unit_words_for(lang: str) -> dict[str, tuple[str, float | str]]:
    """Like `_unit_words`, but the article's own language decides a word two languages read differently (Czech
    "den" is a day, Macedonian "ден." is the denar), and a dotted abbreviation of one of its currency words
    ("ден." for денари) is that currency."""
    own = _lang_unit_words(lang) if lang in lexicons.LANGS else {}
    out = {**_unit_words(), **own}
    # currency codes are the upper-case ones (EUR, MKD); a prefix that is itself a word of the language is that
    # word ("дена." ends a sentence about days), and one shared by two currencies is nobody's
    currencies = {w: str(entry[1]) for w, entry in own.items() if entry[0] == "unit" and str(entry[1]).isupper()}
    for w, code in currencies.items():
        for n in range(ABBREVIATION_MIN, len(w)):
            codes = {c for x, c in currencies.items() if x.startswith(w[:n])}
            if len(codes) == 1 and w[:n] not in own:
                out.setdefault(w[:n] + ".", ("unit", code))
    return out


@lru_cache(maxsize=1)
def _months() -> dict[str, int]:
    out: dict[str, int] = {}
    for lang in lexicons.LANGS:
        for key, phrases in lexicons.keyed(lang, "months").items():
            for p in phrases:
                for spelling in translit_variants(p):
                    forms = word_forms(spelling, ["tr"]) if lang == "tr" else {spelling}
                    if lang == "lt":
                        forms = forms | _lt_accusative(spelling)
                    for f in forms:
                        out.setdefault(f, int(key))
    return out


def _lt_accusative(month: str) -> set[str]:
    """The accusative of a Lithuanian month's nominative, the case of "2028 m. kovą" (in March 2028): -as → -ą,
    -is → -į, -ė → -ę, -a → -ą, written folded (no diacritics) as the lookup keys are."""
    folded = fold(month)
    for nom, acc in (("as", "a"), ("is", "i"), ("e", "e"), ("a", "a")):
        if folded.endswith(nom) and len(folded) > 4:
            return {folded[: -len(nom)] + acc}
    return set()


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


def times(ft: FieldText, lang: str) -> list[tuple[int, int]]:
    """Character spans of the times of day in one field ("14:30", "saat 14.00'te", "o 9.30 h", "во 18.00 часот")."""
    units = _unit_words_for(lang)
    out: list[tuple[int, int]] = []
    starts = [t.start for t in ft.tokens]
    for m in _TIME.finditer(ft.text):
        if m.group(2) == ":":
            out.append((m.start(), m.end()))
            continue
        k = bisect.bisect_left(starts, m.start())  # the token of the hour
        before = ft.tokens[k - 1].key if 0 < k <= len(ft.tokens) else ""
        after_tok = bisect.bisect_left(starts, m.end())
        after = ft.tokens[after_tok].key if after_tok < len(ft.tokens) else ""
        rest = ft.text[m.end() : m.end() + 1]
        sign_after = ft.text[m.end() : m.end() + 2].strip()[:1]
        sign_before = ft.text[max(0, m.start() - 2) : m.start()].strip()[-1:]
        if after in units or before in units or sign_after in _SYMBOLS or sign_before in _SYMBOLS:
            continue  # "from 12.30% to", "£14.50", "12.30 pounds", "yüzde 12.30": a figure
        if before in _TIME_BEFORE or after in _TIME_AFTER or rest in ("'", "’"):
            out.append((m.start(), m.end()))
        elif lang in _COMMA_DECIMALS:
            # "14.00" in a language that writes "14,00" for a decimal, with no unit: a time
            out.append((m.start(), m.end()))
    return out


def quantities(ft: FieldText, lang: str, found_dates: list[DateMention] | None = None) -> list[Quantity]:
    """Numbers with their scale and unit in one field (numbers without a unit are kept with unit None);
    numbers inside the field's dates (`found_dates`, computed when not given) and times of day are not figures."""
    units = _unit_words_for(lang)
    text = ft.text
    starts = [t.start for t in ft.tokens]
    out: list[Quantity] = []
    date_spans = [(d.start, d.end) for d in (dates(ft, lang) if found_dates is None else found_dates)]
    date_spans += times(ft, lang)
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
            key = ft.tokens[k].key
            dotted = text[ft.tokens[k].end : ft.tokens[k].end + 1] == "."
            entry = (units.get(key + ".") if dotted else None) or units.get(key)
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


def dates(ft: FieldText, lang: str = "") -> list[DateMention]:
    """Day-and-month dates (with the year when it is written) and month-and-year dates ("v marci 2028",
    "September 2027", "2028 m. kovo mėn.", "Mart 2028'de", "во март 2028 година") in one field; a month alone
    or a bare year is not a date, nor is a time of day ("saat 14.00")."""
    months = _months()
    toks = ft.tokens
    out: list[DateMention] = []
    used: set[int] = set()
    starts = [t.start for t in toks]
    clock = times(ft, lang)
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
        day: int | None = None
        year: int | None = None
        start, end = t.start, t.end
        first = i
        # day before the month: "14. novembra", "20 Kasım", "9th November"
        if i > 0 and toks[i - 1].sent == t.sent and ft.gap(i - 1).strip() in ("", ".") \
                and not _in_spans(toks[i - 1].start, clock):
            dm = _ORDINAL.match(toks[i - 1].norm)
            if dm and 1 <= int(dm.group(1)) <= 31:
                day, start, first = int(dm.group(1)), toks[i - 1].start, i - 1
        # day after the month: "gruodžio 1 d.", "November 9"
        if day is None and i + 1 < len(toks) and toks[i + 1].sent == t.sent and ft.gap(i).strip() in ("",) \
                and not _in_spans(toks[i + 1].start, clock):
            dm = _ORDINAL.match(toks[i + 1].norm)
            if dm and 1 <= int(dm.group(1)) <= 31 and not _YEAR.match(toks[i + 1].norm):
                day, end = int(dm.group(1)), toks[i + 1].end
        # the year: after ("14. novembra 2026", "November 9, 2026", "v marci 2028") or before
        # ("2026 m. gruodžio 1 d.", "2028 m. kovo mėn.")
        j = i + 1 if end == t.end else i + 2
        if j < len(toks) and toks[j].sent == t.sent and ft.gap(j - 1).strip() in ("", ",", ".") \
                and _YEAR.match(toks[j].key) and (day is not None or ft.gap(j - 1).strip() == ""):
            year, end = int(toks[j].key), toks[j].end
        elif first >= 2 and toks[first - 1].key == "m" and _YEAR.match(toks[first - 2].key):
            year, start = int(toks[first - 2].key), toks[first - 2].start
        elif first >= 1 and _YEAR.match(toks[first - 1].key) and (day is not None or ft.joined(first - 1)):
            year, start = int(toks[first - 1].key), toks[first - 1].start
        if day is None and year is None:
            continue  # a month alone ("v marci") says too little to contradict a date
        out.append(DateMention(year, month, day, start, end, first))
    out.sort(key=lambda d: d.start)
    return out


def _in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


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
