"""Search at scale: indexing rate, query latency and facet latency of the clipping index on 100,000 or 1,000,000
generated clippings, against a bare FTS5 table holding the same texts in the same run.

    .venv/bin/python bench/search.py [--docs 100000] [--db DIR] [--keep] [--reuse] [--runs 50] [--only TEXT] [--es]

Clippings are generated for this bench (seeded, so every run indexes the same store): twelve municipalities in our
six languages (sk, cs, lt, tr, mk in Cyrillic, en), two per language, each with ten officials whose names and
titles appear in inflected forms ("primátora Hrušovského"), four to five outlets per language, 3-8 sentences of
municipal-news words drawn with Zipf frequencies from a hand-written vocabulary per language plus a long tail of
made-up words (about 15 % of the tokens, the names, streets and jargon a real stream never stops producing).
About 30 % of the clippings are relevant (they name the municipality or its officials), 8 % are flagged critical
and 1 % misleading, 15 % are syndicated copies of an earlier story in another outlet (same cluster), and
publication times spread over the two years before 2026-11-22. Generation streams in batches of `--batch`
clippings: it is never all in memory, and its time is reported but not counted in the indexing rate.

Measured:
- indexing: clippings/s through `SqliteIndex.upsert` (the real store, WAL, one transaction per batch) and the
  store's size on disk; baseline: the same titles and texts inserted into a bare FTS5 table
  (`fts5(title, text, tokenize='unicode61 remove_diacritics 2')`) in another file, batch for batch;
- search: p50/p95/max over `--runs` queries per query type, each run with other terms, as an analyst would type
  them (the default `relevant=True`, the first page of 20 hits with snippets). Text queries also run the same
  words as raw FTS5 (`SELECT rowid FROM t WHERE t MATCH ?`, every rowid fetched) on the bare table, so the
  overhead of our index (stems, languages, filters, count, ranking, documents, snippets) is a ratio;
- facets: `aggregate` with the default facets for a municipality and for a common word.
A query type the index does not support yet (NotImplementedError, QueryError, or a field filter the parser reads as
words) is printed as "not available" and the bench goes on.

With `--es` the same store is built and queried through `ElasticIndex` (index/elastic.py) when PRESSWATCH_ES_URL
is set; otherwise the bench says why it skipped it. Record results in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from presswatch.index import query as query_module
from presswatch.index.base import FACETS, ClippingIndex, SearchQuery
from presswatch.index.query import QueryError, parse_query
from presswatch.index.sqlite import SqliteIndex
from presswatch.records import Article, Clipping, Enrichment, Flag, Mention, Reason, Sentiment

END = datetime(2026, 11, 22, tzinfo=UTC)
SPAN = timedelta(days=730)
RECENT_MONTH = "2026-10"

# --- what the clippings are made of ------------------------------------------------------------------------------
# Common words per language, most frequent first (Zipf rank = position), in the inflected forms news text uses.
# Written for this bench from the vocabulary of municipal news (council, budget, roads, schools, waste, transport).
VOCAB: dict[str, str] = {
    "sk": """a v na sa že je to s o z do pre ako sú by podľa aj mesto mesta meste rozpočet rozpočtu rozpočte
        zastupiteľstvo zastupiteľstva poslanci poslancov rokovanie rokovaní ulica ulice ulici cesta cesty ceste
        oprava opravy rekonštrukcia rekonštrukcie projekt projektu obyvatelia obyvateľov škola školy škole
        materská doprava dopravy autobus autobusy parkovanie parkovania odpad odpadu eur milióna tisíc rok roku
        radnica radnice úrad úradu vedenie vedenia zmluva zmluvy zmluvu investícia investície dotácia dotácie
        petícia petíciu kritika kritizujú sťažnosť námestie námestí park parku most mosta sídlisko sídlisku
        voľby hlasovanie uznesenie uznesenia verejné obstarávanie výstavba byty bytov nájomné dane poplatok
        nemocnica polícia hasiči kultúra festival šport štadión zimný štadióna plaváreň chodník chodníky
        kanalizácia voda teplo energia""",
    "cs": """a v na se že je to s o z do pro jako jsou by podle i město města městě rozpočet rozpočtu rozpočtem
        zastupitelstvo zastupitelstva zastupitelé zastupitelů jednání ulice ulici silnice silnici oprava opravy
        rekonstrukce projekt projektu obyvatelé obyvatel škola školy škole mateřská doprava dopravy autobus
        autobusy parkování odpad odpadu korun milionů tisíc rok roku radnice radnici úřad úřadu vedení smlouva
        smlouvy smlouvu investice dotace petice petici kritika kritizují stížnost náměstí parku park most mostu
        sídliště sídlišti volby hlasování usnesení veřejná zakázka zakázky výstavba byty bytů nájemné daň
        poplatek nemocnice policie hasiči kultura festival sport stadion zimní koupaliště chodník chodníky
        kanalizace voda teplo energie""",
    "lt": """ir į kad yra su iš per kaip bet dėl pagal taip savivaldybė savivaldybės savivaldybėje biudžetas
        biudžeto biudžete taryba tarybos tarybos nariai narių posėdis posėdyje gatvė gatvės gatvėje kelias kelio
        remontas remonto rekonstrukcija rekonstrukcijos projektas projekto gyventojai gyventojų mokykla mokyklos
        mokykloje darželis transportas transporto autobusas autobusai automobilių stovėjimo atliekos atliekų
        eurų milijonų tūkstančių metai metų mero rotušė administracija administracijos sutartis sutarties
        investicijos parama peticija kritika kritikuoja skundas aikštė aikštėje parkas parke tiltas tilto
        mikrorajonas rinkimai balsavimas sprendimas sprendimą viešasis pirkimas pirkimo statybos butai nuoma
        mokestis ligoninė policija ugniagesiai kultūra festivalis sportas stadionas baseinas šaligatvis
        kanalizacija vanduo šiluma energija""",
    "tr": """ve bir bu ile için de da olarak daha çok en gibi belediye belediyesi belediyenin bütçe bütçesi
        bütçesini meclis meclisi meclis üyeleri toplantı toplantısında cadde caddesi sokak sokağı yol yolu
        yolların çalışma çalışmaları yenileme proje projesi projenin vatandaşlar vatandaşların okul okulu
        okulda kreş ulaşım ulaşımı otobüs otobüsler otopark otoparkı çöp atık lira milyon bin yıl yılı yılın
        başkan başkanı başkanlık yönetim yönetimi ihale ihalesi sözleşme yatırım yatırımı destek dilekçe
        eleştiri eleştirdi şikâyet meydan meydanı park parkı köprü köprüsü mahalle mahallesi seçim oylama
        karar kararı kamu ihale inşaat konut kira vergi hastane polis itfaiye kültür festival spor stadyum
        havuz kaldırım kanalizasyon su ısınma enerji""",
    "mk": """и во на се дека е тоа со за од до како се според исто општина општината општини буџет буџетот
        буџети совет советот советници советниците седница седницата улица улицата улици пат патот патишта
        поправка реконструкција реконструкцијата проект проектот жители жителите училиште училиштето градинка
        превоз превозот автобус автобуси паркинг паркингот отпад отпадот евра денари милиони илјади година
        годината градоначалник градоначалникот градоначалникот администрација договор договорот инвестиција
        инвестиции поддршка петиција критика критикува поплака плоштад плоштадот парк паркот мост мостот
        населба избори гласање одлука одлуката јавна набавка набавки градба станови кирија данок болница
        полиција пожарникари култура фестивал спорт стадион базен тротоар канализација вода греење енергија""",
    "en": """the of and to a in is that for on said it with as was by at council city town budget budgets
        councillors councillor meeting meetings street streets road roads repairs repair refurbishment project
        projects residents resident school schools nursery transport bus buses parking rubbish waste pounds
        million thousand year years mayor mayor's office administration contract contracts investment grant
        grants petition criticism criticised complaint complaints square park parks bridge estate election vote
        decision decisions procurement tender construction housing homes rent tax charge hospital police
        firefighters culture festival sport stadium pool pavement pavements sewer water heating energy""",
}
# Fixed two-word phrases of municipal news, inserted into some sentences (phrase queries look for them).
PHRASES: dict[str, list[str]] = {
    "sk": ["mestské zastupiteľstvo", "územný plán", "verejné obstarávanie", "mestská polícia", "technické služby"],
    "cs": ["městské zastupitelstvo", "územní plán", "veřejná zakázka", "městská policie", "technické služby"],
    "lt": ["savivaldybės taryba", "bendrasis planas", "viešasis pirkimas", "viešasis transportas", "miesto meras"],
    "tr": ["belediye meclisi", "imar planı", "kamu ihalesi", "zabıta ekipleri", "toplu taşıma"],
    "mk": ["совет на општината", "урбанистички план", "јавна набавка", "јавен превоз", "комунална хигиена"],
    "en": ["planning committee", "local plan", "council tax", "bus lane", "leisure centre"],
}
# Titles of the ten officials of a town, in the forms a sentence needs (nominative, genitive, dative, ...).
ROLES: dict[str, list[tuple[str, ...]]] = {
    "sk": [("primátor", "primátora", "primátorovi", "primátorom"), ("viceprimátor", "viceprimátora"),
           ("prednosta", "prednostu", "prednostovi"), ("hovorca", "hovorcu"), ("poslanec", "poslanca", "poslancovi")],
    "cs": [("starosta", "starosty", "starostovi", "starostou"), ("místostarosta", "místostarosty"),
           ("tajemník", "tajemníka"), ("mluvčí",), ("zastupitel", "zastupitele", "zastupitelem")],
    "lt": [("meras", "mero", "merui", "meru"), ("vicemeras", "vicemero"), ("administracijos direktorius",
           "administracijos direktoriaus"), ("atstovas spaudai",), ("tarybos narys", "tarybos nario")],
    "tr": [("Belediye Başkanı", "Belediye Başkanı'nın", "Belediye Başkanı'na"), ("Başkan Yardımcısı",),
           ("Genel Sekreter",), ("Basın Sözcüsü",), ("Meclis Üyesi", "Meclis Üyesi'nin")],
    "mk": [("градоначалник", "градоначалникот"), ("заменик-градоначалник", "заменик-градоначалникот"),
           ("секретар", "секретарот"), ("портпарол", "портпаролот"), ("советник", "советникот")],
    "en": [("Mayor", "the mayor"), ("Deputy Mayor",), ("chief executive",), ("spokesperson",),
           ("Councillor", "councillor")],
}
ROLE_IDS = ("mayor", "deputy", "executive", "spokesperson", "councillor")  # ten officials: 1+1+1+1+6 councillors
SURNAMES: dict[str, list[str]] = {  # base forms; inflected by `name_forms`
    "sk": ["Hrušovský", "Kováčiková", "Mráz", "Tóthová", "Baranovský", "Šimková", "Kollár", "Vargová",
           "Lipták", "Poláková", "Kuchár", "Hudecová", "Balážová", "Straka", "Dvorský", "Horváthová", "Mikuš",
           "Benková", "Šťastný", "Krajčírová"],
    "cs": ["Dvořák", "Novotná", "Procházka", "Kučerová", "Veselý", "Horáková", "Němec", "Pokorná", "Marek",
           "Růžičková", "Jelínek", "Fialová", "Beneš", "Sedláčková", "Zeman", "Kolářová", "Čermák", "Bartošová",
           "Vaněk", "Holubová"],
    "lt": ["Kazlauskas", "Petrauskienė", "Jankauskas", "Stankevičienė", "Vasiliauskas", "Žukauskienė",
           "Butkus", "Paulauskienė", "Urbonas", "Kavaliauskienė", "Navickas", "Ramanauskienė", "Savickas",
           "Baranauskienė", "Rimkus", "Vaitkienė", "Lukoševičius", "Mockienė", "Balčiūnas", "Šimkienė"],
    "tr": ["Aydemir", "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
           "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan"],
    "mk": ["Шилегов", "Пешевски", "Трајковска", "Николовски", "Стојановска", "Петровски", "Јованова",
           "Димитриевски", "Ристовска", "Георгиев", "Илиевска", "Атанасов", "Стефановска", "Јорданов",
           "Наумовска", "Костов", "Митревска", "Ангелов", "Велковска", "Тодоров"],
    "en": ["Ashworth", "Patel", "Whitaker", "Okonkwo", "Hughes", "Brennan", "Lindqvist", "Thornton", "Begum",
           "Fairclough", "Nwosu", "Pemberton", "Kowalski", "Harrington", "Osei", "Castleton", "Murray", "Iqbal",
           "Sheridan", "Blackwood"],
}


@dataclass(frozen=True, slots=True)
class Town:
    id: str
    lang: str
    forms: tuple[str, ...]  # the town's name as sentences inflect it
    weight: float  # share of the stream


TOWNS = [
    Town("zvolen", "sk", ("Zvolen", "Zvolena", "Zvolene"), 1.2), Town("nitra", "sk", ("Nitra", "Nitry", "Nitre"), 1.4),
    Town("jihlava", "cs", ("Jihlava", "Jihlavy", "Jihlavě"), 1.1), Town("kolin", "cs", ("Kolín", "Kolína"), 0.8),
    Town("panevezys", "lt", ("Panevėžys", "Panevėžio", "Panevėžyje"), 1.0),
    Town("alytus", "lt", ("Alytus", "Alytaus", "Alytuje"), 0.7),
    Town("nilufer", "tr", ("Nilüfer", "Nilüfer'de", "Nilüfer'in"), 1.3),
    Town("tepebasi", "tr", ("Tepebaşı", "Tepebaşı'nda"), 0.9),
    Town("bitola", "mk", ("Битола", "Битолa"), 1.0), Town("kumanovo", "mk", ("Куманово",), 0.8),
    Town("stockport", "en", ("Stockport", "Stockport's"), 1.0), Town("swindon", "en", ("Swindon", "Swindon's"), 0.8),
]
OUTLETS: dict[str, list[str]] = {
    "sk": ["sme", "dennikn", "pravda", "aktuality", "mynitra"], "cs": ["idnes", "denik", "novinky", "irozhlas"],
    "lt": ["lrt", "delfi", "15min", "sekunde"], "tr": ["hurriyet", "sozcu", "bursahakimiyet", "anadolu"],
    "mk": ["sdk", "telma", "pelister", "kumanovonews"], "en": ["men", "swindonadvertiser", "bbc", "guardian"],
}
# Syllables of the made-up long tail (names, streets, jargon) per language.
SYLLABLES: dict[str, list[str]] = {
    "sk": "ka lo mer zu ni ves tra bo ly dan či ro pel šu ge vin ľa tô ný ko".split(),
    "cs": "ka lo mer zu ni ves tra bo ly dan či ro pel šu ře vin ů tě ný ko".split(),
    "lt": "ka lo mer zu ni vės tra bo ly dan či ro pel šu gė vin ąs tė ny ko".split(),
    "tr": "ka lo mer zu ni ves tra bo ly dan çı ro pel şu ge vin ğa tö nü ko".split(),
    "mk": "ка ло мер зу ни вес тра бо ли дан чи ро пел шу ге вин ќа тo ње ко".split(),
    "en": "ka lo mer zu ni ves tra bo ly dan chi ro pel shu ge vin ley ton ny co".split(),
}
LANGS = ("sk", "cs", "lt", "tr", "mk", "en")
TAIL_WORDS = 30_000  # made-up words per language
TAIL_SHARE = 0.15


def name_forms(surname: str, lang: str) -> tuple[str, ...]:
    """The surname in the cases a news sentence uses; rules good enough for a bench, not a grammar."""
    if lang in ("sk", "cs"):
        if surname.endswith("ová"):
            return (surname, surname[:-1] + ("ej" if lang == "sk" else "é"), surname[:-1] + "ou")
        if surname.endswith(("ský", "ný", "lý", "rý")):
            return (surname, surname[:-1] + "ého", surname[:-1] + "ému", surname[:-1] + "ým")
        if surname.endswith("a"):
            return (surname, surname[:-1] + ("u" if lang == "sk" else "y"), surname[:-1] + "ovi")
        return (surname, surname + "a", surname + "ovi", surname + ("om" if lang == "sk" else "em"))
    if lang == "lt":
        if surname.endswith("ienė"):
            return (surname, surname[:-1] + "ės", surname[:-1] + "ei")
        if surname.endswith("ius"):
            return (surname, surname[:-2] + "aus", surname[:-2] + "ui")
        return (surname, surname[:-2] + "o", surname[:-2] + "ui", surname[:-2] + "u")
    if lang == "tr":
        return (surname, surname + "'ın", surname + "'a", surname + "'dan")
    if lang == "en":
        return (surname, surname + "'s")
    return (surname,)  # Macedonian names do not decline


@dataclass(frozen=True, slots=True)
class Official:
    id: str
    town: str
    role: int  # index into ROLES[lang]
    first: str
    forms: tuple[str, ...]


FIRST_NAMES = {"sk": ["Michal", "Ingrid", "Peter", "Jana"], "cs": ["Jan", "Petra", "Tomáš", "Lenka"],
               "lt": ["Tomas", "Rasa", "Darius", "Inga"], "tr": ["Hasan", "Ayşe", "Mehmet", "Elif"],
               "mk": ["Петре", "Марија", "Дејан", "Ана"], "en": ["Tom", "Sarah", "David", "Priya"]}


def officials_of(town: Town, n_town: int) -> list[Official]:
    """Ten officials: mayor, deputy, chief executive, spokesperson and six councillors."""
    out = []
    for k in range(10):
        surname = SURNAMES[town.lang][(n_town * 10 + k) % 20]
        role = min(k, 4)
        role_id = ROLE_IDS[role] + (str(k - 3) if role == 4 else "")
        out.append(Official(f"{town.id}-{role_id}", town.id, role, FIRST_NAMES[town.lang][k % 4],
                            name_forms(surname, town.lang)))
    return out


class Generator:
    """Deterministic clippings, one at a time; only a short window of recent stories is kept (for copies)."""

    def __init__(self, docs: int, seed: int) -> None:
        self.docs = docs
        self.rng = random.Random(seed)
        rng = random.Random(seed + 1)
        self.vocab = {lang: VOCAB[lang].split() for lang in LANGS}
        self.tail: dict[str, list[str]] = {}
        for lang in LANGS:
            seen: set[str] = set(self.vocab[lang])
            words_: list[str] = []
            while len(words_) < TAIL_WORDS:
                w = "".join(rng.choice(SYLLABLES[lang]) for _ in range(rng.randint(2, 5)))
                if w not in seen:
                    seen.add(w)
                    words_.append(w)
            self.tail[lang] = words_
        zipf = lambda n: list(accumulate(1.0 / (r + 1) for r in range(n)))  # noqa: E731
        self.vocab_cum = {lang: zipf(len(self.vocab[lang])) for lang in LANGS}
        self.tail_cum = zipf(TAIL_WORDS)
        self.towns = TOWNS
        self.town_cum = list(accumulate(t.weight for t in TOWNS))
        self.officials = {t.id: officials_of(t, i % 2) for i, t in enumerate(TOWNS)}
        self.recent: list[Clipping] = []

    def words(self, lang: str, k: int) -> list[str]:
        rng = self.rng
        n_tail = sum(rng.random() < TAIL_SHARE for _ in range(k))
        out = rng.choices(self.vocab[lang], cum_weights=self.vocab_cum[lang], k=k - n_tail)
        out += rng.choices(self.tail[lang], cum_weights=self.tail_cum, k=n_tail)
        rng.shuffle(out)
        return out

    def sentence(self, lang: str, town: Town, relevant: bool, mentions: list[tuple[Official, str]]) -> str:
        rng = self.rng
        parts = self.words(lang, rng.randint(6, 14))
        if rng.random() < 0.25:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(PHRASES[lang]))
        if relevant and rng.random() < 0.5:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(town.forms))
        if relevant and rng.random() < 0.45:
            off = rng.choice(self.officials[town.id][:5] if rng.random() < 0.7 else self.officials[town.id])
            role = rng.choice(ROLES[lang][off.role])  # the article's language: an English piece says "Mayor"
            surface = rng.choice(off.forms)
            name = f"{role} {off.first} {surface}" if rng.random() < 0.5 else f"{role} {surface}"
            parts.insert(rng.randrange(len(parts) + 1), name)
            mentions.append((off, surface))
        elif rng.random() < 0.05:
            parts.insert(rng.randrange(len(parts) + 1), str(rng.randint(2, 950)))
        s = " ".join(parts)
        return s[:1].upper() + s[1:] + "."

    def __iter__(self) -> Iterator[Clipping]:
        for n in range(self.docs):
            yield self.clipping(n)

    def clipping(self, n: int) -> Clipping:
        rng = self.rng
        published = END - SPAN + SPAN * (n / self.docs) + timedelta(minutes=rng.uniform(-600, 600))
        if self.recent and rng.random() < 0.15:
            return self.copy(n, rng.choice(self.recent), published)
        town = rng.choices(self.towns, cum_weights=self.town_cum)[0]
        lang = town.lang if rng.random() < 0.95 else "en"
        relevant = rng.random() < 0.30
        mentions: list[tuple[Official, str]] = []
        title = self.sentence(lang, town if lang == town.lang else town, relevant, mentions).rstrip(".")
        title = " ".join(title.split()[:10])
        body = " ".join(self.sentence(lang, town, relevant, mentions) for _ in range(rng.randint(3, 8)))
        roll = rng.random()
        critical = roll < (0.2 if relevant else 0.03)  # about 8 % overall, mostly relevant clippings
        misleading = relevant and rng.random() < 0.033  # about 1 % overall
        flags = []
        if critical:
            flags.append(Flag("critical", round(rng.uniform(0.4, 1.0), 2),
                              (Reason("kritika", body[:60], "text", 0, min(60, len(body))),)))
        if misleading:
            flags.append(Flag("misleading", round(rng.uniform(0.5, 0.9), 2),
                              (Reason("nepravda", body[:60], "text", 0, min(60, len(body)), record="fact",
                                      fact_id="budget"),)))
        s = rng.random()
        label = "negative" if critical or s < 0.22 else ("positive" if s > 0.80 else "neutral")
        sentiment = Sentiment(label, {"negative": -0.6, "neutral": 0.0, "positive": 0.5}[label])
        ments = []
        for off, surface in mentions:
            start = body.find(surface)
            field = "text" if start >= 0 else "title"
            if start < 0:
                start = max(title.find(surface), 0)
            ments.append(Mention("official", off.id, surface, start, start + len(surface), field))
        officials = tuple(sorted({off.id for off, _ in mentions}))
        bodies = ("council",) if relevant and rng.random() < 0.4 else ()
        cid = f"gen-{n:07d}"
        c = Clipping(
            article=Article(id=cid, url=f"https://{rng.choice(OUTLETS[lang])}.example/{n}", outlet=rng.choice(
                OUTLETS[lang]), title=title, text=body, published=published, lang=lang,
                fetched_at=published + timedelta(minutes=rng.randint(5, 240))),
            enrichment=Enrichment(lang=lang, relevant=relevant, officials=officials, bodies=bodies,
                                  mentions=tuple(ments), sentiment=sentiment, flags=tuple(flags)),
            municipality=town.id, cluster_id=cid, fingerprint=rng.getrandbits(64))
        self.recent.append(c)
        if len(self.recent) > 300:
            self.recent.pop(0)
        return c

    def copy(self, n: int, original: Clipping, published: datetime) -> Clipping:
        """A syndicated copy in another outlet of the same language: same story, a later time, a light edit."""
        a = original.article
        others = [o for o in OUTLETS[original.enrichment.lang] if o != a.outlet]
        outlet = self.rng.choice(others)
        when = max(published, (a.published or published) + timedelta(minutes=self.rng.randint(20, 1800)))
        cid = f"gen-{n:07d}"
        article = Article(id=cid, url=f"https://{outlet}.example/{n}", outlet=outlet, title=a.title,
                          text=a.text + (" " + a.title + "." if self.rng.random() < 0.5 else ""), published=when,
                          lang=a.lang, fetched_at=when + timedelta(minutes=30))
        return Clipping(article=article, enrichment=original.enrichment, municipality=original.municipality,
                        cluster_id=original.cluster_id, fingerprint=original.fingerprint)

    def batches(self, size: int) -> Iterator[list[Clipping]]:
        batch: list[Clipping] = []
        for c in self:
            batch.append(c)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


# --- the baseline: a bare FTS5 table with the same texts ----------------------------------------------------------
class BareFts:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS t USING fts5(title, text,"
                          " tokenize = 'unicode61 remove_diacritics 2')")

    def insert(self, batch: Sequence[Clipping]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT INTO t(title, text) VALUES (?, ?)",
                              [(c.article.title, c.article.text) for c in batch])
        self.conn.execute("COMMIT")

    def match(self, expr: str) -> int:
        return len(self.conn.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall())


def quoted(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


# --- queries -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Case:
    query: SearchQuery
    bare: str | None  # the same words as a raw FTS5 expression, None when the query has no text to compare


def has_filters(text: str) -> bool:
    """Whether the query parser reads `text`'s field filters as filters (not as words)."""
    kinds = tuple(getattr(query_module, n) for n in ("Filter", "DateRange") if hasattr(query_module, n))
    parsed = parse_query(text)
    if parsed is None or not kinds:
        return parsed is None and bool(kinds)  # only filters: the parser may return None or a filter-only tree
    found = False

    def walk(node: Any) -> None:
        nonlocal found
        if isinstance(node, kinds):
            found = True
        for item in getattr(node, "items", ()) or ():
            walk(item)
        inner = getattr(node, "item", None)
        if inner is not None:
            walk(inner)

    for part in ("include", "exclude", "filters"):
        for node in getattr(parsed, part, ()) or ():
            walk(node)
    return found


def supports(index: ClippingIndex, word: str) -> bool:
    """Whether the backend's module mentions `word` at all (collapse is silently ignored by one that does not)."""
    try:
        return word in inspect.getsource(sys.modules[type(index).__module__])
    except (OSError, TypeError):
        return True


def cases(gen: Generator, runs: int) -> dict[str, list[Case]]:
    """`runs` queries per type, with other terms each run, drawn from what the generator writes."""
    rng = random.Random(99)
    out: dict[str, list[Case]] = {}
    common = [(lang, w) for lang in LANGS for w in gen.vocab[lang][12:40]]  # skip the function words
    rare = [(lang, gen.tail[lang][r]) for lang in LANGS for r in range(2000, 6000, 97)]
    officials = [o for t in TOWNS for o in gen.officials[t.id]]
    town_of = {t.id: t for t in TOWNS}

    def pick(seq: Sequence[Any]) -> Any:
        return rng.choice(seq)

    out["common word"] = [Case(SearchQuery(text=w), quoted(w)) for _, w in (pick(common) for _ in range(runs))]
    out["rare word"] = [Case(SearchQuery(text=w), quoted(w)) for _, w in (pick(rare) for _ in range(runs))]
    inflected = []
    for _ in range(runs):
        off = pick(officials)
        lang = town_of[off.town].lang
        if rng.random() < 0.5 and len(ROLES[lang][off.role]) > 1:
            w = ROLES[lang][off.role][1].split()[-1]  # an inflected title: "primátora", "starosty", "mero"
        else:
            w = off.forms[-1]  # the last (most inflected) form of the surname
        inflected.append(Case(SearchQuery(text=w), quoted(w)))
    out["inflected name"] = inflected
    out["phrase"] = [Case(SearchQuery(text=f'"{p}"'), quoted(p))
                     for p in (pick(PHRASES[pick(LANGS)]) for _ in range(runs))]
    orx = []
    for _ in range(runs):
        lang = pick(LANGS)
        a, b, c = rng.sample(gen.vocab[lang][12:60], 3)
        orx.append(Case(SearchQuery(text=f"{a} OR {b} -{c}"), f"({quoted(a)} OR {quoted(b)}) NOT {quoted(c)}"))
    out["OR + exclusion"] = orx
    out["official: (query language)"] = [Case(SearchQuery(text=f"official:{pick(officials).id}"), None)
                                         for _ in range(runs)]
    out["official (keyword filter)"] = [Case(SearchQuery(official=pick(officials).id), None) for _ in range(runs)]
    months = [f"2026-{m:02d}" for m in range(1, 11)] + [f"2025-{m:02d}" for m in range(1, 13)]
    out["flag:critical date:month"] = [Case(SearchQuery(text=f"flag:critical date:{pick(months[:6])}"), None)
                                       for _ in range(runs)]
    flagged = []
    for _ in range(runs):
        y, m = map(int, pick(months[:6]).split("-"))
        start = datetime(y, m, 1, tzinfo=UTC)
        flagged.append(Case(SearchQuery(critical=True, since=start, until=(start + timedelta(days=32)).replace(day=1)),
                            None))
    out["critical + month (keyword filters)"] = flagged
    word_outlet = []
    for _ in range(runs):
        lang = pick(LANGS)
        w = pick(gen.vocab[lang][12:40])
        word_outlet.append(Case(SearchQuery(text=f"{w} outlet:{pick(OUTLETS[lang])}"), None))
    out["word + outlet:"] = word_outlet
    out["municipality, newest first"] = [Case(SearchQuery(municipality=pick(TOWNS).id, offset=pick((0, 0, 20, 100))),
                                              None) for _ in range(runs)]
    out["common word, collapse"] = [Case(SearchQuery(text=w, collapse=True), quoted(w))
                                    for _, w in (pick(common) for _ in range(runs))]
    return out


FACET_CASES = ("aggregate: municipality", "aggregate: common word")


def facet_cases(gen: Generator, runs: int) -> dict[str, list[SearchQuery]]:
    rng = random.Random(98)
    common = [w for lang in LANGS for w in gen.vocab[lang][12:40]]
    return {"aggregate: municipality": [SearchQuery(municipality=rng.choice(TOWNS).id) for _ in range(runs)],
            "aggregate: common word": [SearchQuery(text=rng.choice(common)) for _ in range(runs)]}


def percentiles(times: list[float]) -> tuple[float, float, float]:
    ms = sorted(1000 * t for t in times)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) > 1 else ms[0]
    return statistics.median(ms), p95, ms[-1]


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - t0, value


@dataclass
class Row:
    name: str
    p50: float = 0.0
    p95: float = 0.0
    max: float = 0.0
    hits: float = 0.0  # mean total
    bare_p50: float | None = None
    note: str = ""


def run_queries(index: ClippingIndex, bare: BareFts | None, all_cases: dict[str, list[Case]],
                facets: dict[str, list[SearchQuery]]) -> list[Row]:
    rows: list[Row] = []
    for name, runs in all_cases.items():
        row = Row(name)
        text = runs[0].query.text
        if ":" in text and not has_filters(text):
            row.note = "not available: the query parser reads field filters as words"
            print_row(row)
            rows.append(row)
            continue
        if runs[0].query.collapse and not supports(index, "collapse"):
            row.note = "not available: the backend ignores collapse"
            print_row(row)
            rows.append(row)
            continue
        try:
            index.search(runs[0].query)  # warm-up (first compile, page cache)
            times, totals = [], []
            for case in runs:
                dt, result = timed(index.search, case.query)
                times.append(dt)
                totals.append(result.total)
        except (NotImplementedError, QueryError) as exc:
            row.note = f"not available: {type(exc).__name__}: {str(exc)[:70]}"
            print_row(row)
            rows.append(row)
            continue
        except Exception as exc:  # noqa: BLE001  # the index is being changed under us; report and go on
            row.note = f"failed: {type(exc).__name__}: {str(exc)[:70]}"
            print_row(row)
            rows.append(row)
            continue
        row.p50, row.p95, row.max = percentiles(times)
        row.hits = statistics.mean(totals)
        if bare is not None and runs[0].bare is not None:
            bare_times = []
            bare.match(runs[0].bare or "")
            for case in runs:
                dt, _ = timed(bare.match, case.bare or "")
                bare_times.append(dt)
            row.bare_p50 = percentiles(bare_times)[0]
        print_row(row)
        rows.append(row)
    for name, queries in facets.items():
        row = Row(name)
        try:
            index.aggregate(queries[0], FACETS)
            times = []
            for q in queries:
                dt, result = timed(index.aggregate, q, FACETS)
                times.append(dt)
                row.hits += result.total / len(queries)
        except (NotImplementedError, QueryError) as exc:
            row.note = f"not available: {type(exc).__name__}{': ' + str(exc)[:60] if str(exc) else ''}"
            print_row(row)
            rows.append(row)
            continue
        except Exception as exc:  # noqa: BLE001
            row.note = f"failed: {type(exc).__name__}: {str(exc)[:70]}"
            print_row(row)
            rows.append(row)
            continue
        row.p50, row.p95, row.max = percentiles(times)
        print_row(row)
        rows.append(row)
    return rows


def print_header(runs: int) -> None:
    print(f"\n{'query type (' + str(runs) + ' runs each)':<36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'mean total':>11} {'bare FTS5 p50':>14} {'ratio p50':>10}")


def print_row(r: Row) -> None:
    if r.note:
        print(f"{r.name:<36} {r.note}", flush=True)
        return
    bare = f"{r.bare_p50:14.2f}" if r.bare_p50 is not None else f"{'-':>14}"
    ratio = f"{r.p50 / r.bare_p50:9.1f}x" if r.bare_p50 else f"{'-':>10}"
    print(f"{r.name:<36} {r.p50:8.1f} {r.p95:8.1f} {r.max:8.1f} {r.hits:11.0f} {bare} {ratio}", flush=True)


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


# --- indexing --------------------------------------------------------------------------------------------------------
def build(index: ClippingIndex, bare: BareFts | None, gen: Generator, batch: int) -> dict[str, float]:
    spent = {"generate": 0.0, "index": 0.0, "bare": 0.0}
    done = 0
    every = max(gen.docs // 10, batch)
    t0 = time.perf_counter()
    batches = gen.batches(batch)
    while True:
        dt, chunk = timed(next, batches, None)
        spent["generate"] += dt
        if chunk is None:
            break
        dt, _ = timed(index.upsert, chunk)
        spent["index"] += dt
        if bare is not None:
            dt, _ = timed(bare.insert, chunk)
            spent["bare"] += dt
        before = done
        done += len(chunk)
        if done // every != before // every:
            print(f"  {done:>9,} clippings: index {done / spent['index']:7.0f}/s, bare FTS5 "
                  f"{done / spent['bare'] if spent['bare'] else 0:7.0f}/s, generation {spent['generate']:.0f} s, "
                  f"wall {time.perf_counter() - t0:.0f} s", flush=True)
    return spent


def open_es(url: str) -> ClippingIndex:
    # Imported by name: the bench runs (and type-checks) without the Elasticsearch client installed.
    cls: Any = importlib.import_module("presswatch.index.elastic").ElasticIndex
    es: ClippingIndex = cls.from_url(url, prefix="presswatch-bench")
    return es


def refresh(es: ClippingIndex) -> None:
    """Make every write searchable before timing queries (the index writes with refresh=False)."""
    client, name = getattr(es, "client", None), getattr(es, "clippings", None)
    if client is not None and name is not None:
        client.indices.refresh(index=name)
    else:
        time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="folder for the stores (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the stores (with --db) for --reuse")
    parser.add_argument("--reuse", action="store_true",
                        help="query the stores in --db without indexing again (they are kept)")
    parser.add_argument("--runs", type=int, default=50, help="queries per query type")
    parser.add_argument("--batch", type=int, default=2000, help="clippings per upsert")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare FTS5 baseline")
    parser.add_argument("--es", action="store_true", help="also run against Elasticsearch (PRESSWATCH_ES_URL)")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="run only the query types whose name contains TEXT (repeatable), e.g. --only OR")
    args = parser.parse_args()
    if args.reuse and args.db is None:
        parser.error("--reuse needs --db")

    folder = args.db or Path(tempfile.mkdtemp(prefix="presswatch-search-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    store, bare_path, meta_path = folder / "store.db", folder / "bare.db", folder / "bench.json"
    gen = Generator(args.docs, args.seed)
    load = os.getloadavg()
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cpus, load {load[0]:.2f} "
          f"{load[1]:.2f} {load[2]:.2f}, python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"store: {store}")

    if args.reuse:
        meta = json.loads(meta_path.read_text())
        if meta["docs"] != args.docs or meta["seed"] != args.seed:
            raise SystemExit(f"{folder} holds {meta['docs']} clippings (seed {meta['seed']}); pass the same --docs")
        for key in store, bare_path:
            if not key.exists():
                raise SystemExit(f"{key} is missing; index first with --keep")
        index = SqliteIndex(store)
        bare = None if args.no_bare else BareFts(bare_path)
        print(f"reusing {meta['docs']:,} clippings indexed at {meta['rate']:.0f} clippings/s")
    else:
        for p in folder.glob("*.db*"):
            p.unlink()
        index = SqliteIndex(store)
        bare = None if args.no_bare else BareFts(bare_path)
        print(f"indexing {args.docs:,} generated clippings in batches of {args.batch:,} ...")
        spent = build(index, bare, gen, args.batch)
        rate = args.docs / spent["index"]
        print(f"\nindexing: {rate:,.0f} clippings/s ({spent['index']:.0f} s), store {size_mb(store):,.0f} MB; "
              f"bare FTS5 {args.docs / spent['bare'] if spent['bare'] else 0:,.0f} clippings/s "
              f"({spent['bare']:.0f} s), {size_mb(bare_path):,.0f} MB; "
              f"ratio {spent['index'] / spent['bare'] if spent['bare'] else 0:.1f}x the time; "
              f"generation {spent['generate']:.0f} s (not counted)")
        meta_path.write_text(json.dumps({"docs": args.docs, "seed": args.seed, "rate": rate,
                                         "bare_rate": args.docs / spent["bare"] if spent["bare"] else None}))
    s = index.stats()
    print(f"store holds {s.clippings:,} clippings: {s.relevant / s.clippings:.0%} relevant, "
          f"{s.critical / s.clippings:.1%} critical, {s.misleading / s.clippings:.1%} misleading, "
          f"{s.clusters:,} stories; by language " + ", ".join(f"{k} {v:,}" for k, v in s.by_lang.items()))

    all_cases, facets = cases(gen, args.runs), facet_cases(gen, args.runs)
    if args.only:  # the cases are drawn first, so each type gets the same queries as in a full run
        all_cases = {k: v for k, v in all_cases.items() if any(o in k for o in args.only)}
        facets = {k: v for k, v in facets.items() if any(o in k for o in args.only)}
    print_header(args.runs)
    run_queries(index, bare, all_cases, facets)
    index.close()

    if args.es:
        url = os.environ.get("PRESSWATCH_ES_URL")
        if not url:
            print("\nElasticsearch: skipped, PRESSWATCH_ES_URL is not set")
        else:
            try:
                es = open_es(url)
            except (ImportError, AttributeError, NotImplementedError) as exc:
                print(f"\nElasticsearch: skipped, no ElasticIndex in this installation ({exc})")
            except Exception as exc:  # noqa: BLE001  # ElasticUnavailable and the client's errors
                print(f"\nElasticsearch: skipped, {type(exc).__name__}: {exc}")
            else:
                print(f"\nElasticsearch (prefix presswatch-bench): indexing {args.docs:,} clippings ...")
                spent = build(es, None, Generator(args.docs, args.seed), args.batch)
                refresh(es)
                print(f"indexing: {args.docs / spent['index']:,.0f} clippings/s ({spent['index']:.0f} s)")
                print_header(args.runs)
                run_queries(es, None, all_cases, facets)
                es.close()

    if bare is not None:
        bare.conn.close()
    if not args.keep and args.db is None:
        shutil.rmtree(folder)
    elif not args.keep and not args.reuse:  # --reuse queried stores indexed earlier: never delete them
        for p in folder.glob("*.db*"):
            p.unlink()


if __name__ == "__main__":
    main()
