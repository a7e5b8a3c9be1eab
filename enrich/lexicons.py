"""Lexicons and cue lists: data files under `enrich/lexicons/<lang>/<name>.txt`, each loaded once per process.

Every file starts with a comment header that names where its entries come from (STYLE.md 8); a test keeps that
true. Entries are written the way people write them (with diacritics, Cyrillic for Macedonian) and folded on
load with `text.fold`, so they also match text typed without diacritics; a Macedonian entry also matches its
English-style Latin spelling (`text.translit_variants`).

Line syntax (blank lines and `#` comments are ignored):

    entry                 a cue with weight 1
    entry = -2.5          a cue with a weight (sentiment valence, cue strength)
    key: phrase | phrase  keyed files (roles, months, units, ...): several phrases for one key

Plain word lists (stopwords, negators, honorifics, generic, and the keys of places.txt) are read word by word:
a line may hold many words, and a phrase there is just its words.

Entry syntax, matched against the folded word keys of a text (`document.Token.key`) and their lemmas
(`document.Token.lemma`, from `lemmas.py`):

    word        that word exactly, or any word whose lemma it is: "chyba" matches "chyby", "chybou" (but not
                "chybějících", whose lemma is "chybějící"); a suffix after an apostrophe, Aydemir'in, is not part
                of the key
    word*       any word that starts with `word` (at least three letters): inflection in one entry
    *suffix     any word that ends in `suffix` (at least three letters): Turkish future "*acak", "*ecek"
    a b         consecutive words
    a ~ b       `b` within a few words after `a`

Prefer a lemma entry to a prefix entry where the prefix also begins unrelated words. Prefix and suffix entries
match the word as written, not its lemma.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from presswatch.enrich.text import fold, translit_variants

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
LANGS: tuple[str, ...] = ("sk", "cs", "lt", "tr", "mk", "en")
GAP_MAX = 5  # how many words `~` may skip

_EXACT, _PREFIX, _GAP, _SUFFIX = 0, 1, 2, 3
Element = tuple[int, str]


class Keys(tuple[str, ...]):
    """Word keys that also carry the lemma of each word (`document.FieldText.keys`); `CueSet.find` matches
    exact entries against both. A plain sequence of keys works too (then only the keys are matched)."""

    lemmas: tuple[str, ...]

    def __new__(cls, keys: Sequence[str], lemmas: Sequence[str]) -> Keys:
        self = super().__new__(cls, keys)
        self.lemmas = tuple(lemmas)
        if len(self.lemmas) != len(self):
            raise ValueError("one lemma per key")
        return self


class LexiconError(ValueError):
    """A lexicon file that cannot be read: the file and line are in the message."""


@dataclass(frozen=True, slots=True)
class Cue:
    text: str  # the entry as written in the file
    name: str  # the file (category) it comes from: "criticism", "negative", ...
    weight: float
    elements: tuple[Element, ...]


@dataclass(frozen=True, slots=True)
class CueHit:
    cue: Cue
    start: int  # token index of the first matched word
    end: int  # token index after the last matched word


@dataclass(slots=True)
class CueSet:
    """Compiled entries of one or more lexicon files, indexed by their first word for a quick scan."""

    exact: dict[str, list[Cue]] = field(default_factory=dict)
    prefix: dict[str, list[Cue]] = field(default_factory=dict)  # keyed by the first three letters
    suffix: list[Cue] = field(default_factory=list)
    suffixes: tuple[str, ...] = ()  # the first words of `suffix`, for one `str.endswith` per word
    size: int = 0

    def add(self, cue: Cue) -> None:
        kind, value = cue.elements[0]
        if kind == _EXACT:
            self.exact.setdefault(value, []).append(cue)
        elif kind == _SUFFIX:
            self.suffix.append(cue)
            self.suffixes += (value,)
        else:
            self.prefix.setdefault(value[:3], []).append(cue)
        self.size += 1

    def __len__(self) -> int:
        return self.size

    def find(self, keys: Sequence[str], lo: int = 0, hi: int | None = None, overlap: bool = False) -> list[CueHit]:
        """Cue hits in `keys[lo:hi]`; without `overlap`, the longest hit wins where hits overlap.

        Exact entries match a key or its lemma when `keys` carries lemmas (`Keys`)."""
        hi = len(keys) if hi is None else hi
        lemmas: Sequence[str] = keys.lemmas if isinstance(keys, Keys) else keys
        hits: list[CueHit] = []
        for i in range(lo, hi):
            key, lem = keys[i], lemmas[i]
            cands = self.exact.get(key)
            if lem != key and lem in self.exact:
                cands = (cands or []) + self.exact[lem]
            pref = self.prefix.get(key[:3])
            suff = bool(self.suffixes) and key.endswith(self.suffixes)
            if not cands and not pref and not suff:
                continue
            found = (cands or []) + [c for c in (pref or []) if key.startswith(c.elements[0][1])]
            if suff:
                found += [c for c in self.suffix if _word_ok(c.elements[0], key, key)]
            for cue in found:
                end = _match(cue.elements, keys, lemmas, i + 1, hi, 1)
                if end >= 0:
                    hits.append(CueHit(cue, i, end))
        if overlap or len(hits) < 2:
            return hits
        hits.sort(key=lambda h: (h.start - h.end, -abs(h.cue.weight), h.start))
        taken: list[CueHit] = []
        used: set[int] = set()
        for h in hits:
            span = set(range(h.start, h.end))
            if span & used:
                continue
            used |= span
            taken.append(h)
        taken.sort(key=lambda h: h.start)
        return taken

    def any(self, keys: Sequence[str], lo: int = 0, hi: int | None = None) -> bool:
        return bool(self.find(keys, lo, hi, overlap=True))


def _word_ok(el: Element, key: str, lemma: str) -> bool:
    kind, value = el
    if kind == _EXACT:
        return key == value or lemma == value
    if kind == _SUFFIX:
        return key.endswith(value) and len(key) > len(value)
    return key.startswith(value)


def _match(els: tuple[Element, ...], keys: Sequence[str], lemmas: Sequence[str], i: int, hi: int, k: int) -> int:
    if k == len(els):
        return i
    if els[k][0] == _GAP:
        for j in range(i, min(i + GAP_MAX, hi) + 1):
            r = _match(els, keys, lemmas, j, hi, k + 1)
            if r >= 0:
                return r
        return -1
    if i >= hi:
        return -1
    return _match(els, keys, lemmas, i + 1, hi, k + 1) if _word_ok(els[k], keys[i], lemmas[i]) else -1


def parse_pattern(text: str) -> list[tuple[Element, ...]]:
    """The element sequences of one entry: one per spelling (Cyrillic entries also in digraph Latin)."""
    out: list[tuple[Element, ...]] = []
    for spelling in sorted(translit_variants(text)):
        els: list[Element] = []
        for word in spelling.replace("-", " ").split():
            if word == "~":
                els.append((_GAP, ""))
            elif word.startswith("*"):
                tail = word[1:].strip("'")
                if len(tail) < 3 or "*" in tail:
                    raise ValueError(f"suffix {word!r} is shorter than three letters or has a second *")
                els.append((_SUFFIX, tail))
            elif word.endswith("*"):
                stem = word[:-1].strip("'")
                if len(stem) < 3:
                    raise ValueError(f"prefix {word!r} is shorter than three letters")
                els.append((_PREFIX, stem))
            else:
                els.append((_EXACT, word.split("'", 1)[0] if "'" in word[1:] else word.strip("'")))
        if not els or els[0][0] == _GAP or els[-1][0] == _GAP:
            raise ValueError(f"entry {text!r} is empty or starts or ends with ~")
        out.append(tuple(els))
    return out


def path(lang: str, name: str) -> Path:
    return LEXICON_DIR / lang / f"{name}.txt"


@cache
def _lines(lang: str, name: str) -> tuple[tuple[int, str], ...]:
    p = path(lang, name)
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append((n, line))
    return tuple(out)


@cache
def entries(lang: str, name: str) -> tuple[tuple[str, float], ...]:
    """(entry, weight) pairs of a cue file; a missing file is an empty list (not every language needs every file)."""
    out = []
    for n, line in _lines(lang, name):
        text, _, weight = line.partition(" = ")
        try:
            out.append((text.strip(), float(weight) if weight else 1.0))
        except ValueError:
            raise LexiconError(f"{path(lang, name)}:{n}: weight {weight!r} is not a number") from None
    return tuple(out)


@cache
def cues(lang: str, *names: str) -> CueSet:
    """One compiled cue set from the named files of one language."""
    cs = CueSet()
    for name in names:
        for text, weight in entries(lang, name):
            try:
                for els in parse_pattern(text):
                    cs.add(Cue(text, name, weight, els))
            except ValueError as exc:
                raise LexiconError(f"{path(lang, name)}: {exc}") from None
    return cs


@cache
def keyed_cues(lang: str, name: str) -> CueSet:
    """A keyed file compiled as cues; each cue's `name` is its key (e.g. years.txt: this / next / last)."""
    cs = CueSet()
    for key, phrases in keyed(lang, name).items():
        for text in phrases:
            try:
                for els in parse_pattern(text):
                    cs.add(Cue(text, key, 1.0, els))
            except ValueError as exc:
                raise LexiconError(f"{path(lang, name)}: {exc}") from None
    return cs


@cache
def wordset(lang: str, name: str) -> frozenset[str]:
    """The folded single words of a plain word list (stopwords, negators, ...), in every spelling."""
    out: set[str] = set()
    for text, _ in entries(lang, name):
        for spelling in translit_variants(text):
            out.update(w.strip("'") for w in spelling.split())
    return frozenset(out)


@cache
def keyed(lang: str, name: str) -> dict[str, tuple[str, ...]]:
    """A keyed file as {key: (phrase, ...)}; phrases as written (fold them where you match)."""
    out: dict[str, list[str]] = {}
    for n, line in _lines(lang, name):
        key, sep, rest = line.partition(":")
        if not sep:
            raise LexiconError(f"{path(lang, name)}:{n}: expected `key: phrase | phrase`")
        out.setdefault(key.strip(), []).extend(p.strip() for p in rest.split("|") if p.strip())
    return {k: tuple(v) for k, v in out.items()}


def fold_word(word: str) -> str:
    """The key a single word gets in a document (folded, apostrophe suffix removed)."""
    f = fold(word)
    return f.split("'", 1)[0] if "'" in f[1:] else f.strip("'")


@dataclass(frozen=True, slots=True)
class WordMatcher:
    """Single-word entries (exact words and `prefix*` entries) for quick membership tests on word keys."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...] = ()

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self.exact or key.startswith(self.prefixes)
                                         or (bool(self.suffixes) and key.endswith(self.suffixes)))

    def __or__(self, other: WordMatcher) -> WordMatcher:
        return WordMatcher(self.exact | other.exact, self.prefixes + other.prefixes, self.suffixes + other.suffixes)


EMPTY = WordMatcher(frozenset(), ())


def _word_matcher(phrases: Sequence[str]) -> WordMatcher:
    exact: set[str] = set()
    prefixes: list[str] = []
    suffixes: list[str] = []
    for phrase in phrases:
        for spelling in translit_variants(phrase):
            for w in spelling.split():
                if w.startswith("*"):
                    suffixes.append(w[1:])
                elif w.endswith("*"):
                    prefixes.append(w[:-1])
                else:
                    exact.add(w.strip("'"))
    return WordMatcher(frozenset(exact), tuple(prefixes), tuple(suffixes))


@cache
def words(langs: tuple[str, ...], name: str, key: str | None = None) -> WordMatcher:
    """Every word of the named list (or of one key of a keyed file) in the given languages."""
    out = EMPTY
    for lang in langs:
        phrases = keyed(lang, name).get(key, ()) if key else tuple(t for t, _ in entries(lang, name))
        out = out | _word_matcher(phrases)
    return out
