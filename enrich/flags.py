"""The critical and misleading flags, each with its reasons (cue, quoted sentence, offsets) and a severity.

critical — criticism, accusations or failures attributed to the municipality, its officials or bodies, by
anyone: opposition, citizens, auditors, journalists. Read from the sentences in scope (scope.py) with the cue
lists `criticism.txt` and `accusation.txt` (weighted; a negated cue does not count). Sarcasm — editorial
congratulations or thanks in the title or lead (`irony.txt`) over an article that also reports failures — is
criticism. A rebuttal in the same article does not cancel a criticism; criticism of the national government
(sentences marked national) is not criticism of us, even when our mayor voices it. A question headline
("Další zdražení?") weighs half.

misleading — a figure or date that contradicts the official record (facts.py), or an accusation of wrongdoing
stated as fact: an accusation cue in a sentence with no attribution or hedge (`hedges.txt`: "podľa", "údajne",
"allegedly", "tvrdí"), in an article that itself says nobody has confirmed or investigated it
(`unverified.txt`: "polícia sa vecou nezaoberá", "no investigation", "soruşturma bulunmuyor").

Severity weighs the strength of the evidence, where it stands (title, lead) and the outlet's tier (profile
`outlets`, tier 1 = national/major).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from presswatch.enrich import lexicons
from presswatch.enrich.facts import Contradiction
from presswatch.enrich.lexicons import CueHit
from presswatch.enrich.scope import ScopedSentence
from presswatch.records import Flag, Reason

CRITICAL_THRESHOLD = 1.5  # measured: criticised items score from ~1.5 up, others stay below ~1.3
NEGATED_ACTION = 0.75  # "nepolieval", "neodpovedala", "netyrė", "yapılmadı": something the authority did not do
NEGATED_ACTION_CAP = 1.5
HYPOTHETICAL = 0.3  # a cue in an "if" clause
INDIRECT = 0.6  # cues in an in-scope sentence that does not name the municipality itself
SINGLE_SENTENCE = 2.5  # criticism found in one sentence only must be this strong (else two sentences are needed)
NEGATIVITY_FACTOR = 0.3  # evaluative negative words in a sentence that names us count toward criticism
NEGATIVITY_CAP = 1.5
# auxiliaries and modals whose negation says nothing about a failure to act
_NOT_ACTIONS = frozenset(
    "nebol nebola nebolo neboli nebyl nebyla nebylo nebyli nemal nemala nemalo nemali nemel nemela nemelo nemeli "
    "nemohol nemohla nemohlo nemohli nemohl nemusel nemusela nemuselo nemuseli nechcel nechcela nechceli nechtel "
    "nechtela nechteli nesmel nesmela nesmeli nedela nebuvo neturejo negalejo nereikejo nezinojo nechal nechala "
    "nechalo nechali nechaly nedokazal nedokazala nedokazalo nedokazali nevedel nevedela nevedeli nevedelo".split())
SARCASM_WEIGHT = 2.0
QUESTION_TITLE = 0.5  # a cue in a question headline weighs half
TIER_FACTOR = {1: 1.0, 2: 0.85, 3: 0.7}
MAX_REASONS = 5
REBUTTAL_FOR_BALANCE = 1.0  # an explicit denial (weight 1); a bare "it was lawful" (0.5) does not balance an accusation


@dataclass(frozen=True, slots=True)
class FlagResult:
    flags: tuple[Flag, ...]
    critical_strength: float
    rebutted: bool


def _surface(sent: ScopedSentence, hit: CueHit) -> str:
    toks = sent.field.tokens
    return sent.field.text[toks[hit.start].start : toks[hit.end - 1].end]


def _reason(sent: ScopedSentence, cue: str, **extra: str) -> Reason:
    s, e = sent.span
    return Reason(cue=cue, quote=sent.quote, field=sent.field.name, start=s, end=e, **extra)


def _negated(sent: ScopedSentence, hit: CueHit, negators: lexicons.WordMatcher) -> bool:
    keys = sent.field.keys
    return any(keys[k] in negators for k in range(max(sent.start, hit.start - 4), hit.start))


def _hypothetical_from(sent: ScopedSentence, lang: str) -> int:
    """Token index from which the sentence is hypothetical ("Ak kontrola zistí ..."), or its end."""
    hits = lexicons.cues(lang, "conditionals").find(sent.field.keys, sent.start, sent.end)
    return hits[0].start if hits else sent.end


def negated_actions(keys: Sequence[str], start: int, end: int, lang: str) -> list[int]:
    """Token indices of negated past actions: what someone did not do (a failure when the subject is us)."""
    out = []
    for k in range(start, end):
        key = keys[k]
        if lang in ("sk", "cs"):
            if key.startswith("ne") and len(key) >= 6 and key.endswith(("l", "la", "lo", "li", "ly")) \
                    and key not in _NOT_ACTIONS:
                out.append(k)
        elif lang == "lt":
            if key.startswith("ne") and len(key) >= 7 and key.endswith(("o", "e", "ojo", "ejo")) \
                    and key not in _NOT_ACTIONS:
                out.append(k)
        elif lang == "tr":
            if len(key) >= 6 and key.endswith(("madi", "medi", "madilar", "mediler", "miyor", "muyor", "mamis",
                                               "memis", "madigini", "medigini", "madigi", "medigi")) \
                    and not key.startswith("kome"):
                out.append(k)
        elif lang == "mk":
            if key == "ne" and k + 1 < end and keys[k + 1] not in ("e", "se", "samo", "bi", "sum", "si", "sme"):
                out.append(k)
        elif lang == "en":
            if key in ("did", "has", "have", "had", "was", "were", "could") and k + 1 < end \
                    and keys[k + 1] in ("not", "n't") or key.endswith("n't") and key[:-3] in ("did", "has", "have"):
                out.append(k)
    return out


def _severity(strength: float, reasons: Sequence[Reason], lead_idx: set[tuple[str, int]], tier: int,
              base: float) -> float:
    value = base + 0.08 * min(strength, 6.0)
    if any(r.field == "title" for r in reasons):
        value += 0.15
    elif any((r.field, r.start) in lead_idx for r in reasons):
        value += 0.07
    return round(max(0.05, min(1.0, value * TIER_FACTOR.get(tier, 0.85))), 3)


def critical_flag(sentences: Sequence[ScopedSentence], lang: str, tier: int) -> tuple[Flag | None, float, bool]:
    """(flag or None, strength, rebutted)."""
    crit = lexicons.cues(lang, "criticism", "accusation")
    irony = lexicons.cues(lang, "irony")
    rebut = lexicons.cues(lang, "rebuttal")
    negative = lexicons.cues(lang, "negative")
    negators = lexicons.words((lang,), "negators")
    strength = 0.0
    reasons: list[tuple[float, Reason]] = []
    rebuttal = 0.0
    negativity = 0.0
    negativity_used = 0.0
    actions = 0.0
    ironic: tuple[ScopedSentence, CueHit] | None = None
    for sent in sentences:
        keys = sent.field.keys
        rebuttal += max((h.cue.weight for h in rebut.find(keys, sent.start, sent.end)), default=0.0)
        negativity += sum(-h.cue.weight for h in negative.find(keys, sent.start, sent.end) if h.cue.weight < 0)
        if sent.lead and ironic is None:
            hits = irony.find(keys, sent.start, sent.end)
            if hits:
                ironic = (sent, hits[0])
        if sent.national:
            continue
        factor = QUESTION_TITLE if sent.field.name == "title" and sent.quote.rstrip().endswith("?") else 1.0
        hits = [h for h in crit.find(keys, sent.start, sent.end) if not _negated(sent, h, negators)]
        cond = _hypothetical_from(sent, lang)
        w = factor * sum(h.cue.weight * (HYPOTHETICAL if h.start > cond else 1.0) for h in hits)
        cue = _surface(sent, max(hits, key=lambda h: h.cue.weight)) if hits else ""
        if not sent.direct:
            w *= INDIRECT  # a lead or continuation sentence that does not name us
        if sent.direct:
            covered = {k for h in hits for k in range(h.start, h.end)}
            neg = [h for h in negative.find(keys, sent.start, sent.end)
                   if h.cue.weight < 0 and not any(k in covered for k in range(h.start, h.end))]
            acts = [k for k in negated_actions(keys, sent.start, sent.end, lang) if k not in covered and k < cond]
            # what someone did not do is a failure only next to other criticism ("nepolieval ... tvrdí"),
            # not in praise ("poplatky nezvýšilo")
            if not (hits or neg):
                acts = []
            if acts and actions < NEGATED_ACTION_CAP:
                add = min(NEGATED_ACTION * len(acts), NEGATED_ACTION_CAP - actions)
                actions += add
                w += factor * add
                cue = cue or sent.field.text[sent.field.tokens[acts[0]].start : sent.field.tokens[acts[0]].end]
            if neg and negativity_used < NEGATIVITY_CAP:
                add = min(NEGATIVITY_FACTOR * sum(-h.cue.weight for h in neg), NEGATIVITY_CAP - negativity_used)
                negativity_used += add
                w += factor * add
                cue = cue or _surface(sent, neg[0])
        if w <= 0:
            continue
        strength += w
        reasons.append((w, _reason(sent, cue)))
    rebutted = rebuttal >= REBUTTAL_FOR_BALANCE
    sarcasm = ironic is not None and (strength >= 0.5 or negativity >= 1.5)
    if sarcasm and ironic is not None:
        sent, hit = ironic
        strength += SARCASM_WEIGHT
        reasons.append((SARCASM_WEIGHT, _reason(sent, _surface(sent, hit))))
    # one complaint noun ("po sťažnostiach rodičov") is not yet criticism: it takes two sentences with cues,
    # one strong sentence, or sarcasm
    sentences_with_cues = sum(1 for w, _ in reasons if w >= 0.5)
    if strength < CRITICAL_THRESHOLD or not (sarcasm or sentences_with_cues >= 2 or strength >= SINGLE_SENTENCE):
        return None, strength, rebutted
    reasons.sort(key=lambda r: -r[0])
    chosen = tuple(r for _, r in reasons[:MAX_REASONS])
    lead_idx = {(s.field.name, s.span[0]) for s in sentences if s.lead}
    sev = _severity(strength, chosen, lead_idx, tier, base=0.2)
    return Flag("critical", sev, chosen), strength, rebutted


def misleading_flag(sentences: Sequence[ScopedSentence], contradictions: Sequence[Contradiction], lang: str,
                    tier: int) -> Flag | None:
    reasons: list[Reason] = []
    strength = 0.0
    for c in contradictions:
        s, e = c.field.sentences[c.sentence]
        reasons.append(Reason(cue=c.cue, quote=c.field.text[s:e], field=c.field.name, start=s, end=e,
                              record=c.fact.statement, fact_id=c.fact.id, record_url=c.fact.url))
        strength += 2.0
    accusation = lexicons.cues(lang, "accusation")
    hedges = lexicons.cues(lang, "hedges")
    unverified = lexicons.cues(lang, "unverified")
    negators = lexicons.words((lang,), "negators")
    stated: list[Reason] = []
    doubt: list[Reason] = []
    for sent in sentences:
        keys = sent.field.keys
        u = unverified.find(keys, sent.start, sent.end)
        if u:
            doubt.append(_reason(sent, _surface(sent, u[0])))
        if sent.national:
            continue
        hits = [h for h in accusation.find(keys, sent.start, sent.end)
                if h.cue.weight >= 1.0 and not _negated(sent, h, negators)]
        if hits and not hedges.any(keys, sent.start, sent.end):
            stated.append(_reason(sent, _surface(sent, max(hits, key=lambda h: h.cue.weight))))
    if stated and doubt:
        reasons.extend(stated[:3])
        reasons.append(doubt[0])
        strength += 3.0
    if not reasons:
        return None
    lead_idx = {(s.field.name, s.span[0]) for s in sentences if s.lead}
    sev = _severity(strength, reasons, lead_idx, tier, base=0.3)
    return Flag("misleading", sev, tuple(reasons[:MAX_REASONS]))
