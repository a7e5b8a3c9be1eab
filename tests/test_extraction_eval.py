"""Extraction quality floors in CI, tied to the sha256 of each corpus's ground truth (STYLE.md 11).

Scores our extraction on ../shared/data/extraction (skipped when absent): Zyte benchmark body F1 (with bare
trafilatura on the same pages, in the same run), trafilatura's must/must-not snippets on a fixed subset (every
Nth page in sorted order, N from the floors file: the full 990 pages take over a minute), fundus title/date/
author accuracy. A figure below its floor fails; a changed ground-truth file fails as stale floors. Regenerate
deliberately with `python -m presswatch.enrich.extraction_eval --update-floors`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from presswatch.enrich.extraction_eval import (
    FLOOR_METRICS,
    GROUND_TRUTH,
    ZYTE_F1_PUBLISHED_FLOOR,
    CorpusReport,
    check_floors,
    format_report,
    load_floors,
    score_fundus,
    score_trafilatura,
    score_zyte,
    sha256_file,
)
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def data() -> Path:
    return shared_path("data", "extraction")


@pytest.fixture(scope="module")
def reports(data: Path) -> dict[str, CorpusReport]:
    every = load_floors()["trafilatura_every"]
    return {"zyte": score_zyte(data, baseline=True),
            "trafilatura": score_trafilatura(data, every=every, baseline=False),
            "fundus": score_fundus(data)}


@pytest.mark.shared_data
def test_extraction_stays_above_its_floors_on_the_data_they_were_measured_on(
        reports: dict[str, CorpusReport]) -> None:
    problems = check_floors(reports)
    assert not problems, "\n".join(problems) + "\n" + format_report(reports)


@pytest.mark.shared_data
def test_zyte_body_f1_is_not_below_bare_trafilatura(reports: dict[str, CorpusReport]) -> None:
    zyte = reports["zyte"]
    assert zyte.bare is not None
    assert zyte.ours["f1"] >= zyte.bare["f1"], format_report({"zyte": zyte})
    assert zyte.ours["f1"] >= ZYTE_F1_PUBLISHED_FLOOR


@pytest.mark.shared_data
def test_fingerprints_are_of_the_ground_truth_files(data: Path) -> None:
    recorded = load_floors()["corpora"]
    for name, rel in GROUND_TRUTH.items():
        assert recorded[name]["ground_truth"] == rel
        assert recorded[name]["sha256"] == sha256_file(data / rel), f"{rel} changed: re-measure the floors"


def test_floors_file_is_complete_and_below_what_was_measured() -> None:
    recorded = load_floors()
    assert recorded["trafilatura_every"] >= 1
    for name, metrics in FLOOR_METRICS.items():
        rec = recorded["corpora"][name]
        assert set(rec["floors"]) == set(metrics) and len(rec["sha256"]) == 64
        assert all(0.0 < rec["floors"][m] <= rec["measured"][m] for m in metrics)
    assert recorded["corpora"]["zyte"]["floors"]["f1"] >= ZYTE_F1_PUBLISHED_FLOOR


def test_a_changed_ground_truth_is_reported_as_stale_floors() -> None:
    fake = CorpusReport("fundus", "0" * 64, 1, {"title_acc": 1.0, "date_day_acc": 1.0, "authors_acc": 1.0})
    problems = check_floors({"fundus": fake})
    assert problems and "changed since the floors were recorded" in problems[0]
    rec = load_floors()["corpora"]["fundus"]
    low = CorpusReport("fundus", rec["sha256"], 1, {**rec["measured"], "title_acc": 0.1})
    assert check_floors({"fundus": low}) == [f"fundus: title_acc 0.1000 is below its floor {rec['floors']['title_acc']:.4f}"]
