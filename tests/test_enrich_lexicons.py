"""The lexicons: every file names its source, compiles, and keeps to its format (STYLE.md 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from presswatch.enrich import lexicons
from presswatch.enrich.lexicons import LEXICON_DIR, parse_pattern

FILES = sorted(LEXICON_DIR.glob("*/*.txt"))
KEYED = {"roles", "places", "months", "units", "years"}


def test_every_language_has_the_files_the_rules_read() -> None:
    needed = {"stopwords", "roles", "honorifics", "places", "municipal", "national", "positive", "negative",
              "negators", "intensifiers", "criticism", "accusation", "hedges", "unverified", "rebuttal", "irony",
              "months", "units", "years", "generic", "paywall", "conditionals", "announcement"}
    for lang in lexicons.LANGS:
        have = {p.stem for p in (LEXICON_DIR / lang).glob("*.txt")}
        assert needed <= have, (lang, needed - have)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_header_names_the_source(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line.lower())
    assert header, f"{path}: starts without a header comment"
    assert any("source:" in h for h in header), f"{path}: the header does not name the source of the entries"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_entries_compile(path: Path) -> None:
    lang, name = path.parent.name, path.stem
    if name in KEYED:
        for key, phrases in lexicons.keyed(lang, name).items():
            assert key and phrases
            for p in phrases:
                assert parse_pattern(p)
    else:
        for text, weight in lexicons.entries(lang, name):
            assert parse_pattern(text)
            assert -5.0 <= weight <= 5.0


def test_lexicons_are_loaded_once() -> None:
    assert lexicons.cues("sk", "criticism") is lexicons.cues("sk", "criticism")


def test_pattern_syntax() -> None:
    cs = lexicons.CueSet()
    for text in ("kritiz*", "bez súťaže", "polícia ~ nezaober*"):
        for els in parse_pattern(text):
            cs.add(lexicons.Cue(text, "t", 1.0, els))
    keys = ["policia", "sa", "vecou", "vobec", "nezaobera", "a", "kritizuje", "zakazky", "bez", "sutaze"]
    assert [h.cue.text for h in cs.find(keys)] == ["polícia ~ nezaober*", "kritiz*", "bez súťaže"]
    with pytest.raises(ValueError):
        parse_pattern("ab*")


def test_turkish_future_suffixes_are_announcements() -> None:
    ann = lexicons.cues("tr", "announcement")
    for word in ("acilacak", "verilecek", "yapilacaktir", "baslayacagini"):
        assert ann.any([word]), word
    assert not ann.any(["acildi"]) and not ann.any(["verildi"])


def test_lemma_entries_replace_prefixes_that_caught_unrelated_words() -> None:
    # chyb* caught "chybějící" (missing), strat* "stratégia", graž* "grąžinti" (to return): now lemma entries
    assert not any(t.endswith("*") and t.startswith("chyb") for t, _ in lexicons.entries("cs", "negative"))
    assert not any(t.startswith(("chyb", "strat")) and t.endswith("*") for t, _ in lexicons.entries("sk", "negative"))
    cs_neg = lexicons.cues("cs", "negative")
    assert cs_neg.any(lexicons.Keys(["chyby"], ["chyba"]))
    assert not cs_neg.any(lexicons.Keys(["chybejici"], ["chybejici"]))
