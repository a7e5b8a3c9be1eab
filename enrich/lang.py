"""Language of a title or an article: sk, cs, lt, tr, mk, en, or "other". Offline, no model downloads.

Two signals are combined:
- our own evidence: letters only one of our languages uses (Slovak ľ ĺ ŕ ô ä, Czech ř ů ě, Lithuanian ą ę ė į ų ū,
  Turkish ğ ı ş, Macedonian ѓ ќ ѕ against Serbian ђ ћ and Russian/Bulgarian ы э ё й щ ъ ь ю я) and frequent
  function words from `lexicons/<lang>/stopwords.txt` (a word shared by several languages counts for each in
  proportion). This is what separates Slovak from Czech and finds Macedonian written in Latin script, which no
  n-gram model here knows.
- py3langid's naive Bayes model over all its languages, to recognise text in a language we do not serve
  (Polish, German, Serbian ...) as "other". Its model ships with the package; it is loaded once, lazily.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from presswatch.enrich import lexicons
from presswatch.enrich.text import WORD_RE, fold

LANGS = lexicons.LANGS
OTHER = "other"
MAX_CHARS = 2000  # enough to decide; keeps long articles cheap

_LETTERS: dict[str, str] = {
    "sk": "ľĺŕôä",
    "cs": "řůě",
    "lt": "ąęėįųū",
    "tr": "ğış",
    "mk": "ѓќѕ",
}
_MK_SHARED = "јљњџ"  # Macedonian and Serbian
_NOT_MK_CYRILLIC = "ђћыэёйщъьюяіїєў"
_FOREIGN_LATIN = "łśźżćńőűßñøåæãõșțăîâêëïàèìòùāēīķļņģŀœ"  # ż: Polish (its ą ę are also Lithuanian)
_TR_SHARED = "çöü"
_identifier_lock = threading.Lock()
_identifier: Any = None


@dataclass(frozen=True, slots=True)
class LangGuess:
    lang: str
    confidence: float  # 0..1, rough
    scores: dict[str, float]


def _langid() -> Any:
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


@lru_cache(maxsize=1)
def _function_words() -> dict[str, dict[str, float]]:
    """word → {lang: weight}; a word in k of our languages weighs 1/k for each."""
    owners: dict[str, list[str]] = {}
    for lang in LANGS:
        for w in lexicons.wordset(lang, "stopwords"):
            owners.setdefault(w, []).append(lang)
    return {w: {lg: 1.0 / len(ls) for lg in ls} for w, ls in owners.items()}


def _evidence(text: str) -> tuple[dict[str, float], int, int, int, int]:
    """Per-language scores, number of words, Cyrillic letters, Latin letters, foreign-Latin letters."""
    scores = dict.fromkeys(LANGS, 0.0)
    low = text.lower()
    cyr = lat = foreign = 0
    mk_spec = not_mk = mk_shared = 0
    for ch in low:
        if not ch.isalpha():
            continue
        if "\u0400" <= ch <= "\u04ff":
            cyr += 1
            if ch in _LETTERS["mk"]:
                mk_spec += 1
            elif ch in _MK_SHARED:
                mk_shared += 1
            elif ch in _NOT_MK_CYRILLIC:
                not_mk += 1
            continue
        lat += 1
        for lang in ("sk", "cs", "lt", "tr"):
            if ch in _LETTERS[lang]:
                scores[lang] += 1.5
                break
        else:
            if ch in _FOREIGN_LATIN:
                foreign += 1
            elif ch in _TR_SHARED:
                scores["tr"] += 0.5
    if cyr:
        scores["mk"] += 2.0 * mk_spec + 0.5 * mk_shared - 1.5 * not_mk
    fw = _function_words()
    n_words = 0
    for m in WORD_RE.finditer(low):
        n_words += 1
        w = fold(m.group())
        w = w.split("'", 1)[0] if "'" in w else w
        for lg, weight in fw.get(w, {}).items():
            scores[lg] += weight
    return scores, n_words, cyr, lat, foreign


def identify(text: str, hint: str | None = None) -> LangGuess:
    """The language of `text`; `hint` (e.g. the feed's declared language) decides only when the text cannot."""
    sample = unicodedata.normalize("NFC", text[:MAX_CHARS])
    scores, n_words, cyr, lat, foreign = _evidence(sample)
    if n_words == 0:
        return LangGuess(hint if hint is not None and hint in LANGS else OTHER, 0.0, scores)
    ranked = _langid().rank(sample)
    probs = dict(ranked[:12])
    top_lang, top_p = ranked[0]
    if cyr > lat:
        # Cyrillic: Macedonian or another Cyrillic language (Bulgarian, Russian, Serbian, Ukrainian).
        mk_score = scores["mk"] + 2.0 * probs.get("mk", 0.0)
        if mk_score > 0.5 or (top_lang == "mk" and mk_score > -1.0):
            return LangGuess("mk", min(1.0, 0.5 + mk_score / max(4.0, n_words / 4)), scores)
        return LangGuess(OTHER, top_p, scores)
    latin_scores = {lg: s + 3.0 * probs.get(lg, 0.0) for lg, s in scores.items()}
    best = max(latin_scores, key=lambda lg: latin_scores[lg])
    ordered = sorted(latin_scores.values(), reverse=True)
    margin = ordered[0] - ordered[1]
    density = ordered[0] / max(1, n_words)
    if top_lang in LANGS and top_lang == best:
        return LangGuess(best, min(1.0, 0.5 + top_p / 2), scores)
    strong = density >= 0.12 and margin >= 1.0 and foreign <= max(1, lat // 200)
    if top_lang in LANGS and not strong:
        # the model's choice among ours, unless our evidence clearly prefers another of ours
        if top_lang in ("sk", "cs") and best in ("sk", "cs") and margin >= 1.0:
            return LangGuess(best, 0.6, scores)
        if top_p >= 0.5 or latin_scores[top_lang] >= ordered[0] - 1.0:
            return LangGuess(top_lang, top_p, scores)
    if strong:
        return LangGuess(best, min(1.0, density * 3), scores)
    if top_lang in LANGS:
        return LangGuess(top_lang, top_p, scores)
    if hint is not None and hint in LANGS and top_p < 0.9:
        return LangGuess(hint, 0.3, scores)
    return LangGuess(OTHER, top_p, scores)


def detect(text: str, hint: str | None = None) -> str:
    """The language code of `text` (one of LANGS or "other")."""
    return identify(text, hint).lang


def detect_article(title: str, text: str, hint: str | None = None) -> str:
    """The language of an article: its title and the start of its text together."""
    return identify(f"{title}.\n{text[:MAX_CHARS]}", hint).lang
