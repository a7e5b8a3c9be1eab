"""The municipality's places (`municipality.places`: neighbourhoods, villages, short names) in every inflected
form, as weaker evidence than the name, and the trap of another place with the same name.

Profiles and sentences are written for this test (fictional towns and people, our own words).
"""

from __future__ import annotations

from functools import cache

import pytest

from presswatch.enrich import relevance
from presswatch.enrich.document import make_document
from presswatch.enrich.mentions import Evidence, MentionMatcher
from presswatch.profile import parse_profile

PROFILES = {
    "sk": """
municipality: {id: stara-horka, name: Stará Hôrka, country: SK, languages: [sk], timezone: Europe/Bratislava,
               places: [Hôrka, Podháj]}
officials:
  - {id: mayor, name: Marián Hrušovský, role: mayor, title: primátor}
""",
    "cs": """
municipality: {id: horni-lhota, name: Horní Lhota nad Sázavou, country: CZ, languages: [cs],
               timezone: Europe/Prague, places: [Zahrádky, Podskalí]}
officials:
  - {id: mayor, name: Pavel Hlaváček, role: mayor, title: starosta}
""",
    "lt": """
municipality: {id: sermukai, name: Šermukų rajono savivaldybė, country: LT, languages: [lt],
               timezone: Europe/Vilnius, places: [Pušynė]}
officials:
  - {id: mayor, name: Darius Jakštas, role: mayor, title: meras}
""",
    "tr": """
municipality: {id: cinarli, name: Çınarlı, country: TR, languages: [tr], timezone: Europe/Istanbul,
               places: [Kayalıdere]}
officials:
  - {id: mayor, name: Kemal Aydemir, role: mayor, title: belediye başkanı}
""",
    "mk": """
municipality: {id: borovo, name: Борово, country: MK, languages: [mk], timezone: Europe/Skopje,
               places: [Лескоец]}
officials:
  - {id: mayor, name: Бранко Јакимовски, role: mayor, title: градоначалник}
""",
    "en": """
municipality: {id: ashby-vale, name: Ashby Vale, country: GB, languages: [en], timezone: Europe/London,
               places: [Millbrook]}
officials:
  - {id: mayor, name: Joanna Whitlock, role: mayor, title: mayor}
""",
}


@cache
def matcher(lang: str) -> MentionMatcher:
    return MentionMatcher.from_profile(parse_profile(PROFILES[lang], f"<{lang}>"))


def evidence(lang: str, title: str, text: str, home_outlet: bool = False) -> Evidence:
    return matcher(lang).find(make_document(title, text, lang), home_outlet=home_outlet).evidence


# (lang, a sentence with a place in some case form); no municipal word, official or town name around it
FORMS = [
    ("sk", "Hokejisti prehrali v Hôrke po nájazdoch."),
    ("sk", "Ochotníci z Hôrky pôjdu na prehliadku."),
    ("sk", "Divadlo prišlo za Hôrkou do kultúrneho domu."),
    ("sk", "Lekáreň na Podháji sa sťahuje."),
    ("sk", "Petíciu podpísali obyvatelia Podhája."),
    ("sk", "Lekaren na Podhaji sa stahuje."),
    ("cs", "Hasiči zasahovali v Zahrádkách u požáru stodoly."),
    ("cs", "Chodník v Podskalí dostane nový povrch."),
    ("lt", "Pušynėje atidaryta nauja parduotuvė."),
    ("lt", "Gyventojai iš Pušynės pasirašė peticiją."),
    ("tr", "Kayalıdere'de yeni bir park açıldı."),
    ("tr", "Kayalıdere’den gelen ekip maçı kazandı."),
    ("tr", "Kayalidere'ye yeni otobüs hattı geliyor."),
    ("mk", "Во Лескоец отворија нова продавница."),
    ("mk", "Vo Leskoec otvorija nova prodavnica."),
    ("en", "A new bakery has opened in Millbrook."),
    ("en", "Millbrook's footpath will be resurfaced."),
]


@pytest.mark.parametrize(("lang", "text"), FORMS, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(FORMS)])
def test_a_place_is_found_in_its_case_forms(lang: str, text: str) -> None:
    ev = evidence(lang, "", text)
    assert ev.places == 1, ev
    assert ev.town_title + ev.town_lead + ev.town_rest == 0


@pytest.mark.parametrize(("lang", "text"), FORMS, ids=[f"{lang}-{i}" for i, (lang, _) in enumerate(FORMS)])
def test_a_place_alone_is_not_enough_but_with_a_local_outlet_it_is(lang: str, text: str) -> None:
    assert not relevance.is_relevant(evidence(lang, "", text))
    assert relevance.is_relevant(evidence(lang, "", text, home_outlet=True))


def test_a_place_twice_in_a_national_outlet_is_still_not_enough() -> None:
    ev = evidence("sk", "Hokejisti z Hôrky vyhrali", "Hokejisti z Hôrky vyhrali v Hôrke 4:2. Hôrka vedie tabuľku.")
    assert ev.places == 4
    assert not relevance.is_relevant(ev)


@pytest.mark.parametrize(("lang", "text"), [
    ("sk", "Na Podháji sa začne s opravou chodníkov. Práce zaplatí mesto z vlastného rozpočtu."),
    ("cs", "V Zahrádkách se opraví chodník. Práce zaplatí město ze svého rozpočtu."),
    ("lt", "Pušynėje bus tvarkomi šaligatviai. Darbus finansuos savivaldybė."),
    ("tr", "Kayalıdere'de kaldırımlar yenilenecek. Çalışmaları belediye üstlendi."),
    ("mk", "Во Лескоец ќе се поправаат тротоарите. Работите ги плаќа општината."),
    ("en", "Pavements in Millbrook will be repaired. The work is paid for by the council."),
])
def test_a_place_with_a_municipal_topic_is_relevant(lang: str, text: str) -> None:
    ev = evidence(lang, "", text)
    assert ev.places and ev.place_topic
    assert relevance.is_relevant(ev)


@pytest.mark.parametrize(("lang", "text"), [
    ("sk", "Na Podháji sa stretol s obyvateľmi Marián Hrušovský."),
    ("cs", "V Zahrádkách se s obyvateli sešel Pavel Hlaváček."),
    ("en", "Joanna Whitlock met residents in Millbrook on Friday."),
])
def test_a_place_with_an_official_named_in_full_is_relevant(lang: str, text: str) -> None:
    ev = evidence(lang, "", text)
    assert ev.places and ev.full_names
    assert relevance.is_relevant(ev)


@pytest.mark.parametrize(("lang", "text"), [
    ("sk", "Sneh komplikuje dopravu v obciach Brezno, Hôrka, Pohorelá a Polomka, hlási mesto."),
    ("en", "Snow closed roads in Kelsworth, Millbrook, Ashdown and Felbridge, the council said."),
])
def test_a_place_in_a_list_of_places_is_not_enough_even_from_a_local_outlet(lang: str, text: str) -> None:
    ev = evidence(lang, "", text, home_outlet=True)
    assert ev.places == 0 and ev.places_list == 1
    assert not relevance.is_relevant(ev)


@pytest.mark.parametrize(("lang", "text"), [
    ("sk", "Obec Spišská Hôrka otvorila novú škôlku. V Hôrke ju slávnostne otvorili deti a mesto."),
    ("sk", "Obec Hôrka nad Váhom opraví cestu. Mesto tvrdí, že v Hôrke sa začne na jar."),
    ("sk", "Na sídlisku Podháj v Martine sa stavia. Mesto Martin tvrdí, že na Podháji pribudnú parkoviská."),
    ("cs", "Horní Zahrádky u Prahy opraví náves. V Zahrádkách to zaplatí obec."),
    ("lt", "Naujo parko sulaukė Vilniaus Pušynė. Pušynėje parką prižiūrės savivaldybė."),
    ("tr", "Yeni park Bursa Kayalıdere'de açıldı. Kayalıdere'de parkı belediye yaptı."),
    ("mk", "Нов парк доби Горно Лескоец. Во Лескоец паркот го плати општината."),
    ("en", "Millbrook in Sussex gets a new park. In Millbrook the council paid for it."),
])
def test_another_place_with_the_same_name_is_not_ours_anywhere_in_the_article(lang: str, text: str) -> None:
    ev = evidence(lang, "", text, home_outlet=True)
    assert ev.places == 0, ev
    assert not relevance.is_relevant(ev)


def test_a_place_tied_to_our_town_and_a_club_named_after_it_are_ours() -> None:
    ev = evidence("sk", "", "Obyvatelia sídliska Podháj v Starej Hôrke podpísali petíciu. Hráči HK Hôrka vyhrali.")
    assert ev.places == 2 and ev.town_lead == 1
    assert relevance.is_relevant(ev)


def test_the_town_name_is_not_counted_again_as_its_short_name() -> None:
    ev = evidence("sk", "", "V Starej Hôrke otvorili novú knižnicu.")
    assert ev.places == 0 and ev.town_lead == 1


def test_a_common_noun_at_a_sentence_start_is_not_the_place() -> None:
    ev = evidence("sk", "", "Hôrka za domom je plná hríbov. Na každú hôrku vedie chodník.")
    assert ev.places == 0


def test_a_capitalised_word_at_a_sentence_start_does_not_make_the_place_another() -> None:
    ev = evidence("sk", "", "Obyvatelia Podhája podpísali petíciu. Na Podháji chýbajú parkoviská.")
    assert ev.places == 1


def test_the_demo_profile_lists_places_the_local_newsroom_writes() -> None:
    from presswatch.profile import load_profile

    m = MentionMatcher.from_profile(load_profile("demo"))
    doc = make_document("Lekáreň na Podháji sa sťahuje", "Lekáreň pri zastávke Podháj bude otvorená do piatej.", "sk")
    ev = m.find(doc, home_outlet=True).evidence
    assert ev.places == 2 and relevance.is_relevant(ev)
