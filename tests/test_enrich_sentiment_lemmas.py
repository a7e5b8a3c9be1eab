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


# --- approvals of concrete works and purchases, the town held up as an example, allegations and overpayment ---

PROFILES["mk"] = """
municipality: {id: gorno-pole, name: Горно Поле, country: MK, languages: [mk], timezone: Europe/Skopje}
officials:
  - {id: mayor, name: Зоран Трајковски, role: mayor, title: градоначалник}
"""


def enriched(lang: str, title: str, text: str) -> tuple[Sentiment, bool]:
    e = enricher(lang).enrich(Article(id="t", url="u", outlet="local", title=title, text=text, lang=lang))
    return e.sentiment, e.critical


# (d) replacing, extending, buying or building something is a project; a budget, a sale or the minutes are documents
@pytest.mark.parametrize("lang, project, document", [
    ("sk",
     ("Poslanci Nižnej Lehoty odsúhlasili prístavbu materskej školy",
      "Mestské zastupiteľstvo Nižná Lehota vo štvrtok odsúhlasilo prístavbu materskej školy na Hlavnej ulici."),
     ("Poslanci Nižnej Lehoty odsúhlasili zmenu rozpočtu",
      "Mestské zastupiteľstvo Nižná Lehota vo štvrtok odsúhlasilo zmenu rozpočtu a predaj pozemku na Hlavnej ulici.")),
    ("sk",
     ("Nižná Lehota vymení verejné osvetlenie",
      "Výmenu verejného osvetlenia na sídlisku poslanci schválili bez pripomienok, oznámilo mesto Nižná Lehota."),
     ("Nižná Lehota má nový poplatok za odpad",
      "Nariadenie o poplatku za odpad na sídlisku poslanci schválili bez pripomienok, oznámilo mesto Nižná Lehota.")),
    ("tr",
     ("Yeşilköy'e yeni terfi merkezi",
      "Yeşilköy Belediye Meclisi, Çamlık Mahallesi'ne terfi merkezi yapılmasını oy birliğiyle kabul etti."),
     ("Yeşilköy meclisi ek bütçeyi kabul etti",
      "Yeşilköy Belediye Meclisi, ek bütçe ile meclis tutanaklarını oy birliğiyle kabul etti.")),
    ("tr",
     ("Yeşilköy Belediyesi itfaiye aracı alıyor",
      "Yeşilköy Belediye Meclisi, itfaiye için iki araç ve kurtarma ekipmanı alımını onayladı."),
     ("Yeşilköy meclisi arsa satışını onayladı",
      "Yeşilköy Belediye Meclisi, sanayi bölgesindeki arsanın satışını ve ücret tarifesini onayladı.")),
    ("en",
     ("Ashcombe councillors vote for library extension",
      "Ashcombe Town Council voted to build an extension to the library on Bridge Street."),
     ("Ashcombe councillors vote on parking charges",
      "Ashcombe Town Council voted to raise parking charges and approved the sale of land on Bridge Street.")),
    ("en",
     ("Ashcombe roof repair goes ahead",
      "The repair of the leisure centre roof was approved by Ashcombe Town Council on Monday."),
     ("Ashcombe minutes signed",
      "The minutes of the last meeting were approved by Ashcombe Town Council on Monday.")),
    ("mk",
     ("Советот на Горно Поле одобри замена на уличното осветлување",
      "Советот на општина Горно Поле на седницата одобри замена на уличното осветлување во центарот."),
     ("Советот на Горно Поле го одобри завршната сметка",
      "Советот на општина Горно Поле на седницата ги одобри завршната сметка и записникот од минатата седница.")),
    ("mk",
     ("Горно Поле добива градинка",
      "Советот на општина Горно Поле донесе одлука за изградба на градинка во населбата Исток."),
     ("Советот на Горно Поле донесе одлука за продажба",
      "Советот на општина Горно Поле донесе одлука за продажба на градежно земјиште во населбата Исток.")),
])
def test_an_approved_project_reads_positive_an_approved_document_neutral(
        lang: str, project: tuple[str, str], document: tuple[str, str]) -> None:
    assert sentiment(lang, *project).label == "positive"
    assert sentiment(lang, *document).label == "neutral"


@pytest.mark.parametrize("lang, title, text", [
    ("en", "Ashcombe council rejects library extension",
     "Ashcombe Town Council has not approved the extension of the library on Bridge Street."),
    ("sk", "Poslanci Nižnej Lehoty neodsúhlasili prístavbu školy",
     "Mestské zastupiteľstvo Nižná Lehota neodsúhlasilo prístavbu materskej školy na Hlavnej ulici."),
    ("tr", "Yeşilköy meclisi otobüs alımını onaylamadı",
     "Yeşilköy Belediye Meclisi, toplu taşıma için otobüs alımını onaylamadı."),
])
def test_a_refused_project_is_not_an_achievement(lang: str, title: str, text: str) -> None:
    assert sentiment(lang, title, text).label != "positive"


# (e) the town set apart from other towns is praise, even in an article that blames the national government;
# a national story that merely names the town stays neutral
@pytest.mark.parametrize("lang, example, mention", [
    ("sk",
     ("Kým viaceré mestá rušia spoje, Nižná Lehota ich zachovala",
      "Kým viaceré mestá po krátení podielových daní vládou rušia autobusové spoje, Nižná Lehota ich zachovala "
      "v plnom rozsahu. Ministerstvo financií kritiku samospráv odmieta a hovorí o nutnej konsolidácii."),
     ("Vláda kráti podielové dane",
      "Vláda opäť kráti podielové dane samosprávam, starostovia ju kritizujú. Aj Nižná Lehota dostane menej "
      "peňazí. Ministerstvo financií kritiku samospráv odmieta a hovorí o nutnej konsolidácii.")),
    ("tr",
     ("Yeşilköy kreşleri kapatmadı",
      "Hükümetin kesintileri nedeniyle pek çok belediye kreşlerini kapatırken Yeşilköy Belediyesi tüm kreşleri "
      "hizmette tuttu. Bakanlık ise eleştirileri kabul etmedi."),
     ("Hükümet belediye paylarını kesti",
      "Hükümet belediyelere aktarılan payları yine kesti, belediye başkanları kararı eleştirdi. Yeşilköy de daha "
      "az pay alacak. Bakanlık ise eleştirileri kabul etmedi.")),
    ("en",
     ("Ashcombe keeps its buses running",
      "Ashcombe is one of the few towns in the county where every bus route survived the government's cuts. "
      "Ministers have been criticised by councils across the region."),
     ("Government cuts bus grants",
      "The government has cut bus grants to councils for a third year, and councils across the region "
      "criticised ministers. Ashcombe will receive less money.")),
    ("mk",
     ("Горно Поле го задржа превозот за учениците",
      "За разлика од другите општини, Горно Поле го задржа превозот за учениците и покрај кратењата на Владата. "
      "Министерството ги отфрли критиките од општините."),
     ("Владата ги крати трансферите",
      "Владата повторно ги намали трансферите до општините, градоначалниците ја критикуваат. Горно Поле ќе "
      "добие помалку пари. Министерството ги отфрли критиките од општините.")),
])
def test_the_town_set_apart_from_others_is_praise(
        lang: str, example: tuple[str, str], mention: tuple[str, str]) -> None:
    assert sentiment(lang, *example).label == "positive"
    assert sentiment(lang, *mention).label == "neutral"


@pytest.mark.parametrize("lang, title, text", [
    ("sk", "Nižná Lehota je príkladom zodpovedného hospodárenia",
     "Opozícia v parlamente dala Nižnú Lehotu za príklad zodpovedného hospodárenia. Vláda podľa nej zlyhala."),
    ("tr", "Yeşilköy örnek alınmalı",
     "Muhalefet, hükümetin başarısız politikalarına rağmen Yeşilköy Belediyesi'nin örnek alınmalı olduğunu söyledi."),
    ("en", "Ashcombe held up as a model",
     "An opposition MP set Ashcombe as an example of responsible management and blasted the government."),
    ("mk", "Горно Поле за пример",
     "Опозицијата ја посочи општина Горно Поле за пример за одговорно управување, а Владата ја обвини за кризата."),
])
def test_the_town_held_up_as_an_example_is_praise(lang: str, title: str, text: str) -> None:
    assert sentiment(lang, title, text).label == "positive"


def test_a_contrast_that_criticises_the_town_is_not_praise() -> None:
    s = sentiment("en", "Ashcombe lags behind",
                  "Unlike its neighbours, Ashcombe Town Council failed to repair the bridge, critics say.")
    assert s.label != "positive"


# (f) an allegation that the municipality overpaid, or an auditor's overpayment finding, is criticism
@pytest.mark.parametrize("lang, title, text", [
    ("sk", "Kontrolór: Nižná Lehota preplatila opravu ciest",
     "Hlavný kontrolór mesta Nižná Lehota zistil, že mesto preplatilo firmu za opravu ciest. V zmluvách podľa "
     "jeho správy našiel aj nezrovnalosti."),
    ("tr", "Meclis üyesi: Yeşilköy Belediyesi fazla ödedi",
     "Meclis üyesi Ayşe Kara, Yeşilköy Belediyesi'nin park ihalesinde firmaya fazladan ödeme yaptığını iddia etti. "
     "Kara, belediyenin faturaları incelemediğini de öne sürdü."),
    ("en", "Councillor: Ashcombe overpaid contractor",
     "A councillor alleged that Ashcombe Town Council overpaid the contractor for the car park. Auditors "
     "also found irregularities in two contracts."),
    ("mk", "Ревизија: Горно Поле прекумерно платило",
     "Ревизорите утврдија прекумерно платени услуги во општина Горно Поле. Во извештајот се наведени и "
     "неправилности при набавките."),
])
def test_allegations_and_overpayment_are_critical(lang: str, title: str, text: str) -> None:
    label, critical = enriched(lang, title, text)
    assert critical
    assert label.label == "negative"


@pytest.mark.parametrize("lang, title, text", [
    ("sk", "Nižná Lehota zaplatila za opravu ciest",
     "Mesto Nižná Lehota zaplatilo firme za opravu ciest dohodnutú sumu. Práce skončili v termíne."),
    ("tr", "Yeşilköy Belediyesi park ihalesini tamamladı",
     "Yeşilköy Belediyesi park ihalesinde firmaya sözleşmedeki bedeli ödedi. İşler zamanında bitti."),
    ("en", "Ashcombe pays for car park",
     "Ashcombe Town Council paid the contractor the agreed sum for the car park. The work finished on time."),
    ("mk", "Горно Поле ги плати услугите",
     "Општина Горно Поле ги плати услугите според договорот. Работите завршија навреме."),
])
def test_a_payment_as_agreed_is_not_critical(lang: str, title: str, text: str) -> None:
    assert not enriched(lang, title, text)[1]


@pytest.mark.parametrize("lang, title, text", [
    ("sk", "Nižná Lehota zaostáva za susedmi",
     "Na rozdiel od okolitých obcí Nižná Lehota stále nemá kanalizáciu."),
    ("mk", "Горно Поле заостанува",
     "За разлика од другите општини, Горно Поле сè уште нема канализација."),
])
def test_a_town_still_lagging_behind_others_is_not_an_example(lang: str, title: str, text: str) -> None:
    assert sentiment(lang, title, text).label != "positive"


# an approval of a contract or tender for works is the award of a document, not yet the works
@pytest.mark.parametrize("lang, title, text", [
    ("sk", "Zastupiteľstvo Nižnej Lehoty schválilo zmluvu",
     "Poslanci mesta Nižná Lehota schválili zmluvu o výstavbe chodníka so zhotoviteľom."),
    ("en", "Ashcombe extends waste deal",
     "Ashcombe Town Council agreed to the extension of the waste contract for two years."),
    ("tr", "Yeşilköy meclisi ihale kararı aldı",
     "Yeşilköy Belediye Meclisi, kanalizasyon yapımı ihalesinin yapılmasını kabul etti."),
])
def test_an_approved_contract_for_works_stays_neutral(lang: str, title: str, text: str) -> None:
    assert sentiment(lang, title, text).label == "neutral"
