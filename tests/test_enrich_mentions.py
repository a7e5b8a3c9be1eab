"""Officials and bodies in every inflected form, and the traps: namesakes, other towns, common nouns.

Profiles and sentences are written for this test (fictional towns and people, our own words).
"""

from __future__ import annotations

from functools import cache

import pytest

from presswatch.enrich.enricher import Enricher
from presswatch.profile import parse_profile
from presswatch.records import Article, Enrichment

PROFILES = {
    "sk": """
municipality: {id: velke-brezno, name: Veľké Brezno, country: SK, languages: [sk], timezone: Europe/Bratislava,
               aliases: [mesto Veľké Brezno]}
officials:
  - {id: mayor, name: Ondrej Kováčik, role: mayor, title: primátor}
  - {id: deputy, name: Alena Polláková, role: deputy_mayor, title: viceprimátorka}
  - {id: mraz, name: Igor Mráz, role: council_member, title: poslanec}
  - {id: sokol, name: Juraj Sokol, role: council_member, title: poslanec}
bodies:
  - {id: council, name: Mestské zastupiteľstvo Veľké Brezno, aliases: [mestské zastupiteľstvo, zastupiteľstvo]}
""",
    "cs": """
municipality: {id: hruba-ves, name: Hrubá Ves, country: CZ, languages: [cs], timezone: Europe/Prague}
officials:
  - {id: mayor, name: Pavel Hlaváček, role: mayor, title: starosta}
  - {id: deputy, name: Jitka Vaňková, role: deputy_mayor, title: místostarostka}
  - {id: kral, name: Jakub Král, role: council_member, title: zastupitel}
bodies:
  - {id: board, name: Rada města Hrubá Ves, aliases: [rada města]}
""",
    "lt": """
municipality: {id: sermukai, name: Šermukų rajono savivaldybė, country: LT, languages: [lt],
               timezone: Europe/Vilnius, aliases: [Šermukai, Šermukų rajonas]}
officials:
  - {id: mayor, name: Darius Jakštas, role: mayor, title: meras}
  - {id: deputy, name: Rūta Petrauskienė, role: deputy_mayor, title: vicemerė}
  - {id: spokes, name: Eglė Baranauskaitė, role: spokesperson, title: atstovė spaudai}
bodies:
  - {id: council, name: Šermukų rajono savivaldybės taryba, aliases: [savivaldybės taryba, taryba]}
""",
    "tr": """
municipality: {id: cayirbasi, name: Çayırbaşı, country: TR, languages: [tr], timezone: Europe/Istanbul,
               aliases: [Çayırbaşı Belediyesi]}
officials:
  - {id: mayor, name: Kemal Aydemir, role: mayor, title: belediye başkanı}
  - {id: demir, name: Ahmet Demir, role: council_member, title: meclis üyesi}
bodies:
  - {id: council, name: Çayırbaşı Belediye Meclisi, aliases: [belediye meclisi, meclis]}
""",
    "mk": """
municipality: {id: lipkovo-pole, name: Липово Поле, country: MK, languages: [mk], timezone: Europe/Skopje,
               aliases: [Општина Липово Поле]}
officials:
  - {id: mayor, name: Бранко Јакимовски, role: mayor, title: градоначалник}
  - {id: peshevski, name: Дејан Пешевски, role: council_member, title: советник}
bodies:
  - {id: council, name: Совет на Општина Липово Поле, aliases: [општински совет]}
""",
    "en": """
municipality: {id: ashby-vale, name: Ashby Vale, country: GB, languages: [en], timezone: Europe/London,
               aliases: [Ashby Vale Council]}
officials:
  - {id: mayor, name: Joanna Whitlock, role: mayor, title: mayor}
  - {id: bishop, name: Owen Bishop, role: council_member, title: councillor}
bodies:
  - {id: planning, name: Ashby Vale Planning Committee, aliases: [planning committee]}
""",
}


@cache
def enricher(lang: str) -> Enricher:
    return Enricher.from_profile(parse_profile(PROFILES[lang], f"<{lang}>"))


def run(lang: str, title: str, text: str) -> Enrichment:
    return enricher(lang).enrich(Article(id="t", url="u", outlet="", title=title, text=text))


def surfaces(e: Enrichment, ref: str) -> list[str]:
    return [m.surface for m in e.mentions if m.ref == ref]


def assert_offsets(e: Enrichment, title: str, text: str) -> None:
    for m in e.mentions:
        src = title if m.field == "title" else text
        assert src[m.start:m.end] == m.surface, m


# --- inflected forms, per language -------------------------------------------------------------------------


def test_slovak_case_forms_and_feminine_surnames() -> None:
    title = "Poslanec Mráz žiada od primátora Kováčika vysvetlenie"
    text = ("Vo Veľkom Brezne sa poslanci hádali o rozpočet. Igor Mráz vyčítal primátorovi Ondrejovi Kováčikovi, "
            "že peniaze presunul bez súhlasu zastupiteľstva. S viceprimátorkou Pollákovou sa stretol aj dnes. "
            "Viceprimátorke Alene Pollákovej poslal list a primátorom Kováčikom sa chce stretnúť znova.")
    e = run("sk", title, text)
    assert set(e.officials) == {"mraz", "mayor", "deputy"}
    assert "council" in e.bodies
    assert "primátorovi Ondrejovi Kováčikovi" in surfaces(e, "mayor")
    assert "primátorom Kováčikom" in surfaces(e, "mayor")
    assert "Viceprimátorke Alene Pollákovej" in surfaces(e, "deputy")
    assert_offsets(e, title, text)


def test_slovak_without_diacritics() -> None:
    text = ("Mesto Velke Brezno opravi cesty. Podla viceprimatorky Aleny Pollakovej sa zacne v pondelok, "
            "primator Ondrej Kovacik vyzval vodicov na opatrnost.")
    e = run("sk", "Velke Brezno opravi cesty na sidlisku", text)
    assert set(e.officials) == {"deputy", "mayor"} and e.relevant
    assert "viceprimatorky Aleny Pollakovej" in surfaces(e, "deputy")


def test_czech_dative_softening_and_fleeting_vowel() -> None:
    text = ("Petici předali obyvatelé Hrubé Vsi místostarostce Vaňkové. Se starostou Hlaváčkem se nesetkali, "
            "dopis starostovi Pavlu Hlaváčkovi ale poslali. Podle Krále rozhodla rada města bez debaty.")
    e = run("cs", "Hrubá Ves: lidé nesouhlasí s halou", text)
    # "Krále" alone counts: the article is about Hrubá Ves ("Hrubé Vsi") and no other Král is named
    assert set(e.officials) == {"deputy", "mayor", "kral"}
    assert "místostarostce Vaňkové" in surfaces(e, "deputy")
    assert "starostou Hlaváčkem" in surfaces(e, "mayor")
    assert "board" in e.bodies
    assert_offsets(e, "Hrubá Ves: lidé nesouhlasí s halou", text)


def test_lithuanian_ending_forms() -> None:
    text = ("Šermukų rajono savivaldybės taryba pritarė biudžetui. Pasak vicemerės Rūtos Petrauskienės, "
            "mero Jakšto komanda darbus pradės rudenį. Merui Dariui Jakštui laišką įteikė gyventojai, "
            "o atstovė spaudai Eglė Baranauskaitė pažadėjo atsakyti. Baranauskaitės teigimu, viskas bus laiku.")
    e = run("lt", "Šermukuose – nauji darbai", text)
    assert set(e.officials) == {"deputy", "mayor", "spokes"}
    assert "vicemerės Rūtos Petrauskienės" in surfaces(e, "deputy")
    assert "Merui Dariui Jakštui" in surfaces(e, "mayor")
    assert "Baranauskaitės" in surfaces(e, "spokes")
    assert "council" in e.bodies
    assert_offsets(e, "Šermukuose – nauji darbai", text)


def test_lithuanian_without_diacritics() -> None:
    text = "Sermuku rajono meras Darius Jakstas pranese, kad vicemere Ruta Petrauskiene rupinsis mokyklomis."
    e = run("lt", "Sermukuose pradedama renovacija", text)
    assert set(e.officials) == {"mayor", "deputy"}


@pytest.mark.parametrize("apostrophe", ["'", "’"])
def test_turkish_suffixes_after_either_apostrophe(apostrophe: str) -> None:
    a = apostrophe
    title = f"Meclis Üyesi Demir{a}den Başkan Aydemir{a}e tepki"
    text = (f"Çayırbaşı Belediye Meclis Üyesi Ahmet Demir, Belediye Başkanı Kemal Aydemir{a}in kararını eleştirdi. "
            f"Demir{a}e göre meclis bu konuyu hiç görüşmedi.")
    e = run("tr", title, text)
    assert set(e.officials) == {"demir", "mayor"}
    assert f"Başkan Aydemir{a}e" in surfaces(e, "mayor")
    assert f"Demir{a}e" in surfaces(e, "demir")
    assert "council" in e.bodies
    assert_offsets(e, title, text)


def test_turkish_without_diacritics() -> None:
    text = "Cayirbasi Belediye Baskani Kemal Aydemir, yeni parkin Kasim'da acilacagini soyledi."
    e = run("tr", "Baskan Aydemir: Park Kasim'da aciliyor", text)
    assert e.officials == ("mayor",) and e.relevant


def test_macedonian_in_cyrillic_and_in_latin_both_spellings() -> None:
    cyr = run("mk", "Пешевски бара одговори", "Советникот Дејан Пешевски го прашa градоначалникот Бранко "
              "Јакимовски зошто Општина Липово Поле доцни со тендерот.")
    assert set(cyr.officials) == {"peshevski", "mayor"}
    assert "градоначалникот Бранко Јакимовски" in surfaces(cyr, "mayor")
    caron = run("mk", "Gradonačalnikot Jakimovski otvori park",
                "Gradonačalnikot na Opština Lipovo Pole, Branko Jakimovski, denes go otvori parkot.")
    assert caron.officials == ("mayor",) and caron.relevant
    digraph = run("mk", "Peshevski: Opshtinata docni",
                  "Sovetnikot Dejan Peshevski izjavi deka opshtina Lipovo Pole kje docni so rabotite.")
    assert digraph.officials == ("peshevski",)
    plain = run("mk", "Pesevski bara odgovor", "Sovetnikot Dejan Pesevski od Lipovo Pole bara odgovor.")
    assert plain.officials == ("peshevski",)


def test_english_possessives() -> None:
    text = ("Ashby Vale Council has delayed the bus station plan. Mayor Joanna Whitlock's office blamed the "
            "contractor, and Councillor Owen Bishop said Bishop's motion would force a vote. The planning "
            "committee meets on Monday.")
    e = run("en", "Mayor Whitlock's bus plan delayed", text)
    assert set(e.officials) == {"mayor", "bishop"}
    assert "Mayor Whitlock's" in surfaces(e, "mayor")
    assert "planning" in e.bodies
    assert_offsets(e, "Mayor Whitlock's bus plan delayed", text)


# --- traps -------------------------------------------------------------------------------------------------


def test_namesake_with_another_given_name_is_not_the_official() -> None:
    text = ("Útočník Dominik Mráz strelil vo Veľkom Brezne dva góly. Mráz sa tak stal najlepším strelcom "
            "súťaže a tréner Mrázovi po zápase poďakoval.")
    e = run("sk", "Mráz rozhodol zápas", text)
    assert "mraz" not in e.officials


def test_surname_alone_without_any_context_is_nobody() -> None:
    e = run("sk", "Sokol sa vrátil do hniezda", "Ornitológovia pozorovali sokola sťahovavého nad lomom.")
    assert e.officials == () and not e.relevant


def test_surname_alone_counts_when_the_article_is_about_the_town() -> None:
    e = run("sk", "Sokol: Veľké Brezno potrebuje nové chodníky",
            "Poslanec mestského zastupiteľstva vo Veľkom Brezne navrhol opravy. Sokol chce, aby mesto začalo na jar.")
    assert "sokol" in e.officials


def test_common_noun_at_a_sentence_start_is_not_a_surname() -> None:
    text = ("Vo Veľkom Brezne padali v noci teploty pod nulu. Mráz prišiel skôr ako vlani a silný mráz "
            "potrápi aj ovocinárov.")
    e = run("sk", "Prvý mráz prišiel do Veľkého Brezna", text)
    assert "mraz" not in e.officials


def test_another_towns_mayor_is_not_ours_in_any_language() -> None:
    cases = [
        ("sk", "Primátor Nových Lazian predstavil plán", "Primátor Nových Lazian Ivan Kostolný predstavil plán. "
               "Primátor uviedol, že zastupiteľstvo v Nových Lazoch o ňom rozhodne v novembri."),
        ("cs", "Starostka Dolní Lhoty ruší poplatek", "Starostka Dolní Lhoty Jana Vávrová navrhla zrušit poplatek."),
        ("lt", "Uosiškių meras pristatė parką", "Uosiškių rajono meras Vytautas Gaižauskas pristatė parko projektą, "
               "jam turi pritarti Uosiškių rajono savivaldybės taryba."),
        ("tr", "Gökçeyayla Belediye Başkanı park tanıttı", "Gökçeyayla Belediye Başkanı Necati Özkan yeni parkı "
               "tanıttı. Proje Gökçeyayla Belediye Meclisi'nde kabul edildi."),
        ("mk", "Градоначалникот на Бела Стена најави пазар", "Градоначалникот на Општина Бела Стена, Златко "
               "Петрески, најави нов пазар."),
        ("en", "Mayor of Dunmore resigns", "The mayor of Dunmore, Tom Reed, resigned on Tuesday. The mayor said "
               "he would not stand again."),
    ]
    for lang, title, text in cases:
        e = run(lang, title, text)
        assert e.officials == () and e.bodies == () and not e.relevant, (lang, e.officials, e.bodies)


def test_bare_title_is_ours_when_the_article_is_about_us() -> None:
    e = run("sk", "Veľké Brezno opraví most", "Most cez Hron vo Veľkom Brezne opravia do zimy. Primátor uviedol, "
            "že obchádzka potrvá dva mesiace.")
    assert e.officials == ("mayor",)
    e = run("en", "Mayor urges drivers to slow down", "The Mayor of Ashby Vale has urged drivers to slow down "
            "near schools after a crash on Mill Lane.")
    assert e.officials == ("mayor",) and "Mayor of Ashby Vale" in surfaces(e, "mayor")
    e = run("lt", "Meras ragina taupyti vandenį", "Šermukų rajono meras paragino gyventojus taupyti vandenį.")
    assert e.officials == ("mayor",)


def test_bare_title_alone_is_nobody() -> None:
    e = run("sk", "Primátor otvoril ihrisko", "Primátor v sobotu otvoril nové ihrisko pri škole.")
    assert e.officials == () and not e.relevant


def test_a_bare_council_member_title_names_nobody() -> None:
    e = run("sk", "Veľké Brezno schválilo rozpočet", "Vo Veľkom Brezne schválili rozpočet. Poslanec navrhol "
            "zmenu, ale neprešla.")
    assert "mraz" not in e.officials and "sokol" not in e.officials


def test_passing_mention_in_a_national_list_is_not_relevant() -> None:
    e = run("sk", "Ministerstvo rozdelí peniaze na cyklotrasy",
            "Ministerstvo dopravy zverejnilo zoznam miest, ktoré dostanú príspevok: Trnava, Senec, Veľké Brezno, "
            "Levice a ďalších dvanásť miest. Zmluvy chce podpísať do konca roka.")
    assert not e.relevant


def test_offsets_point_at_the_surface_in_both_fields() -> None:
    title = "Primátor Kováčik a viceprimátorka Polláková otvorili škôlku"
    text = "„Ďakujeme,“ povedal primátor Veľkého Brezna Ondrej Kováčik. Polláková dodala, že škôlka má 80 miest."
    e = run("sk", title, text)
    assert {m.field for m in e.mentions} == {"title", "text"}
    assert_offsets(e, title, text)


# --- bare body nouns (enrich/lexicons/<lang>/bodies.txt) -----------------------------------------------------
# Profiles whose bodies have full names only: the bare noun comes from the lexicon, the body from the profile.

BODY_PROFILES = {
    "sk": """
municipality: {id: dolna-luka, name: Dolná Lúka, country: SK, languages: [sk], timezone: Europe/Bratislava}
officials: [{id: mayor, name: Ondrej Kováčik, role: mayor, title: primátor}]
bodies: [{id: council, name: Mestské zastupiteľstvo Dolná Lúka}, {id: board, name: Mestská rada Dolná Lúka}]
""",
    "cs": """
municipality: {id: horni-briza, name: Horní Bříza, country: CZ, languages: [cs], timezone: Europe/Prague}
officials: [{id: mayor, name: Pavel Hlaváček, role: mayor, title: starosta}]
bodies: [{id: council, name: Zastupitelstvo města Horní Bříza}, {id: board, name: Rada města Horní Bříza}]
""",
    "lt": """
municipality: {id: sermukai, name: Šermukų rajono savivaldybė, country: LT, languages: [lt],
               timezone: Europe/Vilnius, aliases: [Šermukų rajonas]}
officials: [{id: mayor, name: Darius Jakštas, role: mayor, title: meras}]
bodies: [{id: council, name: Šermukų rajono savivaldybės taryba}]
""",
    "tr": """
municipality: {id: kuzeycam, name: Kuzeyçam, country: TR, languages: [tr], timezone: Europe/Istanbul,
               aliases: [Kuzeyçam Belediyesi]}
officials: [{id: mayor, name: Kemal Aydemir, role: mayor, title: belediye başkanı}]
bodies: [{id: council, name: Kuzeyçam Belediye Meclisi}]
""",
    "mk": """
municipality: {id: lipovo-pole, name: Липово Поле, country: MK, languages: [mk], timezone: Europe/Skopje,
               aliases: [Општина Липово Поле]}
officials: [{id: mayor, name: Бранко Јакимовски, role: mayor, title: градоначалник}]
bodies: [{id: council, name: Совет на Општина Липово Поле}]
""",
    "en": """
municipality: {id: ashby-vale, name: Ashby Vale, country: GB, languages: [en], timezone: Europe/London}
officials: [{id: mayor, name: Joanna Whitlock, role: mayor, title: mayor}]
bodies: [{id: council, name: Ashby Vale Borough Council}]
""",
}


@cache
def body_enricher(lang: str) -> Enricher:
    return Enricher.from_profile(parse_profile(BODY_PROFILES[lang], f"<{lang}>"))


def run_body(lang: str, title: str, text: str) -> Enrichment:
    return body_enricher(lang).enrich(Article(id="t", url="u", outlet="", title=title, text=text))


@pytest.mark.parametrize(("lang", "title", "text", "surface"), [
    ("sk", "Dolná Lúka opraví školu", "Mesto Dolná Lúka opraví školu. O peniazoch rozhodne zastupiteľstvo v "
           "decembri, na zastupiteľstve vystúpi aj riaditeľ.", "zastupiteľstve"),
    ("cs", "Horní Bříza opraví školu", "Město Horní Bříza opraví školu. Zastupitelstvo o tom jednalo ve čtvrtek "
           "a na zastupitelstvu padl návrh na půjčku.", "zastupitelstvu"),
    ("lt", "Šermukų rajone bus remontuojama mokykla", "Šermukų rajono savivaldybė remontuos mokyklą. Tarybos "
           "posėdyje sprendimui pritarė dauguma, taryba skyrė lėšų.", "Tarybos"),
    ("tr", "Kuzeyçam Belediyesi okul yapacak", "Kuzeyçam Belediyesi yeni okul yapacak. Yeni proje "
           "meclis toplantısında kabul edildi, meclisin onayı oy birliğiyle çıktı.", "meclisin"),
    ("mk", "Општина Липово Поле ќе гради училиште", "Општина Липово Поле ќе гради ново училиште. Советот ќе "
           "го разгледува предлогот во декември.", "Советот"),
    ("mk", "Opstina Lipovo Pole ke gradi uciliste", "Opstina Lipovo Pole ke gradi novo uciliste. Sovetot ke go "
           "razgleduva predlogot vo dekemvri.", "Sovetot"),
])
def test_a_bare_body_noun_is_our_council_when_the_article_is_about_us(lang: str, title: str, text: str,
                                                                     surface: str) -> None:
    e = run_body(lang, title, text)
    assert e.bodies == ("council",), (lang, e.bodies)
    assert surface in surfaces(e, "council")
    assert_offsets(e, title, text)


@pytest.mark.parametrize(("lang", "title", "text"), [
    ("sk", "Zastupiteľstvo schválilo rozpočet", "Zastupiteľstvo v pondelok schválilo rozpočet na budúci rok."),
    ("lt", "Taryba pritarė biudžetui", "Taryba pirmadienį pritarė kitų metų biudžetui."),
    ("mk", "Советот го усвои буџетот", "Советот во понеделникот го усвои буџетот за наредната година."),
])
def test_a_bare_body_noun_alone_is_nobody(lang: str, title: str, text: str) -> None:
    e = run_body(lang, title, text)
    assert e.bodies == () and not e.relevant


@pytest.mark.parametrize(("lang", "title", "text"), [
    # another town's council, and then its bare mentions in the same article
    ("sk", "Dolná Lúka a Šaľa", "Mesto Dolná Lúka pomôže susedom. Zastupiteľstvo v Šali schválilo dotáciu, "
           "zastupiteľstvo o nej rokovalo dve hodiny."),
    ("lt", "Šermukų rajonas ir Uosiškiai", "Šermukų rajono savivaldybė sveikina kaimynus. Uosiškių rajono "
           "savivaldybės taryba pritarė planui, taryba skyrė lėšų."),
    ("mk", "Општина Липово Поле и Битола", "Општина Липово Поле ќе соработува. Советот на Општина Битола ја "
           "одобри соработката, а советот ќе ја следи."),
    # a region's council and the state's parliament, which share the noun
    ("sk", "Dolná Lúka dostane dotáciu", "Mesto Dolná Lúka dostane dotáciu. Krajské zastupiteľstvo ju schválilo "
           "v piatok, zastupiteľstvo hlasovalo jednomyseľne."),
    ("cs", "Horní Bříza dostane dotaci", "Město Horní Bříza dostane dotaci. Zastupitelstvo kraje ji schválilo v "
           "pátek, zastupitelstvo hlasovalo jednomyslně."),
    ("lt", "Šermukų rajonui – ES lėšos", "Šermukų rajono savivaldybė gaus lėšų. Europos Sąjungos Taryba pritarė "
           "programai, taryba posėdžiavo Briuselyje."),
    ("tr", "Kuzeyçam Belediyesi'ne yeni yasa", "Kuzeyçam Belediyesi yeni yasayı bekliyor. Yasa TBMM'de kabul "
           "edildi, Meclis'te oylama uzun sürdü."),
    ("tr", "Kuzeyçam Belediyesi'ne yeni yasa", "Kuzeyçam Belediyesi yeni yasayı bekliyor. Meclis'te kabul "
           "edilen yasa Ankara'da Bakan tarafından açıklandı."),
    ("mk", "Општина Липово Поле и Европа", "Општина Липово Поле доби признание. Советот на Европа ја пофали "
           "општината, а советот го објави тоа во Стразбур."),
])
def test_another_places_or_the_states_body_is_not_our_council(lang: str, title: str, text: str) -> None:
    e = run_body(lang, title, text)
    assert "council" not in e.bodies, (lang, text)


def test_national_parliament_is_never_a_municipal_body() -> None:
    e = run_body("sk", "Dolná Lúka čaká na zákon", "Mesto Dolná Lúka čaká na zákon. Národná rada ho schváli v "
                 "decembri a rada ministrov potom rozhodne o peniazoch.")
    assert e.bodies == ()
    e = run_body("cs", "Horní Bříza čeká na zákon", "Město Horní Bříza čeká na zákon. Poslanecká sněmovna ho "
                 "schválila a rada kraje rozhodne o penězích.")
    assert e.bodies == ()


def test_english_the_council_is_the_authority_not_a_body() -> None:
    e = run_body("en", "Ashby Vale to repair school", "Ashby Vale will repair the school. The council said the "
                 "work would start in March.")
    assert e.relevant and e.bodies == ()
    e = run_body("en", "Ashby Vale Borough Council repairs school", "Ashby Vale Borough Council approved the work.")
    assert e.bodies == ("council",)
