"""Language identification: our six languages (also without diacritics and Macedonian in Latin script),
Slovak never confused with Czech on article-length text, other languages reported as "other"."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from presswatch.enrich.lang import detect, detect_article
from tests.conftest import shared_path


@pytest.mark.parametrize("text,lang", [
    ("Mestské zastupiteľstvo schválilo rozpočet, podľa primátora pôjdu peniaze najmä na opravu ciest.", "sk"),
    ("Mestske zastupitelstvo schvalilo rozpocet, podla primatora pojdu peniaze najma na opravu ciest.", "sk"),
    ("Zastupitelstvo města schválilo rozpočet, podle starosty půjdou peníze hlavně na opravy silnic.", "cs"),
    ("Zastupitelstvo mesta schvalilo rozpocet, podle starosty pujdou penize hlavne na opravy silnic.", "cs"),
    ("Savivaldybės taryba patvirtino biudžetą, pasak mero, lėšos bus skirtos kelių remontui.", "lt"),
    ("Savivaldybes taryba patvirtino biudzeta, pasak mero, lesos bus skirtos keliu remontui.", "lt"),
    ("Belediye meclisi bütçeyi onayladı, başkana göre para daha çok yolların onarımına gidecek.", "tr"),
    ("Belediye meclisi butceyi onayladi, baskana gore para daha cok yollarin onarimina gidecek.", "tr"),
    ("Советот на општината го усвои буџетот, а според градоначалникот парите ќе одат за патишта.", "mk"),
    ("Sovetot na opštinata go usvoi budžetot, a spored gradonačalnikot parite kje odat za patišta.", "mk"),
    ("Sovetot na opstinata go usvoi budzetot, a spored gradonacalnikot parite ke odat za patista.", "mk"),
    ("The council approved the budget, and the mayor said most of the money would go on road repairs.", "en"),
    ("Der Gemeinderat hat den Haushalt beschlossen, das Geld fließt vor allem in die Straßen.", "other"),
    ("Rada miasta przyjęła budżet, a według burmistrza pieniądze pójdą głównie na naprawę dróg.", "other"),
    ("Общинският съвет прие бюджета, а според кмета парите ще отидат основно за пътища.", "other"),
    ("Градска скупштина је усвојила буџет, а према речима градоначелника новац ће ићи за путеве.", "other"),
])
def test_sentences(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_titles_and_articles() -> None:
    assert detect_article("Primátor otvoril ihrisko", "Na sídlisku Podháj pribudlo nové ihrisko pre deti, "
                          "ktoré v sobotu otvoril primátor mesta.") == "sk"
    assert detect_article("Starosta otevřel hřiště", "Na sídlišti přibylo nové hřiště pro děti, které v sobotu "
                          "otevřel starosta města.") == "cs"
    assert detect("") == "other"
    assert detect("12:30 — 4:2") == "other"


def test_slovak_and_czech_are_not_confused_on_real_sentences() -> None:
    """Universal Dependencies sentences (CC BY-SA 4.0), joined into article-length chunks of 8 sentences."""
    path = shared_path("data", "treebanks", "sentences.tsv")
    by_lang: dict[str, list[str]] = {"sk": [], "cs": [], "lt": [], "tr": []}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["lang"] in by_lang and row["treebank"] != "UD_Czech-CAC":
                by_lang[row["lang"]].append(row["text"])
    results: Counter[tuple[str, str]] = Counter()
    for lang, sents in by_lang.items():
        for i in range(0, min(len(sents), 800), 8):
            results[(lang, detect(" ".join(sents[i:i + 8])))] += 1
    for lang in by_lang:
        total = sum(n for (gold, _), n in results.items() if gold == lang)
        right = results[(lang, lang)]
        assert right / total >= 0.97, (lang, results)
    assert results[("sk", "cs")] == 0 and results[("cs", "sk")] == 0
