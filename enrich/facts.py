"""Claims that contradict the official record: a figure or a date about the municipality that differs from a fact.

For each fact of the profile (`facts: [{id, statement, value, unit}]`) the checker keeps the topic words of its
statement (without function words, the municipality's name, numbers, months, units; words such as "new",
"open", "approved" count half: `generic.txt`). A figure or date in an article sentence is compared with the fact
only when the sentence is about the same topic: two topic words, or one right next to the figure ("rozpočtem
520 milionů korun", "biudžetas siekia 75 mln. eurų"). Figures are compared in the fact's unit (a budget in
euros is not compared with a price in koruny); a figure of another year ("gelecek yıl 2,3 milyar TL", "na rok
2027") is not a claim about this year's fact; a figure of a very different size (a 27-million road in a
612-million budget) is a part, not a claim about the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from presswatch.enrich import lexicons, quantities
from presswatch.enrich.document import FieldText
from presswatch.enrich.lexicons import fold_word
from presswatch.enrich.mentions import word_langs
from presswatch.enrich.text import WORD_RE, fold
from presswatch.profile import Fact, Profile

TOLERANCE = 0.015  # relative difference below which two figures agree (rounding: 38,4 vs 38.42)
SAME_QUANTITY = 3.0  # a figure more than 3× off the fact is a different quantity, not a claim about it
NEAR = 6  # tokens between a figure and a topic word for a one-word match (any distance in a headline)
YEAR_WINDOW = 8


@dataclass(frozen=True, slots=True)
class TopicWord:
    key: str
    generic: bool


@dataclass(frozen=True, slots=True)
class CheckedFact:
    fact: Fact
    words: tuple[TopicWord, ...]
    date: date | None
    value: float | None  # scaled numeric value
    unit: str | None
    year: int | None


@dataclass(frozen=True, slots=True)
class Contradiction:
    fact: Fact
    field: FieldText
    sentence: int
    cue: str  # the figure or date as written
    start: int  # offsets of the figure in the field
    end: int


def _similar(a: str, b: str) -> bool:
    """Same word up to its ending: a shared prefix that leaves at most two letters of the shorter word."""
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 4:
        return False
    p = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        p += 1
    return p >= 4 and p >= short - 2


class FactChecker:
    def __init__(self, facts: list[CheckedFact]) -> None:
        self.facts = facts

    @classmethod
    def from_profile(cls, profile: Profile) -> FactChecker:
        langs = word_langs(profile.municipality.languages)
        stop = lexicons.words(langs, "stopwords")
        generic = lexicons.words(langs, "generic")
        town = {fold_word(w) for n in [profile.municipality.name, *profile.municipality.aliases] for w in n.split()}
        skip = quantities.month_words() | quantities.unit_words()
        checked = []
        for f in profile.facts:
            words: dict[str, TopicWord] = {}
            for m in WORD_RE.finditer(fold(f.statement)):
                key = m.group().split("'", 1)[0]
                if len(key) < 3 or key.isdigit() or key in stop or key in skip:
                    continue
                if any(_similar(key, t) for t in town):
                    continue
                words.setdefault(key, TopicWord(key, key in generic))
            value: float | None = None
            when: date | None = None
            scale, unit = quantities.parse_unit(f.unit)
            if isinstance(f.value, str):
                when = quantities.parse_date(f.value)
            else:
                value = float(f.value) * scale
            years = [int(y) for y in WORD_RE.findall(f.statement) if y.isdigit() and len(y) == 4
                     and y[:2] in ("19", "20")]
            year = when.year if when else (years[0] if years else None)
            checked.append(CheckedFact(f, tuple(words.values()), when, value, unit, year))
        return cls(checked)

    def check(self, fields: tuple[FieldText, ...], lang: str, pub_year: int | None) -> list[Contradiction]:
        if not self.facts:
            return []
        out: list[Contradiction] = []
        for ft in fields:
            ds = quantities.dates(ft)
            qs = quantities.quantities(ft, lang, ds)
            for cf in self.facts:
                if cf.date is not None:
                    for d in ds:
                        if self._about(cf, ft, d.tok) and not d.matches(cf.date):
                            out.append(Contradiction(cf.fact, ft, ft.tokens[d.tok].sent, ft.text[d.start:d.end],
                                                     d.start, d.end))
                elif cf.value is not None:
                    for q in qs:
                        if q.unit != cf.unit or q.value <= 0 or cf.value <= 0:
                            continue
                        ratio = q.value / cf.value
                        if not (1 / SAME_QUANTITY <= ratio <= SAME_QUANTITY):
                            continue
                        if abs(q.value - cf.value) / cf.value <= TOLERANCE:
                            continue
                        if not self._about(cf, ft, q.tok):
                            continue
                        if cf.year is not None and self._year_of(ft, q.tok, lang, pub_year or cf.year) not in (
                                None, cf.year):
                            continue
                        out.append(Contradiction(cf.fact, ft, ft.tokens[q.tok].sent, q.text(ft), q.start, q.end))
        return out

    def _about(self, cf: CheckedFact, ft: FieldText, tok: int) -> bool:
        """The sentence around token `tok` is about the fact's topic."""
        if not ft.tokens:
            return False
        s, e = ft.sentence_of(tok)
        score = 0.0
        near = False
        seen: set[str] = set()
        for k in range(s, e):
            key = ft.keys[k]
            for w in cf.words:
                if w.key in seen or not _similar(key, w.key):
                    continue
                seen.add(w.key)
                score += 0.5 if w.generic else 1.0
                if not w.generic and (abs(k - tok) <= NEAR or ft.name == "title"):
                    near = True
        return score >= 1.5 or near

    def _year_of(self, ft: FieldText, tok: int, lang: str, this_year: int) -> int | None:
        """The year a figure refers to: the nearest explicit year or "this/next/last year" phrase around it."""
        s, e = ft.sentence_of(tok)
        lo, hi = max(s, tok - YEAR_WINDOW), min(e, tok + YEAR_WINDOW)
        best: tuple[int, int] | None = None  # (distance, year)
        for k in range(lo, hi):
            key = ft.keys[k]
            if len(key) == 4 and key.isdigit() and key[:2] in ("19", "20") and k != tok:
                cand = (abs(k - tok), int(key))
                best = cand if best is None or cand < best else best
        for h in lexicons.keyed_cues(lang, "years").find(ft.keys, lo, hi):
            offset = {"this": 0, "next": 1, "last": -1}.get(h.cue.name, 0)
            dist = min(abs(h.start - tok), abs(h.end - 1 - tok))
            cand = (dist, this_year + offset)
            best = cand if best is None or cand < best else best
        return best[1] if best else None

