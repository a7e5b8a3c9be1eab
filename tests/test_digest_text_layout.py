"""The plain-text parts people read on a phone keep one item per line: an inline `{% if %}…{% endif %}` at the end of
a template line swallows that line's newline (the environments use trim_blocks), which once glued a second flag
reason onto the end of the first one's official record."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from presswatch.digest.alerts import Alerter
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import AlertRule
from presswatch.records import Flag, Reason
from presswatch.state import State
from tests.test_digest_support import clip, demo_profile, text_part

TEMPLATES = Path(__file__).resolve().parents[1] / "digest" / "templates"
# Text, then a block tag that closes the line: the newline after it is trimmed.
INLINE_BLOCK_AT_END = re.compile(r"\S.*{%-?\s*(?:endif|endfor|else|elif\b.*)\s*-?%}\s*$")


def test_no_text_template_ends_a_printed_line_with_a_block_tag() -> None:
    offenders = [f"{p.name}:{n}: {line}" for p in sorted(TEMPLATES.glob("*.txt.j2"))
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if INLINE_BLOCK_AT_END.match(line) and not line.lstrip().startswith("{%")]
    assert offenders == []


def test_each_reason_of_an_alert_starts_its_own_line(tmp_path: Path) -> None:
    quotes = ("Rozpočet mesta je 30 miliónov eur.", "Mesto hospodári s rozpočtom 30 miliónov eur.")
    record = "Schválený rozpočet mesta na rok 2026 je 24,8 mil. EUR."
    flag = Flag("misleading", 0.6, tuple(Reason(cue="30 miliónov eur", quote=q, field="text", start=0, end=len(q),
                                                record=record, fact_id="budget_2026",
                                                record_url="https://stara-horka.example/rozpocet")
                                         for q in quotes))
    clipping = clip("rozpocet-2", "Rozpočet 30 miliónov", flags=[flag])
    state = State(tmp_path / "store.db")
    try:
        with SqliteIndex(tmp_path / "store.db") as index:
            index.upsert([clipping])
            alerter = Alerter.from_profile(demo_profile(2525), state, index)
            msg = alerter.message(clipping, [AlertRule(id="misleading-any", flag="misleading")], ["k"], "sk",
                                  ["tlacove@stara-horka.example"], datetime(2026, 11, 22, 9, 30, tzinfo=UTC))
    finally:
        state.close()
    lines = text_part(msg).splitlines()
    cue_lines = [line for line in lines if "30 miliónov eur" in line and line.lstrip().startswith("-")]
    assert len(cue_lines) == 2, lines
    record_lines = [line for line in lines if record in line]
    assert len(record_lines) == 2 and all(line.rstrip().endswith("(https://stara-horka.example/rozpocet)")
                                          for line in record_lines), lines
    assert lines[1] == "", "the heading stands on its own line, then a blank line"
