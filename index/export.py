"""Export every clipping a search matches, as CSV or JSON, for the press office's reports.

Rows are streamed: the index is read one page at a time (`PAGE_SIZE` hits) and each row is written as soon as it
is read, so an export of a million clippings holds one page in memory, never the whole result. Both formats carry
the same fields (`FIELDS`); CSV flattens lists with "; ", JSON keeps them typed.

CSV is written as UTF-8 with a byte-order mark (docs/decisions.md): Excel, which most press offices open a CSV
with, reads a CSV without one in the Windows ANSI code page and mangles every č, ė, ş and Cyrillic letter; Python
(`utf-8-sig`), LibreOffice, Google Sheets and pandas read the mark correctly. Text cells that a spreadsheet would
run as a formula (starting with = + - @, tab or carriage return; titles are written by outlets, not by us) are
prefixed with an apostrophe, as OWASP advises against CSV injection. JSON is plain UTF-8.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from presswatch.index.base import ClippingIndex, SearchHit, SearchQuery
from presswatch.records import Clipping

PAGE_SIZE = 500
FIELDS: tuple[str, ...] = ("id", "published", "outlet", "title", "url", "lang", "relevant", "sentiment", "critical",
                           "misleading", "severity", "officials", "bodies", "status", "cluster")
Format = Literal["csv", "json"]
FORMATS: tuple[str, ...] = ("csv", "json")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iter_hits(index: ClippingIndex, query: SearchQuery, page_size: int | None = None) -> Iterator[SearchHit]:
    """Every hit of `query` (its limit and offset ignored), page by page, in the index's order.

    A clipping indexed while paging shifts later pages by one: a hit already yielded on the previous page is not
    yielded again. Only the ids of one page are remembered, so memory stays flat however large the export."""
    size = page_size or PAGE_SIZE
    previous: set[str] = set()
    offset = 0
    while True:
        result = index.search(replace(query, limit=size, offset=offset))
        current: set[str] = set()
        for hit in result.hits:
            current.add(hit.clipping.id)
            if hit.clipping.id not in previous:
                yield hit
        previous = current
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            return


def _published(c: Clipping, tz: ZoneInfo) -> datetime | None:
    moment = c.article.published or c.article.fetched_at or c.indexed_at
    return moment.astimezone(tz) if moment else None


def row(c: Clipping, tz: ZoneInfo) -> dict[str, Any]:
    """One clipping as an export record (typed: lists and booleans stay what they are)."""
    moment = _published(c, tz)
    e = c.enrichment
    return {
        "id": c.id,
        "published": moment.isoformat(timespec="seconds") if moment else None,
        "outlet": c.article.outlet,
        "title": c.article.title,
        "url": c.article.url,
        "lang": e.lang or c.article.lang,
        "relevant": e.relevant,
        "sentiment": e.sentiment.label,
        "critical": e.critical,
        "misleading": e.misleading,
        "severity": round(c.max_severity, 3),
        "officials": list(e.officials),
        "bodies": list(e.bodies),
        "status": c.status,
        "cluster": c.cluster_id or c.id,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(hits: Iterator[SearchHit], out: IO[str], tz: ZoneInfo) -> int:
    """Header row, then one row per hit. `out` is a text stream opened with newline="" (the csv module writes
    \\r\\n itself); the caller writes the BOM by opening it with encoding="utf-8-sig". Returns the rows written."""
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    n = 0
    for hit in hits:
        record = row(hit.clipping, tz)
        writer.writerow([_cell(record[f]) for f in FIELDS])
        n += 1
    return n


def write_json(hits: Iterator[SearchHit], out: IO[str], tz: ZoneInfo, query: str = "",
               exported_at: datetime | None = None) -> int:
    """`{"query", "exported_at", "fields", "clippings": [...], "count"}`, written one clipping at a time.
    With collapse, each record also lists `copies`: the ids of the story's other matching clippings."""
    out.write("{")
    out.write(f'"query": {json.dumps(query, ensure_ascii=False)}, ')
    out.write(f'"exported_at": {json.dumps(exported_at.isoformat(timespec="seconds") if exported_at else None)}, ')
    out.write(f'"fields": {json.dumps(list(FIELDS))}, "clippings": [')
    n = 0
    for hit in hits:
        record = row(hit.clipping, tz)
        if hit.copies:
            record["copies"] = [c.id for c in hit.copies]
        out.write(("," if n else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        n += 1
    out.write(f'\n], "count": {n}}}\n')
    return n


def export(index: ClippingIndex, query: SearchQuery, fmt: Format, out: IO[str], tz: ZoneInfo,
           exported_at: datetime | None = None) -> int:
    """Write every hit of `query` to `out` in `fmt`; returns how many clippings were written."""
    hits = iter_hits(index, query)
    if fmt == "csv":
        return write_csv(hits, out, tz)
    if fmt == "json":
        return write_json(hits, out, tz, query.text, exported_at)
    raise ValueError(f"unknown export format {fmt!r}; use {' or '.join(FORMATS)}")


def open_for(fmt: Format, path: str) -> IO[str]:
    """The output file for `fmt`: CSV with a BOM and newline="" (the csv module's line endings), JSON plain UTF-8."""
    if fmt == "csv":
        return open(path, "w", encoding="utf-8-sig", newline="")
    return open(path, "w", encoding="utf-8")


__all__ = ["FIELDS", "FORMATS", "PAGE_SIZE", "export", "iter_hits", "open_for", "row", "write_csv", "write_json"]
