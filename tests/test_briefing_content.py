"""What the briefing says beyond tests/test_digest_briefing.py: the sections in the order issue #6 asks for, the
7-day tone trend against the week before, and top stories ranked by prominence and then outlet tier. Real
SqliteIndex and State in tmp_path; assertions on what must and must not appear (STYLE.md, 10)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from presswatch.digest.briefing import build_briefing
from presswatch.digest.i18n import LANGUAGES, locale
from presswatch.index.sqlite import SqliteIndex
from presswatch.state import State
from tests.conftest import REPO
from tests.test_digest_support import DAY, IN_WINDOW, NOW, audit_story, budget_claim, clip, demo_profile, park_xss

SECTIONS = ("section_numbers", "section_response", "section_top", "section_coverage", "section_sentiment",
            "section_sources")


@pytest.fixture
def week(store: tuple[State, SqliteIndex]) -> tuple[State, SqliteIndex]:
    """Today's news (3 negative, 1 neutral, 1 positive) and 14 clippings over the 7 days before, 3 negative."""
    state, index = store
    before = [clip(f"old-{i}", f"Staršia správa {i}", published=IN_WINDOW - timedelta(days=1 + i % 6, hours=i),
                   sentiment="negative" if i < 3 else "neutral") for i in range(14)]
    index.upsert(audit_story() + [budget_claim(), park_xss()] + before)
    return state, index


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sections_come_in_the_order_of_the_issue(week: tuple[State, SqliteIndex], lang: str) -> None:
    state, index = week
    briefing = build_briefing(demo_profile(25), index, state, DAY, lang, NOW)
    L = locale(lang)
    for part in (briefing.text, briefing.html):
        positions = [part.find(L.t(key)) for key in SECTIONS]
        assert -1 not in positions, f"{lang}: missing {[k for k, p in zip(SECTIONS, positions, strict=True) if p < 0]}"
        assert positions == sorted(positions), f"{lang}: sections out of order"


def test_tone_trend_shows_seven_days_and_the_negative_share_against_the_week_before(
        week: tuple[State, SqliteIndex]) -> None:
    state, index = week
    sk = build_briefing(demo_profile(25), index, state, DAY, "sk", NOW)
    trend = sk.text.split("Posledných 7 dní:\n", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^  (\d+\. \d+\. \d{4}): (.*)$", trend, flags=re.M)
    assert [d for d, _ in rows] == [f"{n}. 11. 2026" for n in range(16, 23)]  # oldest first, today last
    assert rows[-1][1] == "Negatívne 3, Neutrálne 1, Pozitívne 1"  # today's row is exactly the window
    assert rows[-2][1] == "Negatívne 1, Neutrálne 1, Pozitívne 0"
    # 3 of 5 today; 3 of the 14 clippings in the 7 days before
    assert "Podiel negatívnych: 60\u00a0% za posledných 24 hodín, 21\u00a0% za 7 dní predtým" in sk.text
    assert sk.html.count('title="Negatívne ') == 7  # one bar per day, its counts on hover
    assert "Podiel negatívnych: 60\u00a0%" in sk.html

    en = build_briefing(demo_profile(25), index, state, DAY, "en", NOW)
    assert "Last 7 days:" in en.text and "  22 November 2026: Negative 3, Neutral 1, Positive 1" in en.text
    assert "Negative share: 60% in the last 24 hours, 21% over the 7 days before" in en.text
    mk = build_briefing(demo_profile(25), index, state, DAY, "mk", NOW)
    assert "Последните 7 дена:" in mk.text and "  22.11.2026: Негативни 3, Неутрални 1, Позитивни 1" in mk.text
    assert "Удел на негативни: 60% во последните 24 часа, 21% во претходните 7 дена" in mk.text
    tr = build_briefing(demo_profile(25), index, state, DAY, "tr", NOW)
    assert "Olumsuz payı: son 24 saatte %60, önceki 7 günde %21" in tr.text


def test_a_quiet_week_has_no_average_to_compare_with(store: tuple[State, SqliteIndex]) -> None:
    state, index = store
    index.upsert([park_xss()])
    text = build_briefing(demo_profile(25), index, state, DAY, "en", NOW).text
    assert "Negative share: 0% in the last 24 hours, – over the 7 days before" in text
    assert "  16 November 2026: Negative 0, Neutral 0, Positive 0" in text


def test_empty_day_says_so_in_every_language(store: tuple[State, SqliteIndex]) -> None:
    state, index = store
    for lang in LANGUAGES:
        briefing = build_briefing(demo_profile(25), index, state, DAY, lang, NOW)
        sentence = locale(lang).t("empty_day", municipality="Stará Hôrka",
                                  time=locale(lang).datetime(briefing.period_end, demo_profile(25).tz))
        assert sentence in briefing.text and sentence in briefing.html
        assert locale(lang).t("section_top") not in briefing.text


def test_top_stories_rank_by_prominence_then_outlet_tier(store: tuple[State, SqliteIndex]) -> None:
    state, index = store
    index.upsert([
        clip("tier1-nobody", "Počasie v regióne", outlet="spravy24"),  # major outlet, nobody of ours named
        clip("tier3-title", "Primátor otvoril nový most", outlet="horcan", officials=["mayor"]),  # named in title
        clip("tier2-lead", "Zastupiteľstvo o cestách", outlet="hronske", bodies=["council"]),  # named in the lead
        clip("tier1-lead", "Služby opravili chodníky", outlet="spravy24", bodies=["tech_services"]),
    ])
    text = build_briefing(demo_profile(25), index, state, DAY, "sk", NOW).text
    top = text.split("== Hlavné témy ==\n", 1)[1].split("\n== ", 1)[0]
    order = [m.group(1) for m in re.finditer(r"^\d+\. (.+)$", top, flags=re.M)]
    assert order == ["Primátor otvoril nový most", "Služby opravili chodníky", "Zastupiteľstvo o cestách",
                     "Počasie v regióne"]


def test_digest_preview_for_a_given_date_writes_that_mornings_html(tmp_path: Path) -> None:
    """`presswatch digest preview --date D`, as a user runs it: the store from PRESSWATCH_DB, files in --out."""
    db = tmp_path / "presswatch.db"
    index = SqliteIndex(db)
    try:
        index.upsert(audit_story() + [budget_claim(), park_xss()])
    finally:
        index.close()
    env = {**os.environ, "PRESSWATCH_DB": str(db), "PRESSWATCH_LANG": "en"}
    out = tmp_path / "preview"
    proc = subprocess.run([sys.executable, "-m", "presswatch.cli", "digest", "preview", "--profile", "demo",
                           "--date", DAY.isoformat(), "--out", str(out)], env=env, capture_output=True, text=True,
                          timeout=120, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    page = (out / "briefing-2026-11-22-sk.html").read_text(encoding="utf-8")
    assert "nedeľa 22. novembra 2026" in page and "Primátor Hrušovský zatajil výsledky auditu" in page
    assert "&lt;script&gt;" in page and "<script" not in page.lower()
    assert (out / "briefing-2026-11-22-en.html").exists() and (out / "briefing-2026-11-22-sk.txt").exists()
