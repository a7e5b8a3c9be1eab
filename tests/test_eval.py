"""Quality floors of the enrichment stage, tied to a fingerprint of the evaluation data (STYLE.md 11).

The shared development set (../shared/eval/dev, skipped when absent) and the project's own set
(enrich/evalset) are enriched and scored; every overall metric must stay at or above its floor in
enrich/eval_floors.json. If the data changed, the floors are stale: the test says so instead of passing or failing
on numbers measured on other data. Regenerate deliberately with
`python -m presswatch.enrich.evaluate <set> --update-floors <dev|own>`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from presswatch.enrich.evaluate import (
    FLOORS_PATH,
    METRICS,
    MINIMUMS,
    EvalReport,
    below_minimums,
    evaluate,
    fingerprint,
    format_report,
)

REPO = Path(__file__).resolve().parents[1]
DEV = Path(__file__).resolve().parents[1].parent / "shared/eval/dev"
OWN = REPO / "enrich" / "evalset"
HELDOUT = REPO / "enrich" / "heldout"
HELDOUT2 = REPO / "enrich" / "heldout2"


def floors() -> dict[str, Any]:
    return json.loads(FLOORS_PATH.read_text(encoding="utf-8"))["sets"]


def check(report: EvalReport, name: str, minimums: bool = True) -> None:
    recorded = floors()[name]
    assert report.fingerprint == recorded["fingerprint"], (
        f"the {name} evaluation data changed since its floors were recorded; review the new figures and run "
        f"`python -m presswatch.enrich.evaluate {report.set_dir} --update-floors {name}`")
    below = {m: (report.overall[m], recorded["floors"][m]) for m in METRICS
             if report.overall[m] < recorded["floors"][m]}
    assert not below, f"{name}: below the floor (measured, floor): {below}\n{format_report(report, errors=True)}"
    # per language: the recorded floors (measured minus margin) and the issue's minimums, which hold for every
    # language on its own (a good language must not hide a weak one in the overall figure)
    per_lang = recorded["per_lang"]
    assert set(per_lang) == set(report.per_lang), f"{name}: languages changed; regenerate the floors"
    below_lang = {(lang, m): (report.per_lang[lang][m], per_lang[lang]["floors"][m])
                  for lang in report.per_lang for m in METRICS
                  if report.per_lang[lang][m] < per_lang[lang]["floors"][m]}
    assert not below_lang, f"{name}: a language fell below its floor (measured, floor): {below_lang}"
    low = below_minimums(report) if minimums else {}
    assert not low, f"{name}: below the acceptance minimums {MINIMUMS}: {low}\n{format_report(report, errors=True)}"


@pytest.fixture(scope="module")
def dev_report() -> EvalReport:
    if not DEV.is_dir():
        pytest.skip(f"{DEV} is absent: the shared development set sits beside the checkout only in CI")
    return evaluate(DEV)


@pytest.mark.shared_data
def test_dev_set_stays_above_its_floors(dev_report: EvalReport) -> None:
    check(dev_report, "dev")


@pytest.mark.shared_data
def test_dev_report_covers_every_language(dev_report: EvalReport) -> None:
    assert set(dev_report.per_lang) == {"sk", "cs", "lt", "tr", "mk", "en"}
    assert dev_report.counts["items"] == sum(1 for p in DEV.glob("*.jsonl") for line in p.open() if line.strip())
    text = format_report(dev_report)
    assert "overall" in text and all(lang in text for lang in dev_report.per_lang)
    data = dev_report.to_json()
    assert set(data["overall"]) == set(METRICS)
    json.dumps(data)  # serialisable


def test_own_set_stays_above_its_floors() -> None:
    check(evaluate(OWN), "own")


def test_held_out_set_does_not_regress() -> None:
    """The set written blind (enrich/heldout/README.md) is the honest estimate of quality on unseen text. It is
    reported, not tuned to: its floors guard against regressions, and the issue's minimums are not applied to it
    because meeting them would mean fitting the rules to these very items (its sentiment is 0.667, below 0.75;
    the gaps are named in docs/decisions.md)."""
    check(evaluate(HELDOUT), "heldout", minimums=False)


def test_second_held_out_set_does_not_regress() -> None:
    """The second set written blind (enrich/heldout2/README.md), after the first had been read. Its measurement on
    the day it was written (misleading recall 0.333, sentiment 0.717, critical F1 0.829) led to four general fixes
    (docs/decisions.md); like the first, it is guarded against regressions, not held to the issue's minimums."""
    check(evaluate(HELDOUT2), "heldout2", minimums=False)


def test_own_set_has_at_least_four_items_and_a_profile_per_language() -> None:
    for lang in ("sk", "cs", "lt", "tr", "mk", "en"):
        assert (OWN / f"{lang}.yaml").is_file()
        items = [json.loads(line) for line in (OWN / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
        assert len(items) >= 4 and all("gold" in i and i["gold"]["lang"] == lang for i in items)


def test_floors_record_the_fingerprint_of_the_data_they_were_measured_on() -> None:
    own = floors()["own"]
    assert own["fingerprint"] == fingerprint(OWN)
    assert set(own["floors"]) == set(METRICS)
    assert all(0.0 <= own["floors"][m] <= own["measured"][m] for m in METRICS)
    for lang in ("sk", "cs", "lt", "tr", "mk", "en"):
        rec = own["per_lang"][lang]
        assert all(0.0 <= rec["floors"][m] <= rec["measured"][m] for m in METRICS)


def test_the_recorded_minimums_are_the_issues() -> None:
    data = json.loads(FLOORS_PATH.read_text(encoding="utf-8"))
    assert data["minimums"] == MINIMUMS
    assert MINIMUMS == {"officials_p": 0.90, "officials_r": 0.90, "relevance_acc": 0.90, "critical_f1": 0.80,
                        "misleading_r": 0.70, "sentiment_acc": 0.75}


def test_a_weak_language_is_caught_even_when_the_overall_figure_passes() -> None:
    good = {m: 1.0 for m in METRICS}
    weak = dict(good, sentiment_acc=0.6875)
    report = EvalReport("x", "f", {"sk": good, "cs": weak, "en": good}, good, {"items": 48, "languages": 3})
    assert below_minimums(report) == {"cs": {"sentiment_acc": 0.6875}}


def test_a_changed_set_is_noticed(tmp_path: Path) -> None:
    for p in OWN.glob("sk.*"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    before = fingerprint(tmp_path)
    (tmp_path / "sk.jsonl").write_text((tmp_path / "sk.jsonl").read_text(encoding="utf-8") + "\n",
                                       encoding="utf-8")
    assert fingerprint(tmp_path) != before


def test_evaluate_refuses_a_folder_without_sets(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        evaluate(tmp_path)
