"""`presswatch demo`: one full cycle on the demo municipality against the local newsroom, with a loopback SMTP
server that keeps every message, so a newcomer sees each stage work without any outside service.

The demo profile (config/demo.yaml) points at the newsroom's usual address, http://127.0.0.1:8765. The demo
serves the newsroom on the first free port from 8765 up (so a second run sees the same URLs and therefore the
same clippings: re-running duplicates nothing) and writes the effective profile it used into the output folder;
the crawl subprocesses read that file.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path

from presswatch.cycle import CycleReport, Pipeline
from presswatch.digest.briefing import BriefingReport
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.messages import Messages
from presswatch.newsroom.server import Newsroom
from presswatch.profile import Profile, parse_profile, read_profile_text

NEWSROOM_BASE = "http://127.0.0.1:8765"
# The first free port of this range serves the newsroom. Clipping ids hash canonical URLs, which contain the
# port, so a rerun must land on the same port to update the same clippings: a fixed order of candidates does
# that even when something else holds 8765 (another demo, `presswatch newsroom`).
NEWSROOM_PORTS = range(8765, 8800)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def effective_profile_text(text: str, base_url: str, smtp_port: int) -> str:
    """The demo profile pointed at a running newsroom and loopback SMTP server. Quiet hours are dropped so that
    the demo shows its alerts at any time of day; the daemon with the real profile keeps them."""
    text = text.replace(NEWSROOM_BASE, base_url.rstrip("/"))
    text = text.replace("port: 8025", f"port: {smtp_port}")
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("quiet_hours:")) + "\n"


@dataclass(frozen=True, slots=True)
class DemoResult:
    out_dir: Path
    db_path: Path
    profile: Profile
    cycle: CycleReport
    briefing: BriefingReport
    messages: int


def run_demo(out_dir: Path, profile_name: str = "demo", say: Messages | None = None,
             db_path: Path | None = None) -> DemoResult:
    say = say or Messages("en")
    out_dir.mkdir(parents=True, exist_ok=True)
    _, text = read_profile_text(profile_name)
    port = next((p for p in NEWSROOM_PORTS if _port_free(p)), 0)
    newsroom = Newsroom()
    base = newsroom.start(port=port)
    with newsroom, LoopbackSmtp(maildir=out_dir / "mail") as smtp:
        print(say("demo_newsroom", url=base, outlets=len(newsroom.outlets), articles=len(newsroom.articles)))
        print(say("demo_smtp", port=smtp.port, dir=out_dir / "mail"))
        profile_path = out_dir / "profile.yaml"
        profile_path.write_text(effective_profile_text(text, base, smtp.port), encoding="utf-8")
        profile = parse_profile(profile_path.read_text(encoding="utf-8"), str(profile_path))
        pipeline = Pipeline(profile, profile_path, db_path)
        print(say("store_at", path=pipeline.db_path))
        try:
            cycle = pipeline.run_once(on_step=lambda step, report: _print_step(say, step, report))
            briefing = pipeline.send_briefing(out_dir=out_dir)
            print_briefing(say, briefing, len(profile.digest.recipients))
        finally:
            pipeline.close()
        messages = len(smtp.messages)
    print(say("demo_done", dir=out_dir))
    return DemoResult(out_dir=out_dir, db_path=pipeline.db_path, profile=profile, cycle=cycle, briefing=briefing,
                      messages=messages)


def _print_step(say: Messages, step: str, r: CycleReport) -> None:
    if step == "poll_feeds":
        print(say("cycle_feeds", ok=r.feeds_ok, failed=r.feeds_failed, new=r.discovered))
        for warning in r.warnings:
            print("  " + say("cycle_warning", warning=warning[:160]))
        for error in r.errors:
            print("  " + say("error", error=error[:160]))
    elif step == "crawl_sites":
        for crawl in r.crawls:
            error = f" — {crawl.error}" if crawl.error else ""
            print(say("cycle_crawl", source=crawl.source, pages=crawl.pages_stored, error=error))
    elif step == "fetch_pages":
        print(say("cycle_fetch", fetched=r.fetched, failed=r.fetch_failed))
    elif step == "process_queue":
        p = r.process
        print(say("cycle_process", indexed=p.indexed, new=p.new, relevant=p.relevant, failed=p.failed))
        if p.indexed:
            print("  " + say("cycle_traps", joined=p.joined, paywalled=p.paywalled))
    elif step == "deliver_alerts":
        print(say("cycle_alerts", raised=r.alerts_raised, sent=r.alerts_sent, pending=r.alerts_pending))


def print_briefing(say: Messages, report: BriefingReport, recipients: int) -> None:
    for item in report.files:
        print(say("briefing_written", lang=item.language, html=item.html, text=item.text, eml=item.eml))
    for language in report.sent:
        print(say("briefing_sent", day=report.day.isoformat(), n=recipients) + f" ({language})")
    for language in report.already_sent:
        print(say("briefing_already", day=report.day.isoformat(), lang=language))
    for language, error in report.failed:
        print(say("error", error=f"{language}: {error}"))
