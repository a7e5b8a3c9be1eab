"""Snippets: a piece of the text around the best cluster of matches, each match marked with [ and ].

Why not FTS5's `snippet()`: it can only mark tokens that matched in the column it is asked about, and most of
our matches are on the `stems` column (an inflected form, a name written in the other script), so the text
column would come back unmarked. Here the marking applies the query's own definition of a match (`fold` and
`stem` from enrich/text.py) to the text, so whatever made a clipping match is what gets marked.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from presswatch.enrich.text import fold, stem, words
from presswatch.index.query import Phrase, Word

SNIPPET_WORDS = 30  # about two lines of an analyst's result list
_LEAD_WORDS = 6  # context kept before the first match of the window


def _parts(word: str) -> list[str]:
    # FTS5 splits "Aydemir'in" into "aydemir" and "in"; phrases are compared on those parts, the way FTS saw them.
    return [p for p in fold(word).split("'") if p]


def find_matches(text: str, lang: str | None, terms: Sequence[Word | Phrase]) -> list[tuple[int, int]]:
    """Character spans of `text` that match any of `terms`, sorted, overlapping spans merged."""
    tokens = words(text)
    if not tokens or not terms:
        return []
    folded = [fold(w) for w, _, _ in tokens]
    spans: list[tuple[int, int]] = []

    singles = [t for t in terms if isinstance(t, Word)]
    if singles:
        surfaces = {fold(t.text) for t in singles}
        stems = {s for t in singles if (s := stem(t.text, lang))}
        for (w, start, end), f in zip(tokens, folded, strict=True):
            if f in surfaces or f.split("'", 1)[0] in surfaces or stem(w, lang) in stems:
                spans.append((start, end))

    phrases = [t for t in terms if isinstance(t, Phrase)]
    if phrases:
        # flatten into parts, each remembering the token it came from
        parts: list[tuple[str, int]] = [(p, i) for i, f in enumerate(folded) for p in f.split("'") if p]
        for phrase in phrases:
            wanted = [p for w in phrase.words for p in _parts(w)]
            if not wanted:
                continue
            for k in range(len(parts) - len(wanted) + 1):
                if all(parts[k + m][0] == wanted[m] for m in range(len(wanted))):
                    first, last = parts[k][1], parts[k + len(wanted) - 1][1]
                    spans.append((tokens[first][1], tokens[last][2]))

    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def make_snippet(text: str, lang: str | None, terms: Sequence[Word | Phrase], size: int = SNIPPET_WORDS) -> str:
    """About `size` words of `text` around the densest run of matches; the beginning when nothing matches."""
    tokens = words(text)
    if not tokens:
        return " ".join(text.split())[:200]
    matches = find_matches(text, lang, terms)
    starts = [s for _, s, _ in tokens]

    first = 0
    if matches:
        # the token index where each match begins; choose the window holding the most matches (earliest on ties)
        hit_tokens = [max(0, bisect_right(starts, s) - 1) for s, _ in matches]
        best, best_count = 0, -1
        for h in hit_tokens:
            lo = max(0, h - _LEAD_WORDS)
            count = sum(1 for x in hit_tokens if lo <= x < lo + size)
            if count > best_count:
                best, best_count = lo, count
        first = best
    last = min(len(tokens), first + size) - 1
    lo, hi = tokens[first][1], tokens[last][2]

    out: list[str] = []
    pos = lo
    for s, e in matches:
        s, e = max(s, lo), min(e, hi)
        if s >= e or s < pos:
            continue
        out.append(text[pos:s])
        out.append(f"[{text[s:e]}]")
        pos = e
    out.append(text[pos:hi])
    body = " ".join("".join(out).split())
    return ("…" if first > 0 else "") + body + ("…" if last < len(tokens) - 1 else "")


__all__ = ["find_matches", "make_snippet", "SNIPPET_WORDS"]
