"""The morning briefing end to end on real parts: SqliteIndex and State in one SQLite file in tmp_path, delivery to
an aiosmtpd server on 127.0.0.1, messages parsed back with the `email` library."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest

from presswatch.digest.briefing import briefing_window, build_briefing, preview, send_briefing
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import Digest
from presswatch.state import State
from tests.test_digest_support import (
    DAY,
    IN_WINDOW,
    MUNI,
    NOW,
    SEND_AT_UTC,
    audit_story,
    budget_claim,
    clip,
    critical,
    demo_profile,
    free_port,
    html_part,
    park_xss,
    text_part,
)


@pytest.fixture
def day_of_news(store: tuple[State, SqliteIndex]) -> tuple[State, SqliteIndex]:
    state, index = store
    before = [clip(f"old-{i}", f"Staršia správa {i}", published=IN_WINDOW - timedelta(days=1 + i % 6, hours=i),
                   flags=[critical(0.5, "škandál", "Škandál.")] if i == 0 else (),
                   sentiment="negative" if i < 3 else "neutral") for i in range(14)]
    outside = [
        clip("after", "Po uzávierke", published=SEND_AT_UTC + timedelta(minutes=1)),
        clip("irrelevant", "Futbal v inom meste", relevant=False),
        clip("elsewhere", "Iné mesto", municipality="ina-obec"),
        clip("too-old", "Pred ôsmimi dňami", published=IN_WINDOW - timedelta(days=9)),
    ]
    index.upsert(audit_story() + [budget_claim(), park_xss()] + before + outside)
    return state, index


def _section(text: str, heading: str) -> str:
    """The lines under `== heading ==` up to the next heading."""
    match = re.search(rf"== {re.escape(heading)} ==\n(.*?)(?:\n== |\n--\n)", text, flags=re.S)
    assert match, f"no section {heading!r} in:\n{text}"
    return match.group(1)


def test_briefing_arrives_in_slovak_with_an_english_copy(day_of_news: tuple[State, SqliteIndex],
                                                         smtp: LoopbackSmtp, tmp_path: Path) -> None:
    state, index = day_of_news
    profile = demo_profile(smtp.port)
    report = send_briefing(profile, index, state, DAY, NOW, out_dir=tmp_path / "out")
    assert report.ok and report.sent == ("sk", "en")

    assert len(smtp.messages) == 2
    sk, en = smtp.messages
    for msg in (sk, en):
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())
        assert msg["Message-ID"] and msg["Date"]
        assert msg["From"].addresses[0].addr_spec == "presswatch@stara-horka.example"
    assert {rcpt for _, rcpts in smtp.envelopes for rcpt in rcpts} == set(profile.digest.recipients)
    assert sk["Subject"] == "Ranný prehľad Stará Hôrka – 22. 11. 2026 (na reakciu: 2)"
    assert en["Subject"] == "Morning briefing Stará Hôrka – 22 November 2026 (to respond: 2)"
    assert sk["Content-Language"] == "sk"
    raw = smtp.received[0].raw
    assert b"Subject: =?utf-8?" in raw  # RFC 2047 on the wire, not raw UTF-8 in a header

    text = text_part(sk)
    for label in ("Posledných 24 hodín", "Treba reagovať", "Hlavné témy", "Vyznenie článkov", "Zdroje, ktoré stíchli",
                  "nedeľa 22. novembra 2026", "Obdobie od 21. 11. 2026 7:00 do 22. 11. 2026 7:00"):
        assert label in text
    numbers = _section(text, "Posledných 24 hodín")
    assert "Články: 5 (priem. 2,0)" in numbers  # 14 relevant clippings in the 7 days before
    assert "Kritické: 3 (priem. 0,1)" in numbers
    assert "Zavádzajúce: 1 (priem. 0,0)" in numbers
    assert "Negatívne: 3 (priem. 0,4)" in numbers

    response = _section(text, "Treba reagovať")
    assert "Kritický · Kľúčový výraz: zatajil" in response
    assert "„Primátor zatajil poslancom výsledky auditu technických služieb.“" in response
    assert "Zavádzajúci · Kľúčový výraz: rozpočet 30 miliónov" in response
    assert "V rozpore s oficiálnym údajom: Schválený rozpočet mesta Stará Hôrka na rok 2026 je 24,8 mil. EUR." \
        in response
    assert response.index("zatajil") < response.index("rozpočet 30")  # most severe first

    top = _section(text, "Hlavné témy")
    assert top.count("Primátor Hrušovský zatajil výsledky auditu") == 1  # the major outlet's copy leads
    assert "Hrušovský zatajil audit, tvrdí opozícia" not in top  # copies are folded into the story
    assert "Píšu o tom aj: Pohronie dnes, Hôrčan" in top
    assert re.search(r"^1\. .*zatajil výsledky auditu", top, flags=re.M)  # most severe story first
    for absent in ("Po uzávierke", "Futbal v inom meste", "Iné mesto", "Staršia správa"):
        assert absent not in text

    coverage = _section(text, "Zmienky o predstaviteľoch a orgánoch")
    assert "Marián Hrušovský (primátor): 3 / 3" in coverage
    assert "Technické služby Stará Hôrka: 2 / 1" in coverage
    assert "Negatívne: 3 (60\u00a0%)" in _section(text, "Vyznenie článkov")

    en_text = text_part(en)
    assert "Needs a response" in en_text and "Also in: Pohronie dnes, Hôrčan" in en_text
    assert "Contradicts the official record" in en_text

    files = {f.language: f for f in report.files}
    assert set(files) == {"sk", "en"}
    assert files["sk"].html.name == "briefing-2026-11-22-sk.html"
    assert files["sk"].text.read_text(encoding="utf-8") == text_part(sk)
    eml = cast(EmailMessage, message_from_bytes(files["sk"].eml.read_bytes(), policy=policy.default))
    assert eml["Subject"] == sk["Subject"] and eml["Message-ID"] == sk["Message-ID"]


def test_html_is_escaped_self_contained_and_phone_sized(day_of_news: tuple[State, SqliteIndex],
                                                        smtp: LoopbackSmtp) -> None:
    state, index = day_of_news
    send_briefing(demo_profile(smtp.port), index, state, DAY, NOW, None)
    html = html_part(smtp.messages[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Nový park pri Hrone" in html
    assert "<script" not in html.lower()
    assert "<script>alert(1)</script> Nový park pri Hrone" in text_part(smtp.messages[0])  # text/plain: as written
    # no external resources, inline CSS only
    for forbidden in ("<img", "<link", "<style", "src=", "url(", "@import", "<iframe"):
        assert forbidden not in html.lower()
    assert "max-width:640px" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    # nothing fixed wider than a phone: every explicit width is a percentage or at most 640px
    assert not [w for w in re.findall(r"width[:=]\"?(\d+)px", html) if int(w) > 640]
    assert not re.findall(r'width="(\d+)"', html)
    assert html.count("table-layout:fixed") >= 3
    assert html.lstrip().startswith("<!DOCTYPE html>") and '<html lang="sk">' in html
    assert 'href="http://127.0.0.1:8765/spravy24/2026/11/audit.html"' in html


def test_a_link_that_is_not_http_is_not_a_link(store: tuple[State, SqliteIndex], smtp: LoopbackSmtp) -> None:
    state, index = store
    bad = clip("js", "Článok so zlou adresou")
    bad = type(bad)(article=type(bad.article)(**{**{f: getattr(bad.article, f) for f in bad.article.__slots__},
                                                 "url": "javascript:alert(1)"}),
                    enrichment=bad.enrichment, municipality=MUNI)
    index.upsert([bad])
    briefing = build_briefing(demo_profile(smtp.port), index, state, DAY, "sk", NOW)
    assert "javascript:" not in briefing.html
    assert "Článok so zlou adresou" in briefing.html


def test_sent_once_per_day_and_language_also_after_a_restart(day_of_news: tuple[State, SqliteIndex],
                                                             smtp: LoopbackSmtp, tmp_path: Path) -> None:
    state, index = day_of_news
    profile = demo_profile(smtp.port)
    first = send_briefing(profile, index, state, DAY, NOW, None)
    second = send_briefing(profile, index, state, DAY, NOW + timedelta(minutes=5), None)
    assert first.sent == ("sk", "en") and second.sent == () and second.already_sent == ("sk", "en")
    assert len(smtp.messages) == 2

    restarted = State(tmp_path / "presswatch.db")  # a new process: only the file remembers
    try:
        index.upsert([clip("later", "Neskorší článok")])  # new data does not change what was sent
        third = send_briefing(profile, index, restarted, DAY, NOW + timedelta(hours=1), tmp_path / "again")
    finally:
        restarted.close()
    assert third.already_sent == ("sk", "en")
    assert len(smtp.messages) == 2
    resent_files = {f.language: f for f in third.files}
    assert resent_files["sk"].text.read_text(encoding="utf-8") == text_part(smtp.messages[0])
    assert "Neskorší článok" not in resent_files["sk"].html.read_text(encoding="utf-8")
    archived = state.briefing(MUNI, "2026-11-22", "sk")
    assert archived is not None and archived["state"] == "sent"
    assert archived["subject"] == smtp.messages[0]["Subject"]

    next_day = send_briefing(profile, index, state, DAY + timedelta(days=1), NOW + timedelta(days=1), None)
    assert next_day.sent == ("sk", "en") and len(smtp.messages) == 4


def test_smtp_down_archives_then_sends_once_when_it_is_back(day_of_news: tuple[State, SqliteIndex]) -> None:
    state, index = day_of_news
    port = free_port()
    profile = demo_profile(port, digest=Digest(recipients=["primator@stara-horka.example"], language="sk"))
    failed = send_briefing(profile, index, state, DAY, NOW, None)
    assert failed.sent == () and [lang for lang, _ in failed.failed] == ["sk"]
    assert f"127.0.0.1:{port}" in failed.failed[0][1] and "refused" in failed.failed[0][1]
    row = state.briefing(MUNI, "2026-11-22", "sk")
    assert row is not None and row["state"] == "pending" and f"127.0.0.1:{port}" in row["error"]
    assert "Treba reagovať" in row["text"]  # archived before the attempt

    with LoopbackSmtp(port=port) as smtp:
        retried = send_briefing(profile, index, state, DAY, NOW + timedelta(minutes=10), None)
        again = send_briefing(profile, index, state, DAY, NOW + timedelta(minutes=20), None)
        assert retried.sent == ("sk",) and again.already_sent == ("sk",)
        assert len(smtp.messages) == 1


def test_empty_day_says_so_plainly(store: tuple[State, SqliteIndex], smtp: LoopbackSmtp) -> None:
    state, index = store
    report = send_briefing(demo_profile(smtp.port), index, state, DAY, NOW, None)
    assert report.ok and len(smtp.messages) == 2
    sk, en = (text_part(m) for m in smtp.messages)
    assert "Stará Hôrka: za 24 hodín pred 22. 11. 2026 7:00 sme nenašli žiadny nový článok." in sk
    assert "Stará Hôrka: no new clippings in the 24 hours before 22 November 2026, 07:00." in en
    assert "Treba reagovať" not in sk and "Hlavné témy" not in sk
    assert "Články: 0" in sk
    assert smtp.messages[0]["Subject"] == "Ranný prehľad Stará Hôrka – 22. 11. 2026"
    assert report.briefings[0].empty


def test_window_is_the_24_hours_before_send_at_in_the_profile_zone(store: tuple[State, SqliteIndex]) -> None:
    state, index = store
    profile = demo_profile(25)
    start, end = briefing_window(profile, DAY)
    assert (start, end) == (datetime(2026, 11, 21, 6, tzinfo=UTC), datetime(2026, 11, 22, 6, tzinfo=UTC))
    summer_start, summer_end = briefing_window(profile, DAY.replace(month=7))  # CEST: UTC+2
    assert summer_end == datetime(2026, 7, 22, 5, tzinfo=UTC)
    index.upsert([clip("first", "Prvá v okne", published=start), clip("last", "Posledná v okne",
                                                                      published=end - timedelta(seconds=1)),
                  clip("edge", "Už mimo okna", published=end)])
    text = build_briefing(profile, index, state, DAY, "sk", NOW).text
    assert "Prvá v okne" in text and "Posledná v okne" in text and "Už mimo okna" not in text


def test_silent_sources_are_listed(store: tuple[State, SqliteIndex], smtp: LoopbackSmtp) -> None:
    state, index = store
    for source_id in ("horcan-rss", "pohronie-rss", "spravy24-atom", "herald-rss"):
        state.register_source(source_id, MUNI, "feed", f"http://127.0.0.1:8765/{source_id}.xml")
        state.poll_succeeded(source_id, new_items=1)
    state.poll_failed("pohronie-rss", "HTTP 503 Service Unavailable")
    state.poll_failed("pohronie-rss", "HTTP 503 Service Unavailable")
    state.execute("UPDATE sources SET last_new_item=? WHERE id IN ('horcan-rss', 'herald-rss', 'pohronie-rss')",
                  ((NOW - timedelta(hours=24)).isoformat(),))
    state.execute("UPDATE sources SET last_new_item=? WHERE id='spravy24-atom'",
                  ((NOW - timedelta(days=3, hours=2)).isoformat(),))
    state.register_source("hronske-site", MUNI, "site", "http://127.0.0.1:8765/hronske/")  # never delivered
    text = build_briefing(demo_profile(smtp.port), index, state, DAY, "sk", NOW).text
    silent = _section(text, "Zdroje, ktoré stíchli")
    assert "Pohronie dnes (pohronie-rss): 2 neúspešné pokusy za sebou; posledná chyba: HTTP 503" in silent
    assert "Správy24 (spravy24-atom): bez nového článku 3 dni (posledný nový článok 19. 11. 2026 5:00)" in silent
    assert "Hronské noviny (hronske-site): zatiaľ žiadny článok" in silent
    assert "horcan-rss" not in silent and "herald-rss" not in silent


def test_preview_only_writes_files(day_of_news: tuple[State, SqliteIndex], smtp: LoopbackSmtp,
                                   tmp_path: Path) -> None:
    state, index = day_of_news
    report = preview(demo_profile(smtp.port), index, state, DAY, NOW, tmp_path / "preview")
    assert sorted(p.name for p in (tmp_path / "preview").iterdir()) == [
        f"briefing-2026-11-22-{lang}.{ext}" for lang in ("en", "sk") for ext in ("eml", "html", "txt")]
    assert smtp.messages == [] and state.briefing(MUNI, "2026-11-22", "sk") is None
    assert report.sent == () and len(report.briefings) == 2


@pytest.mark.parametrize("lang", ["cs", "lt", "tr", "mk"])
def test_every_language_renders(day_of_news: tuple[State, SqliteIndex], lang: str) -> None:
    state, index = day_of_news
    briefing = build_briefing(demo_profile(25), index, state, DAY, lang, NOW)
    assert "{" not in briefing.text.replace("{}", "")  # no unfilled placeholder
    assert f'<html lang="{lang}">' in briefing.html
    assert briefing.counts.clippings == 5 and briefing.counts.stories == 3


def test_dismissed_story_is_counted_but_not_listed_as_needing_a_response(day_of_news: tuple[State, SqliteIndex],
                                                                        smtp: LoopbackSmtp) -> None:
    state, index = day_of_news
    audit = audit_story()
    index.set_status(audit[1].id, "dismissed", "jana", "opozícia opakuje starú vec")  # one copy settles the story
    index.set_status(budget_claim().id, "drafted", "peter", at=IN_WINDOW + timedelta(hours=5))
    briefing = build_briefing(demo_profile(smtp.port), index, state, DAY, "en", NOW)

    assert briefing.counts.critical == 3 and briefing.counts.misleading == 1  # still in the numbers
    assert (briefing.counts.needs_response, briefing.counts.dismissed) == (1, 1)
    assert briefing.subject.endswith("(to respond: 1)")
    response = _section(briefing.text, "Needs a response")
    assert "zatajil" not in response and "Primátor Hrušovský zatajil" not in response
    assert "Mesto má na budúci rok rozpočet 30 miliónov" in response
    assert "Response: response drafted (peter, 22 November 2026, 00:00)" in response
    assert "Dismissed by the press office, not listed: 1" in response
    assert "Kritické: 3" in _section(build_briefing(demo_profile(smtp.port), index, state, DAY, "sk", NOW).text,
                                     "Posledných 24 hodín")
    assert "Response: response drafted" in briefing.html and "zatajil výsledky auditu</a>" in briefing.html
    html_response = briefing.html.split("Needs a response", 1)[1].split("Top stories", 1)[0]
    assert "zatajil" not in html_response


def test_each_story_needing_a_response_shows_its_status(day_of_news: tuple[State, SqliteIndex],
                                                        smtp: LoopbackSmtp) -> None:
    state, index = day_of_news
    briefing = build_briefing(demo_profile(smtp.port), index, state, DAY, "sk", NOW)
    response = _section(briefing.text, "Treba reagovať")
    assert response.count("Reakcia: zatiaľ nevybavené") == 2
