"""Case forms of the words in a profile (names, titles, bodies, the municipality), generated once per profile.

Matching looks every word of an article up in a table of forms, so the work per article is one dictionary
lookup per word. A form is a base (the word with its nominative ending removed, and the variant with a fleeting
vowel: Hlaváček → hlavack-, Pavol → pavl-) plus one ending of the language's declension. The ending sets are
written for this project from the grammars of the languages (noun, adjective and surname declension, Lithuanian
-ienė/-aitė/-ytė surnames, Turkish case and possessive suffixes with vowel harmony folded away, Macedonian
definite articles); they are generous on purpose: a wrong extra form only matters if it is also a real different
word, and names are checked for capitals and context afterwards.

Everything here works on folded text (`text.fold`): no diacritics, Cyrillic transliterated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ENDINGS: dict[str, tuple[str, ...]] = {
    "sk": ("", "a", "e", "i", "u", "y", "o", "ou", "ej", "om", "ovi", "ov", "ami", "ach", "och", "ia", "ie", "iu",
           "iou", "eho", "emu", "ym", "ych", "ymi", "mi", "ovia", "iach", "iam"),
    "cs": ("", "a", "e", "i", "u", "y", "o", "ou", "em", "ovi", "ove", "ech", "ich", "um", "ami", "emi", "mi",
           "eho", "emu", "ym", "ych", "ymi", "iho", "imu", "im", "ii", "ie", "ho", "mu"),
    "lt": ("", "as", "o", "ui", "a", "u", "e", "ai", "is", "io", "iui", "i", "iu", "yje", "y", "ys", "ius",
           "iaus", "iumi", "iuje", "iau", "us", "aus", "umi", "uje", "au", "os", "oje", "es", "ei", "eje", "ia",
           "ios", "iai", "ioje", "ams", "iams", "uose", "iuose", "ose", "ems", "ais", "iais", "omis", "emis", "iu",
           "iais", "iams"),
    "tr": ("", "i", "u", "in", "un", "nin", "nun", "e", "a", "ye", "ya", "ne", "na", "de", "da", "te", "ta", "nde",
           "nda", "den", "dan", "ten", "tan", "nden", "ndan", "le", "la", "yle", "yla", "ler", "lar", "leri", "lari",
           "lerin", "larin", "ni", "nu", "yi", "yu", "si", "su", "sini", "sinin", "sina", "sine", "sinde", "sinda",
           "sinden", "sindan", "ndeki", "daki", "deki", "miz", "imiz", "mizin", "nca", "ca", "ce"),
    "mk": ("", "ot", "ta", "to", "ov", "va", "vo", "on", "na", "no", "te", "ite", "i", "a", "e", "o", "ovi", "ata",
           "eto", "ce", "ca"),
    "en": ("", "s", "es"),
}

# Nominative endings stripped to get a base. Slavic: one final vowel. Lithuanian: the nominative ending.
_LT_NOM = ("iai", "ius", "ias", "ai", "as", "is", "ys", "us", "os", "a", "e", "o", "i", "u", "y")
_SLAVIC_VOWELS = "aeiouy"
_FLEETING = re.compile(r"^(.*[^aeiouy])[eo]([kclnrsvz])$")  # Hlaváček, Pavol, Kubinec, Orol, Karel, Ves
_MIN_BASE = 2
# Lithuanian io-stems soften a stem-final t/d to č/dž (folded c/dz) before an ending in i + vowel:
# Žemaitis → Žemaičio, Žemaičiui, Žemaičiu, Žemaičiai; Gudaitis → Gudaičio; Skardis → Skardžio.
_LT_SOFTENING = {"t": "c", "d": "dz"}
_LT_SOFT_NOM = ("is", "ys", "ius")
# Languages whose declension an article in one language may also use for names from the other.
_NEIGHBOURS = {"sk": ("cs",), "cs": ("sk",)}


def bases(word: str, lang: str) -> set[str]:
    """The stems that endings attach to (always includes the word itself)."""
    out = {word}
    if lang in ("sk", "cs"):
        if word[-1:] in _SLAVIC_VOWELS and len(word) - 1 >= _MIN_BASE:
            out.add(word[:-1])
            if word.endswith(("ia", "ie")) and len(word) > 4:
                out.add(word[:-2])
        m = _FLEETING.match(word)
        if m and len(word) >= 3:
            out.add(m.group(1) + m.group(2))
    elif lang == "lt":
        for nom in _LT_NOM:
            if word.endswith(nom) and len(word) - len(nom) >= 3:
                out.add(word[: -len(nom)])
                break
    elif lang == "mk":
        if word[-1:] in "aeo" and len(word) > 3:
            out.add(word[:-1])
    return out


def _lt_softened(word: str, ends: Iterable[str]) -> set[str]:
    """The forms of a Lithuanian -tis/-dis (-tys, -tius) word whose stem consonant softens before i + vowel."""
    for nom in _LT_SOFT_NOM:
        if word.endswith(nom) and len(word) - len(nom) >= 3:
            base = word[: -len(nom)]
            soft = _LT_SOFTENING.get(base[-1:])
            if soft is None:
                return set()
            return {base[:-1] + soft + e for e in ends if len(e) >= 2 and e[0] == "i" and e[1] in "aeiouy"}
    return set()


def word_forms(word: str, langs: Iterable[str]) -> frozenset[str]:
    """Every inflected form of one folded word in the given languages (the word itself included)."""
    out = {word}
    seen: set[str] = set()
    for lang in langs:
        for lg in (lang, *_NEIGHBOURS.get(lang, ())):
            if lg in seen:
                continue
            seen.add(lg)
            ends = ENDINGS.get(lg, ("",))
            for base in bases(word, lg):
                out.update(base + e for e in ends)
            if lg in ("sk", "cs") and word.endswith("ka") and len(word) > 4:
                # Czech/Slovak dative and locative soften k before -e: místostarostka → místostarostce
                out.add(word[:-2] + "ce")
            if lg in ("sk", "cs") and len(word) > 5:
                # plural place names: Ružany → Ružian, Michalovce → Michaloviec, Budějovice → Budějovic
                if word.endswith("any"):
                    out.update((word[:-3] + "ian", word[:-3] + "an"))
                if word.endswith("ce"):
                    out.update((word[:-2] + "iec", word[:-2] + "c", word[:-2] + "ciach", word[:-2] + "ciam"))
            if lg == "lt":
                out.update(_lt_softened(word, ends))
            if lg == "cs" and word.endswith(("ha", "ga")) and len(word) > 4:
                out.add(word[:-2] + "ze")
            if lg == "cs" and word.endswith("ra") and len(word) > 4:
                out.add(word[:-2] + "re")
    return frozenset(f for f in out if f)
