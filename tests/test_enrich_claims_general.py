"""Claims against the record, the general rules behind four defects of the blind evaluation:

1. a number written with a space (or NBSP, narrow NBSP) between thousands groups is one number, in the fact's
   currency ("1 040 korun" against 840 Kč), but a year and the next number are two ("v roku 2026 140 ľudí");
2. a month-and-year date ("v septembri 2027", "2028 m. kovo mėn.") contradicts a date fact of another month;
3. Lithuanian -tis/-dis surnames soften their stem before i + vowel (Gudaitis → Gudaičio, Skardis → Skardžio);
4. a date is compared with a fact only when the fact's topic is in the date's own sentence, a compound word
   (Turkish "Pazartesi", Monday) is not a case form of a topic word ("pazarı", market), and a time of day
   ("saat 14.00'te", "at 14:30") is neither a figure nor a date.

Profiles and articles are written for this test (fictional towns, people and figures).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import pytest

from presswatch.enrich import quantities
from presswatch.enrich.document import analyze
from presswatch.enrich.enricher import Enricher
from presswatch.enrich.facts import _similar
from presswatch.enrich.inflect import word_forms
from presswatch.enrich.text import fold
from presswatch.profile import parse_profile
from presswatch.records import Article, Enrichment

SK = """
municipality: {id: borovce, name: Borovce, country: SK, languages: [sk], timezone: Europe/Bratislava}
officials:
  - {id: mayor, name: Igor Lacko, role: mayor, title: starosta}
facts:
  - {id: fee, statement: "Nájom predajného stánku na trhovisku je 840 eur ročne.", value: 840, unit: EUR}
  - {id: opening, statement: "Nová tržnica v obci Borovce sa otvorí 1. mája 2027.", value: '2027-05-01'}
"""
CS = """
municipality: {id: dolni-lhotka, name: Dolní Lhotka, country: CZ, languages: [cs], timezone: Europe/Prague}
officials:
  - {id: mayor, name: Radek Novotný, role: mayor, title: starosta}
facts:
  - {id: fee, statement: "Poplatek za svoz odpadu v Dolní Lhotce činí 840 Kč na osobu.", value: 840, unit: Kč}
  - {id: opening, statement: "Nové koupaliště v Dolní Lhotce bude otevřeno 1. května 2027.", value: '2027-05-01'}
"""
LT = """
municipality: {id: rudupis, name: Rudupio rajono savivaldybė, country: LT, languages: [lt], timezone: Europe/Vilnius,
               aliases: [Rudupis]}
officials:
  - {id: mayor, name: Arūnas Gudaitis, role: mayor, title: meras}
  - {id: deputy, name: Tomas Skardis, role: deputy_mayor, title: vicemeras}
facts:
  - {id: fee, statement: "Turgaus prekybos vietos nuoma – 840 eurų per metus.", value: 840, unit: EUR}
  - {id: opening, statement: "Naujas baseinas bus atidarytas 2027 m. gegužės 1 d.", value: '2027-05-01'}
"""
TR = """
municipality: {id: kocadere, name: Kocadere, country: TR, languages: [tr], timezone: Europe/Istanbul}
officials:
  - {id: mayor, name: Hakan Yücel, role: mayor, title: belediye başkanı}
facts:
  - {id: fee, statement: "Kapalı pazar yerinde tezgah kirası yıllık 840 lira.", value: 840, unit: TL}
  - {id: opening, statement: "Kapalı semt pazarı 1 Mayıs 2027'de hizmete açılacak.", value: '2027-05-01'}
"""
MK = """
municipality: {id: bela-reka, name: Бела Река, country: MK, languages: [mk], timezone: Europe/Skopje,
               aliases: [Општина Бела Река]}
officials:
  - {id: mayor, name: Горан Стојановски, role: mayor, title: градоначалник}
facts:
  - {id: fee, statement: "Закупот на тезга на зелениот пазар изнесува 840 денари месечно.", value: 840, unit: денари}
  - {id: opening, statement: "Новиот базен ќе биде отворен на 1 мај 2027 година.", value: '2027-05-01'}
"""
EN = """
municipality: {id: elmsworth, name: Elmsworth, country: GB, languages: [en], timezone: Europe/London}
officials:
  - {id: mayor, name: Priya Halloran, role: mayor, title: mayor}
facts:
  - {id: fee, statement: "The annual market stall licence costs £840.", value: 840, unit: GBP}
  - {id: opening, statement: "The Elmsworth leisure centre will reopen on 1 May 2027.", value: '2027-05-01'}
"""
PROFILES = {"sk": SK, "cs": CS, "lt": LT, "tr": TR, "mk": MK, "en": EN}
PUBLISHED = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)


@cache
def enricher(lang: str) -> Enricher:
    return Enricher.from_profile(parse_profile(PROFILES[lang], f"<{lang}>"))


def run(lang: str, text: str, title: str = "Správy / News") -> Enrichment:
    art = Article(id="t", url="u", outlet="", title=title, text=text, published=PUBLISHED, lang=lang)
    return enricher(lang).enrich(art)


def misleading_facts(e: Enrichment) -> list[tuple[str | None, str]]:
    return [(r.fact_id, r.cue) for f in e.flags if f.type == "misleading" for r in f.reasons]


# --- 1. thousands separated by spaces -------------------------------------------------------------------------

SPACES = [" ", "\u00a0", "\u202f"]
FEE_CLAIMS = [  # (lang, text with {n} for the figure, the figure's cue after the number)
    ("sk", "Nájom predajného stánku na trhovisku v Borovciach stojí {n} eur ročne.", "eur"),
    ("sk", "Nájom predajného stánku na trhovisku v Borovciach vraj stojí {n} eur ročne, nie 840.", "eur"),
    ("cs", "Za svoz odpadu v Dolní Lhotce platíme {n} korun na osobu, stěžují si lidé.", "korun"),
    ("cs", "Poplatek za svoz odpadu v Dolní Lhotce stoupl na {n} Kč na osobu.", "Kč"),
    ("lt", "Rudupio turgaus prekybos vietos nuoma kainuoja {n} eurų per metus.", "eurų"),
    ("tr", "Kocadere'de kapalı pazar yerinde tezgah kirası yıllık {n} TL oldu.", "TL"),
    ("tr", "Kocadere'de kapalı pazar yerinde tezgah kirası yıllık {n} lira oldu.", "lira"),
    ("mk", "Закупот на тезга на зелениот пазар во Бела Река изнесува {n} денари месечно.", "денари"),
    ("mk", "Закупот на тезга на зелениот пазар во Бела Река изнесува {n} ден. месечно.", "ден"),
    ("en", "Elmsworth's annual market stall licence now costs {n} pounds, traders say.", "pounds"),
]


@pytest.mark.parametrize("sep", SPACES, ids=["space", "nbsp", "narrow-nbsp"])
@pytest.mark.parametrize("lang,text,unit", FEE_CLAIMS)
def test_a_figure_with_spaced_thousands_is_one_number_in_the_facts_currency(lang: str, text: str, unit: str,
                                                                             sep: str) -> None:
    n = f"1{sep}240"
    found = misleading_facts(run(lang, text.format(n=n)))
    assert ("fee", f"{n} {unit}") in found, found


@pytest.mark.parametrize("lang,text", [
    ("sk", "Nájom predajného stánku na trhovisku v Borovciach stojí 840 eur ročne."),
    ("cs", "Za svoz odpadu v Dolní Lhotce platíme 840 korun na osobu."),
    ("lt", "Rudupio turgaus prekybos vietos nuoma kainuoja 840 eurų per metus."),
    ("tr", "Kocadere'de kapalı pazar yerinde tezgah kirası yıllık 840 TL."),
    ("mk", "Закупот на тезга на зелениот пазар во Бела Река изнесува 840 ден. месечно."),
    ("en", "Elmsworth's annual market stall licence costs £840, the council confirmed."),
])
def test_the_same_fee_in_any_currency_word_agrees(lang: str, text: str) -> None:
    assert not misleading_facts(run(lang, text))


def test_a_pound_sign_before_spaced_thousands_is_one_figure() -> None:
    found = misleading_facts(run("en", "Elmsworth's annual market stall licence now costs £1\u202f240, traders say."))
    assert ("fee", "£1\u202f240") in found, found


@pytest.mark.parametrize("lang,text,expected", [
    ("sk", "V roku 2026 140 ľudí podpísalo petíciu.", [(2026, None), (140, "persons")]),
    ("cs", "V roce 2027 1 500 lidí přišlo na trh.", [(2027, None), (1500, "persons")]),
    ("lt", "2025 350 gyventojų pasirašė peticiją.", [(2025, None), (350, "persons")]),
    ("tr", "2026 yılında 2027 120 kişi katıldı.", [(2026, None), (2027, None), (120, "persons")]),
    ("mk", "Во 2026 1 200 жители потпишаа.", [(2026, None), (1200, "persons")]),
    ("en", "In 2026 2 400 residents signed it.", [(2026, None), (2400, "persons")]),
    ("cs", "Obec vybrala 2 500 000 Kč a 12 345,50 Kč navíc.", [(2_500_000, "CZK"), (12_345.5, "CZK")]),
    ("sk", "Spolu 1\u00a0040 korún a 27\u202f480 obyvateľov.", [(1040, "CZK"), (27_480, "persons")]),
])
def test_a_year_and_the_next_number_are_two_numbers(lang: str, text: str,
                                                    expected: list[tuple[float, str | None]]) -> None:
    ft = analyze(text, "text", lang)
    assert [(q.value, q.unit) for q in quantities.quantities(ft, lang)] == expected


def test_a_dotted_currency_abbreviation_is_read_in_the_articles_language() -> None:
    # Czech "den" is a day; Macedonian "ден." is the denar
    mk = analyze("Цената е 1 500 ден. по месец.", "text", "mk")
    assert [(q.value, q.unit) for q in quantities.quantities(mk, "mk")] == [(1500, "MKD")]
    days = analyze("Работите траат 5 дена.", "text", "mk")
    assert [(q.value, q.unit) for q in quantities.quantities(days, "mk")] == [(5, "days")]
    cs = analyze("Trvalo to 5 den a stálo 300 Kč.", "text", "cs")
    assert [(q.value, q.unit) for q in quantities.quantities(cs, "cs")] == [(5, "days"), (300, "CZK")]


# --- 2. month-and-year dates -------------------------------------------------------------------------------------

MONTH_YEAR = [  # (lang, a claim of another month, the same month, another year only)
    ("sk", "Nová tržnica v Borovciach sa otvorí až v septembri 2027, priznal starosta.",
     "Nová tržnica v Borovciach sa otvorí v máji 2027, potvrdil starosta.",
     "Nová tržnica v Borovciach sa podľa poslancov otvorí až v roku 2028."),
    ("cs", "Nové koupaliště v Dolní Lhotce bude otevřeno až v březnu 2028, řekl starosta.",
     "Nové koupaliště v Dolní Lhotce bude otevřeno v květnu 2027, řekl starosta.",
     "Nové koupaliště v Dolní Lhotce bude otevřeno až v roce 2028."),
    ("lt", "Naujas Rudupio baseinas bus atidarytas tik 2028 m. kovo mėn., teigia savivaldybė.",
     "Naujas Rudupio baseinas bus atidarytas 2027 m. gegužės mėn., teigia savivaldybė.",
     "Naujas Rudupio baseinas bus atidarytas tik 2028 metais."),
    ("lt", "Naujas Rudupio baseinas bus atidarytas tik 2027 m. rugsėjį, teigia savivaldybė.",
     "Naujas Rudupio baseinas bus atidarytas 2027 m. gegužę, teigia savivaldybė.",
     "Naujas Rudupio baseinas, pasak tarybos, bus atidarytas 2029 metais."),
    ("tr", "Kocadere'deki kapalı semt pazarı ancak Eylül 2027'de hizmete açılacak.",
     "Kocadere'deki kapalı semt pazarı Mayıs 2027'de hizmete açılacak.",
     "Kocadere'deki kapalı semt pazarı ancak 2028 yılında hizmete açılacak."),
    ("mk", "Новиот базен во Бела Река ќе биде отворен дури во март 2028 година.",
     "Новиот базен во Бела Река ќе биде отворен во мај 2027 година.",
     "Новиот базен во Бела Река ќе биде отворен дури во 2028 година."),
    ("en", "The Elmsworth leisure centre will not reopen until September 2027, the council said.",
     "The Elmsworth leisure centre will reopen in May 2027, the council said.",
     "The Elmsworth leisure centre will not reopen until 2028, the council said."),
]


@pytest.mark.parametrize("lang,other,same,year", MONTH_YEAR)
def test_a_month_and_year_of_another_month_contradicts_a_date_fact(lang: str, other: str, same: str,
                                                                    year: str) -> None:
    assert [f for f, _ in misleading_facts(run(lang, other))] == ["opening"]
    assert not misleading_facts(run(lang, same))
    assert not misleading_facts(run(lang, year))  # a bare year is not a date


@pytest.mark.parametrize("lang,text,month,year", [
    ("sk", "Otvoria ju v marci 2028.", 3, 2028),
    ("sk", "Termín je október 2027.", 10, 2027),
    ("cs", "Hotovo bude v září 2027 nebo v prosinci 2027.", 9, 2027),
    ("lt", "Darbai baigsis 2028 m. lapkričio mėn.", 11, 2028),
    ("lt", "Darbai baigsis 2028 m. balandį.", 4, 2028),
    ("tr", "Çalışmalar Haziran 2028'de bitecek.", 6, 2028),
    ("tr", "Çalışmalar 2028 Temmuz ayında bitecek.", 7, 2028),
    ("mk", "Работите ќе завршат во ноември 2027 година.", 11, 2027),
    ("en", "Works will finish by Oct 2028.", 10, 2028),
])
def test_month_and_year_dates_are_read_in_every_language(lang: str, text: str, month: int, year: int) -> None:
    ds = quantities.dates(analyze(text, "text", lang), lang)
    assert ds and (ds[0].year, ds[0].month, ds[0].day) == (year, month, None), ds


@pytest.mark.parametrize("lang,text", [
    ("sk", "Otvoria ju v marci, povedal starosta."),
    ("en", "The mayor said in March that it may open."),
    ("tr", "Çalışmalar Haziran ayında bitecek."),
])
def test_a_month_alone_is_not_a_date(lang: str, text: str) -> None:
    assert quantities.dates(analyze(text, "text", lang), lang) == []


def test_a_sentence_that_states_the_records_date_does_not_contradict_it_with_another() -> None:
    text = ("Nová tržnica v Borovciach, ktorej stavba začala v marci 2026, sa otvorí 1. mája 2027, "
            "potvrdil starosta.")
    assert not misleading_facts(run("sk", text))


# --- 3. Lithuanian surnames in -tis / -dis ------------------------------------------------------------------------

@pytest.mark.parametrize("surname,forms", [
    ("kestutis", ["kestucio", "kestuciui", "kestuti", "kestuciu"]),  # a given name of the same stem
    ("gudaitis", ["gudaicio", "gudaiciui", "gudaiti", "gudaiciu", "gudaityje", "gudaiciai", "gudaiciams"]),
    ("skardis", ["skardzio", "skardziui", "skardi", "skardziu", "skardyje"]),
    ("butkus", ["butkaus", "butkui", "butku"]),  # no softening outside -tis/-dis
])
def test_lithuanian_surnames_soften_t_and_d_before_i_and_a_vowel(surname: str, forms: list[str]) -> None:
    assert set(forms) <= word_forms(surname, ["lt"])


def test_softening_does_not_touch_other_stems() -> None:
    assert "gedvilcio" not in word_forms("gedvilis", ["lt"])
    assert "gedvilio" in word_forms("gedvilis", ["lt"])


@pytest.mark.parametrize("text,official", [
    ("Rudupio rajono mero Arūno Gudaičio teigimu, biudžetas bus patvirtintas.", "mayor"),
    ("Laišką gavo Rudupio meras Arūnas Gudaitis.", "mayor"),
    ("Gyventojai kreipėsi į Rudupio merą Arūną Gudaitį.", "mayor"),
    ("Rudupio merui Arūnui Gudaičiui įteiktas prašymas.", "mayor"),
    ("Susitikime su Rudupio meru Arūnu Gudaičiu kalbėta apie kelius.", "mayor"),
    ("Rudupio vicemero Tomo Skardžio nuomone, mokesčiai nedidės.", "deputy"),
    ("Rudupio vicemerui Tomui Skardžiui pateikti klausimai.", "deputy"),
])
def test_lithuanian_officials_are_found_in_softened_cases(text: str, official: str) -> None:
    e = run("lt", text, title="Rudupio savivaldybės naujienos")
    assert official in e.officials, e.officials


# --- 4. the date's own sentence, compounds, times of day -----------------------------------------------------

CROSS_SENTENCE = [
    ("sk", "Obecné zastupiteľstvo v Borovciach zasadne v pondelok 9. novembra o 17.00 h. Poslanci prerokujú aj "
           "prevádzku novej tržnice."),
    ("cs", "Zastupitelstvo v Dolní Lhotce zasedne ve středu 11. listopadu v 18:00. Zastupitelé projednají také "
           "provoz nového koupaliště."),
    ("lt", "Rudupio rajono savivaldybės taryba posėdžiaus lapkričio 12 d. 10 val. Posėdyje bus aptartas ir naujo "
           "baseino darbo laikas."),
    ("tr", "Kocadere Belediye Meclisi 9 Kasım Pazartesi günü saat 14.00'te toplanacak. Toplantıda ayrıca kapalı "
           "semt pazarının işletme modeli görüşülecek."),
    ("tr", "Kocadere Belediye Meclisi 14 Kasım Cumartesi günü saat 10.30'da toplanacak. Toplantıda kapalı semt "
           "pazarı da konuşulacak."),
    ("mk", "Советот на Општина Бела Река ќе заседава на 10 ноември во 12.00 часот. Советниците ќе расправаат и "
           "за работата на новиот базен."),
    ("en", "Elmsworth council will meet on Monday 9 November at 14.00. Councillors will also discuss the leisure "
           "centre's operating model."),
]


@pytest.mark.parametrize("lang,text", CROSS_SENTENCE)
def test_a_date_is_not_compared_with_a_fact_named_only_in_another_sentence(lang: str, text: str) -> None:
    assert not misleading_facts(run(lang, text))


@pytest.mark.parametrize("lang,text", [
    ("sk", "Nová tržnica v Borovciach sa otvorí až 9. novembra 2027, povedal starosta."),
    ("tr", "Kocadere'deki kapalı semt pazarı ancak 9 Kasım 2027 Pazartesi günü hizmete açılacak."),
    ("en", "The Elmsworth leisure centre will reopen on Monday 9 November 2027, the council said."),
])
def test_a_date_in_the_facts_own_sentence_is_still_compared(lang: str, text: str) -> None:
    assert [f for f, _ in misleading_facts(run(lang, text))] == ["opening"]


def test_a_compound_is_not_a_case_form_of_its_first_part() -> None:
    assert not _similar(fold("pazartesi"), fold("pazarı"))  # Monday is not the market
    assert _similar(fold("pazarındaki"), fold("pazarı"))  # a case form of the market
    assert _similar(fold("rozpočtom"), fold("rozpočet"))
    assert _similar(fold("savivaldybės"), fold("savivaldybė"))


@pytest.mark.parametrize("lang,text", [
    ("sk", "Stretnutie začne o 14.00 h a potrvá do 16.30."),
    ("cs", "Jednání začne ve 14:00 a skončí v 15.30 hod."),
    ("lt", "Posėdis prasidės 14.00 val., o baigsis 16.30 val."),
    ("tr", "Toplantı saat 14.00'te başlayacak ve 16.30'da bitecek."),
    ("mk", "Седницата почнува во 14.00 часот и завршува во 16.30 часот."),
    ("en", "The meeting starts at 14:00 and ends at 4.30pm."),
])
def test_a_time_of_day_is_neither_a_figure_nor_a_date(lang: str, text: str) -> None:
    ft = analyze(text, "text", lang)
    assert quantities.quantities(ft, lang) == []
    assert quantities.dates(ft, lang) == []


def test_a_price_with_decimals_is_not_a_time() -> None:
    en = analyze("A ticket costs £14.50 and a pass 12.30 pounds.", "text", "en")
    assert [(q.value, q.unit) for q in quantities.quantities(en, "en")] == [(14.5, "GBP"), (12.3, "GBP")]
    rate = analyze("Turnout rose from 12.30% to 14.50 %.", "text", "en")
    assert [(q.value, q.unit) for q in quantities.quantities(rate, "en")] == [(12.3, "%"), (14.5, "%")]
    tr = analyze("Bilet 14,50 TL, yüzde 12.30 indirimli.", "text", "tr")
    assert [(q.value, q.unit) for q in quantities.quantities(tr, "tr")] == [(14.5, "TRY"), (12.3, "%")]
