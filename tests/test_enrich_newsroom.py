"""The enricher on the project's newsroom (pipeline/newsroom/content, written by the newsroom's author): each
article carries an `expect` block and a `trap` tag. The traps must come out right; overall agreement must stay high.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from presswatch.enrich.cluster import assign_cluster, simhash
from presswatch.enrich.enricher import Enricher
from presswatch.enrich.evaluate import Counts, score_item
from presswatch.profile import load_profile

content = pytest.importorskip("presswatch.newsroom.content")
NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def results() -> list[tuple[Any, dict[str, Any]]]:
    enricher = Enricher.from_profile(load_profile("demo"))
    out = []
    for article in content.load_articles(content.load_outlets(), NOW):
        item = article.to_eval_item()
        given = {k: v for k, v in item.items() if k not in ("gold", "lang")}
        out.append((article, enricher.enrich_item(given)))
    return out


def by_trap(results: list[tuple[Any, dict[str, Any]]], trap: str) -> list[tuple[Any, dict[str, Any]]]:
    found = [(a, r) for a, r in results if a.expect.trap == trap]
    if not found:
        pytest.skip(f"the newsroom has no {trap!r} article (any more)")
    return found


def test_namesake_is_not_the_councillor(results: list[tuple[Any, dict[str, Any]]]) -> None:
    for article, r in by_trap(results, "namesake") + by_trap(results, "common_noun"):
        assert "councillor_mraz" not in r["officials"], article.key
        assert r["relevant"] == article.expect.relevant, article.key


def test_another_towns_mayor_is_not_ours(results: list[tuple[Any, dict[str, Any]]]) -> None:
    for article, r in by_trap(results, "other_mayor") + by_trap(results, "generic_mayor"):
        assert r["officials"] == [] and not r["relevant"], article.key
        assert not r["critical"], article.key


def test_title_only_mayor_is_found(results: list[tuple[Any, dict[str, Any]]]) -> None:
    for article, r in by_trap(results, "title_only"):
        assert set(article.expect.officials) <= set(r["officials"]), article.key
        assert r["relevant"], article.key
        assert all(r_["official"] == "mayor" for r_ in r["mentions"] if "official" in r_), article.key


def test_criticism_of_the_state_is_not_criticism_of_the_town(results: list[tuple[Any, dict[str, Any]]]) -> None:
    for article, r in by_trap(results, "national_criticism"):
        assert r["relevant"] and not r["critical"], article.key


def test_wrong_figures_and_anonymous_accusations_are_misleading(results: list[tuple[Any, dict[str, Any]]]) -> None:
    for article, r in by_trap(results, "wrong_fact") + by_trap(results, "anonymous_accusation"):
        assert r["misleading"] == article.expect.misleading, article.key
        for flag in r["flags"]:
            for reason in flag["reasons"]:
                src = article.title if reason["field"] == "title" else article.visible_text
                assert src[reason["start"]:reason["end"]] == reason["quote"]


def test_syndicated_copies_share_a_cluster(results: list[tuple[Any, dict[str, Any]]]) -> None:
    """Clustered in publication order, as the pipeline does: the edited copy joins the original's cluster and
    no unrelated article joins it."""
    copies = {a.key for a, _ in by_trap(results, "syndicated")}
    seen: list[tuple[str, str | None, int]] = []
    cluster_of: dict[str, str] = {}
    for a in sorted((a for a, _ in results), key=lambda a: (a.published, a.key)):
        fp = simhash(a.visible_text)
        cluster_of[a.key] = assign_cluster(a.key, fp, seen)
        seen.append((a.key, cluster_of[a.key], fp))
    clusters = {cluster_of[k] for k in copies}
    assert len(clusters) == 1, {k: cluster_of[k] for k in copies}
    assert {k for k, c in cluster_of.items() if c in clusters} == copies


def test_overall_agreement_with_the_newsroom(results: list[tuple[Any, dict[str, Any]]]) -> None:
    total = Counts()
    for article, r in results:
        item = article.to_eval_item()
        item["gold"].setdefault("mentions", [])
        c, _ = score_item(item, r)
        total.add(c)
    m = total.metrics()
    assert m["lang_acc"] >= 0.95
    assert m["relevance_acc"] >= 0.85
    assert m["officials_p"] >= 0.85 and m["officials_r"] >= 0.9
    assert m["critical_f1"] >= 0.8
    assert m["misleading_f1"] >= 0.8
