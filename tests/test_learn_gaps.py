"""The press office's model (enrich/learn.py) beyond critical: it learns misleading and relevance from judgements
given through the real feedback path, a decision it takes against the rules leaves a trace on the stored record
(Enrichment.overruled), and `presswatch status` shows the model.

The cases are constructed (our own wording, fictional Millbrook): they show the mechanism works where the rules
are systematically wrong, not how often that happens in real coverage."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from presswatch.cli import main
from presswatch.enrich import learn
from presswatch.enrich.enricher import Enricher, article_from_item
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import Profile, load_profile
from presswatch.records import Clipping, Enrichment
from presswatch.state import State
from tests.test_learn import _closure, _criticism

EVALSET = Path(__file__).resolve().parent.parent / "enrich" / "evalset"
PROFILE = EVALSET / "en.yaml"
Item = dict[str, Any]

OPPONENTS = ["Ashford Town", "Dover Athletic", "Hythe United", "Faversham Town", "Whitstable", "Deal Town",
             "Sittingbourne", "Tonbridge Angels", "Herne Bay", "Folkestone Invicta"]
PLAYERS = ["Jake Dunn", "Kieran Shaw", "Owen Price", "Luca Bell", "Sam Okafor", "Ryan Holt", "Callum Reid"]
BEERS = ["Mill Race Pale", "Riverside Stout", "Old Wheel Bitter", "Harvest Amber"]
SERVICES = ["the library", "the recycling centre", "the Riverside pool", "the museum", "the customer service desk"]
MONTHS = ["January", "February", "March", "April", "May", "June", "October", "November"]


def _item(cid: str, title: str, text: str, **gold: bool) -> Item:
    return {"id": cid, "url": f"https://example.co.uk/millbrook/{cid}", "title": title, "text": text,
            "outlet": "Millbrook Echo", "lang": "en", "published": "2026-09-10T09:00:00+01:00", "gold": gold}


# --- relevance: namesakes ---------------------------------------------------------------------------------------
def _namesake(rng: random.Random, i: int) -> Item:
    """The football club and the brewery carry the town's name; the rules count them as the town, the press office
    marks them not relevant."""
    opp, player, g, h = rng.choice(OPPONENTS), rng.choice(PLAYERS), rng.randint(0, 4), rng.randint(0, 3)
    if rng.random() < 0.75:
        title = rng.choice([f"Millbrook Rovers beat {opp} {g + 1}-{min(h, g)}", f"Millbrook Rovers held by {opp}",
                            f"{player} double sends Millbrook Rovers up the table",
                            f"Millbrook Rovers sign {player} from {opp}"])
        text = (f"Millbrook Rovers played {opp} on Saturday in the Southern League in front of {rng.randint(300, 900)}"
                f" fans. {player} scored in the {rng.randint(5, 89)}th minute and Millbrook manager Gary Lowe said the"
                f" squad was fitter than last season. Millbrook travel to {rng.choice(OPPONENTS)} next week.")
    else:
        beer = rng.choice(BEERS)
        title = rng.choice([f"Millbrook Brewery launches {beer}", f"Millbrook Brewery wins gold for {beer}",
                            "Millbrook Brewery opens a second taproom"])
        text = (f"Millbrook Brewery, the family firm that took the town's name in 1982, says {beer} sold"
                f" {rng.randint(2, 9)},000 pints in its first month. Millbrook's head brewer Anna Kerr said the"
                f" taproom in Canterbury would open on Fridays and Saturdays.")
    return _item(f"namesake-{i}", title, text, relevant=False)


def _town(rng: random.Random, i: int) -> Item:
    """Town news (some of it about the club's ground, which is the council's business): relevant."""
    service, month = rng.choice(SERVICES), rng.choice(MONTHS)
    kind = rng.random()
    if kind < 0.25:
        title = rng.choice(["Council approves new lease for Millbrook Rovers ground",
                            "Millbrook Rovers ground: council to repair the stand"])
        text = (f"Millbrook District Council's cabinet agreed on Tuesday to a {rng.randint(10, 30)}-year lease of"
                f" the council-owned ground used by Millbrook Rovers. Deputy Mayor Tom Ashworth said the rent would"
                f" fund pitches for schools. The decision goes to full council in {month}.")
    elif kind < 0.6:
        title = rng.choice([f"Longer opening hours for {service} from {month}",
                            f"Millbrook to open {service} on Sundays"])
        text = (f"Millbrook District Council will keep {service} open until 8pm from {month}, Councillor Dev Patel"
                f" said. Residents asked for the change in the council's survey, which {rng.randint(200, 900)}"
                f" people answered.")
    else:
        title = rng.choice([f"Millbrook tree planting reaches {rng.randint(2, 9)},000",
                            "Millbrook council tax bills go out this week",
                            f"Millbrook sets date for town centre consultation in {month}"])
        text = (f"Millbrook District Council said residents can comment until the end of {month}. Mayor Sarah"
                f" Pennington said the council wanted to hear from young people in particular.")
    return _item(f"town-{i}", title, text, relevant=True)


# --- misleading: announced changes vs wrong figures and rumours -------------------------------------------------
def _announced(rng: random.Random, i: int) -> Item:
    """A correctly reported change the council announced: the rules see a figure that contradicts the current
    record and flag it misleading; the press office says it is not."""
    fee, month = rng.randint(55, 64), rng.choice(MONTHS)
    title = rng.choice(["Garden waste charge to rise next year", f"Green bin fee goes up from {month}",
                        "Council agrees higher garden waste charge"])
    text = (f"Millbrook District Council has agreed that the garden waste collection charge will rise to £{fee} a"
            f" year from {month}, the council said. Councillor Dev Patel said the increase covers fuel costs and"
            f" that the current charge applies until then.")
    return _item(f"announced-{i}", title, text, misleading=False)


def _wrong(rng: random.Random, i: int) -> Item:
    """A wrong figure stated as fact (misleading), or a rumour about the pool the records cannot contradict."""
    if rng.random() < 0.6:
        fee = rng.choice([68, 72, 75, 80, 85, 90])
        title = rng.choice(["Garden waste bins: what you pay", "Residents angry at garden waste charge",
                            "How much is the green bin?"])
        text = (f"Millbrook District Council charges £{fee} a year for garden waste collection, one of the highest"
                f" fees in the county, residents were told at a meeting. Councillor Fiona Grant said the charge was"
                f" unfair.")
    else:
        title = rng.choice(["Riverside pool may never open, insiders claim", "Pool opening scrapped, sources say",
                            "Riverside pool: rumours of indefinite delay"])
        text = (f"Millbrook's Riverside swimming pool will not open this year and may be sold, according to"
                f" {rng.randint(2, 5)} people who asked not to be named. Millbrook District Council did not respond"
                f" to requests for comment on Friday.")
    return _item(f"wrong-{i}", title, text, misleading=True)


def _pool_news(rng: random.Random, i: int) -> Item:
    """Ordinary news about the pool and the council's services (not misleading)."""
    month = rng.choice(MONTHS)
    title = rng.choice(["Swimming lessons at Riverside pool start soon", "Riverside pool sets timetable",
                        f"Millbrook library extends hours from {month}"])
    text = (f"Millbrook District Council published the timetable for lessons and public sessions, starting in"
            f" {month}. Mayor Sarah Pennington said demand for lessons was high and more sessions would follow.")
    return _item(f"pool-{i}", title, text, misleading=False)


# --- helpers ----------------------------------------------------------------------------------------------------
def _own(field: str) -> list[Item]:
    rows = [json.loads(line) for line in (EVALSET / "en.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if field in r.get("gold", {})]


def _build(makers: list[tuple[Callable[[random.Random, int], Item], int]], seed: int) -> list[Item]:
    rng = random.Random(seed)
    items = [make(rng, i) for make, n in makers for i in range(n)]
    rng.shuffle(items)
    return items


def _index_with_rules(profile: Profile, index: SqliteIndex, items: list[Item]) -> dict[str, Clipping]:
    rules = Enricher.from_profile(profile)
    clippings = {}
    for item in items:
        article = article_from_item(item)
        clippings[article.id] = Clipping(article=article, enrichment=rules.enrich(article), municipality=profile.id)
    index.upsert(clippings.values())
    return clippings


def _accuracy(pairs: list[tuple[bool, bool]]) -> float:
    return sum(1 for got, gold in pairs if got == gold) / len(pairs)


def _value(e: Enrichment, field: str) -> bool:
    return bool(getattr(e, field))


def _learn_and_measure(store: tuple[State, SqliteIndex], field: str, built: list[Item]
                       ) -> tuple[dict[str, tuple[float, float, int]], Enricher, list[Item]]:
    """Index the items with the rules, give the press office's judgements of `field` on every other item (through
    State.feedback_add and learn.train, as `presswatch feedback` does), and measure the held-out items before and
    after: {subset: (rules accuracy, learned accuracy, n)}."""
    state, index = store
    profile = load_profile(PROFILE)
    own = _own(field)
    items = own + built
    train_items, held_out = items[0::2], items[1::2]
    clippings = _index_with_rules(profile, index, items)
    for item in train_items:
        state.feedback_add(str(item["id"]), profile.id, field, bool(item["gold"][field]), "press office")
    model = learn.train(profile.id, state, index)
    assert field in model.fields, model.counts
    learned = Enricher.from_profile(profile, learned=learn.load(state.path, profile.id))
    figures = {}
    for name, subset in (("own evalset", [i for i in held_out if i in own]),
                         ("built case", [i for i in held_out if i not in own]), ("all held out", held_out)):
        before, after = [], []
        for item in subset:
            gold = bool(item["gold"][field])
            article = article_from_item(item)
            before.append((_value(clippings[article.id].enrichment, field), gold))
            after.append((_value(learned.enrich(article), field), gold))
        figures[name] = (_accuracy(before), _accuracy(after), len(subset))
        print(f"{field}, {name} (n={len(subset)}): rules acc {figures[name][0]:.3f} -> learned acc"
              f" {figures[name][1]:.3f}")
    return figures, learned, held_out


# --- 1. misleading is learned -----------------------------------------------------------------------------------
def test_misleading_judgements_are_learned_and_leave_a_trace(store: tuple[State, SqliteIndex]) -> None:
    built = _build([(_announced, 40), (_wrong, 40), (_pool_news, 20)], seed=11)
    figures, learned, held_out = _learn_and_measure(store, "misleading", built)
    own, case, total = figures["own evalset"], figures["built case"], figures["all held out"]
    assert case[0] < 0.8 and case[1] > case[0] + 0.15  # the rules misjudge the case; the model fixes most of it
    assert own[1] >= own[0] and total[1] > total[0]  # and does not hurt the labelled items

    removed = added = 0
    for item in held_out:
        analysis = learned.analyse(article_from_item(item))
        e = analysis.enrichment
        traces = [o for o in e.overruled if o.field == "misleading"]
        if traces and not traces[0].model:  # the rules' misleading flag was removed: the record says so
            removed += 1
            assert not e.misleading and traces[0].rules and 1 - traces[0].probability >= 0.8
        if traces and traces[0].model:  # a flag the model raised explains itself
            added += 1
            flag = next(f for f in e.flags if f.type == "misleading")
            assert [r.cue for r in flag.reasons] == [f"press office judgements (p={traces[0].probability:.2f})"]
            assert e.relevant
        assert analysis.adjusted == e.overruled
    print(f"misleading flags removed {removed}, raised {added}")
    assert removed >= 10 and added >= 5, (removed, added)


# --- 2. relevance gain on namesakes -----------------------------------------------------------------------------
def test_relevance_corrections_fix_namesakes_without_hurting_town_news(store: tuple[State, SqliteIndex]) -> None:
    built = _build([(_namesake, 50), (_town, 50)], seed=7)
    figures, learned, held_out = _learn_and_measure(store, "relevant", built)
    own, case = figures["own evalset"], figures["built case"]
    assert case[0] <= 0.6 and case[1] >= 0.9  # the rules take every namesake for the town
    assert own[1] >= own[0]
    # no held-out item the rules judged right is made wrong (town news, the club's ground, the labelled items)
    rules = Enricher.from_profile(load_profile(PROFILE))
    for item in held_out:
        article = article_from_item(item)
        gold = bool(item["gold"]["relevant"])
        if rules.enrich(article).relevant == gold:
            assert learned.enrich(article).relevant == gold, item["title"]
    flipped = [learned.enrich(article_from_item(i)) for i in held_out if str(i["id"]).startswith("namesake")]
    traces = [o for e in flipped for o in e.overruled if o.field == "relevant"]
    assert traces and all(o.rules and not o.model for o in traces)


# --- 3. the trace survives the store and is shown by search --json ----------------------------------------------
def _closures_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Profile, list[Item]]:
    db = tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(db))
    profile = load_profile(PROFILE)
    rng = random.Random(4)
    items = [_closure(rng, i) for i in range(30)] + [_criticism(rng, i) for i in range(30)]
    index, state = SqliteIndex(db), State(db)
    try:
        _index_with_rules(profile, index, items)
        for item in items:
            state.feedback_add(str(item["id"]), profile.id, "critical", bool(item["gold"]["critical"]), "jana")
    finally:
        index.close()
        state.close()
    return db, profile, items


def test_a_removed_critical_flag_is_traced_through_the_index_and_search(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db, profile, _ = _closures_store(tmp_path, monkeypatch)
    prof = str(PROFILE)
    assert main(["--ui-lang", "en", "feedback", "--profile", prof, "--train"]) == 0
    out = capsys.readouterr().out
    assert "Learned critical from 30 yes / 30 no" in out and "critical: cross-validated accuracy" in out
    model = learn.load(db, profile.id)
    assert model is not None

    # a new road-closure notice arrives: the rules flag it critical, the model removes the flag
    notice = article_from_item(_closure(random.Random(99), 999))
    assert Enricher.from_profile(profile).enrich(notice).critical
    enriched = Enricher.from_profile(profile, learned=model).enrich(notice)
    assert not enriched.critical
    index = SqliteIndex(db)
    try:
        index.upsert([Clipping(article=notice, enrichment=enriched, municipality=profile.id)])
    finally:
        index.close()
    index = SqliteIndex(db)  # a fresh connection: what was stored, not what is cached
    try:
        stored = index.get(notice.id)
    finally:
        index.close()
    assert stored is not None and not stored.enrichment.critical
    (trace,) = stored.enrichment.overruled
    assert (trace.field, trace.rules, trace.model) == ("critical", True, False)
    assert trace.probability <= 0.2 and trace.trained_at == model.trained_at and trace.judgements == 60

    assert main(["--ui-lang", "en", "search", "--profile", prof, "--json", "--limit", "100", "resurfacing"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    doc = next(h["clipping"] for h in hits if h["clipping"]["id"] == notice.id)
    assert doc["critical"] is False
    assert doc["overruled"] == [{"field": "critical", "rules": True, "model": False,
                                 "probability": trace.probability, "trained_at": model.trained_at.isoformat(),
                                 "judgements": 60}]
    untouched = [h["clipping"] for h in hits if h["clipping"]["id"] != notice.id]
    assert untouched and all(c["overruled"] == [] for c in untouched)  # indexed by the rules alone
    assert enriched.to_json()["overruled"][0]["field"] == "critical"


# --- 4. status shows the model ----------------------------------------------------------------------------------
def test_status_shows_the_learned_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _closures_store(tmp_path, monkeypatch)
    prof = str(PROFILE)
    assert main(["--ui-lang", "en", "status", "--profile", prof]) == 0
    assert "Learned model: none yet (60 judgements" in capsys.readouterr().out
    assert main(["--ui-lang", "en", "status", "--profile", prof, "--json"]) == 0
    before = json.loads(capsys.readouterr().out)["model"]
    assert before["exists"] is False and before["judgements_now"] == 60 and before["fields"] == {}

    assert main(["--ui-lang", "en", "feedback", "--profile", prof, "--train"]) == 0
    capsys.readouterr()
    assert main(["--ui-lang", "en", "status", "--profile", prof, "--json"]) == 0
    model = json.loads(capsys.readouterr().out)["model"]
    assert model["exists"] is True and model["trained_at"] and model["judgements_at_training"] == 60
    crit = model["fields"]["critical"]
    assert crit["active"] is True and (crit["yes"], crit["no"]) == (30, 30)
    assert crit["cv_accuracy"] > crit["rules_accuracy"] and 0.0 <= crit["rules_accuracy"] <= 1.0
    assert model["fields"]["relevant"] == {"yes": 0, "no": 0, "active": False, "cv_accuracy": None,
                                           "rules_accuracy": None}
    assert model["fields"]["misleading"]["active"] is False

    assert main(["--ui-lang", "en", "status", "--profile", prof]) == 0
    text = capsys.readouterr().out
    assert "Learned model: trained " in text and "on 60 judgements (0 new since)" in text
    assert "critical    adjusts the rules: 30 yes / 30 no; cross-validated accuracy" in text
    assert "relevant    the rules stand: 0 yes / 0 no (20 of each needed)" in text
    assert main(["--ui-lang", "sk", "status", "--profile", prof]) == 0
    assert "Naučený model: natrénovaný" in capsys.readouterr().out


def test_status_reports_an_unreadable_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    db, profile, _ = _closures_store(tmp_path, monkeypatch)
    learn.model_path(db, profile.id).write_text(json.dumps({"format": 0}), encoding="utf-8")
    assert main(["--ui-lang", "en", "status", "--profile", str(PROFILE)]) == 0
    assert "Learned model: cannot be read (learned model written by another version" in capsys.readouterr().out


def test_training_sees_the_rules_decisions_not_the_models() -> None:
    """A clipping stored after the model overruled the rules is learned from as the rules saw it, so that training
    and application agree (the model is applied to the rules' decisions)."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from presswatch.records import Overruled

    profile = load_profile(PROFILE)
    article = article_from_item(_closure(random.Random(1), 1))
    rules = Enricher.from_profile(profile).enrich(article)
    assert rules.critical
    at = datetime(2026, 9, 1, tzinfo=UTC)
    removed = replace(rules, flags=tuple(f for f in rules.flags if f.type != "critical"),
                      overruled=(Overruled("critical", True, False, 0.05, at, 40),))
    raised = replace(rules, flags=(*rules.flags, learn.learned_flag(article, 0.9, "misleading")),
                     overruled=(Overruled("misleading", False, True, 0.9, at, 40),))
    as_rules = learn.example_from_clipping(Clipping(article, rules, profile.id))
    for enrichment in (removed, raised):
        ex = learn.example_from_clipping(Clipping(article, enrichment, profile.id))
        assert ex.critical and not ex.misleading
        assert not any(q == article.title for q in ex.quotes if q not in as_rules.quotes)
    assert learn.example_from_clipping(Clipping(article, raised, profile.id)) == as_rules
