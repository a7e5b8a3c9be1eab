"""The `presswatch` command. Each subcommand is a thin layer over one part of the package; messages users read
come from pipeline/locales/ (see messages.py)."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from presswatch import __version__, settings
from presswatch.index.query import QueryError
from presswatch.messages import Messages, detect_language
from presswatch.profile import Profile, ProfileError, load_profile, resolve_profile_path

Handler = Callable[[argparse.Namespace, Messages], int]


def _since(value: str) -> datetime:
    """`24h`, `7d`, `2026-11-01` or a full ISO timestamp; naive values are UTC."""
    m = re.fullmatch(r"(\d+)\s*([hd])", value.strip())
    if m:
        n = int(m.group(1))
        return datetime.now(UTC) - (timedelta(hours=n) if m.group(2) == "h" else timedelta(days=n))
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 24h, 7d or a date like 2026-11-01, got {value!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _profile(args: argparse.Namespace) -> Profile:
    return load_profile(args.profile)


# --- subcommands -------------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.demo import run_demo

    result = run_demo(Path(args.out), args.profile, say)
    return 0 if result.cycle.process.indexed or result.cycle.discovered == 0 else 1


def cmd_cycle(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.cycle import Pipeline
    from presswatch.demo import _print_step

    profile = _profile(args)
    pipeline = Pipeline(profile, resolve_profile_path(args.profile))
    try:
        report = pipeline.run_once(on_step=lambda step, r: _print_step(say, step, r))
    finally:
        pipeline.close()
    for error in report.errors:
        print(say("error", error=error), file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.daemon import run_daemon

    return run_daemon(resolve_profile_path(args.profile), say)


def cmd_search(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.index import open_index
    from presswatch.index.base import SearchQuery
    from presswatch.index.codec import clipping_to_dict

    profile = _profile(args)
    index = open_index(profile)
    try:
        result = index.search(SearchQuery(
            text=" ".join(args.query), municipality=profile.id, since=args.since, lang=args.lang,
            official=args.official, critical=True if args.critical else None, limit=args.limit))
    finally:
        index.close()
    if args.json:
        json.dump({"total": result.total, "hits": [
            {"score": h.score, "snippet": h.snippet, "clipping": clipping_to_dict(h.clipping)} for h in result.hits
        ]}, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if not result.hits:
        print(say("search_none"))
        return 0
    print(say("search_total", total=result.total, shown=len(result.hits)))
    tz = profile.tz
    for hit in result.hits:
        c = hit.clipping
        a = c.article
        when = (a.published or a.fetched_at)
        stamp = when.astimezone(tz).strftime("%Y-%m-%d %H:%M") if when else "?"
        marks = "".join(m for m, on in (("!", c.enrichment.critical), ("?", c.enrichment.misleading)) if on)
        print(f"{stamp}  {profile.outlet(a.outlet).name:<22} {marks:<2} {a.title}")
        if hit.snippet:
            print(f"    {hit.snippet}")
        print(f"    {a.url}")
    return 0


def cmd_enrich(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.enrich.enricher import Enricher

    enricher = Enricher.from_profile(_profile(args))
    failures = 0
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not an object")
            out = enricher.enrich_item(item)
        except (ValueError, KeyError, TypeError) as exc:
            print(say("enrich_bad_line", line=n, error=exc), file=sys.stderr)
            failures += 1
            continue
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 1 if failures else 0


def cmd_eval(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.enrich.evaluate import evaluate, format_report

    if args.mode == "extraction":
        return cmd_eval_extraction(args, say)
    if not args.set:
        print("presswatch eval: give --set DIR (enrichment) or the mode `extraction`", file=sys.stderr)
        return 2
    report = evaluate(Path(args.set))
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(say("eval_title", set=args.set))
        print(format_report(report))
    return 0


def cmd_eval_extraction(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch eval extraction`: body text, snippets, title/date/authors on ../shared/data/extraction."""
    from presswatch.enrich.extraction_eval import DEFAULT_DATA, evaluate_extraction, format_report, to_json

    reports = evaluate_extraction(Path(args.data) if args.data else DEFAULT_DATA, every=args.every)
    if args.json:
        json.dump(to_json(reports), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(format_report(reports))
    return 0


def cmd_extract(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch extract [--url URL] [--feed-date ISO] FILE`: what extraction makes of one saved page, as JSON."""
    from presswatch.enrich.extract import ExtractionError, extract_file

    try:
        got = extract_file(Path(args.file), url=args.url, feed_published=args.feed_date)
    except ExtractionError as exc:
        print(say("error", error=exc), file=sys.stderr)
        return 1
    json.dump(got.to_json(), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def cmd_status(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.status import collect_status, format_status

    status = collect_status(_profile(args))
    if args.json:
        json.dump(status, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
    else:
        print(format_status(status, say))
    return 0


def cmd_sources(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.sources import format_sources, source_views, to_json
    from presswatch.state import State

    profile = _profile(args)
    state = State(profile.db_path())
    try:
        views = source_views(profile, state)
    finally:
        state.close()
    if args.json:
        json.dump(to_json(views), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(format_sources(profile, views, say))
    return 0


def cmd_digest_preview(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.demo import print_briefing
    from presswatch.digest.briefing import preview
    from presswatch.index import open_index
    from presswatch.state import State, utcnow

    profile = _profile(args)
    state = State(profile.db_path())
    index = open_index(profile)
    try:
        now = utcnow()
        day = args.date or now.astimezone(profile.tz).date()
        report = preview(profile, index, state, day, now, Path(args.out))
    finally:
        index.close()
        state.close()
    print_briefing(say, report, 0)
    return 0


def cmd_backfill(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.crawlers.backfill import run_backfill

    profile = _profile(args)
    sites = [s.id for s in profile.sources.sites]
    if not sites or any(s not in sites for s in args.source or ()):
        print(say("backfill_no_sites", known=", ".join(sites) or "-"), file=sys.stderr)
        return 2
    chosen = len(args.source) if args.source else len(sites)
    print(say("backfill_start", since=args.since.isoformat(timespec="minutes"), sources=chosen), file=sys.stderr)
    report = run_backfill(profile, args.since, args.source or None,
                          labels={"fetch": say("backfill_fetching"), "process": say("backfill_processing")})
    for site in report.sites:
        print(say("backfill_found", source=site.source, found=site.found, sitemaps=site.sitemaps,
                  pages=site.archive_pages, new=site.new, updated=site.updated))
    print(say("backfill_done", fetched=report.fetched, failed=report.fetch_failed + report.failed,
              indexed=report.indexed, new=report.new, duplicates=report.duplicates))
    for error in report.errors[:20]:
        print(say("error", error=error), file=sys.stderr)
    return 0


def cmd_feedback(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch feedback ID --critical no`: record the press office's judgement; `--list`; `--train`. After
    settings.LEARN_RETRAIN_EVERY new judgements the municipality's model is retrained by itself (enrich/learn.py)."""
    import os

    from presswatch.enrich import learn
    from presswatch.index import open_index
    from presswatch.state import State

    profile = _profile(args)
    state = State(profile.db_path())
    index = open_index(profile)
    try:
        judged = [(name, getattr(args, name) == "yes") for name in learn.JUDGED if getattr(args, name)]
        if args.clipping_id and judged:
            if index.get(args.clipping_id) is None:
                print(say("feedback_unknown", id=args.clipping_id), file=sys.stderr)
                return 1
            by = args.by or os.environ.get("USER") or "press office"
            for name, value in judged:
                state.feedback_add(args.clipping_id, profile.id, name, value, by, args.note)
                print(say("feedback_saved", id=args.clipping_id, field=name, value="yes" if value else "no", by=by))
        elif not (args.list or args.train):
            print(say("feedback_nothing"), file=sys.stderr)
            return 2
        if args.list:
            rows = state.feedback_history(profile.id, args.limit)
            if not rows:
                print(say("feedback_list_none"))
            for r in rows:
                print(say("feedback_list_line", at=r["judged_at"][:16].replace("T", " "), id=r["clipping_id"],
                          field=r["field"], value="yes" if r["value"] else "no", by=r["judged_by"],
                          note=f"  ({r['note']})" if r["note"] else ""))
        if args.train or (judged and learn.due(profile.id, state)):
            model = learn.train(profile.id, state, index)
            for name in learn.FIELDS:
                yes, no = model.counts.get(name, (0, 0))
                key = "feedback_trained" if name in model.fields else "feedback_too_few"
                print(say(key, field=name, yes=yes, no=no, min=settings.LEARN_MIN_PER_CLASS))
                fm = model.fields.get(name)
                if fm is not None and fm.cv_accuracy is not None and fm.rules_accuracy is not None:
                    print(say("feedback_accuracy", field=name, cv=f"{fm.cv_accuracy:.2f}",
                              rules=f"{fm.rules_accuracy:.2f}"))
    finally:
        index.close()
        state.close()
    return 0


def cmd_newsroom(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.newsroom.server import main as newsroom_main

    return newsroom_main(["--port", str(args.port)])


# --- the parser ------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="presswatch", description="Media monitoring for a municipal press office")
    parser.add_argument("--version", action="version", version=f"presswatch {__version__}")
    parser.add_argument("--ui-lang", help="language of messages (sk, cs, lt, tr, mk, en); default: PRESSWATCH_LANG,"
                        " then the locale")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help_text: str, profile: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if profile:
            p.add_argument("--profile", default="demo", help="profile file or name in config/ (default: demo)")
        p.set_defaults(handler=handler)
        return p

    p = add("demo", cmd_demo, "one full cycle on the demo town against the local newsroom")
    p.add_argument("--out", default="demo-out", help="folder for the briefing, mail and effective profile")
    add("cycle", cmd_cycle, "one collection cycle: poll, crawl, fetch, process, alert")
    add("run", cmd_run, "the daemon: scheduled polling, crawling, processing, alerts and the briefing")
    p = add("search", cmd_search, "search the clipping index (no query: the newest clippings)")
    p.add_argument("query", nargs="*", help="words, \"phrases\", OR, -exclusion")
    p.add_argument("--since", type=_since, help="24h, 7d or a date")
    p.add_argument("--lang", dest="lang", help="only clippings in this language")
    p.add_argument("--official", help="only clippings that mention this official id")
    p.add_argument("--critical", action="store_true", help="only critical clippings")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    add("enrich", cmd_enrich, "enrich JSON lines from stdin (the enrichment contract) to stdout")
    p = add("eval", cmd_eval, "score enrichment on a labelled set (--set), or extraction (eval extraction)",
            profile=False)
    p.add_argument("mode", nargs="?", choices=["extraction"], help="extraction: score extract() on "
                   "../shared/data/extraction against bare trafilatura")
    p.add_argument("--set", help="folder with <lang>.yaml profiles and <lang>.jsonl items")
    p.add_argument("--data", help="extraction: the folder with the corpora (default ../shared/data/extraction)")
    p.add_argument("--every", type=int, default=1, help="extraction: score every Nth trafilatura-corpus page")
    p.add_argument("--json", action="store_true")
    p = add("extract", cmd_extract, "extract one saved page (HTML, .gz accepted) and print JSON", profile=False)
    p.add_argument("file", help="the page's HTML file")
    p.add_argument("--url", help="the page's URL (relative links, canonical)")
    p.add_argument("--feed-date", type=_since, help="the feed's date for the page (ISO), to exercise the date rules")
    p = add("status", cmd_status, "what the store holds")
    p.add_argument("--json", action="store_true")
    p = add("sources", cmd_sources, "every source: last poll and success, items/day, failures, next poll, health")
    p.add_argument("--json", action="store_true")
    digest = sub.add_parser("digest", help="the morning briefing").add_subparsers(dest="digest_command",
                                                                                  required=True)
    p = digest.add_parser("preview", help="write the briefing for a day as HTML, text and .eml; send nothing")
    p.add_argument("--profile", default="demo", help="profile file or name in config/ (default: demo)")
    p.add_argument("--date", type=date.fromisoformat, help="the morning the briefing is for (default: today)")
    p.add_argument("--out", default="briefing-preview", help="folder for the files")
    p.set_defaults(handler=cmd_digest_preview)
    p = add("backfill", cmd_backfill, "fetch and index what the profile's sites published since a date"
            " (sitemaps, sitemap indexes and archive pages)")
    p.add_argument("--since", type=_since, required=True, help="a date like 2026-11-01 (or 7d)")
    p.add_argument("--source", action="append", help="only this site source (repeatable; default: every site)")
    p = add("feedback", cmd_feedback, "the press office's judgement of a clipping (relevant, critical, misleading),"
            " the list of judgements, or training the municipality's model on them")
    p.add_argument("clipping_id", nargs="?", help="the clipping's id (presswatch search --json shows it)")
    for name in ("relevant", "critical", "misleading"):
        p.add_argument(f"--{name}", choices=["yes", "no"], help=f"is the clipping {name}?")
    p.add_argument("--note", help="why (kept with the judgement)")
    p.add_argument("--by", help="who judges (default: $USER)")
    p.add_argument("--list", action="store_true", help="the newest judgements")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--train", action="store_true", help="train the model on the judgements now")
    p = add("newsroom", cmd_newsroom, "serve the local newsroom until Ctrl-C", profile=False)
    p.add_argument("--port", type=int, default=8765)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    say = Messages(detect_language(args.ui_lang))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args, say))
    except QueryError as exc:
        print(say("error", error=exc.reason), file=sys.stderr)
        print(exc.pointer(), file=sys.stderr)
        return 2
    except ProfileError as exc:
        print(say("profile_invalid"), file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        return 0
    except (OSError, sqlite3.Error) as exc:
        print(say("error", error=exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
