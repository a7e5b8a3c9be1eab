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
from presswatch.index.base import STATUSES, Facets, SearchQuery
from presswatch.index.query import QueryError
from presswatch.logs import configure as configure_logging
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

    return run_daemon([resolve_profile_path(p) for p in (args.profile or ["demo"])], say, ops_port=args.ops_port)


def _search_query(args: argparse.Namespace, profile: Profile) -> SearchQuery:
    return SearchQuery(
        text=" ".join(args.query), municipality=profile.id, since=args.since, lang=args.lang,
        official=args.official, critical=True if args.critical else None, limit=args.limit,
        outlet=args.outlet, sentiment=args.sentiment, status=args.status, collapse=args.collapse,
        tz=profile.municipality.timezone)


def _facet_key(profile: Profile, say: Messages, facet: str, key: str) -> str:
    """A bucket key as the reader knows it: outlet and official names, localised status and sentiment."""
    if facet == "outlet":
        return profile.outlet(key).name
    if facet == "official":
        return next((o.name for o in profile.officials if o.id == key), key)
    if facet == "body":
        return next((b.name for b in profile.bodies if b.id == key), key)
    if facet in ("status", "sentiment", "flag"):
        return say(f"{facet}_{key}") if key in _LABELLED[facet] else key
    return key


_LABELLED = {"status": STATUSES, "sentiment": ("positive", "neutral", "negative"),
             "flag": ("critical", "misleading")}
# What `search --facets` prints, in this order; `week` is left out (day already shows volume over time).
SEARCH_FACETS = ("outlet", "official", "body", "lang", "sentiment", "flag", "status", "day")


def _print_facets(profile: Profile, say: Messages, facets: Facets) -> None:
    print(say("facets_total", total=facets.total))
    for facet in SEARCH_FACETS:
        buckets = facets.counts.get(facet, ())
        print()
        print(say(f"facet_{facet}"))
        if not buckets:
            print("  " + say("facet_none"))
        peak = max((b.count for b in buckets), default=0)
        for b in buckets:
            label = _facet_key(profile, say, facet, b.key)
            bar = "#" * round(30 * b.count / peak) if facet == "day" and peak else ""
            print(f"  {label:<34} {b.count:>6}  {bar}".rstrip())


def cmd_search(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.index import open_index
    from presswatch.index.codec import clipping_to_dict
    from presswatch.index.export import export, open_for

    profile = _profile(args)
    query = _search_query(args, profile)
    if args.export and not args.out:
        print(say("export_needs_out"), file=sys.stderr)
        return 2
    index = open_index(profile)
    try:
        if args.export:
            with open_for(args.export, args.out) as out:
                n = export(index, query, args.export, out, profile.tz, exported_at=datetime.now(UTC))
            print(say("export_done", n=n, path=args.out, format=args.export.upper()), file=sys.stderr)
            return 0
        if args.facets:
            facets = index.aggregate(query, SEARCH_FACETS)
            if args.json:
                json.dump({"total": facets.total, "facets": {
                    name: [{"key": b.key, "count": b.count} for b in buckets]
                    for name, buckets in facets.counts.items()}}, sys.stdout, ensure_ascii=False, indent=2)
                print()
            else:
                _print_facets(profile, say, facets)
            return 0
        result = index.search(query)
    finally:
        index.close()
    if args.json:
        json.dump({"total": result.total, "hits": [
            {"score": h.score, "snippet": h.snippet, "clipping": clipping_to_dict(h.clipping),
             "status": h.clipping.status, "copies": [c.id for c in h.copies]} for h in result.hits
        ]}, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if not result.hits:
        print(say("search_none"))
        return 0
    print(say("search_stories" if args.collapse else "search_total", total=result.total, shown=len(result.hits)))
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
        if c.status != "new":
            print(f"    {say('search_status', status=say('status_' + c.status))}")
        if hit.copies:
            outlets = ", ".join(dict.fromkeys(profile.outlet(o.article.outlet).name for o in hit.copies))
            print(f"    {say('search_copies', n=len(hit.copies), outlets=outlets)}")
    return 0


def cmd_saved(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch saved list|add|rm`: the press office's saved searches (alerting ones feed alerts)."""
    import os

    from presswatch.index import open_index
    from presswatch.index.base import SavedSearch

    profile = _profile(args)
    index = open_index(profile)
    try:
        current = {s.id: s for s in index.saved_searches(profile.id)}
        if args.saved_command == "list":
            if not current:
                print(say("saved_none"))
            for s in current.values():
                print(say("saved_line", id=s.id, name=s.name, query=s.query,
                          alert=say("saved_alerting") if s.alert else say("saved_silent"),
                          origin=say(f"saved_origin_{s.origin}")))
            return 0
        old = current.get(args.id)
        if old is not None and old.origin == "profile":
            print(say("saved_profile_owned", id=args.id), file=sys.stderr)
            return 1
        if args.saved_command == "add":
            try:
                index.save_search(SavedSearch(id=args.id, municipality=profile.id, name=args.name, query=args.query,
                                              alert=not args.no_alert, origin="store",
                                              created_by=args.by or os.environ.get("USER") or "press office"))
            except QueryError:  # a ValueError too: main() prints it with a caret under the problem
                raise
            except ValueError as exc:
                print(say("error", error=exc), file=sys.stderr)
                return 2
            print(say("saved_replaced" if old else "saved_added", id=args.id, name=args.name))
            return 0
        if not index.delete_search(profile.id, args.id):
            print(say("saved_unknown", id=args.id), file=sys.stderr)
            return 1
        print(say("saved_removed", id=args.id))
        return 0
    finally:
        index.close()


def cmd_respond(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch respond ID --status S [--note] [--by]` and `presswatch respond ID --history`."""
    import os

    from presswatch.index import open_index
    from presswatch.index.base import StatusError

    profile = _profile(args)
    if not args.status and not args.history:
        print(say("respond_nothing"), file=sys.stderr)
        return 2
    index = open_index(profile)
    try:
        clipping = index.get(args.clipping_id)
        if clipping is None:
            print(say("respond_unknown", id=args.clipping_id), file=sys.stderr)
            return 1
        if args.status:
            by = args.by or os.environ.get("USER") or "press office"
            try:
                change = index.set_status(args.clipping_id, args.status, by, args.note)
            except StatusError as exc:
                print(say("error", error=exc), file=sys.stderr)
                return 2
            print(say("respond_saved", id=change.clipping_id, status=say(f"status_{change.status}"), by=change.by))
        if args.history:
            history = index.status_history(args.clipping_id)
            print(say("respond_history_title", id=args.clipping_id, title=clipping.article.title))
            if not history:
                print(say("respond_history_none"))
            for h in history:
                print(say("respond_history_line", at=h.at.astimezone(profile.tz).strftime("%Y-%m-%d %H:%M"),
                          status=say(f"status_{h.status}"), by=h.by, note=f"  ({h.note})" if h.note else ""))
    finally:
        index.close()
    return 0


def cmd_ack(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch ack ID [--by NAME] [--note T]`: the press office has seen an alert. ID is the short id the alert
    shows (a prefix of the clipping id) or a full clipping id; the story's response status becomes
    `acknowledged` (via the index, like `respond`), and the alert ledger notes who and when. A story already
    further along (drafted, published, dismissed) is left as it is: an ack must never undo a response."""
    import os

    from presswatch.index import open_index
    from presswatch.index.base import StatusError
    from presswatch.respond import acknowledge
    from presswatch.state import State

    profile = _profile(args)
    ident = args.id.strip().lower()
    index = open_index(profile)
    state = State(profile.db_path())
    try:
        clipping = index.get(ident)
        if clipping is None and re.fullmatch(r"[0-9a-f]{4,}", ident):
            ids = sorted({r["clipping_id"] for r in state.alert_find(profile.id, ident)})
            if len(ids) > 1:
                print(say("ack_ambiguous", id=ident, ids=", ".join(ids)), file=sys.stderr)
                return 2
            clipping = index.get(ids[0]) if ids else None
        if clipping is None:
            print(say("ack_unknown", id=args.id), file=sys.stderr)
            return 2
        by = args.by or os.environ.get("USER") or "press office"
        try:
            result = acknowledge(index, state, profile.id, clipping, by, args.note)
        except StatusError as exc:
            print(say("error", error=exc), file=sys.stderr)
            return 2
        if result.change is None:
            print(say("ack_already", id=clipping.id, status=say(f"status_{result.already}")))
            return 0
        print(say("ack_saved", id=clipping.id, status=say("status_acknowledged"), by=by,
                  at=result.change.at.astimezone(profile.tz).strftime("%Y-%m-%d %H:%M"), title=clipping.article.title))
        # acknowledging does not stop alerts still owed (other recipients still need them): say so
        if result.owed:
            print(say("ack_pending", n=result.owed))
    finally:
        state.close()
        index.close()
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
    from presswatch.respond import UnknownClipping, record_judgements, retrain_if_due
    from presswatch.state import State

    profile = _profile(args)
    state = State(profile.db_path())
    index = open_index(profile)
    try:
        judged = [(name, getattr(args, name) == "yes") for name in learn.JUDGED if getattr(args, name)]
        if args.clipping_id and judged:
            by = args.by or os.environ.get("USER") or "press office"
            try:
                record_judgements(index, state, profile.id, args.clipping_id, judged, by, args.note)
            except UnknownClipping:
                print(say("feedback_unknown", id=args.clipping_id), file=sys.stderr)
                return 1
            for name, value in judged:
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
        model = retrain_if_due(index, state, profile.id, force=args.train) if args.train or judged else None
        if model is not None:
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


def cmd_web(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch web --profile P [--host H] [--port N]`: serve the analysts' workspace until Ctrl-C/SIGTERM."""
    from presswatch.web.server import account_count, bind, is_loopback, serve

    profile = _profile(args)
    host = args.host or settings.WEB_HOST
    port = settings.WEB_PORT if args.port is None else args.port
    secure = settings.WEB_SECURE_COOKIES
    if not is_loopback(host) and not secure:
        print(say("web_insecure_remote", host=host), file=sys.stderr)
        return 2
    if not is_loopback(host):
        print(say("web_remote_needs_tls", host=host), file=sys.stderr)
    try:
        bind(host, port).close()  # a taken port is reported before anything else starts
    except OSError as exc:
        print(say("error", error=exc), file=sys.stderr)
        return 1
    if account_count(profile.db_path()) == 0:
        print(say("web_no_accounts", profile=args.profile), file=sys.stderr)
    print(say("web_serving", url=f"http://{host}:{port}/", name=profile.municipality.name), file=sys.stderr)
    serve(profile, host, port)
    return 0


def cmd_newsroom(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.newsroom.server import main as newsroom_main

    return newsroom_main(["--port", str(args.port)])


def cmd_index_migrate(args: argparse.Namespace, say: Messages) -> int:
    from presswatch.index import BackendUnavailable, open_elastic
    from presswatch.index.elastic import redact
    from presswatch.index.migrate import MigrationError, migrate
    from presswatch.index.sqlite import SqliteIndex

    profile = _profile(args)
    try:
        target = open_elastic(profile, refresh=False)
    except BackendUnavailable as exc:
        print(say("error", error=exc), file=sys.stderr)
        return 2
    source = SqliteIndex(profile.db_path())
    try:
        print(say("index_migrate_start", n=source.stats().clippings, source=source.path,
                  url=redact(getattr(target, "url", ""))), file=sys.stderr)
        report = migrate(source, target, batch=args.batch, municipalities=(profile.id,),
                         label=say("index_migrate_progress"))
    except MigrationError as exc:
        print(say("index_migrate_mismatch", details=exc), file=sys.stderr)
        return 1
    except ValueError as exc:  # --batch out of range
        print(say("error", error=exc), file=sys.stderr)
        return 2
    finally:
        source.close()
        target.close()
    print(say("index_migrate_done", clippings=report.clippings, history=report.history, searches=report.searches,
              municipalities=len(report.counts)), file=sys.stderr)
    return 0


def cmd_index_rebuild(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch index rebuild`: re-derive the SQLite index from its stored documents (the fix after the stemming
    rules changed: the index logs a warning saying so), with the progress bar of `index migrate`."""
    from presswatch.index.migrate import Progress
    from presswatch.index.sqlite import SqliteIndex

    profile = _profile(args)
    if profile.store.backend != "sqlite":
        print(say("index_rebuild_sqlite_only"), file=sys.stderr)
        return 2
    index = SqliteIndex(profile.db_path())
    try:
        total = index.stats().clippings
        print(say("index_rebuild_start", n=total, path=index.path), file=sys.stderr)
        bar = Progress(say("index_rebuild_progress"), total)

        def advance(done: int, _total: int) -> None:
            bar.total = _total  # the clippings stored when the transaction began
            bar.advance(done - bar.done)

        rebuilt = index.rebuild(progress=advance)
        bar.finish()
    finally:
        index.close()
    print(say("index_rebuild_done", n=rebuilt), file=sys.stderr)
    return 0


# `presswatch user`: accounts of the browser workspace (web/accounts.py). AccountError.reason -> message key.
_USER_ERRORS = {"name": "user_bad_name", "name_taken": "user_name_taken", "password_short": "user_password_short",
                "password_long": "user_password_long"}


def _user_password(args: argparse.Namespace, say: Messages) -> str | None:
    """The new password: one line of stdin with --password-stdin (scripts), else asked twice on the terminal.
    None (the reason printed) when there is no terminal to ask on or the two entries differ."""
    import getpass

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print(say("user_password_no_tty"), file=sys.stderr)
        return None
    first = getpass.getpass(say("user_password_prompt", name=args.name))
    if getpass.getpass(say("user_password_again")) != first:
        print(say("user_password_mismatch"), file=sys.stderr)
        return None
    return first


def cmd_user(args: argparse.Namespace, say: Messages) -> int:
    """`presswatch user add|list|passwd|role|disable`: who may use the browser workspace, and as what. Each change
    is written to the workspace's audit trail as `cli:$USER`."""
    import os

    from presswatch.web.accounts import AccountError, Accounts

    profile = _profile(args)
    accounts = Accounts(profile.db_path())
    by = f"cli:{os.environ.get('USER') or 'unknown'}"
    try:
        if args.user_command == "list":
            users = accounts.users()
            if not users:
                print(say("user_none"))
            for u in users:
                print(say("user_line", name=u.name, role=u.role, lang=u.lang or say("user_lang_profile"),
                          state=say("user_state_disabled") if u.disabled else say("user_state_active")))
            return 0
        try:
            if args.user_command == "add":
                if accounts.user(args.name) is not None:  # said before the password is typed, not after
                    print(say("user_name_taken", name=args.name.strip().lower()), file=sys.stderr)
                    return 2
                if (password := _user_password(args, say)) is None:
                    return 2
                user = accounts.add_user(args.name, password, args.role, args.lang)
                accounts.audit(by, "user_add", user.name, f"role={user.role} lang={user.lang or '-'}", "cli")
                print(say("user_added", name=user.name, role=user.role))
                return 0
            current = accounts.user(args.name)
            if current is None:
                print(say("user_unknown", name=args.name), file=sys.stderr)
                return 1
            if args.user_command == "passwd":
                if (password := _user_password(args, say)) is None:
                    return 2
                accounts.set_password(current.name, password)
                accounts.audit(by, "user_passwd", current.name, None, "cli")
                print(say("user_password_changed", name=current.name))
            elif args.user_command == "role":
                user = accounts.set_role(current.name, args.role)
                accounts.audit(by, "user_role", user.name, f"{current.role} -> {user.role}", "cli")
                print(say("user_role_changed", name=user.name, role=user.role))
            else:
                accounts.disable(current.name)
                accounts.audit(by, "user_disable", current.name, None, "cli")
                print(say("user_disabled", name=current.name))
        except AccountError as exc:
            if exc.reason == "unknown_user":  # removed between the check above and the change
                print(say("user_unknown", name=args.name), file=sys.stderr)
                return 1
            key = _USER_ERRORS.get(exc.reason)
            print(say(key, **exc.params) if key else say("error", error=exc), file=sys.stderr)
            return 2
        return 0
    finally:
        accounts.close()


# --- the parser ------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="presswatch", description="Media monitoring for a municipal press office")
    parser.add_argument("--version", action="version", version=f"presswatch {__version__}")
    parser.add_argument("--ui-lang", help="language of messages (sk, cs, lt, tr, mk, en); default: PRESSWATCH_LANG,"
                        " then the locale")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("--log-json", action="store_true", help="log as JSON lines on stderr (time, level, logger,"
                        " message, extra fields, exception)")
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
    p = add("run", cmd_run, "the daemon: scheduled polling, crawling, processing, alerts and the briefing",
            profile=False)
    p.add_argument("--profile", action="append", help="profile file or name in config/ (default: demo); repeat it"
                   " to run several municipalities in one daemon, each with its own store")
    p.add_argument("--ops-port", type=int, default=None,
                   help="port of /healthz and /metrics on 127.0.0.1 (default 9464 or PRESSWATCH_OPS_PORT; 0: off)")
    p = add("search", cmd_search, "search the clipping index (no query: the newest clippings)")
    p.add_argument("query", nargs="*", help="words, \"phrases\", OR, -exclusion")
    p.add_argument("--since", type=_since, help="24h, 7d or a date")
    p.add_argument("--lang", dest="lang", help="only clippings in this language")
    p.add_argument("--official", help="only clippings that mention this official id")
    p.add_argument("--critical", action="store_true", help="only critical clippings")
    p.add_argument("--outlet", help="only clippings of this outlet id")
    p.add_argument("--sentiment", choices=["positive", "neutral", "negative"], help="only clippings of this tone")
    p.add_argument("--status", choices=STATUSES, help="only clippings with this response status")
    p.add_argument("--collapse", action="store_true", help="one hit per story; its other copies listed under it")
    p.add_argument("--facets", action="store_true", help="counts per outlet, official, body, language, sentiment,"
                   " flag, status and day, over everything the query matches (instead of the hits)")
    p.add_argument("--export", choices=["csv", "json"], help="write every hit (not one page) to --out")
    p.add_argument("--out", help="the file --export writes (CSV: UTF-8 with a BOM, for Excel)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    saved = sub.add_parser("saved", help="saved searches: list, add, rm (alerting ones feed alerts)")
    saved_sub = saved.add_subparsers(dest="saved_command", required=True)
    for name, help_text in (("list", "the municipality's saved searches (profile and store)"),
                            ("add", "add or replace a saved search of the press office"),
                            ("rm", "remove a saved search of the press office")):
        p = saved_sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--profile", default="demo", help="profile file or name in config/ (default: demo)")
        p.set_defaults(handler=cmd_saved)
        if name != "list":
            p.add_argument("id", help="lower-case letters, digits, - and _")
        if name == "add":
            p.add_argument("--name", required=True, help="the name alerts and lists show")
            p.add_argument("--query", required=True, help="the query language of presswatch search")
            p.add_argument("--no-alert", action="store_true", help="keep it for searching only; no alerts")
            p.add_argument("--by", help="who saves it (default: $USER)")
    p = add("respond", cmd_respond, "the press office's response status of a clipping, or its history")
    p.add_argument("clipping_id", help="the clipping's id (presswatch search --json shows it)")
    p.add_argument("--status", choices=STATUSES, help="new, acknowledged, drafted, published or dismissed")
    p.add_argument("--note", help="kept with the change (what was done, a link to the reply)")
    p.add_argument("--by", help="who changes it (default: $USER)")
    p.add_argument("--history", action="store_true", help="every status change, oldest first")
    p = add("ack", cmd_ack, "acknowledge an alert: its story's response status becomes acknowledged")
    p.add_argument("id", help="the id the alert shows (presswatch ack 1a2b3c4d), or a clipping id")
    p.add_argument("--note", help="kept with the change")
    p.add_argument("--by", help="who acknowledges (default: $USER)")
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
    index = sub.add_parser("index", help="the clipping index").add_subparsers(dest="index_command", required=True)
    p = index.add_parser("migrate", help="copy the SQLite clipping index (clippings, status history, saved searches)"
                         " to Elasticsearch (PRESSWATCH_ES_URL or store.url) and verify the counts")
    p.add_argument("--profile", default="demo", help="profile file or name in config/ (default: demo)")
    p.add_argument("--to", choices=["es"], required=True, help="the backend to copy to")
    p.add_argument("--batch", type=int, default=500, help="clippings per bulk request (1-1000, default 500)")
    p.set_defaults(handler=cmd_index_migrate)
    p = index.add_parser("rebuild", help="re-derive the SQLite clipping index (stems, filters, full text) from its"
                         " stored documents, with a progress bar: the fix after the stemming rules changed")
    p.add_argument("--profile", default="demo", help="profile file or name in config/ (default: demo)")
    p.set_defaults(handler=cmd_index_rebuild)
    from presswatch.profile import LANGS
    from presswatch.web.accounts import ROLES

    user = sub.add_parser("user", help="accounts of the browser workspace: add, list, passwd, role, disable")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    for name, help_text in (("add", "add an account (the password is asked twice, or read from --password-stdin)"),
                            ("list", "every account: name, role, language, disabled"),
                            ("passwd", "set an account's password; its browser sessions end"),
                            ("role", "change an account's role (viewer, analyst, press, admin)"),
                            ("disable", "disable an account: it can no longer log in and its sessions end")):
        p = user_sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--profile", default="demo", help="profile file or name in config/ (default: demo)")
        p.set_defaults(handler=cmd_user)
        if name != "list":
            p.add_argument("name", help="the account's name: 1-64 of a-z, 0-9, . _ @ - (case does not matter)")
        if name == "add":
            p.add_argument("--role", choices=ROLES, required=True, help="viewer (leadership), analyst, press (the"
                           " press office) or admin")
            p.add_argument("--lang", choices=LANGS, help="the account's language (default: the profile's)")
        if name == "role":
            p.add_argument("role", choices=ROLES)
        if name in ("add", "passwd"):
            p.add_argument("--password-stdin", action="store_true", help="read the password from one line of"
                           " stdin (for scripts) instead of asking on the terminal")
    p = add("web", cmd_web, "the analysts' workspace in the browser (127.0.0.1 by default)")
    p.add_argument("--host", default=None, help=f"interface to listen on (default {settings.WEB_HOST})")
    p.add_argument("--port", type=int, default=None, help=f"port (default {settings.WEB_PORT}; PRESSWATCH_WEB_PORT)")
    p = add("newsroom", cmd_newsroom, "serve the local newsroom until Ctrl-C", profile=False)
    p.add_argument("--port", type=int, default=8765)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    say = Messages(detect_language(args.ui_lang))
    configure_logging(json_lines=args.log_json, level=logging.INFO if args.verbose else logging.WARNING)
    logging.getLogger("presswatch.cli").info("presswatch %s %s", __version__, args.command,
                                             extra={"command": args.command, "ui_lang": say.lang})
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
