"""Sentiment toward the municipality and its officials: lexicon valences over the sentences in scope.

Each sentence in scope (scope.py) adds the valences of its words (`positive.txt`, `negative.txt`), criticism and
accusation cues count as negative; a negator shortly before a cue flips and weakens it ("nie je dobré",
"not good"), as does the negative prefix ne- in Slovak, Czech and Lithuanian ("nebezpečný"); an intensifier
right before strengthens it ("veľmi", "çok", "labai"); in a sentence about a plan or a future event
(`announcement.txt`: "bude", "planuoja", "ќе", "will", the Turkish future "-acak/-ecek", the Slovak and Czech
perfective present "otvorí") praise words weigh half, and an article whose praise is all for what is planned or
announced reads neutral at most: news, not yet an achievement. A council decision taken (past tense) to build,
renew or create something is an achievement (`positive.txt`, "schválilo ~ rekonštrukci*"); the approval of a
document (a budget, a programme, a sale) is a routine notice. Lexicon entries written as lemmas match every
inflected form (`lemmas.py`, `lexicons.CueSet.find`). In a sentence about the national
government only the praise counts (the blame is the state's). The title and the lead weigh more. The flags refine
the label: a critical article reads negative whatever its polite words (sarcasm), unless the municipality's
explicit rebuttal stands beside the accusation in the same article (balanced reporting reads neutral).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from presswatch.enrich import lexicons
from presswatch.enrich.lexicons import CueHit
from presswatch.enrich.scope import ScopedSentence
from presswatch.records import Sentiment

NEGATION_WINDOW = 4
POSITIVE = 0.45  # score from which an article reads positive (measured on the dev, own and newsroom sets)
NEGATIVE = 0.2  # -score from which it reads negative
CRITICISM_FOR_NEGATIVE = 1.0
LEAD_WEIGHT = 1.5
CUE_WEIGHT = -0.6  # a criticism cue of strength w counts as valence -0.6 w
NEGATED = -0.5  # a negated valence flips and halves
REBUTTED = 0.3  # a criticism answered in the same article reads balanced
ANNOUNCED = 0.5  # praise words in a sentence about a plan or a future event ("will open", "bude otvorený")


@dataclass(frozen=True, slots=True)
class SentenceScore:
    sentence: ScopedSentence
    valence: float
    hits: tuple[CueHit, ...]
    announced: bool = False  # a sentence about a plan or a future event (`announcement.txt`)


def _negated(keys: Sequence[str], start: int, lo: int, negators: lexicons.WordMatcher) -> bool:
    return any(keys[k] in negators for k in range(max(lo, start - NEGATION_WINDOW), start))


def sentence_valence(sent: ScopedSentence, lang: str) -> SentenceScore:
    keys = sent.field.keys
    polar = lexicons.cues(lang, "positive", "negative")
    crit = lexicons.cues(lang, "criticism", "accusation")
    negators = lexicons.words((lang,), "negators")
    intens = lexicons.cues(lang, "intensifiers")
    announced = lexicons.cues(lang, "announcement").any(keys, sent.start, sent.end)
    hits = polar.find(keys, sent.start, sent.end)
    covered = {k for h in hits for k in range(h.start, h.end)}
    total = 0.0
    for h in hits:
        v = h.cue.weight
        if sent.national and v < 0:
            continue
        if _negated(keys, h.start, sent.start, negators):
            v *= NEGATED
        boost = [i for i in intens.find(keys, max(sent.start, h.start - 2), h.start) if i.end == h.start]
        if boost:
            v *= boost[0].cue.weight
        if announced and v > 0:
            v *= ANNOUNCED  # what is planned or announced is news, not yet an achievement
        total += v
    if lang in ("sk", "cs", "lt"):
        # the negative prefix: "nebezpečný" is "bezpečný" negated (only where no entry matched the word itself)
        for k in range(sent.start, sent.end):
            key = keys[k]
            if k in covered or not key.startswith("ne") or len(key) < 6:
                continue
            sub = polar.find([key[2:]])
            if sub and sub[0].end == 1:
                total += sub[0].cue.weight * NEGATED * 1.4
    if not sent.national:
        for h in crit.find(keys, sent.start, sent.end):
            if not _negated(keys, h.start, sent.start, negators):
                total += CUE_WEIGHT * h.cue.weight
    if sent.lead:
        total *= LEAD_WEIGHT
    return SentenceScore(sent, total, tuple(hits), announced)


def score_sentences(sentences: Sequence[ScopedSentence], lang: str) -> list[SentenceScore]:
    return [sentence_valence(s, lang) for s in sentences]


def article_sentiment(scores: Sequence[SentenceScore], critical: bool = False, rebutted: bool = False,
                      criticism: float = 0.0) -> Sentiment:
    """Combine sentence valences into one label and a score in -1..1.

    Negative toward the municipality means criticised: without a critical flag (or at least some criticism,
    `criticism` ≥ CRITICISM_FOR_NEGATIVE) a story about a storm or a question headline stays neutral. A critical
    article is negative whatever its polite words, a criticism answered in the same article is balanced.
    Positive needs clear praise (POSITIVE): announcements and notices read neutral."""
    if not scores:
        return Sentiment("neutral", 0.0)
    raw = sum(s.valence for s in scores)
    value = math.tanh(raw / (2.0 + 0.25 * len(scores)))
    if critical and not rebutted:
        value = min(value, -0.4)
    elif critical and rebutted:
        value = max(-NEGATIVE + 0.01, min(POSITIVE - 0.01, value * REBUTTED))
    elif value < 0 and criticism < CRITICISM_FOR_NEGATIVE:
        value = max(value, -NEGATIVE + 0.01)
    if value >= POSITIVE and not any(s.valence > 0 and not s.announced for s in scores):
        value = POSITIVE - 0.01  # all the praise is for what is planned or announced: news, not an achievement
    label = "positive" if value >= POSITIVE else "negative" if value <= -NEGATIVE else "neutral"
    return Sentiment(label, max(-1.0, min(1.0, value)))
