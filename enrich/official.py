"""The municipality's own releases as the official record: each figure and dated event a release states.

A press release is what the town itself published ("Schválený rozpočet mesta na rok 2026 je 24,8 mil. EUR",
"most sprístupní 15. decembra 2026"). Every figure with a unit and every full date (day, month and year) in it
becomes an `OfficialRecord`, quoted with its sentence and the release's address. The words that say what a
figure is about are those of its clause: the sentence, cut at the neighbouring figures, so that "príjmy na 76
percent, výdavky na 58 percent" gives two records with their own topics.

A figure without a year is taken to be about the year the release was published ("this year's budget"), so a
claim about another year is not compared with it (facts.py). The records are stored (State.records_replace) and
given to the FactChecker, which applies a release only to articles published after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from presswatch.enrich import quantities
from presswatch.enrich.document import FieldText, analyze
from presswatch.enrich.facts import CheckedFact, Topics, year_of
from presswatch.records import Article


@dataclass(frozen=True, slots=True)
class OfficialRecord:
    """One figure or date published by the municipality: part of the official record."""

    id: str  # "<release clipping id>#<n>"
    release_id: str
    url: str
    title: str
    published: datetime | None
    lang: str
    statement: str  # the release's sentence, as quoted
    context: str  # the clause that says what the figure is about (its topic words)
    cue: str  # the figure or date as written
    value: float | None  # scaled numeric value (a figure), or
    day: date | None  # a date
    unit: str | None
    year: int | None

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["published"] = self.published.isoformat() if self.published else None
        row["day"] = self.day.isoformat() if self.day else None
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OfficialRecord:
        return cls(id=row["id"], release_id=row["release_id"], url=row["url"], title=row["title"],
                   published=datetime.fromisoformat(row["published"]) if row["published"] else None,
                   lang=row["lang"], statement=row["statement"], context=row["context"], cue=row["cue"],
                   value=row["value"], day=date.fromisoformat(row["day"]) if row["day"] else None,
                   unit=row["unit"], year=row["year"])

    def checked(self, topics: Topics) -> CheckedFact:
        return CheckedFact(self.id, self.statement, topics.words(self.context), self.day, self.value, self.unit,
                           self.year, url=self.url, published=self.published)


@dataclass(frozen=True, slots=True)
class _Figure:
    tok: int
    start: int
    end: int
    value: float | None
    day: date | None
    unit: str | None


def records_from_release(article: Article, lang: str) -> list[OfficialRecord]:
    """The figures and dates a release states, in order; a figure the title repeats from the text counts once."""
    this_year = article.published.year if article.published else None
    out: list[OfficialRecord] = []
    seen: set[tuple[float | None, date | None, str | None]] = set()
    for name, text in (("text", article.text), ("title", article.title)):
        if not text.strip():
            continue
        ft = analyze(text, name)
        for fig, context in _figures(ft, lang):
            key = (fig.value, fig.day, fig.unit)
            if key in seen:
                continue
            seen.add(key)
            s, e = ft.sentences[ft.tokens[fig.tok].sent]
            year = fig.day.year if fig.day else (year_of(ft, fig.tok, lang, this_year) if this_year else None)
            out.append(OfficialRecord(
                id=f"{article.id}#{len(out) + 1}", release_id=article.id, url=article.url, title=article.title,
                published=article.published, lang=lang, statement=ft.text[s:e], context=context,
                cue=ft.text[fig.start:fig.end], value=fig.value, day=fig.day, unit=fig.unit,
                year=year if year is not None else this_year))
    return out


def _figures(ft: FieldText, lang: str) -> list[tuple[_Figure, str]]:
    ds = quantities.dates(ft, lang)
    # a full date only: "v marci 2028" in a release is too vague to be the record of a day
    figs = [_Figure(d.tok, d.start, d.end, None, date(d.year, d.month, d.day), None)
            for d in ds if d.year is not None and d.day is not None and _valid(d.year, d.month, d.day)]
    figs += [_Figure(q.tok, q.start, q.end, q.value, None, q.unit)
             for q in quantities.quantities(ft, lang, ds) if q.unit is not None and q.value > 0]
    figs.sort(key=lambda f: f.tok)
    # where the clause of each figure ends: at the last comma, semicolon or dash before the next figure of the
    # same sentence, else right before that figure
    cuts = [_cut(ft, a, b) for a, b in zip(figs, figs[1:], strict=False)]
    out = []
    for i, fig in enumerate(figs):
        s, e = ft.sentence_of(fig.tok)
        lo = max(s, cuts[i - 1]) if i > 0 else s
        hi = min(e, cuts[i]) if i < len(cuts) else e
        start = ft.tokens[lo].start if lo < len(ft.tokens) else fig.start
        end = ft.tokens[hi - 1].end if hi - 1 >= lo else fig.end
        out.append((fig, ft.text[min(start, fig.start):max(end, fig.end)]))
    return out


def _cut(ft: FieldText, a: _Figure, b: _Figure) -> int:
    if ft.tokens[a.tok].sent != ft.tokens[b.tok].sent:
        return ft.sentence_of(b.tok)[0]
    cut = b.tok
    for k in range(a.tok, b.tok):
        if ft.tokens[k].end >= a.end and any(c in ft.gap(k) for c in ",;–—"):  # not the comma of "24,8"
            cut = k + 1
    return cut


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
