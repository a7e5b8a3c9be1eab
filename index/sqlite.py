"""The embedded clipping index: SQLite tables plus FTS5, in the same store file as the queue and the ledgers.

Tables (all `clip_`, the spine's tables in pipeline/state.py are left alone):
- `clip_clippings`: one row per clipping, the filter columns only, so that a million rows stay small enough for
  the page cache (the documents made rows of 1.1 kB; docs/decisions.md, "Search at a million clippings");
- `clip_docs`: the lossless JSON document of each clipping (index/codec.py), read only for the hits shown;
- `clip_refs`: clipping ↔ official and clipping ↔ body, for the `official` and `body` filters;
- `clip_fts_<lang>`: FTS5 per language (sk, cs, lt, tr, mk, en; `clip_fts_xx` for every other language) over
  `title`, `text`, `stems` (the `enrich.text.stem` of every word of title and text, in the clipping's language) and
  `tags` (tokens for the municipality and the relevant/critical/misleading flags, so the analysts' usual keyword
  filters are answered inside FTS5 without reading a row), tokenizer `unicode61 remove_diacritics 2`;
- `clip_meta`: schema version and the stemmer signature the `stems` column was built with.

`clip_clippings.status` is the press office's response status. The index owns it: `upsert` inserts "new" and never
changes it afterwards (reprocessing an article keeps what the press office did), index/sqlite_workflow.py's
`set_status` updates it, and `get`/`search`/`cluster` return Clippings carrying the column's value (the JSON document
does not store a status). Schema 2 added the column; schema 3 moved the documents to `clip_docs` and split the FTS
index by language; older store files are migrated when opened.

Matching. A query word matches the clipping when its surface form (diacritics folded by the tokenizer) is in the
title or text, or its stem is in `stems`. Stems depend on the language (`Kováčikovej` is `kovacikov` in Slovak but
`kovac` under the Turkish rule), so a query is compiled once per language present in the index and each
expression runs on that language's FTS table only: a Slovak word never walks the Turkish postings.
No user text reaches FTS5 as syntax: the expression is built from the parsed query with every token quoted.

Compiling (`_compile`). Text ANDed at the top of the query becomes one FTS5 MATCH, the outer loop, ranked by bm25.
Field filters become conditions on `clip_clippings` (`clip_refs` subqueries for official/body); a date range
becomes UTC bounds of the local days in `SearchQuery.tz`. Text nested with filters under OR or NOT becomes
`c.doc IN (SELECT rowid FROM clip_fts_<lang> WHERE clip_fts_<lang> MATCH ?)`, one MATCH per maximal filter-free
subtree. Keyword filters on the municipality and the flags, and field filters ANDed at the top on outlet, official,
body, sentiment and flag, join the top-level MATCH as tags when there is one; when that leaves no condition on the
row, the total is counted inside FTS5 alone.
Ranking (`_window`, `_Window.union`): bm25 over the RANK_WINDOW most recent matches. A MATCH with exclusions
(`a OR b -c`) is read once for its count, window and candidates, and the candidates are scored by bm25 of the MATCH
without the exclusions, which gives the same scores (docs/decisions.md, "Ranking a query with exclusions").
A query without top-level text lists newest first. `_match_sql` gives the same match as a plain SELECT of `doc`
(for `aggregate` and the saved-search matcher).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from presswatch.enrich.text import stem, words
from presswatch.index.base import (
    FACETS,
    STATUSES,
    Bucket,
    ClippingIndex,
    Facets,
    IndexStats,
    SearchHit,
    SearchQuery,
    SearchResult,
    wanted_facets,
)
from presswatch.index.codec import clipping_from_dict, clipping_to_dict
from presswatch.index.query import (
    AllOf,
    AnyOf,
    DateRange,
    Filter,
    Node,
    Not,
    ParsedQuery,
    Phrase,
    QueryError,
    Word,
    parse_query,
    week_key,
    zone,
)
from presswatch.index.snippet import make_snippet
from presswatch.index.sqlite_workflow import SqliteWorkflow, init_workflow
from presswatch.records import Clipping
from presswatch.state import _add_columns, connect, utcnow

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SCHEMA_VERSION = "3"  # 2: clip_clippings.status; 3: clip_docs, FTS per language with tags
# bm25 column weights (title, text, stems, tags): a word in the headline says more about the story than one in the
# body. A word found in its exact form also scores on its stem, so exact forms rank above inflected ones. Tags are
# filters, never relevance.
BM25_WEIGHTS = (3.0, 1.0, 1.0, 0.0)
MAX_LIMIT = 1000
# Relevance ranking reads bm25 for every candidate, a few µs each with the row; a common word matches ~90,000 of a
# million clippings, so ranking them all costs more than the whole search may. At most RANK_WINDOW candidates are
# ranked, shared among the languages by their number of matches, each language's most recently indexed ones; the
# older matches follow, newest first (docs/decisions.md, "Search at a million clippings"). A query with fewer
# matches is ranked whole.
RANK_WINDOW = 5000
# Count the languages of a query on two connections at once (SqliteIndex._parallel).
PARALLEL_READS = True
# Languages with an FTS table of their own; every other language shares `clip_fts_xx`.
FTS_LANGS = ("sk", "cs", "lt", "tr", "mk", "en")
OTHER_LANGS = "xx"


def fts_table(lang: str | None) -> str:
    """The FTS table holding the clippings in `lang` (the stored `clip_clippings.lang`)."""
    return f"clip_fts_{lang if lang in FTS_LANGS else OTHER_LANGS}"


FTS_TABLES = tuple(fts_table(code) for code in (*FTS_LANGS, OTHER_LANGS))

SCHEMA = """
CREATE TABLE IF NOT EXISTS clip_clippings (
    doc INTEGER PRIMARY KEY,          -- the FTS rowid
    id TEXT NOT NULL UNIQUE,          -- clipping id (hash of the canonical URL)
    municipality TEXT NOT NULL,
    published TEXT NOT NULL,          -- UTC, fixed width (sorts as text): publication, else fetch, else index time
    outlet TEXT NOT NULL,
    lang TEXT NOT NULL,
    relevant INTEGER NOT NULL,
    critical INTEGER NOT NULL,
    misleading INTEGER NOT NULL,
    max_severity REAL NOT NULL,
    sentiment TEXT NOT NULL,
    cluster_id TEXT,
    fingerprint INTEGER,              -- the 64-bit simhash stored as a signed integer
    indexed_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'new'  -- response status (index.base.STATUSES), owned by the index
);
CREATE INDEX IF NOT EXISTS clip_by_municipality ON clip_clippings(municipality, published);
CREATE INDEX IF NOT EXISTS clip_by_published ON clip_clippings(published);
CREATE INDEX IF NOT EXISTS clip_by_lang ON clip_clippings(lang);
CREATE INDEX IF NOT EXISTS clip_by_cluster ON clip_clippings(cluster_id);

CREATE TABLE IF NOT EXISTS clip_docs (
    doc INTEGER PRIMARY KEY REFERENCES clip_clippings(doc) ON DELETE CASCADE,
    document TEXT NOT NULL            -- index/codec.py JSON: the clipping, losslessly (without status)
);

CREATE TABLE IF NOT EXISTS clip_refs (
    kind TEXT NOT NULL CHECK (kind IN ('official', 'body')),
    ref TEXT NOT NULL,
    doc INTEGER NOT NULL REFERENCES clip_clippings(doc) ON DELETE CASCADE,
    PRIMARY KEY (kind, ref, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clip_refs_by_doc ON clip_refs(doc);

CREATE TABLE IF NOT EXISTS clip_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
""" + "".join(f"""
CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5(
    title, text, stems, tags, tokenize = 'unicode61 remove_diacritics 2'
);""" for table in FTS_TABLES)
# Columns added after schema 1, and the indexes on them (created once the columns exist in an old file too).
ADDED_COLUMNS = {"status": "TEXT NOT NULL DEFAULT 'new'"}
SCHEMA_ADDED = """
CREATE INDEX IF NOT EXISTS clip_by_status ON clip_clippings(status);
-- outlet/official/body filters compare ids case-insensitively; these indexes have the matching collation
CREATE INDEX IF NOT EXISTS clip_by_outlet ON clip_clippings(outlet COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS clip_refs_by_ref ON clip_refs(kind, ref COLLATE NOCASE);
-- the analysts' default listing (a municipality's relevant clippings, newest first) and its count, from the index
CREATE INDEX IF NOT EXISTS clip_by_relevance ON clip_clippings(municipality, relevant, published);
"""
# The page cache of the index's connection: the filter columns of a million clippings (≈ 200 MB) and the hot FTS
# pages. SQLite's default (2 MB) made every search of a large store read the file again.
CACHE_KIB = 262_144
MMAP_BYTES = 1 << 30


# --- tags: the filters FTS5 answers itself ----------------------------------------------------------------------
# Everything here is fixed when a clipping is upserted (the response status is not: it changes without a re-index,
# so it stays a column). Bump TAGS_VERSION when the tags change: it is part of the stemmer signature, so an older
# store says it needs `rebuild()`.
TAGS_VERSION = "tags-1"
_REF_SEP = "\x1f"


def _value_tag(prefix: str, value: str) -> str:
    # A token of letters and digits (the tokenizer would split "stara-lipnica"); a hash, as ids are free text. Ids
    # compare case-insensitively, as the SQL filters do (NOCASE).
    return prefix + hashlib.sha1(value.casefold().encode("utf-8")).hexdigest()[:16]


def _municipality_tag(municipality: str) -> str:
    return "m" + hashlib.sha1(municipality.encode("utf-8")).hexdigest()[:16]  # exact, as the SQL filter is


def _flag_tag(name: str, value: bool | int) -> str:
    return f"{name}{int(bool(value))}"


# Query-language fields a top-level filter of which becomes a tag, and the tag of a value.
_FIELD_TAGS = {"outlet": lambda v: _value_tag("o", v), "official": lambda v: _value_tag("f", v),
               "body": lambda v: _value_tag("b", v), "sentiment": lambda v: f"s{v}",
               "flag": lambda v: _flag_tag("crit" if v == "critical" else "mis", True)}


def tags_of(municipality: str, relevant: bool | int, critical: bool | int, misleading: bool | int, outlet: str,
            sentiment: str, refs: str | None) -> str:
    """The `tags` column of a clipping. `refs` are its `kind:ref` references joined by _REF_SEP (clip_refs)."""
    tags = [_municipality_tag(municipality), _flag_tag("rel", relevant), _flag_tag("crit", critical),
            _flag_tag("mis", misleading), _value_tag("o", outlet), f"s{sentiment}"]
    for item in (refs or "").split(_REF_SEP):
        if item:
            kind, _, ref = item.partition(":")
            tags.append(_value_tag("f" if kind == "official" else "b", ref))
    return " ".join(dict.fromkeys(tags))


# Words whose stems change whenever the rules in enrich/text.py change; the index remembers their hash so it can
# tell that its `stems` column was built by other rules (see `SqliteIndex.rebuild`).
_STEM_PROBE = ("primátorovi", "Hrušovského", "Kováčikovej", "starostou", "Petrauskienės", "Aydemir'in",
               "Başkanı", "градоначалникот", "Шилегов", "mayors", "councillors'")
_PROBE_LANGS = ("sk", "cs", "lt", "tr", "mk", "en", None)


def stemmer_signature() -> str:
    stems = [stem(w, lang) for lang in _PROBE_LANGS for w in _STEM_PROBE]
    return hashlib.sha256("\x1f".join([*stems, TAGS_VERSION]).encode("utf-8")).hexdigest()[:16]


def _ts(dt: datetime) -> str:
    """Fixed-width UTC text, so that SQL compares and sorts times as strings."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _from_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _signed64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def stems_of(title: str, text: str, lang: str | None) -> str:
    """The `stems` column: the stem of every word of the title and the text, in order."""
    out = [stem(w, lang) for part in (title, text) for w, _, _ in words(part)]
    return " ".join(s for s in out if s)


# --- compiling a parsed query into FTS5 ------------------------------------------------------------------------
def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts_expression(node: Node, lang: str | None) -> str:
    """FTS5 MATCH syntax for one node, for clippings in language `lang`. Every token is a quoted string."""
    if isinstance(node, Word):
        surface = "{title text} : " + _quote(node.text)
        s = stem(node.text, lang)
        return f"({surface} OR stems : {_quote(s)})" if s else surface
    if isinstance(node, Phrase):
        return "{title text} : " + _quote(" ".join(node.words))
    if isinstance(node, AnyOf):
        return "(" + " OR ".join(fts_expression(item, lang) for item in node.items) + ")"
    if isinstance(node, AllOf):
        positive = [fts_expression(i, lang) for i in node.items if not isinstance(i, Not)]
        expr = "(" + " AND ".join(positive) + ")"
        for item in node.items:
            if isinstance(item, Not):
                expr = f"({expr} NOT {fts_expression(item.item, lang)})"
        return expr
    raise TypeError(f"a bare exclusion has no FTS expression: {node!r}")  # parse_query never nests one alone


def _fts_sub(lang: str | None) -> str:
    table = fts_table(lang)
    return f"c.doc IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)"


def _is_text(node: Node) -> bool:
    """True when the subtree has no field filter, so FTS5 alone can evaluate it."""
    if isinstance(node, Word | Phrase):
        return True
    if isinstance(node, Filter | DateRange):
        return False
    if isinstance(node, Not):
        return _is_text(node.item)
    return all(_is_text(item) for item in node.items)


def _local_midnight(day: date, tz: ZoneInfo) -> str:
    """The UTC instant a local day starts, as stored text."""
    try:
        return _ts(datetime.combine(day, time(0), tzinfo=tz))
    except OverflowError:  # year 1 east of UTC, year 9999 west of it: before or after every stored time
        return "0000" if day.year < 5000 else "9999-99"


def _filter_sql(field: str, value: str) -> tuple[str, list[Any]]:
    """One field filter as a condition on `clip_clippings c`. Ids compare case-insensitively (NOCASE indexes)."""
    if field == "outlet":
        return "c.outlet = ? COLLATE NOCASE", [value]
    if field in ("official", "body"):
        return "c.doc IN (SELECT doc FROM clip_refs WHERE kind = ? AND ref = ? COLLATE NOCASE)", [field, value]
    if field == "flag":
        if value not in ("critical", "misleading"):
            raise QueryError(f"flag: is critical or misleading, not {value!r}")
        return f"c.{value} = 1", []
    if field in ("lang", "sentiment", "status"):
        return f"c.{field} = ?", [value]
    raise QueryError(f"unknown field {field!r}")  # parse_query only makes the fields above


def _date_sql(node: DateRange, tz: ZoneInfo) -> tuple[str, list[Any]]:
    conds, args = [], []
    if node.start is not None:
        conds.append("c.published >= ?")
        args.append(_local_midnight(node.start, tz))
    if node.end is not None:
        conds.append("c.published < ?")
        args.append(_local_midnight(node.end, tz))
    return "(" + " AND ".join(conds) + ")", args


def _node_sql(node: Node, lang: str | None, tz: ZoneInfo) -> tuple[str, list[Any]]:
    """A node nested among filters, as a condition on `clip_clippings c`. Each maximal filter-free group of
    siblings becomes one FTS5 MATCH subquery."""
    if isinstance(node, Not):
        sql, args = _node_sql(node.item, lang, tz)
        return f"NOT ({sql})", args
    if _is_text(node):
        return _fts_sub(lang), [fts_expression(node, lang or None)]
    if isinstance(node, Filter):
        return _filter_sql(node.field, node.value)
    if isinstance(node, DateRange):
        return _date_sql(node, tz)
    parts: list[tuple[str, list[Any]]] = []
    if isinstance(node, AnyOf):
        text = [i for i in node.items if _is_text(i)]
        if text:
            parts.append((_fts_sub(lang),
                          [fts_expression(text[0] if len(text) == 1 else AnyOf(tuple(text)), lang or None)]))
        parts.extend(_node_sql(i, lang, tz) for i in node.items if not _is_text(i))
        joiner = " OR "
    else:
        assert isinstance(node, AllOf)
        positive = [i for i in node.items if not isinstance(i, Not) and _is_text(i)]
        negative = [i for i in node.items if isinstance(i, Not) and _is_text(i)]
        if positive:  # FTS5 can exclude only from something: "a NOT b"
            parts.append((_fts_sub(lang), [fts_expression(AllOf(tuple(positive + negative)), lang or None)]))
        elif negative:
            parts.append((f"NOT ({_fts_sub(lang)})",
                          [fts_expression(AnyOf(tuple(n.item for n in negative)), lang or None)]))
        parts.extend(_node_sql(i, lang, tz) for i in node.items if not _is_text(i))
        joiner = " AND "
    return "(" + joiner.join(sql for sql, _ in parts) + ")", [a for _, args in parts for a in args]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A parsed query compiled for the clippings of one language."""

    match: str | None  # the top-level FTS5 expression (ranked), or None: no text ANDed at the top
    conds: tuple[str, ...]  # further conditions on `clip_clippings c`
    args: tuple[Any, ...]
    # Field filters ANDed at the top that are tags (outlet:, official:, body:, sentiment:, flag:), when there is a
    # MATCH to add them to: FTS5 filters by them without reading a row.
    tags: tuple[str, ...] = ()
    # The top-level MATCH without its exclusions (`a OR b` of `a OR b -c`), None when it has none. An excluded
    # phrase never occurs in a match, so it adds exactly 0 to bm25; ranking with this expression gives the same
    # scores without FTS5 reading the excluded phrases' postings for their IDF (see `_Window.union`).
    rank: str | None = None
    excluded: str | None = None  # the exclusions of the top-level MATCH (`c` of `a OR b -c`), when it has some


def _compile(parsed: ParsedQuery, lang: str | None, tz: ZoneInfo) -> _Plan:
    """`lang` is the stored language code of the clippings the plan is for ('' or None: unknown)."""
    stem_lang = lang or None
    text_in = [n for n in parsed.include if _is_text(n)]
    text_out = [n for n in parsed.exclude if _is_text(n)]
    conds: list[str] = []
    args: list[Any] = []
    match = rank = excluded = None
    if text_in:
        match = fts_expression(AllOf(tuple(text_in)), stem_lang)
        if text_out:
            rank, excluded = match, fts_expression(AnyOf(tuple(text_out)), stem_lang)
            match = f"{match} NOT {excluded}"
    elif text_out:
        conds.append(f"NOT ({_fts_sub(lang)})")
        args.append(fts_expression(AnyOf(tuple(text_out)), stem_lang))
    tags: list[str] = []
    for node in parsed.include:
        if not _is_text(node):
            sql, a = _node_sql(node, lang, tz)  # also validates the value (flag:)
            if match is not None and isinstance(node, Filter) and node.field in _FIELD_TAGS:
                tags.append(_FIELD_TAGS[node.field](node.value))
            else:
                conds.append(sql)
                args.extend(a)
    for node in parsed.exclude:
        if not _is_text(node):
            sql, a = _node_sql(node, lang, tz)
            conds.append(f"NOT ({sql})")
            args.extend(a)
    return _Plan(match, tuple(conds), tuple(args), tuple(tags), rank, excluded)


def _has_text(parsed: ParsedQuery) -> bool:
    def walk(node: Node) -> bool:
        if isinstance(node, Word | Phrase):
            return True
        if isinstance(node, Not):
            return walk(node.item)
        if isinstance(node, AllOf | AnyOf):
            return any(walk(i) for i in node.items)
        return False

    return any(walk(n) for n in (*parsed.include, *parsed.exclude))


@dataclass(frozen=True, slots=True)
class _Branch:
    lang: str | None  # the stored language code the plan is for; None: every language (a query without text)
    plan: _Plan


@dataclass(frozen=True, slots=True)
class _Where:
    """Keyword filters (SearchQuery's fields) as SQL conditions on `clip_clippings c`. `tags` are FTS5 tokens
    equivalent to `tagged`/`tagged_args`: a branch with a top-level MATCH uses the tokens, any other the SQL."""

    conds: tuple[str, ...] = ()
    args: tuple[Any, ...] = ()
    tags: tuple[str, ...] = ()
    tagged: tuple[str, ...] = ()
    tagged_args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class _Select:
    """One branch as SQL: `FROM ... WHERE ...` with its parameters, and whether it reads clip_clippings at all."""

    source: str  # "FROM ... WHERE ..."
    params: tuple[Any, ...]
    table: str | None  # the FTS table of a top-level MATCH
    needs_row: bool  # False: the MATCH alone decides (count it without reading clip_clippings)
    rank: str | None = None  # the MATCH without its exclusions, tags included (_Plan.rank); None: the MATCH itself


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A query ready to run: the keyword filters AND one of the branches (a UNION ALL of them)."""

    parsed: ParsedQuery | None
    where: _Where
    branches: tuple[_Branch, ...]

    @property
    def ranked(self) -> bool:
        return any(b.plan.match is not None for b in self.branches)

    def selects(self) -> list[_Select]:
        out = []
        for b in self.branches:
            plan = b.plan
            conds = [*self.where.conds, *plan.conds]
            args = [*self.where.args, *plan.args]
            # clip_fts_xx holds several languages; the six tables hold one each, so the table is the condition.
            # A branch without a top-level MATCH may still test its language's table in a subquery.
            if b.lang is not None and (plan.match is None or b.lang not in FTS_LANGS):
                conds.append("c.lang = ?")
                args.append(b.lang)
            if plan.match is not None:
                table = fts_table(b.lang)
                match, rank = plan.match, plan.rank
                tags = (*self.where.tags, *plan.tags)
                if tags:
                    tagged = f"tags : ({' AND '.join(_quote(t) for t in tags)})"
                    if rank is None:
                        match = f"({match}) AND {tagged}"
                    else:
                        # "(tags NOT c) AND (a)": FTS5 counts it ≈ 30 % faster than "((a) NOT c) AND tags" (the
                        # tags are one phrase, the exclusion is applied to them, and the words then only to what
                        # is left); "tags AND (a)" ranks faster than "(a) AND tags" and gives the same scores: the
                        # tags phrase adds exactly 0 wherever it stands (its column weighs 0), the others keep
                        # their order.
                        match = f"({tagged} NOT {plan.excluded}) AND ({rank})"
                        rank = f"{tagged} AND ({rank})"
                # CROSS JOIN keeps FTS5 as the outer loop. Left to itself the planner may walk an index on
                # clip_clippings (lang, say) and re-run the MATCH for every row: measured 6 s instead of 30 ms on
                # 5,000 clippings with an exclusion.
                join = f"FROM {table} CROSS JOIN clip_clippings c ON c.doc = {table}.rowid WHERE {table} MATCH ?"
                out.append(_Select(" AND ".join([join, *conds]), (match, *args), table, bool(conds), rank))
            else:
                conds = [*self.where.tagged, *conds]
                args = [*self.where.tagged_args, *args]
                out.append(_Select("FROM clip_clippings c" + (f" WHERE {' AND '.join(conds)}" if conds else ""),
                                   tuple(args), None, True))
        return out

    def union(self, columns: str, ranked: bool) -> tuple[str, list[Any]]:
        """A UNION ALL of one SELECT per branch; `columns` are expressions on `c`, plus `score` when ranked."""
        selects: list[str] = []
        params: list[Any] = []
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        for sel in self.selects():
            if not ranked:
                score = ""
            elif sel.table is not None:
                score = f", bm25({sel.table}, {weights}) AS score"
            else:
                score = ", 0.0 AS score"
            selects.append(f"SELECT {columns}{score} {sel.source}")
            params.extend(sel.params)
        return " UNION ALL ".join(selects), params

    def count(self) -> tuple[str, list[Any]]:
        """The number of matching clippings, as one statement (see `count_sql`)."""
        parts = [count_sql(sel) for sel in self.selects()]
        return (f"SELECT sum(n) FROM ({' UNION ALL '.join(sql for sql, _ in parts)})",
                [a for _, args in parts for a in args])


def count_sql(sel: _Select) -> tuple[str, list[Any]]:
    """`SELECT count(*) AS n` of one branch. A branch whose MATCH alone decides is counted in FTS5 without reading
    a row of clip_clippings (the analysts' usual search: words, their municipality, relevant)."""
    if sel.needs_row:
        return f"SELECT count(*) AS n {sel.source}", list(sel.params)
    assert sel.table is not None
    return f"SELECT count(*) AS n FROM {sel.table} WHERE {sel.table} MATCH ?", list(sel.params)


@dataclass(frozen=True, slots=True)
class _Window:
    """A ranked query's matches per language and where its rank window ends (see RANK_WINDOW)."""

    selects: list[_Select]
    counts: list[int]
    bounds: list[int | None]  # per language: the oldest candidate's rowid, None when all its matches are candidates
    total: int
    candidates: int
    docs: list[list[int]]  # per language whose MATCH has exclusions: the candidates' rowids, ascending; else []

    def union(self, columns: str, candidates: bool) -> tuple[str, list[Any]]:
        """The candidates (with `score`, bm25) or the matches past the window, as a UNION ALL over the languages."""
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        parts: list[str] = []
        params: list[Any] = []
        for sel, n, bound, docs in zip(self.selects, self.counts, self.bounds, self.docs, strict=True):
            if candidates and n and sel.rank is not None:
                # bm25 of the MATCH without its exclusions (the same scores; the excluded phrases' IDF is not
                # computed), on the candidates only: their rowid range for FTS5, the list itself as a filter ("+":
                # not an FTS5 constraint, which would re-run the query, IDF included, for every rowid).
                t = sel.table
                parts.append(f"SELECT {columns}, bm25({t}, {weights}) AS score FROM {t} CROSS JOIN clip_clippings c"
                             f" ON c.doc = {t}.rowid WHERE {t} MATCH ? AND {t}.rowid >= ? AND {t}.rowid <= ?"
                             f" AND +{t}.rowid IN (SELECT value FROM json_each(?))")
                params.extend([sel.rank, docs[0], docs[-1], json.dumps(docs)])
            elif candidates and n:
                parts.append(f"SELECT {columns}, bm25({sel.table}, {weights}) AS score {sel.source}"
                             + (f" AND {sel.table}.rowid >= ?" if bound is not None else ""))
                params.extend([*sel.params, *([bound] if bound is not None else [])])
            elif not candidates and bound is not None:
                parts.append(f"SELECT {columns} {sel.source} AND {sel.table}.rowid < ?")
                params.extend([*sel.params, bound])
        return " UNION ALL ".join(parts), params


@dataclass(frozen=True, slots=True)
class _Row:
    clipping: Clipping
    values: tuple[Any, ...]  # clip_clippings columns after doc (_COLUMNS)
    document: str
    refs: tuple[tuple[str, str], ...]
    stems: str
    tags: str


_COLUMNS = ("id", "municipality", "published", "outlet", "lang", "relevant", "critical", "misleading",
            "max_severity", "sentiment", "cluster_id", "fingerprint", "indexed_at")


class SqliteIndex(SqliteWorkflow, ClippingIndex):
    """The default backend. Thread-safe: one connection, serialised by a lock; one transaction per batch. A search
    may also count on a second, read-only use of the store in a helper thread, under the same lock (`_parallel`)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        self._conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self._lock = threading.RLock()
        # A second reader and its thread, opened by the first search that has two languages to count
        # (`_parallel`); used only under `_lock`, like the connection.
        self._aux: sqlite3.Connection | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._aux_pid = 0
        self.stems_outdated = False  # True when the stems column was built by other stemming rules
        try:
            with self._lock:
                self._conn.executescript(SCHEMA)
                _add_columns(self._conn, "clip_clippings", ADDED_COLUMNS)
                self._migrate_v3()
                self._conn.executescript(SCHEMA_ADDED)
                init_workflow(self._conn)
                self._check_meta()
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if "fts5" in str(exc).lower():
                raise RuntimeError(f"{self.path}: this Python's SQLite has no FTS5 ({exc}); the index needs it") \
                    from exc
            raise

    def _migrate_v3(self) -> None:
        """Schema 1-2 files kept the document in clip_clippings and one FTS table for every language: move the
        documents to clip_docs and each clipping's FTS row to its language's table, in one transaction."""
        columns = {r["name"] for r in self._conn.execute("PRAGMA table_info(clip_clippings)")}
        if "document" not in columns:
            return
        log.warning("%s: migrating the clipping index to schema %s (documents apart, one FTS table per language);"
                    " this reads every clipping once", self.path, SCHEMA_VERSION)
        self._conn.create_function("pw_tags", 7, tags_of, deterministic=True)
        with self._transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO clip_docs(doc, document) SELECT doc, document FROM clip_clippings")
            old_fts = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'clip_fts'").fetchone()
            for code in (*FTS_LANGS, None):
                table = fts_table(code)
                which = "c.lang = ?" if code else f"c.lang NOT IN ({', '.join('?' * len(FTS_LANGS))})"
                if old_fts:
                    conn.execute(f"INSERT INTO {table}(rowid, title, text, stems, tags) SELECT f.rowid, f.title,"
                                 " f.text, f.stems, pw_tags(c.municipality, c.relevant, c.critical, c.misleading,"
                                 " c.outlet, c.sentiment, (SELECT group_concat(r.kind || ':' || r.ref, char(31))"
                                 " FROM clip_refs r WHERE r.doc = c.doc))"
                                 f" FROM clip_fts f JOIN clip_clippings c ON c.doc = f.rowid WHERE {which}",
                                 (code,) if code else FTS_LANGS)
            if old_fts:
                conn.execute("DROP TABLE clip_fts")
            conn.execute("ALTER TABLE clip_clippings DROP COLUMN document")

    def _check_meta(self) -> None:
        meta = dict(self._conn.execute("SELECT key, value FROM clip_meta").fetchall())
        current = stemmer_signature()
        if not meta:
            self._conn.executemany("INSERT OR IGNORE INTO clip_meta(key, value) VALUES (?, ?)",
                                   [("schema", SCHEMA_VERSION), ("stemmer", current)])
            return
        if int(meta.get("schema", "1")) < int(SCHEMA_VERSION):  # the columns were added above
            self._conn.execute("INSERT OR REPLACE INTO clip_meta(key, value) VALUES ('schema', ?)",
                               (SCHEMA_VERSION,))
        if meta.get("stemmer") != current:
            if self._conn.execute("SELECT 1 FROM clip_clippings LIMIT 1").fetchone():
                # Old clippings keep stems made by the old rules, so some inflected forms stop matching.
                self.stems_outdated = True
                log.warning("%s: the clipping index was built with other stemming rules (enrich/text.py changed);"
                            " run `presswatch index rebuild` to re-stem it", self.path)
            else:
                self._conn.execute("UPDATE clip_meta SET value = ? WHERE key = 'stemmer'", (current,))

    # --- lifecycle -------------------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
            if self._aux is not None:
                self._aux.close()
                self._aux = None
            self._conn.close()

    def __enter__(self) -> SqliteIndex:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute(f"BEGIN {mode}")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back on some errors (SQLITE_FULL, for one); a second ROLLBACK would
                # raise "no transaction is active" and hide the error that matters.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    # --- writing ---------------------------------------------------------------------------------------------
    def _prepare(self, c: Clipping, now: datetime) -> _Row:
        if c.indexed_at is None:
            c = replace(c, indexed_at=now)
        assert c.indexed_at is not None
        a, e = c.article, c.enrichment
        published = a.published or a.fetched_at or c.indexed_at
        values = (
            c.id, c.municipality, _ts(published), a.outlet, e.lang, int(e.relevant), int(e.critical),
            int(e.misleading), c.max_severity, e.sentiment.label, c.cluster_id,
            None if c.fingerprint is None else _signed64(c.fingerprint), _ts(c.indexed_at),
        )
        document = json.dumps(clipping_to_dict(c), ensure_ascii=False, separators=(",", ":"))
        refs = {("official", r) for r in e.officials} | {("body", r) for r in e.bodies}
        refs |= {(m.kind, m.ref) for m in e.mentions}
        return _Row(c, values, document, tuple(sorted(refs)), stems_of(a.title, a.text, e.lang),
                    tags_of(c.municipality, e.relevant, e.critical, e.misleading, a.outlet, e.sentiment.label,
                            _REF_SEP.join(f"{kind}:{ref}" for kind, ref in sorted(refs))))

    def _write(self, conn: sqlite3.Connection, row: _Row) -> bool:
        """Insert or replace one clipping inside the caller's transaction; True if it was new."""
        found = conn.execute("SELECT doc, lang FROM clip_clippings WHERE id = ?", (row.clipping.id,)).fetchone()
        if found is None:
            cur = conn.execute(f"INSERT INTO clip_clippings({', '.join(_COLUMNS)})"
                               f" VALUES ({', '.join('?' * len(_COLUMNS))})", row.values)
            doc = cur.lastrowid
        else:
            doc = found["doc"]
            conn.execute(f"UPDATE clip_clippings SET {', '.join(f'{c} = ?' for c in _COLUMNS[1:])} WHERE doc = ?",
                         (*row.values[1:], doc))
            conn.execute("DELETE FROM clip_refs WHERE doc = ?", (doc,))
            conn.execute(f"DELETE FROM {fts_table(found['lang'])} WHERE rowid = ?", (doc,))
        conn.execute("INSERT OR REPLACE INTO clip_docs(doc, document) VALUES (?, ?)", (doc, row.document))
        conn.executemany("INSERT INTO clip_refs(kind, ref, doc) VALUES (?, ?, ?)",
                         [(kind, ref, doc) for kind, ref in row.refs])
        a = row.clipping.article
        conn.execute(f"INSERT INTO {fts_table(row.clipping.enrichment.lang)}(rowid, title, text, stems, tags)"
                     " VALUES (?, ?, ?, ?, ?)", (doc, a.title, a.text, row.stems, row.tags))
        return found is None

    def upsert(self, clippings: Iterable[Clipping]) -> int:
        now = utcnow()
        rows = [self._prepare(c, now) for c in clippings]  # stemming and JSON outside the write lock
        if not rows:
            return 0
        with self._transaction() as conn:
            return sum(self._write(conn, row) for row in rows)

    def rebuild(self, progress: Callable[[int, int], None] | None = None, every: int = 100) -> int:
        """Re-derive every column, reference and FTS row from the stored documents (after the stemming rules
        changed, or a schema fix); returns how many clippings were rebuilt. One transaction, so a search never sees
        half the index re-stemmed and an interrupted rebuild leaves the old index whole. `progress(done, total)` is
        called every `every` clippings and once at the end (inside the transaction: keep it quick)."""
        with self._transaction() as conn:
            docs = [r["document"] for r in conn.execute("SELECT document FROM clip_docs ORDER BY doc")]
            now = utcnow()
            for done, doc in enumerate(docs, 1):
                self._write(conn, self._prepare(clipping_from_dict(json.loads(doc)), now))
                if progress is not None and done % every == 0 and done < len(docs):
                    progress(done, len(docs))
            conn.execute("INSERT OR REPLACE INTO clip_meta(key, value) VALUES ('stemmer', ?)",
                         (stemmer_signature(),))
        self.stems_outdated = False
        if progress is not None:
            progress(len(docs), len(docs))
        return len(docs)

    # --- reading ---------------------------------------------------------------------------------------------
    def get(self, clipping_id: str) -> Clipping | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_READ} WHERE c.id = ?", (clipping_id,)).fetchone()
        return _clipping(row) if row else None

    def _compiled(self, conn: sqlite3.Connection, query: SearchQuery) -> _Compiled | None:
        """The query compiled against what is indexed now (the languages present); None: nothing can match."""
        parsed = parse_query(query.text)
        where = _filters(query)
        tz = zone(query.tz)
        if parsed is None:
            return _Compiled(None, where, (_Branch(None, _Plan(None, (), ())),))
        if not _has_text(parsed):  # filters only: nothing depends on the language
            return _Compiled(parsed, where, (_Branch(None, _compile(parsed, None, tz)),))
        # One branch per language present, each on its own FTS table; the `lang` keyword and `lang:` filters
        # ANDed at the top need no branch for the other languages.
        wanted = {n.value for n in parsed.include if isinstance(n, Filter) and n.field == "lang"}
        if query.lang is not None:
            wanted.add(query.lang)
        langs = [code for code in _languages(conn) if all(code == v for v in wanted)]
        if not langs:  # nothing indexed in the language asked for
            return None
        return _Compiled(parsed, where, tuple(_Branch(code, _compile(parsed, code, tz)) for code in langs))

    def _match_sql(self, conn: sqlite3.Connection, query: SearchQuery) -> tuple[str, list[Any]] | None:
        """Every clipping `query` matches (text, field filters and keyword filters; limit, offset and collapse
        ignored) as `(sql, params)`: a SELECT with the single column `doc` (clip_clippings.doc), possibly a
        UNION ALL of per-language branches, so wrap it (`... WHERE c.doc IN (sql)` or
        `SELECT doc FROM (sql) WHERE ...`) rather than append to it. None when nothing can match (no clipping in
        the language asked for). Run it on `conn` inside the caller's transaction: it reads the languages present.
        Used by `aggregate` and by index/sqlite_workflow.py's `match_saved`. Raises QueryError for a bad query."""
        compiled = self._compiled(conn, query)
        return None if compiled is None else compiled.union("c.doc AS doc", ranked=False)

    def search(self, query: SearchQuery) -> SearchResult:
        if query.limit < 0 or query.offset < 0:
            raise QueryError("limit and offset cannot be negative")
        limit = min(query.limit, MAX_LIMIT)
        with self._transaction("DEFERRED") as conn:  # one snapshot for the count and the page
            compiled = self._compiled(conn, query)
            if compiled is None:
                return SearchResult(total=0, hits=())
            if query.collapse:
                return self._collapsed(conn, compiled, limit, query.offset)
            if compiled.ranked:
                return self._ranked(conn, compiled, limit, query.offset)
            union, params = compiled.union("c.doc AS doc, c.published AS published", False)
            parsed = compiled.parsed
            count_sql_, count_params = compiled.count()
            total = _run(conn, count_sql_, count_params, parsed)[0][0] or 0
            if not limit or query.offset >= total:
                return SearchResult(total=total, hits=())
            page = _run(conn, f"SELECT doc FROM ({union}) ORDER BY {_order(False)} LIMIT ? OFFSET ?",
                        [*params, limit, query.offset], parsed)
            docs = [r["doc"] for r in page]
            return SearchResult(total=total, hits=self._hits(conn, docs, dict.fromkeys(docs, 0.0), None))

    def _window(self, conn: sqlite3.Connection, compiled: _Compiled) -> _Window:
        """Count a ranked query's matches per language and place the rank window (RANK_WINDOW)."""
        parsed = compiled.parsed
        selects = [sel for sel in compiled.selects() if sel.table is not None]
        assert len(selects) == len(compiled.branches), "a ranked query has a MATCH in every branch"
        # A MATCH with exclusions is read once: every match's rowid, in the rowid order FTS5 counts in (no bm25),
        # gives the count, the window's bound and the candidates the rank pass filters on (`_Window.union`); that
        # costs what the count alone did, where finding the bound walked the expression backwards again (30 ms for
        # `a OR b -c` at a million). Any other MATCH is counted, and its bound found, without reading the rowids
        # into Python: cheaper for a single common word's 40,000 matches.
        def count(sel: _Select) -> Callable[[sqlite3.Connection], tuple[list[int] | None, int]]:
            def run(c: sqlite3.Connection) -> tuple[list[int] | None, int]:
                if sel.rank is None:
                    return None, _run(c, *count_sql(sel), parsed)[0][0]
                source = sel.source if sel.needs_row else f"FROM {sel.table} WHERE {sel.table} MATCH ?"
                row = _run(c, f"SELECT json_group_array({sel.table}.rowid) AS docs {source}", list(sel.params),
                           parsed)[0]
                docs = json.loads(row["docs"])
                docs.sort()  # already in rowid order; sorting a sorted list is one pass
                return docs, len(docs)
            return run

        passes = self._parallel(conn, [(count(sel), None if sel.needs_row else sel.table) for sel in selects])
        matches = [docs for docs, _ in passes]
        counts = [n for _, n in passes]
        total = sum(counts)
        # The window is shared among the languages by their number of matches; each language's candidates are its
        # most recently indexed matches. `bounds`: the oldest candidate's rowid where a language has more.
        windows = [n if total <= RANK_WINDOW else max(1, round(RANK_WINDOW * n / total)) for n in counts]
        bounds: list[int | None] = []
        candidates: list[list[int]] = []
        for sel, docs, n, window in zip(selects, matches, counts, windows, strict=True):
            if docs is not None:
                bounds.append(docs[n - window] if n > window else None)
                candidates.append(docs[n - window:] if n > window else docs)
                continue
            candidates.append([])
            if n > window:  # FTS5 walks rowids downwards without sorting; no bm25 is computed here
                source = sel.source if sel.needs_row else f"FROM {sel.table} WHERE {sel.table} MATCH ?"
                bounds.append(_run(conn, f"SELECT {sel.table}.rowid AS doc {source}"
                                         f" ORDER BY {sel.table}.rowid DESC LIMIT 1 OFFSET ?",
                                   [*sel.params, window - 1], parsed)[0]["doc"])
            else:
                bounds.append(None)
        return _Window(selects, counts, bounds, total,
                       sum(min(n, window) for n, window in zip(counts, windows, strict=True)), candidates)

    def _parallel(self, conn: sqlite3.Connection,
                  jobs: list[tuple[Callable[[sqlite3.Connection], _T], str | None]]) -> list[_T]:
        """Run `jobs` on `conn`, in its transaction, and when there are several also on a second connection in a
        helper thread: SQLite lets two connections read at once and Python releases the GIL while a statement
        runs, so counting a query that matches Czech and Slovak clippings takes the longer of the two counts, not
        their sum. A job names the one FTS table it reads, or None when it reads other tables too (it then runs on
        `conn`). The second connection must see what `conn` sees: it opens a read transaction and compares the
        structure record of each of those FTS tables (FTS5 rewrites it with every change to the table); if
        anything was written in between, `conn` runs every job itself."""
        shared = [i for i, (_, table) in enumerate(jobs) if table is not None]
        if not shared or len(jobs) < 2 or not PARALLEL_READS:
            return [job(conn) for job, _ in jobs]
        if self._aux is not None and self._aux_pid != os.getpid():  # a forked child: the parent's, leave them be
            self._aux = self._pool = None
        if self._aux is None:
            self._aux_pid = os.getpid()
            self._aux = connect(self.path)
            self._aux.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._aux.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="presswatch-index")
        aux, pool = self._aux, self._pool
        assert pool is not None
        structure = "SELECT block FROM {}_data WHERE id = 10"
        aux.execute("BEGIN")
        try:
            if any(conn.execute(structure.format(t)).fetchone()[0] != aux.execute(structure.format(t)).fetchone()[0]
                   for t in sorted({table for _, table in jobs if table is not None})):
                return [job(conn) for job, _ in jobs]  # a write came between the two snapshots
            results: list[Any] = [None] * len(jobs)
            pending = iter(shared)
            take = threading.Lock()

            def work(c: sqlite3.Connection) -> None:
                while True:
                    with take:
                        i = next(pending, None)
                    if i is None:
                        return
                    results[i] = jobs[i][0](c)

            helper = pool.submit(work, aux)
            try:
                for i, (job, table) in enumerate(jobs):
                    if table is None:
                        results[i] = job(conn)
                work(conn)
            finally:
                helper_error = helper.exception()  # waits: the helper must be done before its transaction ends
            if helper_error is not None:
                raise helper_error
            return results
        finally:
            aux.execute("COMMIT")

    def _ranked(self, conn: sqlite3.Connection, compiled: _Compiled, limit: int, offset: int) -> SearchResult:
        """Text at the top of the query: the candidates (every match, or RANK_WINDOW of them shared among the
        languages, each language's most recently indexed) by bm25, then the older matches newest first."""
        parsed = compiled.parsed
        w = self._window(conn, compiled)
        if not limit or offset >= w.total:
            return SearchResult(total=w.total, hits=())
        scores: dict[int, float] = {}
        docs: list[int] = []
        if offset < w.candidates:
            sql, params = w.union("c.doc AS doc, c.published AS published", candidates=True)
            for r in _run(conn, f"SELECT doc, score FROM ({sql}) ORDER BY {_order(True)} LIMIT ? OFFSET ?",
                          [*params, min(limit, w.candidates - offset), offset], parsed):
                docs.append(r["doc"])
                scores[r["doc"]] = -r["score"]  # bm25 is lower-is-better; hits report higher-is-better
        if len(docs) < limit and offset + len(docs) < w.total:
            sql, params = w.union("c.doc AS doc, c.published AS published", candidates=False)
            for r in _run(conn, f"SELECT doc FROM ({sql}) ORDER BY {_order(False)} LIMIT ? OFFSET ?",
                          [*params, limit - len(docs), max(0, offset - w.candidates)], parsed):
                docs.append(r["doc"])
                scores[r["doc"]] = 0.0  # not ranked: past the window
        return SearchResult(total=w.total, hits=self._hits(conn, docs, scores, parsed))

    def _collapsed(self, conn: sqlite3.Connection, compiled: _Compiled, limit: int, offset: int) -> SearchResult:
        """One hit per story (coalesce(cluster_id, id)): its best-ranked (or newest) matching clipping, with the
        story's other matching clippings as `copies`, earliest first. Ranked like `_ranked`: the stories with a
        candidate in the rank window by their best candidate, then the others by their newest match."""
        parsed = compiled.parsed
        columns = "c.doc AS doc, c.published AS published, coalesce(c.cluster_id, c.id) AS story"
        union, params = compiled.union(columns, False)
        total = _run(conn, f"SELECT count(DISTINCT story) FROM ({union})", params, parsed)[0][0]
        if not limit or offset >= total:
            return SearchResult(total=total, hits=())
        firsts = "SELECT *, row_number() OVER (PARTITION BY story ORDER BY {order}) AS rn FROM ({sql})"
        page: list[tuple[int, Any, float]] = []  # (doc, story, score)
        if compiled.ranked:
            w = self._window(conn, compiled)
            sql, cparams = w.union(columns, candidates=True)
            ranked = _run(conn, f"SELECT doc, story, score FROM ({firsts.format(order=_order(True), sql=sql)})"
                                f" WHERE rn = 1 ORDER BY {_order(True)}", cparams, parsed)
            page = [(r["doc"], r["story"], -r["score"]) for r in ranked[offset:offset + limit]]
            if len(page) < limit and w.candidates < w.total:
                sql, rparams = w.union(columns, candidates=False)
                seen = json.dumps([r["story"] for r in ranked])
                rest = _run(conn, f"SELECT doc, story FROM ({firsts.format(order=_order(False), sql=sql)})"
                                  " WHERE rn = 1 AND story NOT IN (SELECT value FROM json_each(?))"
                                  f" ORDER BY {_order(False)} LIMIT ? OFFSET ?",
                            [*rparams, seen, limit - len(page), max(0, offset - len(ranked))], parsed)
                page += [(r["doc"], r["story"], 0.0) for r in rest]
        else:
            rows = _run(conn, f"SELECT doc, story FROM ({firsts.format(order=_order(False), sql=union)})"
                              f" WHERE rn = 1 ORDER BY {_order(False)} LIMIT ? OFFSET ?",
                        [*params, limit, offset], parsed)
            page = [(r["doc"], r["story"], 0.0) for r in rows]
        stories = {story: doc for doc, story, _ in page}
        copies: dict[int, list[int]] = {doc: [] for doc in stories.values()}
        if stories:
            for r in _run(conn, f"SELECT doc, story FROM ({union}) WHERE story IN ({', '.join('?' * len(stories))})"
                                " ORDER BY published, doc", [*params, *stories], parsed):
                best = stories[r["story"]]
                if r["doc"] != best:
                    copies[best].append(r["doc"])
        return SearchResult(total=total, hits=self._hits(conn, [doc for doc, _, _ in page],
                                                         {doc: score for doc, _, score in page},
                                                         parsed if compiled.ranked else None, copies))

    def _hits(self, conn: sqlite3.Connection, docs: list[int], scores: dict[int, float],
              parsed: ParsedQuery | None, copies: dict[int, list[int]] | None = None) -> tuple[SearchHit, ...]:
        if not docs:
            return ()
        wanted = [*docs, *(d for extra in (copies or {}).values() for d in extra)]
        rows = conn.execute(f"SELECT c.doc AS doc, {_READ} WHERE c.doc IN ({', '.join('?' * len(wanted))})",
                            wanted).fetchall()
        by_doc = {r["doc"]: _clipping(r) for r in rows}
        terms = parsed.terms() if parsed is not None else []
        hits = []
        for doc in docs:
            c = by_doc[doc]
            snippet = make_snippet(c.article.text, c.enrichment.lang or None, terms)
            others = tuple(by_doc[d] for d in (copies or {}).get(doc, ()))
            hits.append(SearchHit(clipping=c, score=scores[doc], snippet=snippet, copies=others))
        return tuple(hits)

    # --- facets ----------------------------------------------------------------------------------------------
    def aggregate(self, query: SearchQuery, facets: Sequence[str] = FACETS, size: int = 20) -> Facets:
        wanted = wanted_facets(facets, size)
        tz = zone(query.tz)
        counters: dict[str, dict[str, int]] = {f: {} for f in wanted}
        days: dict[date, int] = {}
        with self._transaction("DEFERRED") as conn:  # one snapshot for the total and every facet
            compiled = self._match_sql(conn, query)
            if compiled is None:
                return Facets(total=0, counts={f: () for f in wanted})
            sql, params = compiled
            parsed = parse_query(query.text)
            # The match runs once, into a temporary table; then one scan grouped by the wanted columns (few groups:
            # the facets are summed from them in Python), one by time, one over the references.
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS clip_agg(doc INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM temp.clip_agg")
            try:
                _run(conn, f"INSERT OR IGNORE INTO temp.clip_agg(doc) {sql}", params, parsed)
                total = self._facet_counts(conn, wanted, counters, days, tz)
            finally:
                conn.execute("DELETE FROM temp.clip_agg")
        counts: dict[str, tuple[Bucket, ...]] = {}
        for f in wanted:
            if f == "day":
                counts[f] = _day_buckets(days)
            elif f == "week":
                counts[f] = _week_buckets(days)
            else:  # largest first, ties by key
                ranked = sorted(counters[f].items(), key=lambda kv: (-kv[1], kv[0]))
                counts[f] = tuple(Bucket(k, n) for k, n in ranked[:size])
        return Facets(total=total, counts=counts)

    @staticmethod
    def _facet_counts(conn: sqlite3.Connection, wanted: list[str], counters: dict[str, dict[str, int]],
                      days: dict[date, int], tz: ZoneInfo) -> int:
        """Fill `counters` and `days` from the clippings in temp.clip_agg; returns how many there are."""
        # CROSS JOIN keeps the matches as the outer loop: left to itself the planner scanned all of clip_clippings
        # and probed the temporary table (200 ms instead of 50 for a municipality's 17,000 clippings in a million).
        source = "FROM temp.clip_agg a CROSS JOIN clip_clippings c ON c.doc = a.doc"
        columns = [_FACET_COLUMNS[f] for f in wanted if f in _FACET_COLUMNS]
        if "flag" in wanted:
            columns += ["c.critical AS critical", "c.misleading AS misleading"]
        names = [col.rsplit(" AS ", 1)[1] for col in columns]
        grouping = f" GROUP BY {', '.join(names)}" if names else ""
        total = 0
        for r in conn.execute(f"SELECT {', '.join([*columns, 'count(*) AS n'])} {source}{grouping}"):
            n = r["n"]
            total += n
            for f in wanted:
                if f in _FACET_COLUMNS:
                    counters[f][r[f]] = counters[f].get(r[f], 0) + n
                elif f == "flag":
                    for flag in ("critical", "misleading"):
                        if r[flag]:
                            counters[f][flag] = counters[f].get(flag, 0) + n
        if total and ("day" in wanted or "week" in wanted):
            # UTC quarter hours (every zone's offset is a multiple of 15 minutes); Python puts each in its local
            # day, as SQLite knows no IANA zones.
            for r in conn.execute("SELECT substr(c.published, 1, 13) AS hour,"
                                  f" CAST(substr(c.published, 15, 2) AS INTEGER) / 15 AS quarter, count(*) AS n {source}"
                                  " GROUP BY hour, quarter"):
                h = r["hour"]  # "2026-11-22T05"; strptime cost 20 µs a group, a third of a facet query
                when = datetime(int(h[:4]), int(h[5:7]), int(h[8:10]), int(h[11:13]), 15 * r["quarter"], tzinfo=UTC)
                local = when.astimezone(tz).date()
                days[local] = days.get(local, 0) + r["n"]
        kinds = [f for f in wanted if f in ("official", "body")]
        if kinds and total:
            for r in conn.execute("SELECT r.kind AS kind, r.ref AS ref, count(*) AS n FROM temp.clip_agg a"
                                  " CROSS JOIN clip_refs r INDEXED BY clip_refs_by_doc ON r.doc = a.doc"
                                  f" WHERE r.kind IN ({', '.join('?' * len(kinds))}) GROUP BY r.kind, r.ref", kinds):
                counters[r["kind"]][r["ref"]] = r["n"]
        return total

    def stats(self, municipality: str | None = None) -> IndexStats:
        where, args = ("WHERE municipality = ?", (municipality,)) if municipality else ("", ())
        with self._transaction("DEFERRED") as conn:
            row = conn.execute(
                "SELECT count(*) AS n, coalesce(sum(relevant), 0) AS relevant,"
                " coalesce(sum(critical), 0) AS critical, coalesce(sum(misleading), 0) AS misleading,"
                # a clipping not (yet) clustered is a story of its own, as the clusterer will make it
                " count(DISTINCT coalesce(cluster_id, id)) AS clusters, max(published) AS newest"
                f" FROM clip_clippings {where}", args).fetchone()
            by_lang = {r["lang"]: r["n"] for r in conn.execute(
                f"SELECT lang, count(*) AS n FROM clip_clippings {where} GROUP BY lang ORDER BY lang", args)}
        return IndexStats(clippings=row["n"], relevant=row["relevant"], critical=row["critical"],
                          misleading=row["misleading"], clusters=row["clusters"], by_lang=by_lang,
                          newest=_from_ts(row["newest"]) if row["newest"] else None)

    def cluster(self, cluster_id: str) -> list[Clipping]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_READ} WHERE c.cluster_id = ? OR (c.cluster_id IS NULL AND c.id = ?)"
                " ORDER BY c.published, c.doc", (cluster_id, cluster_id)).fetchall()
        return [_clipping(r) for r in rows]

    def fingerprints(self, municipality: str, since: datetime) -> list[tuple[str, str, int]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, coalesce(cluster_id, id) AS cluster, fingerprint FROM clip_clippings"
                " WHERE municipality = ? AND published >= ? AND fingerprint IS NOT NULL ORDER BY published, doc",
                (municipality, _ts(since))).fetchall()
        return [(r["id"], r["cluster"], r["fingerprint"] & ((1 << 64) - 1)) for r in rows]


# What a read of whole clippings selects: the document and the current status.
_READ = "d.document AS document, c.status AS status FROM clip_clippings c JOIN clip_docs d ON d.doc = c.doc"


def _clipping(row: sqlite3.Row) -> Clipping:
    """A stored clipping with its current status (the column; the document has none)."""
    return replace(clipping_from_dict(json.loads(row["document"])), status=row["status"])


def _order(ranked: bool) -> str:
    return "score, published DESC, doc DESC" if ranked else "published DESC, doc DESC"


def _day_buckets(days: dict[date, int]) -> tuple[Bucket, ...]:
    """Every day from the first to the last, empty ones included."""
    if not days:
        return ()
    first, last = min(days), max(days)
    return tuple(Bucket(d.isoformat(), days.get(d, 0)) for d in
                 (date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1)))


def _week_buckets(days: dict[date, int]) -> tuple[Bucket, ...]:
    """ISO weeks (`2026-W47`) from the first to the last, empty ones included."""
    if not days:
        return ()
    weeks: dict[str, int] = {}
    for d, n in days.items():
        weeks[week_key(d)] = weeks.get(week_key(d), 0) + n
    monday = min(days) - timedelta(days=min(days).weekday())
    out = []
    while monday <= max(days):
        out.append(Bucket(week_key(monday), weeks.get(week_key(monday), 0)))
        monday += timedelta(days=7)
    return tuple(out)


# Facets read straight from a column of clip_clippings (aliased to the facet's name).
_FACET_COLUMNS = {"outlet": "c.outlet AS outlet", "lang": "c.lang AS lang", "sentiment": "c.sentiment AS sentiment",
                  "status": "c.status AS status"}
_KEYWORD_VALUES = {"sentiment": ("positive", "neutral", "negative"), "status": STATUSES}


def _filters(q: SearchQuery) -> _Where:
    """The query's keyword filters (the same as the field filters of the query language) as SQL conditions on
    `clip_clippings c`; the municipality and the flags also as FTS5 tags."""
    conds: list[str] = []
    args: list[Any] = []
    tags: list[str] = []
    tagged: list[str] = []
    tagged_args: list[Any] = []
    if q.municipality is not None:
        tags.append(_municipality_tag(q.municipality))
        tagged.append("c.municipality = ?")
        tagged_args.append(q.municipality)
    if q.lang is not None:  # a text query only has branches in this language; a query without text tests it
        conds.append("c.lang = ?")
        args.append(q.lang)
    for field, value in (("outlet", q.outlet), ("sentiment", q.sentiment), ("status", q.status)):
        if value is not None:
            allowed = _KEYWORD_VALUES.get(field)
            if allowed is not None and value not in allowed:
                raise QueryError(f"{field} is one of {', '.join(allowed)}, not {value!r}")
            sql, a = _filter_sql(field, value)
            conds.append(sql)
            args.extend(a)
    for column, tag, flag in (("critical", "crit", q.critical), ("misleading", "mis", q.misleading),
                              ("relevant", "rel", q.relevant)):
        if flag is not None:
            tags.append(_flag_tag(tag, flag))
            tagged.append(f"c.{column} = ?")
            tagged_args.append(int(flag))
    if q.since is not None:
        conds.append("c.published >= ?")
        args.append(_ts(q.since))
    if q.until is not None:
        conds.append("c.published < ?")
        args.append(_ts(q.until))
    for kind, ref in (("official", q.official), ("body", q.body)):
        if ref is not None:
            sql, a = _filter_sql(kind, ref)
            conds.append(sql)
            args.extend(a)
    return _Where(tuple(conds), tuple(args), tuple(tags), tuple(tagged), tuple(tagged_args))


def _languages(conn: sqlite3.Connection) -> list[str]:
    """The languages present, by walking the `lang` index from value to value (a DISTINCT would read all of it)."""
    rows = conn.execute(
        "WITH RECURSIVE l(code) AS (SELECT min(lang) FROM clip_clippings UNION ALL"
        " SELECT (SELECT min(lang) FROM clip_clippings WHERE lang > l.code) FROM l WHERE l.code IS NOT NULL)"
        " SELECT code FROM l WHERE code IS NOT NULL").fetchall()
    return [r[0] for r in rows]


def _run(conn: sqlite3.Connection, sql: str, params: list[Any], parsed: ParsedQuery | None) -> list[sqlite3.Row]:
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        # The expression is built from quoted tokens, so this is our bug, not the user's; still, an analyst gets a
        # QueryError instead of a traceback, and the cause stays chained for the log.
        if parsed is not None and "fts5" in str(exc).lower():
            raise QueryError(f"the index could not run this query ({exc})") from exc
        raise


__all__ = ["SqliteIndex", "fts_expression", "stems_of", "stemmer_signature"]
