"""Lemmas per language (lemmas.py), lemma and suffix entries in cue matching (lexicons.py), and the bounds that keep
memory flat on a stream. Words and sentences are written for this test."""

from __future__ import annotations

import random

import pytest

from presswatch import settings
from presswatch.enrich import lemmas, lexicons
from presswatch.enrich.document import make_document
from presswatch.enrich.lexicons import Cue, CueSet, Keys, parse_pattern


@pytest.mark.parametrize("lang, word, expected", [
    ("sk", "kritizovali", "kritizovat"),
    ("sk", "Zastupiteľstvá", "zastupitelstvo"),
    ("cs", "chyby", "chyba"),            # from spaCy's table
    ("cs", "kritizovali", "kritizovat"),  # not in spaCy's table: simplemma
    ("lt", "miestai", "miestas"),
    ("tr", "eleştirdi", "elestir"),
    ("tr", "İtfaiyeye", "itfaiye"),      # Turkish capital İ is lowercased as i, not i + dot
    ("mk", "критикуваше", "kritikuva"),
    ("en", "Councils", "council"),
    ("en", "approved", "approve"),
])
def test_lemma_in_each_language_is_folded(lang: str, word: str, expected: str) -> None:
    assert lemmas.lemma(word, lang) == expected


def test_lemma_of_an_unknown_word_or_number_is_the_folded_word() -> None:
    assert lemmas.lemma("Qwxzč", "sk") == "qwxzc"
    assert lemmas.lemma("2026", "cs") == "2026"
    assert lemmas.lemma("Straße", "xx") == "strasse"  # a language we have no data for


def test_apostrophe_suffix_is_cut_like_the_key() -> None:
    assert lemmas.lemma("Belediye'nin", "tr") == "belediye"


def test_tokens_carry_lemmas_and_old_fields_keep_their_meaning() -> None:
    doc = make_document("Chyby v rozpočte", "Poslanci kritizovali primátora.", "sk")
    first = doc.title.tokens[0]
    assert (first.key, first.norm, first.start, first.end) == ("chyby", "chyby", 0, 5)
    assert first.lemma == "chyba"
    assert [t.lemma for t in doc.text.tokens][:2] == ["poslanec", "kritizovat"]
    assert isinstance(doc.text.keys, Keys) and doc.text.keys.lemmas[1] == "kritizovat"


def _set(*entries: str) -> CueSet:
    cs = CueSet()
    for text in entries:
        for els in parse_pattern(text):
            cs.add(Cue(text, "t", 1.0, els))
    return cs


def _found(cs: CueSet, lang: str, text: str) -> list[str]:
    return [h.cue.text for h in cs.find(make_document("", text, lang).text.keys)]


@pytest.mark.parametrize("lang, entry, text", [
    ("cs", "chyba", "Úřad udělal při výpočtu dvě chyby."),
    ("cs", "kritizovat", "Opoziční zastupitelé kritizovali vedení radnice."),
    ("sk", "kritizovať", "Obyvatelia kritizujú vedenie mesta."),
    ("tr", "eleştir", "Muhalefet belediyeyi sert bir dille eleştirdi."),
    ("lt", "kritikuoti", "Tarybos nariai kritikavo merą."),
    ("en", "criticise", "Residents criticised the plan."),
])
def test_a_lemma_entry_matches_inflected_forms(lang: str, entry: str, text: str) -> None:
    assert _found(_set(entry), lang, text) == [entry]


def test_a_lemma_entry_does_not_catch_what_a_prefix_would() -> None:
    text = "Město doplatí chybějící peníze a chybí mu jen razítko."  # missing, not a mistake
    assert _found(_set("chyb*"), "cs", text) == ["chyb*", "chyb*"]
    assert _found(_set("chyba"), "cs", text) == []


def test_lemma_entries_work_inside_phrases() -> None:
    cs = _set("schválit ~ rekonstrukce")
    assert _found(cs, "cs", "Rada schválila rychlou rekonstrukci mostu.") == ["schválit ~ rekonstrukce"]


def test_plain_keys_still_match_without_lemmas() -> None:
    assert [h.cue.text for h in _set("chyba").find(["dve", "chyba"])] == ["chyba"]
    assert _set("chyba").find(["dve", "chyby"]) == []


def test_suffix_syntax() -> None:
    cs = _set("*acak", "*ecek ~ yol")
    keys = ["park", "acilacak", "ve", "verilecek", "yeni", "yol"]
    assert [(h.cue.text, h.start) for h in cs.find(keys, overlap=True)] == [("*acak", 1), ("*ecek ~ yol", 3)]
    assert cs.find(["acak"]) == []  # the suffix alone is not a word that ends in it
    assert "verilecek" in lexicons._word_matcher(["*ecek"])
    with pytest.raises(ValueError):
        parse_pattern("*ak")
    with pytest.raises(ValueError):
        parse_pattern("*ac*")


def test_keys_need_one_lemma_each() -> None:
    with pytest.raises(ValueError):
        Keys(["a", "b"], ["a"])


def test_cache_is_bounded_and_no_spacy_doc_is_made() -> None:
    # a stream's vocabulary keeps growing: the (language, word) cache may not
    assert lemmas._lemma.cache_info().maxsize == settings.LEMMA_CACHE_SIZE
    rng = random.Random(3)
    syll = ["ka", "lo", "mer", "zu", "ni", "ves", "tra", "bo"]
    for _ in range(3000):
        word = "".join(rng.choice(syll) for _ in range(5))
        lemmas.lemma(word, "cs")
    assert lemmas.cache_size() <= settings.LEMMA_CACHE_SIZE
    # spaCy is read through its lookup table, never through a pipeline: no Doc, no StringStore that grows
    get = lemmas._spacy_table("cs")
    assert getattr(get, "__self__", None).__class__.__name__ == "Table"
    size = len(get.__self__)
    for _ in range(1000):
        lemmas.lemma("".join(rng.choice(syll) for _ in range(4)), "cs")
    assert len(get.__self__) == size


def test_every_lexicon_language_has_lemmas() -> None:
    assert set(lexicons.LANGS) <= lemmas.SIMPLEMMA_LANGS
