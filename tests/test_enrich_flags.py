"""Critical and misleading flags: who criticises, what does not count, figures against the record, reasons.

Profiles and articles are written for this test (fictional towns, people and figures).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest

from presswatch.enrich.enricher import Enricher
from presswatch.profile import parse_profile
from presswatch.records import Article, Enrichment, Flag

SK = """
municipality: {id: velke-brezno, name: Veľké Brezno, country: SK, languages: [sk], timezone: Europe/Bratislava}
officials:
  - {id: mayor, name: Ondrej Kováčik, role: mayor, title: primátor}
  - {id: spokes, name: Lenka Horváthová, role: spokesperson, title: hovorkyňa mesta}
  - {id: sokol, name: Juraj Sokol, role: council_member, title: poslanec}
facts:
  - {id: budget, statement: "Rozpočet mesta Veľké Brezno na rok 2026 je 21,5 mil. EUR.", value: 21.5, unit: mil. EUR}
  - {id: pool, statement: "Krytá plaváreň sa po oprave otvorí 1. decembra 2026.", value: '2026-12-01'}
outlets:
  - {id: national, name: Denník Národ, tier: 1}
  - {id: local, name: Brezniansky hlas, tier: 3}
"""
CS = """
municipality: {id: hruba-ves, name: Hrubá Ves, country: CZ, languages: [cs], timezone: Europe/Prague}
officials:
  - {id: mayor, name: Pavel Hlaváček, role: mayor, title: starosta}
facts:
  - {id: budget, statement: "Rozpočet města Hrubá Ves na rok 2026 činí 310 milionů Kč.", value: 310, unit: mil. Kč}
  - {id: hall, statement: "Sportovní hala bude otevřena 15. března 2027.", value: '2027-03-15'}
"""
LT = """
municipality: {id: sermukai, name: Šermukų rajono savivaldybė, country: LT, languages: [lt], timezone: Europe/Vilnius,
               aliases: [Šermukai]}
officials:
  - {id: mayor, name: Darius Jakštas, role: mayor, title: meras}
facts:
  - {id: budget, statement: "Šermukų rajono savivaldybės 2026 m. biudžetas – 52,4 mln. eurų.", value: 52.4, unit: mln. EUR}
  - {id: library, statement: "Nauja biblioteka bus atidaryta 2026 m. lapkričio 20 d.", value: '2026-11-20'}
"""
TR = """
municipality: {id: cayirbasi, name: Çayırbaşı, country: TR, languages: [tr], timezone: Europe/Istanbul}
officials:
  - {id: mayor, name: Kemal Aydemir, role: mayor, title: belediye başkanı}
facts:
  - {id: budget, statement: "Çayırbaşı Belediyesi'nin 2026 yılı bütçesi 2,1 milyar TL'dir.", value: 2.1, unit: milyar TL}
  - {id: market, statement: "Yeni kapalı pazar yeri 10 Aralık 2026 tarihinde açılacak.", value: '2026-12-10'}
"""
MK = """
municipality: {id: lipkovo-pole, name: Липово Поле, country: MK, languages: [mk], timezone: Europe/Skopje,
               aliases: [Општина Липово Поле]}
officials:
  - {id: mayor, name: Бранко Јакимовски, role: mayor, title: градоначалник}
facts:
  - {id: budget, statement: "Буџетот на Општина Липово Поле за 2026 година изнесува 480 милиони денари.", value: 480,
     unit: милиони денари}
  - {id: kindergarten, statement: "Новата градинка во Бреза ќе биде отворена на 1 октомври 2026 година.",
     value: '2026-10-01'}
"""
EN = """
municipality: {id: ashby-vale, name: Ashby Vale, country: GB, languages: [en], timezone: Europe/London}
officials:
  - {id: mayor, name: Joanna Whitlock, role: mayor, title: mayor}
  - {id: bishop, name: Owen Bishop, role: council_member, title: councillor}
facts:
  - {id: budget, statement: "Ashby Vale's net revenue budget for 2026/27 is £96.2 million.", value: 96.2,
     unit: million GBP}
  - {id: pool, statement: "The Riverside pool will reopen on 3 November 2026.", value: '2026-11-03'}
"""
PROFILES = {"sk": SK, "cs": CS, "lt": LT, "tr": TR, "mk": MK, "en": EN}
PUBLISHED = datetime(2026, 10, 10, 8, 0, tzinfo=UTC)


@cache
def enricher(lang: str) -> Enricher:
    return Enricher.from_profile(parse_profile(PROFILES[lang], f"<{lang}>"))


def run(lang: str, title: str, text: str, outlet: str = "") -> Enrichment:
    art = Article(id="t", url="u", outlet=outlet, title=title, text=text, published=PUBLISHED)
    return enricher(lang).enrich(art)


def flag(e: Enrichment, kind: str) -> Flag:
    found = [f for f in e.flags if f.type == kind]
    assert found, f"no {kind} flag in {e.flags}"
    return found[0]


# --- critical ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang,title,text", [
    ("sk", "Poslanec Sokol kritizuje primátora za predražené parkovisko",
     "Opozičný poslanec Juraj Sokol obvinil primátora Ondreja Kováčika, že parkovisko vo Veľkom Brezne stálo o "
     "tretinu viac, než sa plánovalo. Podľa Sokola mesto zmluvu nezverejnilo a poslancom nič nevysvetlilo."),
    ("sk", "Obyvatelia Veľkého Brezna spísali petíciu proti výrubu",
     "Vyše tisíc obyvateľov Veľkého Brezna podpísalo petíciu proti výrubu stromov v parku. Sťažujú sa, že radnica "
     "s nimi o projekte vôbec nekomunikovala."),
    ("cs", "Kontrola zjistila v Hrubé Vsi vážné nedostatky",
     "Kontroloři kraje zjistili, že Hrubá Ves zadala zakázky za čtyři miliony bez výběrového řízení. Starosta "
     "Pavel Hlaváček podle zprávy porušil zákon o obcích."),
    ("lt", "Gyventojai skundžiasi: savivaldybė ignoruoja prašymus",
     "Šermukų gyventojai skundžiasi, kad savivaldybė jau kelis mėnesius ignoruoja jų prašymus sutvarkyti kelią. "
     "Mero Dariaus Jakšto jie teigia nesulaukę nė vieno atsakymo."),
    ("tr", "Çayırbaşı'nda çöpler toplanmıyor, vatandaş tepkili",
     "Çayırbaşı'nda çöplerin bir haftadır toplanmaması vatandaşların tepkisine neden oldu. Mahalle sakinleri "
     "belediyeye defalarca başvurduklarını ancak yanıt alamadıklarını söyledi."),
    ("mk", "Жителите протестираа пред општината",
     "Стотици жители протестираа пред Општина Липово Поле поради прашината од каменоломот. Тие го обвинуваат "
     "градоначалникот Бранко Јакимовски дека со месеци ги игнорира нивните поплаки."),
    ("en", "Journalists' questions go unanswered at Ashby Vale town hall",
     "Ashby Vale council has refused to answer our questions about a £2m consultancy contract for six weeks. "
     "Mayor Joanna Whitlock did not respond to requests for comment, and councillor Owen Bishop called the "
     "secrecy a scandal."),
])
def test_criticism_by_opposition_citizens_auditors_and_journalists(lang: str, title: str, text: str) -> None:
    e = run(lang, title, text)
    assert e.relevant and e.critical, e
    assert e.sentiment.label == "negative"


def test_a_rebuttal_in_the_same_article_does_not_cancel_the_criticism() -> None:
    e = run("sk", "Sokol: Mesto preplatilo autá. Radnica to odmieta",
            "Poslanec Juraj Sokol obvinil vedenie mesta Veľké Brezno, že za služobné autá zaplatilo o tretinu viac, "
            "než je trhová cena. Radnica jeho tvrdenie odmieta. Hovorkyňa mesta Lenka Horváthová uviedla, že autá "
            "sa kupovali v elektronickej aukcii a dokumenty sú zverejnené.")
    assert e.critical
    assert e.sentiment.label == "neutral"  # both sides reported


@pytest.mark.parametrize("lang,title,text", [
    ("sk", "Vláda škrtá samosprávam, Veľké Brezno aj tak opravilo školu",
     "Veľké Brezno dokončilo rekonštrukciu školy z vlastných peňazí, hoci ministerstvo sľúbenú dotáciu zrušilo. "
     "„Vláda berie obciam peniaze a presúva na ne povinnosti, je to neprijateľné,“ povedal primátor Ondrej "
     "Kováčik. Žiaci sa do zateplenej budovy vrátili v pondelok."),
    ("en", "Ashby Vale keeps libraries open despite government cuts",
     "Ashby Vale will keep every library open even though central government has cut its grant again. "
     "\u201cMinisters keep failing councils and it is unacceptable,\u201d said Mayor Joanna Whitlock. The town saved "
     "money by sharing services instead."),
    ("tr", "Kesintilere rağmen Çayırbaşı'na yeni park",
     "Çayırbaşı Belediyesi, merkezi yönetimin kesintilerine rağmen yeni bir park açtı. Belediye Başkanı Kemal "
     "Aydemir, \u201cAnkara'nın payları kısması kabul edilemez\u201d dedi. Park vatandaşların hizmetine sunuldu."),
])
def test_praise_of_the_town_inside_criticism_of_the_government_is_not_critical(lang: str, title: str,
                                                                                 text: str) -> None:
    e = run(lang, title, text)
    assert e.relevant and not e.critical
    assert e.sentiment.label == "positive"


def test_sarcastic_congratulations_are_critical() -> None:
    e = run("sk", "Blahoželáme, radnica: chodník vydržal celé dva týždne",
            "Blahoželáme vedeniu Veľkého Brezna k ďalšiemu technickému úspechu. Nový chodník na Hlavnej ulici "
            "sa rozpadol po dvoch týždňoch a mesto ho bude opravovať znova. Primátor Kováčik pritom v lete hovoril "
            "o investícii na desaťročia.")
    assert e.critical
    assert e.sentiment.label == "negative"


def test_a_question_headline_over_a_calm_text_is_not_critical() -> None:
    e = run("cs", "Další zdražení? Hrubá Ves rozhodla o poplatku za odpad",
            "Zastupitelstvo Hrubé Vsi ve čtvrtek rozhodlo, že poplatek za odpad zůstane i příští rok stejný. "
            "Starosta Pavel Hlaváček uvedl, že vyšší náklady pokryje prodej vytříděných surovin.")
    assert not e.critical


def test_an_irrelevant_article_carries_no_flags() -> None:
    e = run("sk", "Starosta Horných Lazov čelí kritike",
            "Opozícia v Horných Lazoch kritizuje starostu Petra Nováka za predražené ihrisko a obviňuje ho z klamstva.")
    assert not e.relevant and e.flags == ()


# --- misleading: figures and dates against the record ----------------------------------------------------------


@pytest.mark.parametrize("lang,text,cue", [
    ("sk", "Mesto Veľké Brezno, ktoré tento rok hospodári s rozpočtom 26 miliónov eur, chystá nové investície.",
     "26 miliónov eur"),
    ("cs", "Hrubá Ves letos hospodaří s rozpočtem 390 milionů korun a chystá opravy silnic.", "390 milionů korun"),
    ("lt", "Šermukų rajono savivaldybės šių metų biudžetas siekia 61 mln. eurų, tačiau keliams skirta mažai.",
     "61 mln. eurų"),
    ("tr", "Çayırbaşı Belediyesi'nin bu yılki bütçesi 2,9 milyar TL olarak açıklandı.", "2,9 milyar TL"),
    ("mk", "Општина Липово Поле, чиј буџет за 2026 година изнесува 650 милиони денари, најави инвестиции.",
     "650 милиони денари"),
    ("en", "Ashby Vale's net revenue budget for 2026/27 is £120.5 million, the council's papers show.",
     "£120.5 million"),
])
def test_a_figure_contradicting_the_record_is_misleading(lang: str, text: str, cue: str) -> None:
    e = run(lang, "Rozpočet / Budget", text)
    mis = flag(e, "misleading")
    r = mis.reasons[0]
    assert r.cue == cue and r.fact_id == "budget" and r.record
    assert r.field == "text" and text[r.start:r.end] == r.quote


@pytest.mark.parametrize("lang,text", [
    ("sk", "Krytá plaváreň vo Veľkom Brezne sa po oprave otvorí až 15. februára 2027, oznámilo mesto."),
    ("cs", "Sportovní hala v Hrubé Vsi bude otevřena až 1. června 2027, uvedla radnice."),
    ("lt", "Nauja Šermukų biblioteka bus atidaryta tik 2027 m. sausio 15 d., pranešė savivaldybė."),
    ("tr", "Çayırbaşı'ndaki yeni kapalı pazar yeri 15 Ocak 2027'de açılacak."),
    ("mk", "Новата градинка во Бреза, Општина Липово Поле, ќе биде отворена на 15 декември 2026 година."),
    ("en", "Ashby Vale's Riverside pool will not reopen until 12 January 2027, the council said."),
])
def test_a_date_contradicting_the_record_is_misleading(lang: str, text: str) -> None:
    e = run(lang, "Termín / Date", text)
    assert flag(e, "misleading").reasons[0].fact_id in ("pool", "hall", "library", "market", "kindergarten")


@pytest.mark.parametrize("lang,text", [
    ("sk", "Rozpočet mesta Veľké Brezno na rok 2026 zostáva na úrovni 21,5 milióna eur."),
    ("sk", "Mesto Veľké Brezno navrhuje na budúci rok rozpočet 24 miliónov eur."),  # another year
    ("sk", "Veľké Brezno opraví chodníky za 1,2 milióna eur zo svojho rozpočtu."),  # a part, not the whole
    ("sk", "Krytá plaváreň vo Veľkom Brezne sa otvorí 1. decembra, potvrdilo mesto."),
    ("tr", "Çayırbaşı'nın bu yıl 2,1 milyar TL olan bütçesinin gelecek yıl 2,8 milyar TL'ye çıkarılması öneriliyor."),
    ("en", "Ashby Vale spent £96.2 thousand on consultants, the council said."),  # another scale and topic
    ("cs", "Hrubá Ves vybrala na daních z nemovitostí 310 tisíc korun."),
])
def test_figures_that_agree_or_are_about_something_else_are_not_misleading(lang: str, text: str) -> None:
    e = run(lang, "Správy z mesta", text)
    assert not e.misleading, e.flags


def test_an_accusation_stated_as_fact_without_any_investigation_is_misleading() -> None:
    e = run("sk", "Primátor Kováčik si dal zaplatiť za stavebné povolenie",
            "Primátor Veľkého Brezna Ondrej Kováčik si od investora vypýtal úplatok za povolenie na stavbu skladu. "
            "Peniaze mu podľa nášho zdroja odovzdali v hotovosti. Polícia sa vecou nezaoberá a primátor na otázky "
            "redakcie neodpovedal.")
    mis = flag(e, "misleading")
    assert any("úplatok" in r.cue for r in mis.reasons)
    assert e.critical


def test_an_attributed_accusation_is_reported_not_stated() -> None:
    e = run("sk", "Sokol: Primátor zatajil zmluvu",
            "Poslanec Juraj Sokol tvrdí, že primátor Ondrej Kováčik zatajil zmluvu o predaji pozemku a obviňuje ho "
            "z korupcie. Primátor obvinenia odmieta a zmluvu zverejnil na webe mesta.")
    assert e.critical and not e.misleading


# --- reasons and severity -----------------------------------------------------------------------------------------


TITLE = "Poslanec Sokol obvinil primátora Kováčika z plytvania"
TEXT = ("Poslanec Juraj Sokol obvinil primátora Veľkého Brezna Ondreja Kováčika, že mesto zbytočne plytvá peniazmi "
        "na propagáciu. Podľa Sokola radnica netransparentne zadala zákazku bez súťaže.")


def test_every_reason_quotes_its_sentence_with_offsets() -> None:
    e = run("sk", TITLE, TEXT)
    crit = flag(e, "critical")
    assert crit.reasons
    for r in crit.reasons:
        src = TITLE if r.field == "title" else TEXT
        assert src[r.start:r.end] == r.quote
        assert r.cue and r.cue.lower() in r.quote.lower()
    assert 0.0 < crit.severity <= 1.0


def test_severity_weighs_the_outlet_tier_and_the_title() -> None:
    major = flag(run("sk", TITLE, TEXT, outlet="national"), "critical").severity
    small = flag(run("sk", TITLE, TEXT, outlet="local"), "critical").severity
    assert major > small
    body_only = flag(run("sk", "Zastupiteľstvo rokovalo o rozpočte", TEXT, outlet="national"), "critical").severity
    assert major > body_only
