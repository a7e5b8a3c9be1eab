"""Text normalisation shared by matching (enrich/) and search (index/): one definition of "the same word".

`fold` lowercases, strips diacritics and transliterates Macedonian Cyrillic into the Latin scheme with carons
(ч→č, ш→š, ж→ž, ќ→ḱ, ѓ→ǵ), which folding then reduces to plain letters. So "Хрушовски", "Hrušovský" and
"Hrusovsky" all meet at "hrusovsk(i|y)". `fold_map` does the same and keeps, for each folded character, the
offset of the original character it came from, so that matches on folded text report offsets in the original.
`stem` is a light, rule-based suffix stripper per language: enough to bring case forms of names and titles
together (primátora → primator, Kalvio → kalv, Aydemir'in → aydem, градоначалникот → gradonacalnik); it is not
a linguistic lemmatizer and does not try to be.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Macedonian Cyrillic → Latin (ISO 9-like, with diacritics so that folding gives what people type without them).
_MK_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ѓ": "ǵ", "е": "e", "ж": "ž", "з": "z", "ѕ": "dz",
    "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "ќ": "ḱ", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "č", "џ": "dž",
    "ш": "š",
    # Serbian/Russian/Bulgarian letters that appear in Macedonian-language news (names, quotes)
    "ђ": "đ", "ћ": "ć", "й": "j", "щ": "št", "ъ": "", "ь": "", "ю": "ju", "я": "ja", "ы": "y", "э": "e",
    "ё": "e",
}
# Letters that NFKD does not decompose into base + mark.
_SPECIAL = {"ł": "l", "đ": "d", "ı": "i", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "þ": "th", "ħ": "h"}
_APOSTROPHES = "'’ʼ`´"

WORD_RE = re.compile(r"\w+(?:[" + _APOSTROPHES + r"]\w+)?", re.UNICODE)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    low = ch.lower()
    if low in _MK_TRANSLIT:
        low = _MK_TRANSLIT[low]
    out = []
    for c in low:
        c = _SPECIAL.get(c, c)
        decomposed = unicodedata.normalize("NFKD", c)
        out.append("".join(d for d in decomposed if not unicodedata.combining(d)))
    return "".join(out)


def fold(text: str) -> str:
    """Lowercase, strip diacritics, transliterate Cyrillic. Apostrophe variants become a plain apostrophe."""
    return "".join(_fold_char(c) if c not in _APOSTROPHES else "'" for c in text)


def fold_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each character of the result, the index of the original character."""
    chars: list[str] = []
    index: list[int] = []
    for i, c in enumerate(text):
        f = "'" if c in _APOSTROPHES else _fold_char(c)
        chars.append(f)
        index.extend([i] * len(f))
    return "".join(chars), index


def words(text: str) -> list[tuple[str, int, int]]:
    """Word tokens with their character offsets (a Turkish suffix after an apostrophe stays in the token)."""
    return [(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(text)]


# Suffixes stripped by `stem`, longest first, on folded text. Written for this project from the grammar of each
# language's noun and adjective declension (case endings, feminine surnames, Macedonian definite articles).
_SUFFIXES: dict[str, tuple[str, ...]] = {
    "sk": ("ovcami", "ovcoch", "iami", "iach", "ovia", "ami", "ach", "och", "ovi", "eho", "emu", "ymi", "ych",
           "ej", "ou", "om", "ov", "ym", "ia", "ie", "iu", "mi", "a", "u", "e", "y", "i", "o"),
    "cs": ("ovymi", "ovych", "ami", "ach", "ech", "emi", "ovi", "eho", "emu", "ymi", "ych", "ove", "ou", "em",
           "ej", "om", "ov", "ym", "mi", "a", "u", "e", "y", "i", "o"),
    "lt": ("ienems", "ienes", "ienei", "iene", "ienu", "aites", "aitei", "aite", "ytes", "ytei", "yte",
           "iams", "iuose", "iumi", "uose", "oje", "ose", "ams", "ais", "ioje", "iui", "iai", "ius", "ias", "io",
           "iu", "as", "is", "ys", "us", "ui", "ai", "ei", "es", "os", "a", "e", "o", "u", "i", "y"),
    "mk": ("ite", "ot", "ta", "to", "ov", "va", "vo", "on", "na", "no", "ni", "a", "e", "i", "o", "u"),
    "en": ("'s", "ies", "es", "s"),
}
_MIN_STEM = 3


@lru_cache(maxsize=65536)
def stem(token: str, lang: str | None = None) -> str:
    """A light stem of one word, on folded text. Unknown language: the Slavic rules (most of our languages)."""
    t = fold(token)
    if "'" in t:
        # Turkish and English attach suffixes after an apostrophe: Aydemir'in, Bishop's.
        t = t.split("'", 1)[0]
        if lang == "en":
            return t
    if lang == "tr":
        # Turkish is agglutinative; a fixed-length prefix is the standard light stemmer for Turkish retrieval.
        return t[:5] if len(t) > 5 else t
    for suffix in _SUFFIXES.get(lang or "sk", _SUFFIXES["sk"]):
        if t.endswith(suffix) and len(t) - len(suffix) >= _MIN_STEM:
            return t[: -len(suffix)]
    return t
