"""The search page (results, facets, volume over time) and the export of a whole result as CSV or JSON.

Both build the same `SearchQuery` as `presswatch search` (web/search_view.py: SearchForm.query) and call the same
index methods: `search` for a page, `aggregate` for the facets, `index/export.py` for the export.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import cast
from zoneinfo import ZoneInfo

from starlette.responses import Response, StreamingResponse

from presswatch.index.base import ClippingIndex, Facets, SearchQuery, SearchResult
from presswatch.index.export import FORMATS, Format, export
from presswatch.index.query import QueryError, parse_query, zone
from presswatch.web.app import Page, WebRoute
from presswatch.web.search_view import (
    PAGE_FACETS,
    QueryProblem,
    SearchForm,
    active_filters,
    facet_groups,
    hit_row,
    pager,
    volume_chart,
)

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}
CHUNK_CHARS = 64 * 1024  # what the export hands to the network at once
QUEUED_CHUNKS = 8  # chunks written ahead of the client at most: a slow download holds ~512 KB, not the result


def search_page(page: Page) -> Response:
    form = SearchForm.from_args(dict(page.request.query_params))
    query = form.query(page.ws.profile)
    try:
        result = page.ws.index.search(query)
        facets = page.ws.index.aggregate(query, PAGE_FACETS)
    except QueryError as exc:
        return page.render("search.html", status=400, form=form, problem=QueryProblem.of(exc, form.q), result=None)
    return render_results(page, form, query, result, facets)


def render_results(page: Page, form: SearchForm, query: SearchQuery, result: SearchResult,
                   facets: Facets) -> Response:
    profile, text = page.ws.profile, page.text
    return page.render(
        "search.html", form=form, problem=None, result=result,
        total=text.plural("search_total_stories" if query.collapse else "search_total_clippings", result.total),
        hits=[hit_row(h, profile, text) for h in result.hits],
        groups=facet_groups(facets, form, profile, text), chosen=active_filters(form, profile, text),
        chart=volume_chart(facets, text), pager=pager(form, result.total, query.limit),
        export_csv=form.export_url("csv"), export_json=form.export_url("json"))


# --- export --------------------------------------------------------------------------------------------------
def search_export(page: Page) -> Response:
    fmt = page.arg("format")
    if fmt not in FORMATS:
        return page.bad_request(page.text.t("search_export_bad_format", format=fmt[:20]))
    form = SearchForm.from_args(dict(page.request.query_params))
    query = form.query(page.ws.profile)
    try:  # refuse a bad query before the download starts: afterwards the status line is already sent
        parse_query(query.text)
        zone(query.tz)
    except QueryError as exc:
        return page.bad_request(page.text.t("search_error_title") + " " + str(exc))
    page.audit("export", fmt, form.params() or None)
    today = datetime.now(UTC).astimezone(page.ws.tz).date().isoformat()
    filename = f"presswatch-{page.ws.municipality}-{today}.{fmt}"
    return StreamingResponse(
        stream_export(page.ws.index, query, cast(Format, fmt), page.ws.profile.tz),
        media_type=CONTENT_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class _Cancelled(Exception):
    """The client went away: the export thread stops writing."""


class _ChunkWriter(io.StringIO):
    """A text stream for index/export.py that hands its text to the response in chunks through a bounded queue,
    so the export runs at the client's pace and never holds more than a few chunks."""

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None], stop: threading.Event) -> None:
        super().__init__()
        self.chunks = chunks
        self.stop = stop
        self.pending: list[str] = []
        self.size = 0

    def write(self, s: str) -> int:
        self.pending.append(s)
        self.size += len(s)
        if self.size >= CHUNK_CHARS:
            self.flush()
        return len(s)

    def flush(self) -> None:
        if self.pending:
            self.put("".join(self.pending).encode("utf-8"))
            self.pending, self.size = [], 0

    def put(self, item: bytes | BaseException | None) -> None:
        while True:
            if self.stop.is_set():
                raise _Cancelled
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def stream_export(index: ClippingIndex, query: SearchQuery, fmt: Format, tz: ZoneInfo) -> Iterator[bytes]:
    """The export's bytes as `export()` writes them (every hit, not one page), produced by a worker thread.
    CSV starts with a byte-order mark, as the CLI's files do (index/export.py says why)."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=QUEUED_CHUNKS)
    stop = threading.Event()
    out = _ChunkWriter(chunks, stop)

    def work() -> None:
        try:
            if fmt == "csv":
                out.write("\ufeff")
            export(index, query, fmt, out, tz, exported_at=datetime.now(UTC))
            out.flush()
            out.put(None)
        except _Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - handed to the response, which ends the download with it
            try:
                out.put(exc)
            except _Cancelled:
                return

    worker = threading.Thread(target=work, name="presswatch-export", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()  # a client that stops reading stops the worker at its next write


ROUTES: list[WebRoute] = [
    WebRoute("/search", search_page, "read"),
    WebRoute("/search/export", search_export, "read"),
]

__all__ = ["ROUTES", "search_export", "search_page", "stream_export"]
