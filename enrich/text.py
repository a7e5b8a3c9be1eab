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


class _FoldTable(dict[int, str]):
    """A `str.translate` table that folds each character the first time it is met (then it is a dict lookup).
    Characters that fold to more or fewer than one character (љ → lj, ß → ss, a combining accent → "") are
    remembered in _UNEVEN, so that `fold_map` knows when offsets shift."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = "'" if ch in _APOSTROPHES else _fold_char(ch)
        self[code] = folded
        if len(folded) != 1:
            _UNEVEN.add(ch)
        return folded


_UNEVEN: set[str] = set()
_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lowercase, strip diacritics, transliterate Cyrillic. Apostrophe variants become a plain apostrophe."""
    return text.translate(_TABLE)


def fold_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)` and, for each character of the result, the index of the original character."""
    folded = text.translate(_TABLE)
    if len(folded) == len(text) and _UNEVEN.isdisjoint(text):
        return folded, list(range(len(text)))
    index: list[int] = []
    for i, c in enumerate(text):
        index.extend([i] * len(_TABLE[ord(c)]))
    return folded, index


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


# --- added for enrichment: transliteration variants and sentence spans ---------------------------------------

# How Macedonian names and words are also written in Latin script without carons: digraphs in the English style
# ("Peshevski", "kje", "gjubre"). `fold` gives the caron scheme (š→s), so a Cyrillic word has to be looked up in
# both schemes; `translit_variants` returns the folded forms of both.
_MK_DIGRAPHS = {"ш": "sh", "ч": "ch", "ж": "zh", "ќ": "kj", "ѓ": "gj", "џ": "dzh", "ѕ": "dz", "ц": "c"}


def translit_variants(text: str) -> set[str]:
    """Folded spellings of `text`: `fold(text)` and, when it has Cyrillic, the English-style digraph spelling."""
    out = {fold(text)}
    if any(c.lower() in _MK_DIGRAPHS for c in text):
        out.add(fold("".join(_MK_DIGRAPHS.get(c.lower(), c) for c in text)))
    return out


# A sentence ends at . ! ? … (optionally followed by closing quotes or brackets) when the next word starts with a
# capital letter or a digit, or an opening quote or dash comes before it; abbreviations and initials do not end one.
_SENT_END = re.compile(r"[.!?…]+[\"'”“»’)\]]*\s+|\n\s*\n+|\n(?=\s*[-–•*]\s)")
_OPENERS = "\"'„“‚‘«(–-—[*•"
_ABBREV = frozenset(
    "mil mld mln tis tūkst tukst proc str ul nám nam tel č c sv mr mrs ms dr st ing mgr bc doc prof judr mudr "
    "phdr rndr p pp napr tzv resp t j tj vs cca min max hod mesto m d g r kr k etc no nos jr sr co inc ltd "
    "gen plk kpt ул бр г гр д м св".split()
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (a light rule-based splitter; paragraphs always split)."""
    spans: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for m in _SENT_END.finditer(text):
        end = m.end()
        if end >= n:
            break
        punct = m.group()
        if punct.strip() and punct.lstrip()[0] in ".!?…":
            nxt = end
            while nxt < n and text[nxt] in _OPENERS:
                nxt += 1
            if nxt >= n or not (text[nxt].isupper() or text[nxt].isdigit()):
                continue
            if punct[0] == ".":
                j = m.start()
                i = j
                while i > start and (text[i - 1].isalnum()):
                    i -= 1
                word = text[i:j]
                if (len(word) == 1 and word.isalpha()) or word.lower() in _ABBREV:
                    continue
        seg_end = m.start() + len(punct.rstrip())
        if seg_end > start and text[start:seg_end].strip():
            spans.append(_trim(text, start, seg_end))
        start = end
    if start < n and text[start:].strip():
        spans.append(_trim(text, start, n))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# The tables above, for other engines that must fold and stem exactly as we do (index/elastic.py builds its
# Slovak and Macedonian analyzers and its folding char filter from them).
MK_TRANSLIT = _MK_TRANSLIT
SPECIAL_LETTERS = _SPECIAL
SUFFIXES = _SUFFIXES
