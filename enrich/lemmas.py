"""The lemma (dictionary form) of a word, per language, folded so that it compares with `document.Token.key`.

A lexicon entry written as a lemma ("chyba", "kritizovať", "eleştir", "критикува") then matches every inflected
form of it ("chyby", "kritizovali", "eleştirdi", "критикуваше") without a prefix entry that also catches unrelated
words (`chyb*` caught "chybějících", missing).

Sources, all installed packages, nothing downloaded at run time:

* cs, lt, en: spaCy's lookup tables (spacy-lookups-data, `lemma_lookup`), read with `spacy.lookups.load_lookups`,
  which takes the data from the installed package's entry point. We look words up in the table directly and
  never build a spaCy `Doc`: a Doc interns every new word in the vocabulary's StringStore, which grows without
  bound on a stream (spaCy#5083); a table lookup adds nothing. The tables are small (cs 35k, lt 230k, en 42k
  forms), so a word they lack falls back to simplemma ("kritizovali" is not in the Czech table).
* sk (spaCy has no table), tr (spaCy's table has 1.3M forms and costs ~500 MB and 4 s to load), mk (spaCy's
  lemmatizer is rule-based and needs POS tags): simplemma, which ships a dictionary per language and loads it
  the first time that language is asked for.

Everything is loaded lazily, per language, the first time a word of that language is looked up: a deployment
pays only for its profile's languages (simplemma's dictionaries cost 50-130 MB each in memory; with
`settings.LEMMA_LOW_MEMORY` about 10 MB each, but a dictionary miss is then ~15x slower). Results are cached per
(language, word) in a bounded LRU cache (`settings.LEMMA_CACHE_SIZE`), so memory stays flat on a stream whose
vocabulary never stops growing. Names are not lemmatized (`document.analyze`): a dictionary would only garble
them ("Karaçınar" → "kara") and they are most of a stream's new words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache, lru_cache

from presswatch.enrich.text import fold
from presswatch.settings import LEMMA_CACHE_SIZE, LEMMA_LOW_MEMORY

SPACY_TABLE_LANGS: frozenset[str] = frozenset({"cs", "lt", "en"})
SIMPLEMMA_LANGS: frozenset[str] = frozenset({"sk", "cs", "lt", "tr", "mk", "en"})
LANGS: tuple[str, ...] = ("sk", "cs", "lt", "tr", "mk", "en")
_APOSTROPHES = "'’ʼ`´"


@cache
def _spacy_table(lang: str) -> Callable[[str], str | None]:
    """The `get` of spaCy's lookup table for `lang` (loaded once, from the installed spacy-lookups-data)."""
    from spacy.lookups import load_lookups  # spaCy is imported only when a cs/lt/en text is first seen

    table = load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")
    return table.get


@cache
def _simplemma() -> Callable[[str, str], str]:
    """simplemma's lemmatizer without its own token cache (ours is in front of it); its dictionaries load per
    language on first use, the compact stream backend when `settings.LEMMA_LOW_MEMORY`."""
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy

    lem = Lemmatizer(cache_max_size=0, lemmatization_strategy=DefaultStrategy(greedy=False,
                                                                              low_memory=LEMMA_LOW_MEMORY))
    return lem.lemmatize


def lower(word: str, lang: str) -> str:
    """Lowercase as the language does: Turkish I → ı and İ → i (Python's lower() gives i and i + dot)."""
    if lang == "tr":
        word = word.replace("I", "ı").replace("İ", "i")
    return word.lower()


@lru_cache(maxsize=LEMMA_CACHE_SIZE)
def _lemma(lang: str, word: str) -> str:
    found: str | None = None
    if lang in SPACY_TABLE_LANGS:
        found = _spacy_table(lang)(word)
    if not found and lang in SIMPLEMMA_LANGS:
        found = _simplemma()(word, lang)
    return fold(found or word)


def lemma(word: str, lang: str) -> str:
    """The folded lemma of `word` as written (any case, with or without diacritics) in `lang`.

    A suffix after an apostrophe is cut off first, as for token keys (Belediye'nin → belediye). Numbers and
    languages we have no data for give the folded word itself."""
    for a in _APOSTROPHES:
        if a in word[1:]:
            word = word.split(a, 1)[0]
    if lang not in SIMPLEMMA_LANGS or not word or word.isdigit():
        return fold(word)
    return _lemma(lang, lower(word, lang))


def preload(langs: Iterable[str]) -> None:
    """Load the dictionaries of `langs` now (a long-running worker does it before its first article, which would
    otherwise wait a second or more for its language's dictionary). Nothing is cached in the LRU cache."""
    for lang in langs:
        if lang in SPACY_TABLE_LANGS:
            _spacy_table(lang)
        if lang in SIMPLEMMA_LANGS:
            _simplemma()("presswatch", lang)  # any word: the language's dictionary loads on its first lookup


def cache_size() -> int:
    """How many (language, word) lemmas are cached now (at most `settings.LEMMA_CACHE_SIZE`)."""
    return _lemma.cache_info().currsize


def table_size(lang: str) -> int:
    """Entries of spaCy's lookup table for `lang` (0 where we do not use one); fixed once loaded."""
    if lang not in SPACY_TABLE_LANGS:
        return 0
    return len(getattr(_spacy_table(lang), "__self__", ()))
