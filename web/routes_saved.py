"""Saved searches: the municipality's named queries, the alerting ones routed to alerts like a flag.

The rules are `presswatch saved` (pipeline/cli.py cmd_saved): searches the profile defines are synced from it on
start, so they are read-only here (an edit would be undone at the next start); the press office's own live in
the store. Unlike the CLI's `add`, the web form does not replace an existing id silently: creating is creating,
editing is a separate form.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlencode

from starlette.responses import Response

from presswatch.index.base import SavedSearch, SearchQuery
from presswatch.index.query import QueryError, parse_query
from presswatch.index.sqlite_workflow import SEARCH_ID
from presswatch.state import utcnow
from presswatch.web.app import Page, WebRoute
from presswatch.web.search_view import QueryProblem

RECENT_DAYS = 7  # "matches lately": the window of the count beside each search
DONE_KEYS = ("added", "edited", "deleted")


@dataclass(frozen=True, slots=True)
class SavedRow:
    search: SavedSearch
    link: str  # the search page with this query
    recent: int | None  # matches in the last RECENT_DAYS; None when the stored query no longer parses


@dataclass(frozen=True, slots=True)
class Draft:
    """The form as typed, shown again when it is refused."""

    id: str = ""
    name: str = ""
    query: str = ""
    alert: bool = True


def search_link(query: str) -> str:
    return "/search?" + urlencode({"q": query})


def recent_matches(page: Page, query: str) -> int | None:
    """How many relevant clippings matched in the last RECENT_DAYS: one cheap search (limit 1, its total)."""
    profile = page.ws.profile
    try:
        result = page.ws.index.search(SearchQuery(text=query, municipality=profile.id, limit=1,
                                                  since=utcnow() - timedelta(days=RECENT_DAYS),
                                                  tz=profile.municipality.timezone))
    except QueryError:
        return None
    return result.total


def find(page: Page, search_id: str) -> SavedSearch | None:
    for s in page.ws.index.saved_searches(page.ws.profile.id):
        if s.id == search_id:
            return s
    return None


def draft_of(page: Page, search_id: str | None = None) -> Draft:
    return Draft(id=search_id if search_id is not None else page.field("id").strip(),
                 name=page.field("name").strip(), query=page.field("query").strip(),
                 alert=page.field("alert") == "on")


def check(page: Page, draft: Draft) -> tuple[str, QueryProblem | None]:
    """(a message, a query problem): both empty when the draft can be saved."""
    t = page.text.t
    if not SEARCH_ID.fullmatch(draft.id):
        return t("saved_error_id"), None
    if not draft.name:
        return t("saved_error_name"), None
    try:
        parsed = parse_query(draft.query)
    except QueryError as exc:
        return t("saved_error_query"), QueryProblem.of(exc, draft.query)
    if parsed is None:  # a blank search would alert on every clipping
        return t("saved_error_blank"), None
    return "", None


# --- pages -------------------------------------------------------------------------------------------------
def saved_list(page: Page, draft: Draft | None = None, error: str = "", problem: QueryProblem | None = None,
               status: int = 200) -> Response:
    rows = [SavedRow(s, search_link(s.query), recent_matches(page, s.query))
            for s in page.ws.index.saved_searches(page.ws.profile.id)]
    done = page.arg("done")
    notice = page.text.t(f"saved_done_{done}") if done in DONE_KEYS else None
    if draft is None:  # "save this search" on the search page opens this form with its query filled in
        draft = Draft(query=page.arg("q")[:2000])
    return page.render("saved.html", status=status, rows=rows, draft=draft, error=error,
                       problem=problem, notice=notice, recent_days=RECENT_DAYS)


def saved_create(page: Page) -> Response:
    draft = draft_of(page)
    error, problem = check(page, draft)
    if not error and find(page, draft.id) is not None:
        error = page.text.t("saved_error_taken", id=draft.id)
    if error:
        return saved_list(page, draft, error, problem, status=400)
    page.ws.index.save_search(SavedSearch(id=draft.id, municipality=page.ws.profile.id, name=draft.name,
                                          query=draft.query, alert=draft.alert, origin="store",
                                          created_by=page.user))
    page.audit("saved_add", draft.id, draft.query)
    return page.redirect("/saved?done=added")


def _editable(page: Page) -> SavedSearch | Response:
    """The store-owned search of the path's id, or the response refusing it."""
    search = find(page, page.request.path_params["id"])
    if search is None:
        return page.not_found()
    if search.origin == "profile":
        return page.bad_request(page.text.t("saved_error_profile", name=search.name))
    return search


def saved_edit_form(page: Page) -> Response:
    found = _editable(page)
    if not isinstance(found, SavedSearch):
        return found
    draft = Draft(id=found.id, name=found.name, query=found.query, alert=found.alert)
    return page.render("saved_edit.html", search=found, draft=draft, error="", problem=None)


def saved_edit(page: Page) -> Response:
    found = _editable(page)
    if not isinstance(found, SavedSearch):
        return found
    draft = draft_of(page, found.id)
    error, problem = check(page, draft)
    if error:
        return page.render("saved_edit.html", status=400, search=found, draft=draft, error=error, problem=problem)
    # created_at=None keeps when it was first created; created_by stays its author.
    page.ws.index.save_search(replace(found, name=draft.name, query=draft.query, alert=draft.alert,
                                      created_at=None))
    page.audit("saved_edit", found.id, draft.query)
    return page.redirect("/saved?done=edited")


def saved_delete(page: Page) -> Response:
    found = _editable(page)
    if not isinstance(found, SavedSearch):
        return found
    page.ws.index.delete_search(page.ws.profile.id, found.id)
    page.audit("saved_delete", found.id, found.query)
    return page.redirect("/saved?done=deleted")


ROUTES: list[WebRoute] = [
    WebRoute("/saved", saved_list, "read"),
    WebRoute("/saved", saved_create, "saved", methods=("POST",)),
    WebRoute("/saved/{id}/edit", saved_edit_form, "saved"),
    WebRoute("/saved/{id}", saved_edit, "saved", methods=("POST",)),
    WebRoute("/saved/{id}/delete", saved_delete, "saved", methods=("POST",)),
]
