"""Second opinion on a feed's character encoding, for the languages presswatch serves.

Feeds in Central and Eastern Europe and Turkey still come in windows-125x and ISO-8859-x, and their declarations
are often wrong: UTF-8 bytes behind `encoding="windows-1250"`, windows-1251 bytes behind `encoding="utf-8"`,
windows-1250 served as `charset=iso-8859-1`. feedparser follows the declarations (and, when they fail, falls back
to encodings that decode anything), which yields mojibake without a word of warning. General-purpose detectors
(charset-normalizer) guess badly on a few hundred bytes of headlines, so this module asks a narrower question:
which of the encodings our languages use turns the non-ASCII bytes into letters of *its own* alphabet?

- Valid UTF-8 with non-ASCII bytes is UTF-8: legacy 8-bit text is practically never valid UTF-8.
- Otherwise each candidate decodes the bytes and is scored: +1 for every non-ASCII character that belongs to the
  alphabet of the languages that encoding is used for, -3 for C1 control characters and for symbols glued to
  letters (the traces of a wrong guess, e.g. windows-1250 `š` read as ISO-8859-2 gives U+009A).
- The declared (or feedparser's) encoding keeps the text unless another candidate scores clearly better.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections import Counter

# The letters each candidate encoding exists for (lower case; upper case is folded before the lookup).
_CENTRAL = "áäčďéěíĺľňóôŕřšťúůýžąćęłńóśźżőűşţăâî"  # cs, sk, pl, hu, sl, hr, ro
_BALTIC = "ąčęėįšųūžāēģīķļņōŗõäöü"  # lt, lv, et
_TURKISH = "çğıöşüâîûİ"  # İ: its lower case is two characters
_CYRILLIC = "абвгдѓеѐжзѕиѝјклљмнњопрстќуфхцчџшѫщъыьэюяёєіїўґђћ"
# Western European letters that are common in text; the rarer ones (å æ ø þ ð) are what Baltic and Central
# European bytes turn into under windows-1252, so they do not vouch for it.
_WESTERN = "àáâãäçèéêëíîïñóôõöùúûüß"
CANDIDATES: dict[str, str] = {
    "utf-8": "",
    "windows-1250": _CENTRAL,
    "iso-8859-2": _CENTRAL,
    "windows-1257": _BALTIC,
    "iso-8859-13": _BALTIC,
    "windows-1254": _TURKISH + _WESTERN,
    "iso-8859-9": _TURKISH + _WESTERN,
    "windows-1251": _CYRILLIC,
    "iso-8859-5": _CYRILLIC,
    "windows-1252": _WESTERN,
    "iso-8859-1": _WESTERN,
}
SAMPLE_BYTES = 64 * 1024  # the code page is judged on the first 64 KiB: a feed's headlines say enough
_MARGIN = 3  # another encoding must score this much better than the declared one to replace it


def _name(encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


_CANONICAL = {codecs.lookup(name).name: name for name in CANDIDATES}


_FOREIGN_WORD = re.compile(r"[^\W\d_]*[^\x00-\x7f\W\d_][^\W\d_]*")  # a run of letters with a non-ASCII one
_C1 = re.compile(r"[\x80-\x9f]")
_GLUED = re.compile(r"(?<=[^\W\d_])[^\x00-\x9f\w\s]|[^\x00-\x9f\w\s](?=[^\W\d_])")  # non-ASCII non-letter by a letter


@functools.lru_cache(maxsize=4096)
def _latin(ch: str) -> bool:
    return "LATIN" in unicodedata.name(ch, "")


def _word_score(word: str, alphabet: str) -> int:
    foreign = [ch for ch in word if ord(ch) >= 0x80]
    ascii_letters = len(foreign) < len(word)
    if ascii_letters and not all(map(_latin, foreign)):
        return -len(foreign)  # "Baюkanэ": Latin and Cyrillic in one word
    latin = ascii_letters or all(map(_latin, foreign))
    if latin and len(word) >= 4 and len(foreign) > 0.7 * len(word):
        return -len(foreign)  # "Ãðàäîíà÷àëíèê": Cyrillic read as a Latin code page
    return sum(1 if ch in alphabet or ch.lower() in alphabet else -1 for ch in foreign)


def score(text: str, alphabet: str) -> int:
    """How much `text` (a decoding) looks like real writing in `alphabet`'s languages."""
    total = 0
    for word, times in Counter(_FOREIGN_WORD.findall(text)).items():
        total += times * _word_score(word, alphabet)
    total -= 3 * len(_C1.findall(text))  # C1 controls: a wrong code page (windows-1250 "š" read as ISO-8859-2)
    # A symbol glued to a letter: "©tiavnici" (ISO-8859-2 "Š" read as windows-1250); punctuation („“–) is fine.
    total -= 3 * sum(1 for ch in _GLUED.findall(text) if not unicodedata.category(ch).startswith("P"))
    return total


def better_encoding(body: bytes, chosen: str | None) -> str | None:
    """An encoding that reads `body` clearly better than `chosen` (what feedparser used), or None to keep it."""
    if body.isascii():
        return None
    current = _name(chosen)
    if current is not None and current.startswith("utf") and current != "utf-8":
        return None  # UTF-16/32: a BOM or a declaration feedparser read; not ours to second-guess
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return None if current == "utf-8" else "utf-8"
    scores: dict[str, int] = {}
    sample = body[:SAMPLE_BYTES]  # single-byte code pages: a cut cannot split a character
    for name, alphabet in CANDIDATES.items():
        if not alphabet:
            continue
        try:
            scores[name] = score(sample.decode(name), alphabet)
        except UnicodeDecodeError:
            continue
    if not scores:
        return None
    best = max(scores, key=lambda n: scores[n])  # dict order breaks ties: windows-125x before ISO-8859-x
    declared = _CANONICAL.get(current or "")
    if declared is not None and declared in scores and scores[best] < scores[declared] + _MARGIN:
        return None
    if declared is None and current is not None:
        # An encoding we have no alphabet for (Big5, KOI8-R, Shift_JIS...): keep it unless it failed outright.
        try:
            body.decode(current)
            return None
        except (UnicodeDecodeError, LookupError):
            pass
    return best if _name(best) != current else None


__all__ = ["better_encoding", "score", "CANDIDATES"]
