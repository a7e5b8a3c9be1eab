"""What the clipping page shows, computed in Python so that the template only loops and escapes.

The article's words are never marked safe: the highlighted text is a list of paragraphs of `Piece`s (plain text,
an official's or body's mention, a flag reason's quote), built from the character offsets the enrichment stored,
and the template escapes every piece's text. Offsets are checked against the words they claim to cover (a record
from an older enricher, or one counted in bytes, must not highlight the wrong words): when they do not match, the
nearest occurrence of the quoted words is used, and when there is none the mark is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from presswatch.profile import Profile
from presswatch.records import Clipping, Field, Flag, Mention, Reason

PieceKind = Literal["plain", "official", "reason"]
_LINE = re.compile(r"[^\r\n]+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Piece:
    kind: PieceKind
    text: str = ""  # plain and official pieces
    title: str = ""  # official: the names of the officials or bodies mentioned
    children: tuple[Piece, ...] = ()  # reason: the plain and official pieces inside the quote


Paragraph = tuple[Piece, ...]
Span = tuple[int, int, tuple[str, ...]]  # start, end, labels


def names(profile: Profile) -> dict[str, str]:
    """Official and body ids to the names people read (ids are unique across both: the profile checks it)."""
    return {**{o.id: o.name for o in profile.officials}, **{b.id: b.name for b in profile.bodies}}


def locate(source: str, start: int, end: int, expected: str) -> tuple[int, int] | None:
    """Where `expected` is in `source`: at the stored offsets when they hold it, else its occurrence nearest to
    `start`; None when it is not there at all (or the offsets are empty or out of range and nothing is quoted)."""
    if 0 <= start < end <= len(source):
        found = source[start:end]
        if not expected or found == expected or _SPACE.sub(" ", found) == _SPACE.sub(" ", expected):
            return start, end
    if not expected:
        return None
    best: int | None = None
    at = source.find(expected)
    while at != -1:
        if best is None or abs(at - start) < abs(best - start):
            best = at
        at = source.find(expected, at + 1)
    return (best, best + len(expected)) if best is not None else None


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping spans become one, carrying every label once (two mentions of one name, two flags quoting the
    same sentence): marks never cross, so the text is never broken."""
    out: list[Span] = []
    for start, end, labels in sorted(spans):
        if out and start < out[-1][1]:
            last = out[-1]
            out[-1] = (last[0], max(last[1], end), tuple(dict.fromkeys(last[2] + labels)))
        else:
            out.append((start, end, labels))
    return out


def _cut(lo: int, hi: int, spans: Sequence[Span]) -> list[Span]:
    """[lo, hi) cut into unmarked gaps (no labels) and the parts of `spans` inside it, in order."""
    out: list[Span] = []
    pos = lo
    for start, end, labels in spans:
        start, end = max(start, lo), min(end, hi)
        if start >= end:
            continue
        if start > pos:
            out.append((pos, start, ()))
        out.append((start, end, labels))
        pos = end
    if pos < hi:
        out.append((pos, hi, ()))
    return out


def highlight(source: str, field: Field, mentions: Sequence[Mention], reasons: Iterable[Reason],
              labels: Mapping[str, str]) -> list[Paragraph]:
    """`source` (the clipping's title or text, `field`) as paragraphs (one per non-blank line) of pieces, with the
    reasons' quotes marked and, inside and between them, the mentions. A mention crossing a quote's edge is cut
    there into two marks, so the quote's mark stays whole."""
    found: list[tuple[int, int, tuple[str, ...]]] = []
    for m in mentions:
        where = locate(source, m.start, m.end, m.surface) if m.field == field else None
        if where:
            found.append((*where, (labels.get(m.ref, m.ref),)))
    officials = merge(found)
    quoted: list[Span] = []
    for r in reasons:
        where = locate(source, r.start, r.end, r.quote) if r.field == field else None
        if where:
            quoted.append((*where, ("quote",)))  # a label, so that _cut tells a quote from a gap
    quotes = merge(quoted)
    paragraphs: list[Paragraph] = []
    for line in _LINE.finditer(source):
        if not line.group().strip():
            continue
        pieces: list[Piece] = []
        for q_start, q_end, is_quote in _cut(line.start(), line.end(), quotes):
            inner = tuple(
                Piece("official", source[s:e], ", ".join(names_)) if names_ else Piece("plain", source[s:e])
                for s, e, names_ in _cut(q_start, q_end, officials))
            pieces.extend([Piece("reason", children=inner)] if is_quote else inner)
        paragraphs.append(tuple(pieces))
    return paragraphs


def all_reasons(clipping: Clipping) -> list[Reason]:
    return [r for f in clipping.enrichment.flags for r in f.reasons]


def http_url(url: str | None) -> str | None:
    """Only web addresses become links (a `javascript:` URL from a scraped page must not)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


@dataclass(frozen=True, slots=True)
class Copy:
    clipping: Clipping
    outlet: str
    moment: datetime | None
    first: bool


def copies(clipping: Clipping, cluster: Sequence[Clipping], profile: Profile) -> list[Copy]:
    """The story's other clippings (index.cluster order: the first is the first publisher), this one left out."""
    first = cluster[0].id if cluster else None
    return [Copy(c, profile.outlet(c.article.outlet).name, c.article.published or c.article.fetched_at,
                 c.id == first)
            for c in cluster if c.id != clipping.id]


@dataclass(frozen=True, slots=True)
class Judgement:
    at: datetime | None
    by: str
    field: str
    value: bool
    note: str | None


def judgements(rows: Iterable[Mapping[str, object]]) -> list[Judgement]:
    """Feedback rows of the store (State.feedback_history of one clipping) as the page shows them."""
    out = []
    for r in rows:
        raw = r["judged_at"]
        out.append(Judgement(datetime.fromisoformat(raw) if isinstance(raw, str) else None, str(r["judged_by"]),
                             str(r["field"]), bool(r["value"]), str(r["note"]) if r["note"] else None))
    return out


def flag_of(clipping: Clipping, flag_type: str) -> Flag | None:
    return next((f for f in clipping.enrichment.flags if f.type == flag_type), None)


__all__ = ["Copy", "Judgement", "judgements", "Paragraph", "Piece", "all_reasons", "copies", "flag_of", "highlight", "http_url", "locate",
           "merge", "names"]
