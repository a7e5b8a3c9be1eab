"""Sentiment gaps closed with lemmas and grammar: approvals that are achievements, lemma entries that no longer catch
unrelated words, the Turkish future as an announcement. Profiles (fictional towns) and articles are written for this
test; each case is checked against its own control, so the test fails if the rule stops working."""

from __future__ import annotations

from functools import cache

import pytest

from presswatch.enrich.enricher import Enricher
from presswatch.profile import parse_profile
from presswatch.records import Article, Sentiment

PROFILES = {
    "sk": """
municipality: {id: nizna-lehota, name: Nižná Lehota, country: SK, languages: [sk], timezone: Europe/Bratislava}
officials:
  - {id: mayor, name: Roman Belák, role: mayor, title: primátor}
""",
    "cs": """
municipality: {id: dolni-rybna, name: Dolní Rybná, country: CZ, languages: [cs], timezone: Europe/Prague}
officials:
  - {id: mayor, name: Vít Šedivý, role: mayor, title: starosta}
""",
    "tr": """
municipality: {id: yesilkoy, name: Yeşilköy, country: TR, languages: [tr], timezone: Europe/Istanbul}
officials:
  - {id: mayor, name: Murat Yalçın, role: mayor, title: belediye başkanı}
""",
    "en": """
municipality: {id: ashcombe, name: Ashcombe, country: GB, languages: [en], timezone: Europe/London}
officials:
  - {id: mayor, name: Helen Marsh, role: mayor, title: mayor}
""",
}


@cache
def enricher(lang: str) -> Enricher:
    return Enricher.from_profile(parse_profile(PROFILES[lang], f"<{lang}>"))


def sentiment(lang: str, title: str, text: str) -> Sentiment:
    return enricher(lang).enrich(Article(id="t", url="u", outlet="local", title=title, text=text, lang=lang)).sentiment


# (a) a decision taken to build, renew or create something is an achievement; a routine approval is a notice
@pytest.mark.parametrize("lang, achievement, routine", [
    ("sk",
     ("Zastupiteľstvo Nižnej Lehoty schválilo výstavbu novej škôlky",
      "Poslanci mesta Nižná Lehota na utorňajšom rokovaní schválili výstavbu škôlky pre osemdesiat detí."),
     ("Zastupiteľstvo Nižnej Lehoty schválilo program rokovania",
      "Poslanci mesta Nižná Lehota na utorňajšom rokovaní schválili program a overovateľov zápisnice.")),
    ("cs",
     ("Zastupitelé Dolní Rybné schválili opravu mostu přes potok",
      "Zastupitelstvo obce Dolní Rybná ve čtvrtek schválilo opravu mostu, práce potrvají do podzimu."),
     ("Zastupitelé Dolní Rybné schválili zprávu o hospodaření",
      "Zastupitelstvo obce Dolní Rybná ve čtvrtek schválilo zprávu o hospodaření za minulý rok.")),
    ("tr",
     ("Yeşilköy Belediye Meclisi yeni spor salonunu onayladı",
      "Yeşilköy Belediye Meclisi dün akşamki oturumda spor salonunun inşaatını onayladı."),
     ("Yeşilköy Belediye Meclisi faaliyet raporunu onayladı",
      "Yeşilköy Belediye Meclisi dün akşamki oturumda geçen yılın faaliyet raporunu onayladı.")),
    ("en",
     ("Ashcombe council approves money for a new health centre",
      "Ashcombe Town Council approved funding for the new health centre on Thursday evening."),
     ("Ashcombe council approves last year's accounts",
      "Ashcombe Town Council approved the minutes and last year's accounts on Thursday evening.")),
])
def test_an_approval_of_works_reads_positive_a_routine_one_neutral(
        lang: str, achievement: tuple[str, str], routine: tuple[str, str]) -> None:
    assert sentiment(lang, *achievement).label == "positive"
    assert sentiment(lang, *routine).label == "neutral"


def test_a_refused_approval_is_not_an_achievement() -> None:
    s = sentiment("cs", "Zastupitelé Dolní Rybné neschválili opravu mostu",
                  "Zastupitelstvo obce Dolní Rybná ve čtvrtek neschválilo opravu mostu přes potok.")
    assert s.label != "positive"


def test_a_future_approval_is_not_an_achievement() -> None:
    s = sentiment("cs", "Zastupitelé Dolní Rybné schválí opravu mostu",
                  "Zastupitelstvo obce Dolní Rybná příští čtvrtek schválí opravu mostu přes potok.")
    assert s.label == "neutral"


# (b) a lemma entry ("chyba") counts mistakes, not the participle "chybějící" (missing)
def test_missing_money_is_not_a_mistake() -> None:
    title = "Dolní Rybná doplatí chybějící peníze na hřiště"
    missing = sentiment("cs", title, "Obec Dolní Rybná uhradí chybějících 300 tisíc korun ze svého rozpočtu.")
    mistakes = sentiment("cs", title, "Obec Dolní Rybná udělala v rozpočtu hřiště dvě chyby za 300 tisíc korun.")
    assert missing.score >= 0.0
    assert mistakes.score < missing.score


def test_slovak_strategy_is_not_a_loss() -> None:
    strategy = sentiment("sk", "Nižná Lehota má novú stratégiu rozvoja",
                         "Mesto Nižná Lehota prijalo stratégiu rozvoja cestovného ruchu do roku 2030.")
    loss = sentiment("sk", "Nižná Lehota má novú stratégiu rozvoja",
                     "Mesto Nižná Lehota vykázalo stratu v hospodárení cestovného ruchu v roku 2030.")
    assert strategy.score > loss.score


# (c) the Turkish future (-acak/-ecek) is an announcement: news, not yet an achievement
def test_turkish_future_reads_as_an_announcement() -> None:
    future = sentiment("tr", "Yeşilköy'de yeni kütüphane haziranda açılacak",
                       "Yeşilköy Belediyesi'nin yaptırdığı yeni kütüphane haziranda hizmete açılacak.")
    past = sentiment("tr", "Yeşilköy'de yeni kütüphane açıldı",
                     "Yeşilköy Belediyesi'nin yaptırdığı yeni kütüphane dün hizmete açıldı.")
    assert future.label == "neutral"
    assert past.label == "positive"
    assert future.score < past.score


def test_turkish_future_of_any_verb_halves_praise() -> None:
    # "verilecek" (will be given) is not in any word list: the suffix makes the sentence an announcement
    given = sentiment("tr", "Yeşilköy'de öğrencilere ücretsiz servis",
                      "Yeşilköy Belediyesi öğrencilere ücretsiz servis hizmeti verdi.")
    announced = sentiment("tr", "Yeşilköy'de öğrencilere ücretsiz servis",
                          "Yeşilköy Belediyesi öğrencilere ücretsiz servis hizmeti verecek.")
    assert announced.score < given.score
