"""Memory over a long stream: 20,000 generated articles through one `Enricher`, with RSS printed as it goes, and
the per-article enrichment time against `trafilatura.extract` on real pages in the same run.

    .venv/bin/python bench/enrich_memory.py [--articles 20000] [--every 5000] [--profile demo] [--pages DIR]

Articles are built from sentence templates written for this bench in our six languages (sk, cs, lt, tr, mk, en),
8 to 40 sentences each (about 0.8-6 kB), with the demo municipality, its officials and other towns in some of
them, and with made-up surnames, street names and numbers everywhere, so that the vocabulary keeps growing the
way a real stream's does (every cache keyed on words must stay bounded). Every token is lemmatized
(enrich/lemmas.py) in its article's language, so all six lemma sources are exercised: the bench warms up with one
article per language (loading the spaCy lookup tables and simplemma dictionaries before the first reading), checks
that each language gets lemmas, and prints the lemma cache size against its bound at each reading. spaCy is read
through its lookup tables only (no Doc, so no StringStore to grow, spaCy#5083). RSS is VmRSS from /proc/self/status
(`resource` peak RSS where /proc is absent). Baseline: bare `trafilatura.extract` on the Zyte benchmark pages
(../shared/data), the median of three rounds, one core. Record results in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import platform
import random
import resource
import statistics
import time
from pathlib import Path

import trafilatura

from presswatch import settings
from presswatch.enrich import lemmas
from presswatch.enrich.document import make_document
from presswatch.enrich.enricher import Enricher
from presswatch.profile import load_profile
from presswatch.records import Article

DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared/data/extraction/zyte-article-benchmark/html"

# {T} a town, {P} a person, {S} a street, {N} a number, {W} a made-up word; our municipality is one of the towns
SENTENCES: dict[str, list[str]] = {
    "sk": [
        "Mestské zastupiteľstvo v meste {T} schválilo rozpočet na budúci rok vo výške {N} miliónov eur.",
        "Primátor {P} povedal, že oprava ulice {S} sa začne na jar a potrvá asi {N} týždňov.",
        "Obyvatelia sa sťažujú, že na sídlisku {W} chýbajú parkovacie miesta a autobus chodí raz za hodinu.",
        "Hovorkyňa mesta uviedla, že technické služby vyviezli za víkend {N} ton odpadu.",
        "Poslanec {P} kritizuje vedenie mesta, že zmluvy na údržbu ciest nezverejnilo včas.",
        "V knižnici na ulici {S} otvorili novú čitáreň, vstup je bezplatný.",
        "Hasiči zasahovali pri požiari skladu v obci {T}, nikto nebol zranený.",
        "Podľa štatistického úradu klesla nezamestnanosť v okrese na {N} percent.",
        "Rekonštrukcia plavárne {W} stála {N} tisíc eur a bazén bude otvorený od pondelka.",
        "Futbalisti klubu {W} vyhrali v nedeľu doma {N}:1 a posunuli sa na tretie miesto.",
    ],
    "cs": [
        "Zastupitelstvo města {T} schválilo rozpočet na příští rok ve výši {N} milionů korun.",
        "Starosta {P} řekl, že oprava ulice {S} začne na jaře a potrvá zhruba {N} týdnů.",
        "Obyvatelé si stěžují, že na sídlišti {W} chybí parkovací místa a autobus jezdí jednou za hodinu.",
        "Mluvčí radnice uvedla, že technické služby o víkendu odvezly {N} tun odpadu.",
        "Opoziční zastupitel {P} kritizuje vedení města, že smlouvy na údržbu silnic nezveřejnilo včas.",
        "V knihovně v ulici {S} otevřeli novou studovnu, vstup je zdarma.",
        "Hasiči zasahovali u požáru skladu v obci {T}, nikdo nebyl zraněn.",
        "Podle úřadu práce klesla nezaměstnanost v okrese na {N} procent.",
        "Rekonstrukce koupaliště {W} stála {N} milionů korun a bazén bude otevřený od pondělí.",
        "Hokejisté klubu {W} vyhráli v neděli doma {N}:2 a posunuli se na třetí místo.",
    ],
    "lt": [
        "{T} savivaldybės taryba patvirtino kitų metų biudžetą, jis sieks {N} mln. eurų.",
        "Meras {P} sakė, kad {S} gatvės remontas prasidės pavasarį ir truks apie {N} savaites.",
        "Gyventojai skundžiasi, kad {W} mikrorajone trūksta automobilių stovėjimo vietų.",
        "Savivaldybės atstovė spaudai nurodė, kad per savaitgalį išvežta {N} tonų atliekų.",
        "Tarybos narys {P} kritikuoja administraciją, kad kelių priežiūros sutartys nebuvo paskelbtos laiku.",
        "Bibliotekoje {S} gatvėje atidaryta nauja skaitykla, įėjimas nemokamas.",
        "Ugniagesiai gesino sandėlio gaisrą {T} seniūnijoje, niekas nenukentėjo.",
        "Pasak užimtumo tarnybos, nedarbas rajone sumažėjo iki {N} procentų.",
        "Baseino {W} rekonstrukcija kainavo {N} tūkst. eurų, jis bus atidarytas pirmadienį.",
        "Krepšinio klubas {W} sekmadienį namuose laimėjo {N} taškų skirtumu.",
    ],
    "tr": [
        "{T} Belediye Meclisi gelecek yılın bütçesini {N} milyon lira olarak onayladı.",
        "Belediye Başkanı {P}, {S} Caddesi'ndeki çalışmaların baharda başlayacağını ve {N} hafta süreceğini söyledi.",
        "Vatandaşlar {W} Mahallesi'nde otopark yetersizliğinden şikâyet ediyor.",
        "Belediye sözcüsü hafta sonu {N} ton çöp toplandığını açıkladı.",
        "Meclis üyesi {P}, yol bakım ihalelerinin zamanında açıklanmadığını öne sürerek yönetimi eleştirdi.",
        "{S} Sokağı'ndaki kütüphanede yeni bir okuma salonu açıldı, giriş ücretsiz.",
        "İtfaiye {T} ilçesindeki depo yangınına müdahale etti, yaralanan olmadı.",
        "İŞKUR verilerine göre ilçede işsizlik yüzde {N} seviyesine geriledi.",
        "{W} yüzme havuzunun yenilenmesi {N} bin liraya mal oldu ve havuz pazartesi açılacak.",
        "{W} spor kulübü pazar günü evinde {N}-1 kazandı.",
    ],
    "mk": [
        "Советот на општина {T} го усвои буџетот за наредната година од {N} милиони денари.",
        "Градоначалникот {P} изјави дека реконструкцијата на улицата {S} ќе почне напролет.",
        "Жителите се жалат дека во населбата {W} нема доволно паркинг места.",
        "Портпаролката на општината соопшти дека за викендот се собрани {N} тони отпад.",
        "Советникот {P} ја критикува општината дека договорите за одржување на патиштата не ги објавила навреме.",
        "Во библиотеката на улицата {S} е отворена нова читална, влезот е бесплатен.",
        "Пожарникарите интервенираа кај пожар во магацин во {T}, нема повредени.",
        "Според Агенцијата за вработување, невработеноста во регионот падна на {N} отсто.",
        "Реконструкцијата на базенот {W} чинеше {N} илјади евра, а базенот ќе биде отворен од понеделник.",
        "Fudbalerite na klubot {W} pobedija doma so {N}:1 i se iskachija na tretoto mesto.",
    ],
    "en": [
        "{T} Council approved next year's budget of {N} million pounds on Tuesday.",
        "Mayor {P} said the resurfacing of {S} Road would start in spring and take about {N} weeks.",
        "Residents of the {W} estate complain that there are too few parking spaces and buses run once an hour.",
        "A council spokesperson said {N} tonnes of rubbish were collected over the weekend.",
        "Councillor {P} criticised the council for failing to publish the road maintenance contracts on time.",
        "The library on {S} Street opened a new reading room, and entry is free.",
        "Firefighters tackled a warehouse fire in {T}; nobody was hurt.",
        "Unemployment in the district fell to {N} per cent, according to official figures.",
        "The refurbishment of the {W} pool cost {N} thousand pounds and it reopens on Monday.",
        "{W} Rovers won {N}-1 at home on Sunday and moved up to third place.",
    ],
}
TOWNS = ["Stará Hôrka", "Nová Lehota", "Dolný Kubín", "Horní Polom", "Kalnava", "Karaçınar", "Ореница",
         "Millbrook", "Brezovica", "Lúčky"]
PEOPLE = ["Marián Hrušovský", "Eva Kováčiková", "Igor Mráz", "Jana Tóthová", "Petr Zikmund", "Saulius Kalvis",
          "Hasan Koç", "Дејан Пешевски", "Tom Ashworth"]
SYLLABLES = ["ka", "lo", "mer", "zu", "ni", "ves", "tra", "bo", "ly", "dan", "či", "ro", "pel", "šu", "ge", "vin"]


def made_up(rng: random.Random) -> str:
    """A new word most of the time: names and streets in a real stream never stop coming."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


LANGS = ("sk", "cs", "lt", "tr", "mk", "en")


def article(n: int, rng: random.Random) -> Article:
    lang = LANGS[n % 6]
    templates = SENTENCES[lang]
    sentences = []
    for _ in range(rng.randint(8, 40)):
        s = rng.choice(templates)
        sentences.append(s.format(T=rng.choice(TOWNS), P=rng.choice(PEOPLE) if rng.random() < 0.5
                                  else f"{made_up(rng)} {made_up(rng)}", S=made_up(rng), N=rng.randint(2, 900),
                                  W=made_up(rng)))
    title = sentences[0].rstrip(".")[:90]
    return Article(id=f"mem-{n}", url=f"https://bench.example/{lang}/{n}", outlet="bench", title=title,
                   text=" ".join(sentences[1:]))


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--every", type=int, default=5_000)
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    enricher = Enricher.from_profile(load_profile(args.profile))
    rng = random.Random(args.seed)
    # load lexicons, the language model and every language's lemmas before the first reading
    for n in range(len(LANGS)):
        a = article(n, rng)
        enricher.enrich(a)
        lang = LANGS[n % 6]
        toks = make_document(a.title, a.text, lang).text.tokens
        changed = sum(t.lemma != t.key for t in toks)
        print(f"lemmas {lang}: {changed} of {len(toks)} words differ from their key, e.g. "
              + ", ".join([f"{t.key}→{t.lemma}" for t in toks if t.lemma != t.key][:3]))
        assert changed, f"no lemmas in {lang}"
    gc.collect()
    print(f"machine: {platform.node()} {platform.machine()}, python {platform.python_version()}, "
          f"trafilatura {trafilatura.__version__}")
    print(f"{'articles':>9} {'RSS MB':>8} {'ms/article (last block)':>24} {'lemma cache':>12}")
    start_rss = rss_mb()
    print(f"{0:>9} {start_rss:>8.1f}")
    readings = [start_rss]
    spent = 0.0
    chars = 0
    block_spent = 0.0
    for n in range(1, args.articles + 1):
        a = article(n, rng)
        chars += len(a.text) + len(a.title)
        t0 = time.perf_counter()
        enricher.enrich(a)
        dt = time.perf_counter() - t0
        spent += dt
        block_spent += dt
        if n % args.every == 0 or n == args.articles:
            gc.collect()
            readings.append(rss_mb())
            size = args.every if n % args.every == 0 else n % args.every
            print(f"{n:>9} {readings[-1]:>8.1f} {1000 * block_spent / size:>24.2f} {lemmas.cache_size():>12}")
            block_spent = 0.0
    per_article = spent / args.articles

    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted(args.pages.glob("*.html.gz"))]
    rounds = []
    for _ in range(3):
        t0 = time.perf_counter()
        for html in pages:
            trafilatura.extract(html)
        rounds.append((time.perf_counter() - t0) / len(pages))
    bare = statistics.median(rounds)
    print(f"generated text: {chars / args.articles:.0f} characters per article on average")
    print(f"RSS: start {start_rss:.1f} MB, end {readings[-1]:.1f} MB, growth {readings[-1] - start_rss:+.1f} MB; "
          f"after the first {args.every}: {readings[-1] - readings[1]:+.1f} MB")
    print(f"enrichment: {1000 * per_article:.2f} ms/article; trafilatura.extract: {1000 * bare:.2f} ms/page "
          f"({len(pages)} pages, median of 3 rounds)")
    print(f"ratio enrichment/extraction: {per_article / bare:.2f}")
    print(f"lemma cache: {lemmas.cache_size()} entries (bound {settings.LEMMA_CACHE_SIZE}); spaCy lookup tables "
          f"(no Docs, no StringStore): " + ", ".join(f"{lang} {lemmas.table_size(lang)}" for lang in
                                                      sorted(lemmas.SPACY_TABLE_LANGS)))


if __name__ == "__main__":
    main()
