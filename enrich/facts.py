"""Claims that contradict the official record: a figure or a date about the municipality that differs from a fact.

For each fact of the profile (`facts: [{id, statement, value, unit}]`) the checker keeps the topic words of its
statement (without function words, the municipality's name, numbers, months, units; words such as "new",
"open", "approved" count half: `generic.txt`). A figure or date in an article sentence is compared with the fact
only when the sentence is about the same topic: two topic words, or one right next to the figure ("rozpočtem
520 milionů korun", "biudžetas siekia 75 mln. eurų"). The topic must be in the figure's own sentence (a meeting's
date is not a claim about a market the next sentence names), a word matches a topic word only as a case form of
it, not as a compound that begins with it ("Pazartesi", Monday, is not "pazarı", market), and a sentence that
states the record's date is not contradicting it with its other dates (when works began). Figures are compared in the fact's unit (a budget in
euros is not compared with a price in koruny); a figure of another year ("gelecek yıl 2,3 milyar TL", "na rok
2027") is not a claim about this year's fact; a figure of a very different size (a 27-million road in a
612-million budget) is a part, not a claim about the whole.

The official record is the profile's facts and the figures the municipality published in its own releases
(official.py). A claim is checked against every record about its topic: it is a contradiction only when it agrees
with none of them (an amended budget published in a later release makes the new figure right, not the old one),
and a release is the record only for articles published after it (a story written before the release announced
a postponement was right when it was written).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from presswatch.enrich import lexicons, quantities
from presswatch.enrich.document import FieldText
from presswatch.enrich.inflect import ENDINGS
from presswatch.enrich.lexicons import fold_word
from presswatch.enrich.mentions import word_langs
from presswatch.enrich.text import WORD_RE, fold
from presswatch.profile import Profile

TOLERANCE = 0.015  # relative difference below which two figures agree (rounding: 38,4 vs 38.42)
SAME_QUANTITY = 3.0  # a figure more than 3× off the fact is a different quantity, not a claim about it
NEAR = 6  # tokens between a figure and a topic word for a one-word match (any distance in a headline)
YEAR_WINDOW = 8
LONG_TAIL = 3  # letters the longer of two similar words may have past their shared prefix (beyond: a case ending)
_ENDINGS = frozenset(e for ends in ENDINGS.values() for e in ends if e)
_BUFFERS = frozenset("nsy")


@dataclass(frozen=True, slots=True)
class TopicWord:
    key: str
    generic: bool


@dataclass(frozen=True, slots=True)
class CheckedFact:
    """One entry of the official record, ready for comparison: a profile fact or a figure from a release."""

    id: str  # the profile fact's id, or "<release clipping id>#<n>"
    statement: str  # what is quoted as the record
    words: tuple[TopicWord, ...]
    date: date | None
    value: float | None  # scaled numeric value
    unit: str | None
    year: int | None
    url: str | None = None  # a release: where the municipality published it
    published: datetime | None = None  # a release: the record from this time on


@dataclass(frozen=True, slots=True)
class Topics:
    """What is not a topic word: function words, the municipality's own name, months and units."""

    stop: lexicons.WordMatcher
    generic: lexicons.WordMatcher
    town: frozenset[str]
    skip: frozenset[str]

    @classmethod
    def from_profile(cls, profile: Profile) -> Topics:
        langs = word_langs(profile.municipality.languages)
        town = {fold_word(w) for n in [profile.municipality.name, *profile.municipality.aliases] for w in n.split()}
        return cls(lexicons.words(langs, "stopwords"), lexicons.words(langs, "generic"), frozenset(town),
                   frozenset(quantities.month_words() | quantities.unit_words()))

    def words(self, text: str) -> tuple[TopicWord, ...]:
        out: dict[str, TopicWord] = {}
        for m in WORD_RE.finditer(fold(text)):
            key = m.group().split("'", 1)[0]
            if len(key) < 3 or key.isdigit() or key in self.stop or key in self.skip:
                continue
            if any(_similar(key, t) for t in self.town):
                continue
            out.setdefault(key, TopicWord(key, key in self.generic))
        return tuple(out.values())


@dataclass(frozen=True, slots=True)
class Contradiction:
    fact: CheckedFact  # the record contradicted
    field: FieldText
    sentence: int
    cue: str  # the figure or date as written
    start: int  # offsets of the figure in the field
    end: int


def _similar(a: str, b: str) -> bool:
    """Same word up to its ending: a shared prefix that leaves at most two letters of the shorter word, and of
    the longer word at most three letters or one case ending of our languages ("pazarındaki" is "pazarı", but
    "Pazartesi", Monday, is another word than "pazarı", market: a compound is not an inflected form)."""
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
    if p < 4 or p < short - 2:
        return False
    tail = max(a, b, key=len)[p:]
    # Turkish joins a case ending with a buffer consonant: pazarı-n-daki, binası-n-a
    return len(tail) <= LONG_TAIL or tail in _ENDINGS or (tail[:1] in _BUFFERS and tail[1:] in _ENDINGS)


class FactChecker:
    def __init__(self, facts: list[CheckedFact], topics: Topics) -> None:
        self.facts = facts  # from the profile
        self.records: list[CheckedFact] = []  # from the municipality's releases (set_records)
        self.topics = topics

    @classmethod
    def from_profile(cls, profile: Profile) -> FactChecker:
        topics = Topics.from_profile(profile)
        checked = []
        for f in profile.facts:
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
            checked.append(CheckedFact(f.id, f.statement, topics.words(f.statement), when, value, unit, year))
        return cls(checked, topics)

    def set_records(self, records: Iterable[CheckedFact]) -> None:
        """Replace the figures taken from the municipality's releases (official.py builds them). Newest release
        first: when no record agrees with a claim, the profile's fact is quoted, else the most recent release."""
        self.records = sorted(records, key=lambda r: r.published.timestamp() if r.published else 0.0, reverse=True)

    def _applicable(self, published: datetime | None) -> list[CheckedFact]:
        if published is None:
            return self.facts + self.records
        return self.facts + [r for r in self.records if r.published is None or r.published <= published]

    def check(self, fields: tuple[FieldText, ...], lang: str, pub_year: int | None,
              published: datetime | None = None) -> list[Contradiction]:
        facts = self._applicable(published)
        if not facts:
            return []
        out: list[Contradiction] = []
        for ft in fields:
            ds = quantities.dates(ft, lang)
            qs = quantities.quantities(ft, lang, ds)
            # a sentence that states a record's date tells of other events with its other dates ("the works that
            # began in January 2026 end on 1 May 2027, as planned"): it does not contradict that record
            stated = {(ft.tokens[d.tok].sent, cf.id) for d in ds for cf in facts
                      if cf.date is not None and d.matches(cf.date)}
            for d in ds:
                sent = ft.tokens[d.tok].sent
                about = [cf for cf in facts if cf.date is not None and (sent, cf.id) not in stated
                         and self._about(cf, ft, d.tok)]
                if about and not any(cf.date is not None and d.matches(cf.date) for cf in about):
                    out.append(Contradiction(about[0], ft, ft.tokens[d.tok].sent, ft.text[d.start:d.end],
                                             d.start, d.end))
            for q in qs:
                if q.value <= 0:
                    continue
                about = [cf for cf in facts if self._same_quantity(cf, q.unit, q.value)
                         and self._about(cf, ft, q.tok) and self._same_year(cf, ft, q.tok, lang, pub_year)]
                if about and not any(abs(q.value - cf.value) / cf.value <= TOLERANCE
                                     for cf in about if cf.value):
                    out.append(Contradiction(about[0], ft, ft.tokens[q.tok].sent, q.text(ft), q.start, q.end))
        return out

    @staticmethod
    def _same_quantity(cf: CheckedFact, unit: str | None, value: float) -> bool:
        """The same unit and the same order of size (a part of the budget is not a claim about the budget)."""
        if cf.value is None or cf.value <= 0 or unit != cf.unit:
            return False
        return 1 / SAME_QUANTITY <= value / cf.value <= SAME_QUANTITY

    def _same_year(self, cf: CheckedFact, ft: FieldText, tok: int, lang: str, pub_year: int | None) -> bool:
        if cf.year is None:
            return True
        return year_of(ft, tok, lang, pub_year or cf.year) in (None, cf.year)

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


def year_of(ft: FieldText, tok: int, lang: str, this_year: int) -> int | None:
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

