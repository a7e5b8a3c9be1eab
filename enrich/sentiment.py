"""Sentiment toward the municipality and its officials: lexicon valences over the sentences in scope.

Each sentence in scope (scope.py) adds the valences of its words (`positive.txt`, `negative.txt`), criticism and
accusation cues count as negative; a negator shortly before a cue flips and weakens it ("nie je dobré",
"not good"), as does the negative prefix ne- in Slovak, Czech and Lithuanian ("nebezpečný"); an intensifier
right before strengthens it ("veľmi", "çok", "labai"); in a sentence about a plan or a future event
(`announcement.txt`: "bude", "planuoja", "ќе", "will", the Turkish future "-acak/-ecek", the Slovak and Czech
perfective present "otvorí") praise words weigh half, and an article whose praise is all for what is planned or
announced reads neutral at most: news, not yet an achievement. A council decision taken (past tense) to build,
renew or create something is an achievement (`positive.txt`, "schválilo ~ rekonštrukci*"); the approval of a
document (a budget, a programme, a sale, a contract or tender even for works: a document noun at either end of the
match, weight 0 in `positive.txt`) is a routine notice. Lexicon entries written as lemmas match every
inflected form (`lemmas.py`, `lexicons.CueSet.find`). In a sentence about the national
government only the praise counts (the blame is the state's). A sentence that names the town and sets it apart from
other towns (`contrast.txt`: "unlike other towns", "one of the few", "kým viaceré mestá", "за разлика од") and
criticises nothing of it nor says it lags behind ("still", "stále": weight < 0 there) holds the town up as an
example: it counts as praise (CONTRAST) and its negative words are the other towns' or the state's ("while many
towns had to cut services, X kept ..."). The title and the lead weigh more. The flags refine the label: a
critical article reads negative whatever its polite words (sarcasm), unless the municipality's
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
# a town sentence that sets the town apart from others without criticising it: as much as one clear praise word
# ("ocenil", "approved the construction"), so that in the lead it carries a short article on its own, and in the
# body it needs one more praise word; a national article that merely names the town has no contrast cue at all
CONTRAST = 1.5
# a document noun this many words inside or outside either end of an approval match makes it a routine notice:
# the object right after the verb ("approved the contract for ..."), right before a noun-first match, or governed by
# the project noun ("the extension of the waste contract")
DOCUMENT_NEAR = (3, 4)


@dataclass(frozen=True, slots=True)
class SentenceScore:
    sentence: ScopedSentence
    valence: float
    hits: tuple[CueHit, ...]
    announced: bool = False  # a sentence about a plan or a future event (`announcement.txt`)


def _negated(keys: Sequence[str], start: int, lo: int, negators: lexicons.WordMatcher) -> bool:
    return any(keys[k] in negators for k in range(max(lo, start - NEGATION_WINDOW), start))


def _without_documents(hits: list[CueHit], polar: lexicons.CueSet, keys: Sequence[str], lo: int,
                       hi: int) -> list[CueHit]:
    """Drop approvals ("schválili ~ výstavb*") whose object is a document: a document noun (`positive.txt`, weight 0:
    "zmluvu", "contract", "ihale") at either end of the match ("schválili zmluvu o výstavbe", "agreed to the
    extension of the waste contract"). The approval of a contract, a tender or a budget line is a routine notice."""
    approvals = [h for h in hits if h.cue.weight > 0 and "~" in h.cue.text]
    if not approvals:
        return hits
    docs = {k for h in polar.find(keys, lo, hi, overlap=True) if h.cue.weight == 0 for k in range(h.start, h.end)}
    if not docs:
        return hits
    inner, outer = DOCUMENT_NEAR

    def near(h: CueHit) -> set[int]:
        return {*range(h.start - outer, h.start + inner), *range(h.end - inner, h.end + outer)}

    return [h for h in hits if h not in approvals or not docs & near(h)]


def sentence_valence(sent: ScopedSentence, lang: str) -> SentenceScore:
    keys = sent.field.keys
    polar = lexicons.cues(lang, "positive", "negative")
    crit = lexicons.cues(lang, "criticism", "accusation")
    negators = lexicons.words((lang,), "negators")
    intens = lexicons.cues(lang, "intensifiers")
    announced = lexicons.cues(lang, "announcement").any(keys, sent.start, sent.end)
    hits = polar.find(keys, sent.start, sent.end)
    covered = {k for h in hits for k in range(h.start, h.end)}
    crit_all = [] if sent.national else crit.find(keys, sent.start, sent.end)
    crit_hits = [h for h in crit_all if not _negated(keys, h.start, sent.start, negators)]
    # the town set apart from other towns, with no criticism of it in the sentence (a negated cue too: "nemá ...
    # a ľudia sa sťažujú") and no sign that it lags behind ("still", "stále", "сè уште": weight < 0): an example
    contrast = False
    if sent.direct and not crit_all:
        cues = lexicons.cues(lang, "contrast").find(keys, sent.start, sent.end, overlap=True)
        contrast = any(c.cue.weight > 0 for c in cues) and not any(c.cue.weight < 0 for c in cues)
    hits = _without_documents(hits, polar, keys, sent.start, sent.end)
    total = 0.0
    for h in hits:
        v = h.cue.weight
        if (sent.national or contrast) and v < 0:
            continue
        if _negated(keys, h.start, sent.start, negators):
            v *= NEGATED
        boost = [i for i in intens.find(keys, max(sent.start, h.start - 2), h.start) if i.end == h.start]
        if boost:
            v *= boost[0].cue.weight
        if announced and v > 0:
            v *= ANNOUNCED  # what is planned or announced is news, not yet an achievement
        total += v
    if contrast:
        total += CONTRAST * (ANNOUNCED if announced else 1.0)
    if lang in ("sk", "cs", "lt") and not contrast:
        # the negative prefix: "nebezpečný" is "bezpečný" negated (only where no entry matched the word itself)
        for k in range(sent.start, sent.end):
            key = keys[k]
            if k in covered or not key.startswith("ne") or len(key) < 6:
                continue
            sub = polar.find([key[2:]])
            if sub and sub[0].end == 1:
                total += sub[0].cue.weight * NEGATED * 1.4
    for h in crit_hits:
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
