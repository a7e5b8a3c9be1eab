"""Learning from the press office (enrich/learn.py): judgements are kept with their history, a model trained on them
adjusts the rules only with enough data, and it measurably improves held-out decisions."""

from __future__ import annotations

import json
import random
from pathlib import Path

from presswatch.enrich import learn
from presswatch.enrich.enricher import Enricher, article_from_item
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import load_profile
from presswatch.records import Clipping
from presswatch.state import State

EVALSET = Path(__file__).resolve().parent.parent / "enrich" / "evalset"
STREETS = ["Mill Lane", "Station Road", "Church Street", "Bridge Street", "Queens Road", "Park Avenue", "Water Lane",
           "Kings Road", "Victoria Street", "North Street", "Orchard Way", "Fenn Road"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
TOPICS = ["the bus station refurbishment", "the new library", "the leisure centre contract", "the parking scheme",
          "the housing plan", "the flood defences", "the school meals contract", "the town hall repairs"]


def _closure(rng: random.Random, i: int) -> dict[str, object]:
    """Millbrook's routine weekly road-closure notice: the rules read its complaints and delays as criticism, the
    press office does not (gold: not critical)."""
    s, d, n = rng.choice(STREETS), rng.choice(DAYS), rng.randint(10, 40)
    title = rng.choice([f"Roadworks this week: {s} closed from {d}", f"{s} to close for resurfacing on {d}",
                        f"Weekly road closures: {s} shut from {d}"])
    text = (f"Millbrook District Council will close {s} from {d} for resurfacing. Drivers should expect delays of up"
            f" to {n} minutes and follow the signed diversion. Residents complained about noise during similar works"
            f" last year, the council said. Deputy Mayor Tom Ashworth said the road would reopen within a week.")
    return _item(f"closure-{i}", title, text, critical=False)


def _criticism(rng: random.Random, i: int) -> dict[str, object]:
    """Real criticism of the council, with the same words of delay and complaint (gold: critical)."""
    topic, n = rng.choice(TOPICS), rng.randint(2, 9)
    title = rng.choice([f"Opposition slams council over {topic}", f"Residents furious at delays to {topic}",
                        f"Auditors criticise Millbrook over {topic}"])
    text = (f"Councillor Fiona Grant accused Millbrook District Council of wasting money on {topic}, which is"
            f" {n} months behind schedule and over budget. Residents complained that nobody answered their letters"
            f" and a petition against the delays has gathered {n * 100} signatures. Mayor Sarah Pennington said"
            f" the council would publish a timetable.")
    return _item(f"crit-{i}", title, text, critical=True)


def _item(cid: str, title: str, text: str, critical: bool) -> dict[str, object]:
    return {"id": cid, "url": f"https://example.co.uk/millbrook/{cid}", "title": title, "text": text,
            "outlet": "Millbrook Echo", "lang": "en", "published": "2026-09-10T09:00:00+01:00",
            "gold": {"relevant": True, "critical": critical}}


def _f1(pairs: list[tuple[bool, bool]]) -> float:
    tp = sum(1 for got, gold in pairs if got and gold)
    fp = sum(1 for got, gold in pairs if got and not gold)
    fn = sum(1 for got, gold in pairs if not got and gold)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _accuracy(pairs: list[tuple[bool, bool]]) -> float:
    return sum(1 for got, gold in pairs if got == gold) / len(pairs)


def test_feedback_keeps_history_and_the_latest_judgement_wins(store: tuple[State, SqliteIndex]) -> None:
    state, _ = store
    state.feedback_add("c1", "millbrook", "critical", True, "jana")
    state.feedback_add("c1", "millbrook", "critical", False, "peter", note="routine notice")
    state.feedback_add("c1", "millbrook", "relevant", True, "peter")
    state.feedback_add("c1", "elsewhere", "critical", True, "x")
    assert state.feedback_latest("millbrook") == {"c1": {"critical": False, "relevant": True}}
    history = state.feedback_history("millbrook")
    assert [(r["judged_by"], r["field"], r["value"]) for r in history] == [
        ("peter", "relevant", 1), ("peter", "critical", 0), ("jana", "critical", 1)]
    assert history[1]["note"] == "routine notice" and history[1]["judged_at"]
    assert state.feedback_count("millbrook") == 3


def test_learning_from_the_press_office_improves_held_out_decisions(
        store: tuple[State, SqliteIndex], capsys: object) -> None:
    state, index = store
    profile = load_profile(EVALSET / "en.yaml")
    rules = Enricher.from_profile(profile)
    rng = random.Random(4)
    own = [json.loads(line) for line in (EVALSET / "en.jsonl").read_text(encoding="utf-8").splitlines() if line]
    built = [_closure(rng, i) for i in range(50)] + [_criticism(rng, i) for i in range(50)]
    rng.shuffle(built)
    items = own + built
    # every other item trains, the rest is held out (the own items split the same way)
    train_items, held_out = items[0::2], items[1::2]
    clippings = {}
    for item in items:
        article = article_from_item(item)
        clippings[article.id] = Clipping(article=article, enrichment=rules.enrich(article), municipality=profile.id)
    index.upsert(clippings.values())

    # too few judgements: the rules stand
    for item in train_items[:10]:
        state.feedback_add(str(item["id"]), profile.id, "critical", bool(item["gold"]["critical"]), "press office")
    few = learn.train(profile.id, state, index)
    assert few.fields == {} and learn.load(state.path, profile.id) is not None

    for item in train_items[10:]:
        state.feedback_add(str(item["id"]), profile.id, "critical", bool(item["gold"]["critical"]), "press office")
    model = learn.train(profile.id, state, index)
    assert "critical" in model.fields and "relevant" not in model.fields  # relevance was not judged
    learned = Enricher.from_profile(profile, learned=learn.load(state.path, profile.id))

    def measure(subset: list[dict[str, object]]) -> tuple[list[tuple[bool, bool]], list[tuple[bool, bool]]]:
        before, after = [], []
        for item in subset:
            gold = bool(item["gold"]["critical"])  # type: ignore[index]
            article = article_from_item(item)
            before.append((clippings[article.id].enrichment.critical, gold))
            after.append((learned.enrich(article).critical, gold))
        return before, after

    figures = {}
    for name, subset in (("own evalset (en)", [i for i in held_out if i in own]),
                         ("built case: road closures + criticism", [i for i in held_out if i not in own]),
                         ("all held out", held_out)):
        before, after = measure(subset)
        figures[name] = (_accuracy(before), _f1(before), _accuracy(after), _f1(after), len(subset))
        print(f"critical, {name} (n={len(subset)}): rules acc {figures[name][0]:.3f} F1 {figures[name][1]:.3f}"
              f" -> learned acc {figures[name][2]:.3f} F1 {figures[name][3]:.3f}")
    own_fig, built_fig, all_fig = figures["own evalset (en)"], figures["built case: road closures + criticism"], \
        figures["all held out"]
    assert own_fig[2] >= own_fig[0] and own_fig[3] >= own_fig[1]  # the model does not hurt the labelled items
    assert built_fig[2] > built_fig[0] and built_fig[3] > built_fig[1]  # and fixes what the rules get wrong
    assert all_fig[3] > all_fig[1]


def test_feedback_command_records_lists_and_trains(tmp_path: Path, monkeypatch: object, capsys: object) -> None:
    from presswatch.cli import main

    db = tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(db))  # type: ignore[attr-defined]
    profile = load_profile(EVALSET / "en.yaml")
    article = article_from_item(_item("c1", "Mill Lane closed from Monday", "Millbrook District Council closes it.",
                                      False))
    index = SqliteIndex(db)
    index.upsert([Clipping(article=article, enrichment=Enricher.from_profile(profile).enrich(article),
                           municipality=profile.id)])
    index.close()
    prof = str(EVALSET / "en.yaml")
    assert main(["--ui-lang", "en", "feedback", "--profile", prof, "c1", "--critical", "no", "--by", "jana",
                 "--note", "routine"]) == 0
    assert main(["--ui-lang", "en", "feedback", "--profile", prof, "nope", "--critical", "no"]) == 1
    assert main(["--ui-lang", "en", "feedback", "--profile", prof]) == 2
    assert main(["--ui-lang", "en", "feedback", "--profile", prof, "--list", "--train"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "c1: critical = no (by jana)" in out and "by jana  (routine)" in out
    assert "critical: the rules stand (0 yes / 1 no" in out
    assert learn.model_path(db, profile.id).exists()
