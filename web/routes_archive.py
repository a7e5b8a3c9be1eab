"""What happened, read-only: the briefings as they were sent, the health of each source, the audit trail and the
accounts.

A stored briefing is an HTML email: it is shown in a sandboxed frame whose document is served with its own policy
(no script, no request to anywhere, framable only by this site), so nothing in a briefing can act in the
workspace even if a clipping's text slipped through its escaping.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.responses import HTMLResponse, Response

from presswatch.crawlers.health import Health
from presswatch.sources import SourceView, source_views
from presswatch.web.app import Page, WebRoute
from presswatch.web.i18n import LANGUAGES

BRIEFINGS_PER_PAGE = 60  # one (day, language) row each: a month of two languages
AUDIT_PER_PAGE = 50
# The stored briefing's own headers; SecurityHeaders adds only what a response does not set itself.
RAW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
ERROR_SHOWN = 160  # characters of an error in the one-line verdict (as `presswatch sources`); the rest below it
HEALTH_ORDER = {"failing": 0, "silent": 1, "warning": 2, "ok": 3}  # what needs attention first


def _when_dt(page: Page, moment: dt.datetime | None) -> str:
    """A moment in the municipality's time and the reader's language; '' for never."""
    return page.text.datetime(moment, page.ws.tz) if moment else ""


def _when(page: Page, iso: str | None) -> str:
    return _when_dt(page, dt.datetime.fromisoformat(iso) if iso else None)


def _page_number(page: Page) -> int:
    try:
        return max(1, int(page.arg("page", "1")))
    except ValueError:
        return 1


# --- the briefing archive ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BriefingRow:
    day: str
    lang: str
    subject: str
    state: str  # sent | failed | pending (a failed send stays pending in the ledger with its error)
    state_label: str
    when: str  # sent at, else archived at, in the municipality's time
    error: str


def _state(row: sqlite3.Row) -> str:
    if row["state"] == "sent":
        return "sent"
    return "failed" if row["error"] or row["state"] == "failed" else "pending"


def _briefing_row(page: Page, row: sqlite3.Row) -> BriefingRow:
    state = _state(row)
    return BriefingRow(row["day"], row["language"], row["subject"], state, page.text.t(f"briefings_state_{state}"),
                       _when(page, row["sent_at"] or row["created_at"]), row["error"] or "")


def briefing_list(page: Page) -> Response:
    number = _page_number(page)
    rows = page.ws.state.briefings(page.ws.municipality, BRIEFINGS_PER_PAGE + 1, (number - 1) * BRIEFINGS_PER_PAGE)
    items = [_briefing_row(page, r) for r in rows[:BRIEFINGS_PER_PAGE]]
    days: dict[str, list[BriefingRow]] = {}
    for item in items:
        days.setdefault(item.day, []).append(item)
    labelled = [(page.text.date(dt.date.fromisoformat(day)), day, group) for day, group in days.items()]
    return page.render("briefings.html", days=labelled, number=number,
                       more=len(rows) > BRIEFINGS_PER_PAGE)


def _stored(page: Page) -> sqlite3.Row | None:
    day, lang = page.request.path_params["day"], page.request.path_params["lang"]
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        return None
    if lang not in LANGUAGES:
        return None
    return page.ws.state.briefing(page.ws.municipality, day, lang)


def briefing_page(page: Page) -> Response:
    row = _stored(page)
    if row is None:
        return page.not_found()
    item = _briefing_row(page, row)
    return page.render("briefing.html", item=item, day_label=page.text.date(dt.date.fromisoformat(item.day)),
                       plain=row["text"] or "")


def briefing_raw(page: Page) -> Response:
    row = _stored(page)
    if row is None:
        return page.not_found()
    return HTMLResponse(row["html"], headers={"Content-Security-Policy": RAW_CSP,
                                              "X-Frame-Options": "SAMEORIGIN"})


# --- source health -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceRow:
    view: SourceView
    status: str  # the verdict in words
    kind: str  # feed / website / press releases in words
    outlet: str
    last_poll: str
    last_success: str
    next_poll: str
    rate: str
    health: str  # the verdict's reason in words
    error: str  # the last error in full, when the reason above does not already say it


def health_words(page: Page, health: Health) -> str:
    """The reason of `assess` in the reader's language (pipeline/sources.py health_text says it in the terminal)."""
    error = " ".join((health.error or "").split())[:ERROR_SHOWN]
    if health.reason == "quiet":
        since = page.text.datetime(health.since, page.ws.tz) if health.since else "–"
        return page.text.plural("sources_health_quiet", round(health.expected_h or 0), since=since)
    if health.reason == "failed":
        return page.text.plural("sources_health_failed", health.failures, error=error)
    if health.reason == "warning":
        return page.text.t("sources_health_warning", error=error)
    return page.text.t(f"sources_health_{health.reason}")


def _kind_label(page: Page, kind: str) -> str:
    return page.text.t(f"sources_kind_{kind}") if kind in ("feed", "site", "release") else kind


def _untold_error(view: SourceView) -> str:
    error = view.record.last_error or ""
    told = view.health.reason in ("failed", "warning") and len(" ".join(error.split())) <= ERROR_SHOWN
    return "" if told else error


def sources(page: Page) -> Response:
    views = sorted(source_views(page.ws.profile, page.ws.state), key=lambda v: HEALTH_ORDER[v.health.status])
    rows = []
    for v in views:
        r = v.record
        rows.append(SourceRow(
            view=v, status=page.text.t(f"sources_is_{v.health.status}"), kind=_kind_label(page, v.kind), outlet=page.ws.profile.outlet(v.outlet).name if v.outlet else "",
            last_poll=_when_dt(page, r.last_poll), last_success=_when_dt(page, r.last_success),
            # sites are crawled on the daemon's crawl schedule, not the adaptive feed schedule
            next_poll="" if v.kind == "site" else _when_dt(page, r.next_poll_at),
            rate="" if r.items_per_day is None else page.text.number(r.items_per_day, 1),
            health=health_words(page, v.health),
            error=_untold_error(v)))
    counts = [(status, page.text.t(f"sources_is_{status}"), sum(1 for v in views if v.health.status == status))
              for status in HEALTH_ORDER]
    return page.render("sources.html", rows=rows, counts=counts)


# --- the audit trail and the accounts ----------------------------------------------------------------------
def audit(page: Page) -> Response:
    number = _page_number(page)
    user, action = page.arg("user").strip(), page.arg("action").strip()
    entries = page.ws.accounts.audit_log(limit=AUDIT_PER_PAGE + 1, offset=(number - 1) * AUDIT_PER_PAGE,
                                         user=user or None, action=action or None)
    filters = {k: v for k, v in (("user", user), ("action", action)) if v}

    def link(n: int) -> str:
        return "/audit?" + urlencode({**filters, "page": n})

    return page.render("audit.html", entries=entries[:AUDIT_PER_PAGE], user=user, action=action, number=number,
                       prev_link=link(number - 1) if number > 1 else "",
                       next_link=link(number + 1) if len(entries) > AUDIT_PER_PAGE else "")


def users(page: Page) -> Response:
    accounts = page.ws.accounts.users()
    return page.render("users.html", users=accounts, roles={u.role: page.text.t(f"role_{u.role}") for u in accounts})


ROUTES: list[WebRoute] = [
    WebRoute("/briefings", briefing_list, "read"),
    WebRoute("/briefings/{day}/{lang}", briefing_page, "read"),
    WebRoute("/briefings/{day}/{lang}/raw", briefing_raw, "read"),
    WebRoute("/sources", sources, "read"),
    WebRoute("/audit", audit, "audit"),
    WebRoute("/users", users, "users"),
]
