"""Soak: the real daemon (`presswatch run`) against 200 local feeds for 15 minutes while new articles appear;
articles processed, the memory of the daemon and of its queue worker(s) over time (flat, not growing), and the alert
latency from publication to the SMTP server accepting the alert.

    .venv/bin/python bench/soak.py [--minutes 15] [--feeds 200] [--rate 3] [--out /tmp/soak-bench.md]

Everything is real and on loopback. The project's newsroom (pipeline/newsroom/) serves the feeds: it is started
on a content folder this bench generates in a temporary directory (`Newsroom(content_dir=...)`, the newsroom's own
loader, templates and HTTP server; nothing in the package is changed): one outlet per feed, one RSS feed each,
nine in ten Slovak, one in ten English, each with one older seed article (the backlog of the first poll). The
profile is the demo profile's municipality, officials, bodies and alert rules, with those 200 outlets and feeds
(`interval_minutes: 1`, the minimum, so the adaptive schedule polls each feed every 0.5-4 minutes), no sites, no
releases, no quiet hours, its email channel pointed at an aiosmtpd server (digest/smtpd.py), and its store in the
temporary directory (PRESSWATCH_DB). The daemon is a subprocess, `python -m presswatch.cli run --ops-port 0`, so its
memory is the daemon's own: VmRSS from /proc/<pid>/status of the daemon and of each child process (the queue worker,
its standby while a worker is being replaced, multiprocessing's resource tracker), sampled every 30 s.

A feeder thread publishes new articles to random outlets at `--rate` articles per minute per 10 feeds
(`Newsroom.add_article`); a `--critical` share of them are critical stories about the mayor, each its own story
(different topic, place and critics) so that clustering does not fold it into an earlier alert. For each article
the bench records its publication time T0; the SMTP server records when it accepts each message; an alert is matched
to its article by the article's title in the Subject. After the run (SIGTERM; the daemon must exit 0) the store
says when the daemon's poll first saw each item (`discoveries.first_seen`) and when its page was processed
(`queue.updated_at`), which splits the latency into wait-for-poll (T0 -> first seen: the feed's adaptive interval
plus the every-FEED_DUE_CHECK_S due check) and processing (first seen -> SMTP accepted: fetch, worker, alert).

The daemon runs with `-v` (INFO); its output goes to `--log` and is summarised (warnings, errors, tracebacks). Results go to stdout and, with
--out, to a Markdown file that is merged into BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from machine import machine  # bench/machine.py, beside this script

from presswatch import settings
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.newsroom.server import Newsroom
from presswatch.profile import resolve_profile_path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_S = 30.0

# --- generated content: critical stories (each its own story), ordinary local news, seeds -----------------------
WHAT_SK = ["rekonštrukciu plavárne", "predaj pozemku pri rieke", "nákup nových autobusov", "zimnú údržbu chodníkov",
           "obnovu materskej školy", "výrub stromov v parku", "prenájom kultúrneho domu", "opravu mosta cez potok",
           "výstavbu cyklotrasy", "zvýšenie cien parkovania", "rozšírenie cintorína", "kamerový systém",
           "zateplenie radnice", "nové verejné osvetlenie", "správu mestských bytov", "odvoz odpadu",
           "opravu futbalového štadióna", "digitalizáciu úradu", "čistenie potoka", "výmenu okien v škole"]
WHERE_SK = ["na Kúpeľnej ulici", "v lokalite Lúky", "pre mestskú dopravu", "na sídlisku Podháj", "na Lipovej ulici",
            "pri kaštieli", "v časti Dolná Hôrka", "pri mlyne", "popri železnici", "v centre mesta", "za kostolom",
            "na autobusovej stanici", "na Hlavnom námestí", "pri nemocnici", "na Mlynskej ulici", "v Hornej Hôrke",
            "pri priemyselnom parku", "na Záhradníckej ulici", "pri kúpalisku"]
WHO_SK = ["tréneri plaveckého klubu", "rybári a ochranári", "vodiči a cestujúci", "seniori zo sídliska",
          "rodičia detí", "dobrovoľníci z okrášľovacieho spolku", "miestne folklórne súbory",
          "obyvatelia Mlynskej ulice", "cyklisti a chatári", "podnikatelia z námestia", "farníci a susedia",
          "poslanci mestskej časti", "učitelia a riaditelia škôl", "taxikári", "nájomníci mestských bytov",
          "záhradkári", "hasiči dobrovoľníci"]
WHAT_EN = ["swimming pool renovation", "riverside land sale", "new bus purchase", "pavement gritting contract",
           "nursery school repairs", "park tree felling", "culture house lease", "brook bridge repair",
           "cycle path construction", "parking fee increase", "cemetery extension", "CCTV system",
           "town hall insulation", "street lighting tender", "municipal flats management", "waste collection deal",
           "football stadium repairs", "town office IT contract", "brook dredging", "school windows replacement"]
FILLER = ("ulica dom auto strom lavička lampa chodník plot brána dvor záhrada garáž sklad dielňa trh pekáreň lekáreň"
          " pošta škola ihrisko štadión hala kúpalisko potok jazero les lúka pole vinica sad most tunel kaplnka"
          " fontána knižnica divadlo kino múzeum galéria parkovisko zastávka križovatka nábrežie hrádza").split()
FILLER_EN = ("street house car tree bench lamp pavement fence gate yard garden garage shed workshop market bakery"
             " pharmacy post school playground stadium hall pool brook lake forest meadow field vineyard orchard"
             " bridge tunnel chapel fountain library theatre cinema museum gallery car-park stop junction").split()
# Ordinary news: other towns, culture, sport (not about the municipality, or about it without criticism).
TOWNS = ["Nová Baňa", "Žarnovica", "Banská Štiavnica", "Kremnica", "Zvolen", "Detva", "Hriňová", "Krupina",
         "Brezno", "Podbrezová", "Sliač", "Hliník nad Hronom", "Tekovská Breznica", "Dudince"]
ORDINARY_SK = ["Mesto {town} otvorilo nové ihrisko pri {thing}", "V meste {town} sa konal jarmok remesiel",
               "Hasiči z mesta {town} cvičili pri {thing}", "Futbalisti z mesta {town} vyhrali derby",
               "Knižnica v meste {town} rozširuje otváracie hodiny", "V meste {town} opravia {thing}"]
ORDINARY_EN = ["{town} opens a new playground by the {thing}", "Craft fair draws crowds in {town}",
               "{town} firefighters train at the {thing}", "{town} footballers win the local derby",
               "{town} library extends its opening hours", "{town} to repair the {thing}"]


@dataclass(frozen=True, slots=True)
class Story:
    title: str
    body: list[str]
    critical: bool
    relevant: bool


def critical_story(n: int, lang: str, rng: random.Random) -> Story:
    """The n-th critical story: a different topic, place and critics from the last ones (its own cluster)."""
    what, where, who = WHAT_SK[n % len(WHAT_SK)], WHERE_SK[(n * 7) % len(WHERE_SK)], WHO_SK[(n * 5) % len(WHO_SK)]
    if lang == "en":
        what_en = WHAT_EN[n % len(WHAT_EN)]
        words = " ".join(rng.choice(FILLER_EN) for _ in range(50))
        title = f"Stará Hôrka opposition accuses mayor of hiding {what_en} contract (case {n})"
        body = [f"Opposition councillors in Stará Hôrka accused Mayor Marián Hrušovský of concealing the {what_en} "
                f"contract from the municipal council. Residents filed a petition and demand an explanation.",
                "Councillor Igor Mráz called it a scandal: the auditor found serious failings, the mayor signed the "
                "contract without the council's approval and the town hall did not answer questions.",
                f"Background notes of the newsroom on case {n}: {words}."]
        return Story(title, body, critical=True, relevant=True)
    words = " ".join(rng.choice(FILLER) for _ in range(50))
    title = f"Primátor Hrušovský zatajil poslancom zmluvu na {what} {where} (prípad {n})"
    body = [f"Opozícia obviňuje primátora Mariána Hrušovského, že zatajil zmluvu na {what} {where}. Kritizujú ho aj "
            f"{who}, ktorí podali petíciu a žiadajú vysvetlenie.",
            f"Kontrola zistila vážne nedostatky: zmluvu na {what} podpísal bez súhlasu zastupiteľstva a mesto na "
            f"otázky redakcie nereagovalo. Poslanci hovoria o škandále a vyzvali primátora, aby zmluvu zverejnil.",
            f"Súvisiace heslá redakcie k prípadu č. {n}: {words}."]
    return Story(title, body, critical=True, relevant=True)


def ordinary_story(n: int, lang: str, rng: random.Random) -> Story:
    town = rng.choice(TOWNS)
    if lang == "en":
        thing = rng.choice(FILLER_EN)
        title = rng.choice(ORDINARY_EN).format(town=town, thing=thing) + f" ({n})"
        words = " ".join(rng.choice(FILLER_EN) for _ in range(60))
        body = [f"The town of {town} says the work by the {thing} went to plan and thanked the volunteers.",
                f"Residents welcomed the news; the next event is planned for spring. Notes: {words}."]
        return Story(title, body, critical=False, relevant=False)
    thing = rng.choice(FILLER)
    title = rng.choice(ORDINARY_SK).format(town=town, thing=thing) + f" ({n})"
    words = " ".join(rng.choice(FILLER) for _ in range(60))
    body = [f"Mesto {town} informovalo, že práce pri objekte {thing} prebehli podľa plánu, a poďakovalo "
            f"dobrovoľníkom aj miestnym firmám za pomoc.",
            f"Obyvatelia novinku privítali, ďalšie podujatie mesto chystá na jar. Poznámky redakcie: {words}."]
    return Story(title, body, critical=False, relevant=False)


def write_content(content: Path, feeds: int, rng: random.Random) -> dict[str, str]:
    """outlets.yaml with `feeds` outlets (one RSS feed each) and one seed article per outlet; {outlet: lang}."""
    outlets, langs = [], {}
    for i in range(1, feeds + 1):
        oid, lang = f"soak{i:03d}", ("en" if i % 10 == 0 else "sk")
        langs[oid] = lang
        sections = ([{"slug": "news", "name": "News"}, {"slug": "sport", "name": "Sport"}] if lang == "en" else
                    [{"slug": "spravy", "name": "Správy"}, {"slug": "sport", "name": "Šport"}])
        outlets.append({"id": oid, "name": f"{'Herald' if lang == 'en' else 'Noviny'} {i:03d}", "lang": lang,
                        "encoding": "utf-8", "tier": 1 + i % 3, "timezone": "Europe/Bratislava",
                        "tagline": "soak", "section_path": "section" if lang == "en" else "sekcia",
                        "sections": sections,
                        "feeds": [{"path": "rss.xml", "kind": "rss", "title": f"Feed {i:03d}"}]})
        story = ordinary_story(-i, lang, rng)
        seed = {"title": story.title, "body": story.body, "age_hours": round(rng.uniform(1, 30), 1),
                "expect": {"relevant": False}}
        (content / "articles" / oid).mkdir(parents=True)
        (content / "articles" / oid / "seed.yaml").write_text(yaml.safe_dump(seed, allow_unicode=True),
                                                               encoding="utf-8")
    (content / "outlets.yaml").write_text(yaml.safe_dump({"outlets": outlets}, allow_unicode=True,
                                                         sort_keys=False), encoding="utf-8")
    return langs


def write_profile(path: Path, base_url: str, smtp_port: int, langs: dict[str, str], db: Path) -> None:
    """The demo profile's municipality, people and alert rules, with the generated outlets as its feeds."""
    demo = yaml.safe_load(resolve_profile_path("demo").read_text(encoding="utf-8"))
    demo["outlets"] = [{"id": o, "name": o, "tier": 1 + int(o[-3:]) % 3, "lang": lang,
                        "homepage": f"{base_url}/{o}/"} for o, lang in langs.items()]
    demo["sources"] = {"feeds": [{"id": f"{o}-rss", "outlet": o, "url": f"{base_url}/{o}/rss.xml",
                                  "interval_minutes": 1} for o in langs]}
    demo["alerts"].pop("quiet_hours", None)  # alerts at any time of day, as `presswatch demo` does
    demo["smtp"]["port"] = smtp_port
    demo["store"]["path"] = str(db)
    path.write_text(yaml.safe_dump(demo, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --- memory ------------------------------------------------------------------------------------------------------
def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    """Every descendant of pid (psutil is not installed: /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for k in kids:
            found += [k, *children(k)]
    return found


def role(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    return "resource_tracker" if "resource_tracker" in cmd else "worker"


@dataclass(slots=True)
class Sample:
    t: float  # seconds since the daemon started
    daemon_kb: int
    workers: dict[int, int]  # pid: VmRSS kB of each queue worker (two while a standby warms up)
    other_kb: int  # the resource tracker and anything else


# --- the run -----------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Published:
    title: str
    outlet: str
    critical: bool
    t0: float  # time.time()


@dataclass(slots=True)
class Results:
    minutes: float
    feeds: int
    rate: float
    published: list[Published] = field(default_factory=list)
    accepted: list[tuple[float, str]] = field(default_factory=list)  # (time.time(), Subject)
    samples: list[Sample] = field(default_factory=list)
    seeds: int = 0
    exit_code: int | None = None
    queue: dict[str, int] = field(default_factory=dict)
    clippings: int = 0
    first_seen: dict[str, float] = field(default_factory=dict)  # feed title: epoch seconds
    processed_at: dict[str, float] = field(default_factory=dict)  # feed title: epoch seconds (queue done)
    warm_s: float = 120.0
    stop_s: float = 0.0  # when publishing stopped, seconds since the daemon started
    log_summary: list[str] = field(default_factory=list)
    log_path: Path = Path()


def epoch(value: str) -> float:
    dt = datetime.fromisoformat(value)
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def read_store(db: Path, res: Results) -> None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        res.queue = {r["state"]: r["n"] for r in con.execute("SELECT state, count(*) AS n FROM queue GROUP BY state")}
        res.clippings = con.execute("SELECT count(*) FROM clip_clippings").fetchone()[0]
        for r in con.execute("SELECT feed_title, first_seen FROM discoveries WHERE feed_title IS NOT NULL"):
            res.first_seen[r["feed_title"]] = epoch(r["first_seen"])
        for r in con.execute("SELECT feed_title, updated_at FROM queue WHERE state = 'done' AND feed_title IS NOT NULL"):
            res.processed_at[r["feed_title"]] = epoch(r["updated_at"])
    finally:
        con.close()


def summarise_log(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    lines = text.splitlines()
    levels = Counter(m.group(1) for line in lines if (m := re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)))
    tracebacks = sum(1 for line in lines if line.startswith("Traceback"))
    out = [f"{len(lines)} lines; WARNING {levels['WARNING']}, ERROR {levels['ERROR']}, "
           f"CRITICAL {levels['CRITICAL']}, tracebacks {tracebacks}"]
    # the distinct messages, numbers and URLs masked so that the same warning about 200 feeds counts once
    kinds = Counter(re.sub(r"\d+", "N", re.sub(r"https?://\S+", "<url>", re.sub(r"^[\d-]+ [\d:,]+ ", "", line)))[:160]
                    for line in lines if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|^Traceback", line))
    out += [f"{n}x {msg}" for msg, n in kinds.most_common(8)]
    return out


def run(minutes: float, feeds: int, rate: float, critical: float, drain: float, log_path: Path,
        seed: int = 11) -> Results:
    rng = random.Random(seed)
    res = Results(minutes=minutes, feeds=feeds, rate=rate, warm_s=min(120.0, minutes * 60 / 3), log_path=log_path)
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmpdir:
        tmp = Path(tmpdir)
        langs = write_content(tmp / "content", feeds, rng)
        res.seeds = feeds
        with Newsroom(content_dir=tmp / "content") as newsroom, LoopbackSmtp() as smtp:
            accept = smtp._accept  # noqa: SLF001 - the moment the server takes the message is what we measure

            def on_accept(mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> None:
                accept(mail_from, rcpt_tos, raw)
                res.accepted.append((time.time(), str(smtp.messages[-1]["Subject"])))
            smtp._accept = on_accept  # noqa: SLF001

            db = tmp / "store.db"
            profile = tmp / "profile.yaml"
            write_profile(profile, newsroom.base_url, smtp.port, langs, db)
            env = dict(os.environ, PRESSWATCH_DB=str(db), PYTHONUNBUFFERED="1")
            with log_path.open("w", encoding="utf-8") as log:
                daemon = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", "presswatch.cli", "-v", "run", "--profile", str(profile), "--ops-port", "0"],
                    stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
                started = time.time()
                stop, publishing = threading.Event(), threading.Event()  # stop: everything; publishing: the feeder

                def feeder() -> None:
                    gap = 60.0 / (rate * feeds / 10)
                    n, ncrit = 0, 0
                    nxt = time.monotonic()
                    while not publishing.wait(max(0.0, nxt - time.monotonic())):
                        outlet = rng.choice(list(langs))
                        lang = langs[outlet]
                        if rng.random() < critical:
                            story = critical_story(ncrit, lang, rng)
                            ncrit += 1
                        else:
                            story = ordinary_story(n, lang, rng)
                        expect: dict[str, Any] = {"relevant": story.relevant, "critical": story.critical}
                        if story.critical:
                            expect |= {"officials": ["mayor"], "bodies": ["council"], "sentiment": "negative"}
                        t0 = time.time()
                        newsroom.add_article(outlet, f"soak-{n}", story.title, story.body, **expect)
                        res.published.append(Published(story.title, outlet, story.critical, t0))
                        n += 1
                        nxt += gap

                def sampler() -> None:
                    while True:
                        kids = children(daemon.pid)
                        workers = {k: rss_kb(k) for k in kids if role(k) == "worker"}
                        other = sum(rss_kb(k) for k in kids if role(k) == "resource_tracker")
                        res.samples.append(Sample(time.time() - started, rss_kb(daemon.pid), workers, other))
                        if stop.wait(SAMPLE_S) or daemon.poll() is not None:
                            return
                threading.Thread(target=sampler, name="rss", daemon=True).start()
                pub = threading.Thread(target=feeder, name="feeder", daemon=True)
                pub.start()
                try:
                    end = started + minutes * 60
                    while time.time() < end:
                        if daemon.poll() is not None:
                            raise SystemExit(f"the daemon exited early ({daemon.returncode}); see {log_path}")
                        time.sleep(1)
                    # Publishing stops; the daemon keeps running until every critical article has its alert (or
                    # `drain` minutes), so that the last articles' latency counts too. Memory is sampled until the end.
                    publishing.set()
                    pub.join(timeout=10)
                    res.stop_s = time.time() - started
                    deadline = time.time() + drain * 60
                    while time.time() < deadline and missing_alerts(res):
                        time.sleep(2)
                    res.samples.append(Sample(time.time() - started, rss_kb(daemon.pid),
                                              {k: rss_kb(k) for k in children(daemon.pid) if role(k) == "worker"},
                                              sum(rss_kb(k) for k in children(daemon.pid)
                                                  if role(k) == "resource_tracker")))
                finally:
                    stop.set()
                    publishing.set()
                    if daemon.poll() is None:
                        daemon.send_signal(signal.SIGTERM)
                    try:
                        res.exit_code = daemon.wait(timeout=180)
                    except subprocess.TimeoutExpired:
                        daemon.kill()
                        res.exit_code = daemon.wait()
            read_store(db, res)
    res.log_summary = summarise_log(log_path)
    return res


def squash(text: str) -> str:
    """Without whitespace: a long Subject is folded into encoded words and decoding it can drop or double a space
    (seen: "v častiDolná Hôrka", "stanici  (prípad 7)"), which must not count as a missing alert."""
    return re.sub(r"\s+", "", text)


def matches(title: str, subject: str) -> bool:
    return squash(title) in squash(subject)


def missing_alerts(res: Results) -> int:
    subjects = [s for _, s in res.accepted]
    return sum(1 for p in res.published if p.critical and not any(matches(p.title, s) for s in subjects))


# --- the report --------------------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def report(res: Results, tolerance: float) -> tuple[str, bool]:
    crit = [p for p in res.published if p.critical]
    alerts: list[tuple[Published, float]] = []
    for p in crit:
        when = next((t for t, s in res.accepted if matches(p.title, s)), None)
        if when is not None:
            alerts.append((p, when))
    e2e = [t - p.t0 for p, t in alerts]
    proc_alert = [t - res.first_seen[p.title] for p, t in alerts if p.title in res.first_seen]
    waits = [res.first_seen[p.title] - p.t0 for p in res.published if p.title in res.first_seen]
    proc_all = [res.processed_at[p.title] - res.first_seen[p.title] for p in res.published
                if p.title in res.processed_at and p.title in res.first_seen]
    new_done = sum(1 for p in res.published if p.title in res.processed_at)

    samples = res.samples
    start = next((s for s in samples if s.t >= res.warm_s), samples[-1])
    end = max((s for s in samples if s.t <= res.stop_s + 1), key=lambda s: s.t, default=samples[-1])
    middle = min(samples, key=lambda s: abs(s.t - (start.t + end.t) / 2))
    peak = max(samples, key=lambda s: s.daemon_kb)
    worker_pids = {pid for s in samples for pid in s.workers}
    growth = (end.daemon_kb - start.daemon_kb) / start.daemon_kb if start.daemon_kb else 0.0
    wstart, wend = sum(start.workers.values()), sum(end.workers.values())
    flat = growth < tolerance

    rows = ["| measure | value |", "|---|---:|",
            f"| duration (publishing) | {res.stop_s / 60:.1f} min (+ {(samples[-1].t - res.stop_s) / 60:.1f} min "
            f"drain) |",
            f"| feeds (outlets) | {res.feeds} |",
            f"| articles published during the run | {len(res.published)} ({len(crit)} critical; "
            f"{res.rate:g}/min per 10 feeds) + {res.seeds} seed articles |",
            f"| articles processed (queue done / failed / queued at stop) | {res.queue.get('done', 0)} / "
            f"{res.queue.get('failed', 0)} / {res.queue.get('queued', 0)}; clippings {res.clippings}; of the new "
            f"ones {new_done}/{len(res.published)} |",
            f"| alerts received (matched to a critical article / all mails) | {len(alerts)}/{len(crit)} / "
            f"{len(res.accepted)} |"]
    for name, values in (("alert latency, publish → SMTP accepted (end to end)", e2e),
                         ("  · wait-for-poll, publish → the daemon's poll saw it (all articles)", waits),
                         ("  · processing, poll saw it → SMTP accepted (alerts)", proc_alert),
                         ("  · processing, poll saw it → page processed (all articles)", proc_all)):
        if values:
            rows.append(f"| {name}: p50 / p95 / worst | {statistics.median(values):.1f} / {pct(values, 0.95):.1f} "
                        f"/ {max(values):.1f} s |")
    for label, s in (("start (after warm-up)", start), ("middle", middle), ("end", end)):
        rows.append(f"| RSS at {label}, t = {s.t / 60:.1f} min: daemon / worker(s) / resource tracker | "
                    f"{mb(s.daemon_kb)} / {mb(sum(s.workers.values()))} ({len(s.workers)}) / {mb(s.other_kb)} |")
    rows += [f"| RSS daemon peak | {mb(peak.daemon_kb)} at {peak.t / 60:.1f} min |",
             f"| daemon RSS end − start | {(end.daemon_kb - start.daemon_kb) / 1024:+.1f} MB ({growth:+.1%}) |",
             f"| worker RSS end − start | {(wend - wstart) / 1024:+.1f} MB; {len(worker_pids)} worker process(es) "
             f"seen (replaced every {settings.WORKER_MAX_BATCHES} batches) |",
             f"| daemon exit code after SIGTERM | {res.exit_code} |"]
    series = " ".join(f"{s.t / 60:.1f}m:{s.daemon_kb / 1024:.0f}/{sum(s.workers.values()) / 1024:.0f}"
                      for s in samples)
    verdict = "flat" if flat else "GROWING"
    text = "\n".join([
        f"## Soak: the daemon, {res.feeds} feeds, {res.minutes:g} minutes (bench/soak.py)", "",
        "The real daemon (`presswatch run`, a subprocess) against the local newsroom serving one RSS feed per "
        "generated outlet, while new articles appear; its memory (VmRSS of the daemon and of its queue worker "
        "processes, every 30 s) and the alert latency from publication to the loopback SMTP server accepting the "
        "alert.", "",
        machine(), "",
        *rows, "",
        f"Daemon memory: **{verdict}** (end − start {growth:+.1%}, tolerance {tolerance:.0%}).", "",
        f"RSS series (minute: daemon MB / workers MB): {series}", "",
        "Mails not matched to a critical article of the run: "
        + ("; ".join(f"`{subj}`" for _, subj in res.accepted
                     if not any(matches(p.title, subj) for p in crit)) or "none"), "",
        f"Daemon log ({res.log_path}): " + "; ".join(res.log_summary[:1]), "",
        *[f"- {line}" for line in res.log_summary[1:]], "",
        f"Reproduce: `.venv/bin/python bench/soak.py --minutes {res.minutes:g} --feeds {res.feeds} "
        f"--rate {res.rate:g}`", ""])
    return text, flat and res.exit_code == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="how long articles are published (default 15)")
    parser.add_argument("--feeds", type=int, default=200, help="feeds (one outlet each; default 200)")
    parser.add_argument("--rate", type=float, default=3.0, help="new articles per minute per 10 feeds (default 3)")
    parser.add_argument("--critical", type=float, default=0.2, help="share of new articles that are critical")
    parser.add_argument("--drain", type=float, default=4.0,
                        help="minutes the daemon keeps running after publishing stops, until every critical "
                             "article has its alert (default 4)")
    parser.add_argument("--tolerance", type=float, default=0.10, help="daemon RSS growth still called flat")
    parser.add_argument("--log", type=Path, default=Path("/tmp/soak-daemon.log"), help="the daemon's output")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    res = run(args.minutes, args.feeds, args.rate, args.critical, args.drain, args.log)
    text, ok = report(res, args.tolerance)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
