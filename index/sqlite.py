"""The embedded clipping index: SQLite tables plus FTS5, in the same store file as the queue and the ledgers.

Tables (all `clip_`, the spine's tables in pipeline/state.py are left alone):
- `clip_clippings`: one row per clipping, the filter columns and the lossless JSON document (index/codec.py);
- `clip_refs`: clipping ↔ official and clipping ↔ body, for the `official` and `body` filters;
- `clip_fts`: FTS5 over `title`, `text` and `stems` (the `enrich.text.stem` of every word of title and text, in
  the clipping's language), tokenizer `unicode61 remove_diacritics 2`;
- `clip_meta`: schema version and the stemmer signature the `stems` column was built with.

Matching. A query word matches the clipping when its surface form (diacritics folded by the tokenizer) is in the
title or text, or its stem is in `stems`. Stems depend on the language (`Kováčikovej` is `kovacikov` in Slovak but
`kovac` under the Turkish rule), so a query is compiled once per language present in the index and each
expression only runs against clippings in its language; languages that give the same expression share one.
No user text reaches FTS5 as syntax: the expression is built from the parsed query with every token quoted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from presswatch.enrich.text import stem, words
from presswatch.index.base import ClippingIndex, IndexStats, SearchHit, SearchQuery, SearchResult
from presswatch.index.codec import clipping_from_dict, clipping_to_dict
from presswatch.index.query import AllOf, AnyOf, Node, Not, ParsedQuery, Phrase, QueryError, Word, parse_query
from presswatch.index.snippet import make_snippet
from presswatch.records import Clipping
from presswatch.state import connect, utcnow

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
# bm25 column weights (title, text, stems): a word in the headline says more about the story than one in the body.
# A word found in its exact form also scores on its stem, so exact forms rank above inflected ones.
BM25_WEIGHTS = (3.0, 1.0, 1.0)
MAX_LIMIT = 1000

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
    document TEXT NOT NULL            -- index/codec.py JSON: the clipping, losslessly
);
CREATE INDEX IF NOT EXISTS clip_by_municipality ON clip_clippings(municipality, published);
CREATE INDEX IF NOT EXISTS clip_by_published ON clip_clippings(published);
CREATE INDEX IF NOT EXISTS clip_by_lang ON clip_clippings(lang);
CREATE INDEX IF NOT EXISTS clip_by_cluster ON clip_clippings(cluster_id);

CREATE TABLE IF NOT EXISTS clip_refs (
    kind TEXT NOT NULL CHECK (kind IN ('official', 'body')),
    ref TEXT NOT NULL,
    doc INTEGER NOT NULL REFERENCES clip_clippings(doc) ON DELETE CASCADE,
    PRIMARY KEY (kind, ref, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clip_refs_by_doc ON clip_refs(doc);

CREATE VIRTUAL TABLE IF NOT EXISTS clip_fts USING fts5(
    title, text, stems, tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE IF NOT EXISTS clip_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Words whose stems change whenever the rules in enrich/text.py change; the index remembers their hash so it can
# tell that its `stems` column was built by other rules (see `SqliteIndex.rebuild`).
_STEM_PROBE = ("primátorovi", "Hrušovského", "Kováčikovej", "starostou", "Petrauskienės", "Aydemir'in",
               "Başkanı", "градоначалникот", "Шилегов", "mayors", "councillors'")
_PROBE_LANGS = ("sk", "cs", "lt", "tr", "mk", "en", None)


def stemmer_signature() -> str:
    stems = [stem(w, lang) for lang in _PROBE_LANGS for w in _STEM_PROBE]
    return hashlib.sha256("\x1f".join(stems).encode("utf-8")).hexdigest()[:16]


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


def _match_expressions(parsed: ParsedQuery, lang: str | None) -> tuple[str | None, str | None]:
    """(include, exclude) MATCH expressions; include is None for an exclusions-only query."""
    include = fts_expression(AllOf(parsed.include), lang) if parsed.include else None
    exclude = fts_expression(AnyOf(parsed.exclude), lang) if parsed.exclude else None
    return include, exclude


@dataclass(frozen=True, slots=True)
class _Branch:
    langs: tuple[str, ...] | None  # None: every language (all gave the same expression)
    include: str | None
    exclude: str | None


@dataclass(frozen=True, slots=True)
class _Row:
    clipping: Clipping
    values: tuple[Any, ...]  # clip_clippings columns after doc, in SCHEMA order
    refs: tuple[tuple[str, str], ...]
    stems: str


_COLUMNS = ("id", "municipality", "published", "outlet", "lang", "relevant", "critical", "misleading",
            "max_severity", "sentiment", "cluster_id", "fingerprint", "indexed_at", "document")


class SqliteIndex(ClippingIndex):
    """The default backend. Thread-safe: one connection, serialised by a lock; one transaction per batch."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        self._lock = threading.RLock()
        self.stems_outdated = False  # True when the stems column was built by other stemming rules
        try:
            with self._lock:
                self._conn.executescript(SCHEMA)
                self._check_meta()
        except sqlite3.OperationalError as exc:
            self._conn.close()
            if "fts5" in str(exc).lower():
                raise RuntimeError(f"{self.path}: this Python's SQLite has no FTS5 ({exc}); the index needs it") \
                    from exc
            raise

    def _check_meta(self) -> None:
        meta = dict(self._conn.execute("SELECT key, value FROM clip_meta").fetchall())
        current = stemmer_signature()
        if not meta:
            self._conn.executemany("INSERT OR IGNORE INTO clip_meta(key, value) VALUES (?, ?)",
                                   [("schema", SCHEMA_VERSION), ("stemmer", current)])
        elif meta.get("stemmer") != current:
            if self._conn.execute("SELECT 1 FROM clip_clippings LIMIT 1").fetchone():
                # Old clippings keep stems made by the old rules, so some inflected forms stop matching.
                self.stems_outdated = True
                log.warning("%s: the clipping index was built with other stemming rules (enrich/text.py changed);"
                            " call SqliteIndex.rebuild() to re-stem it", self.path)
            else:
                self._conn.execute("UPDATE clip_meta SET value = ? WHERE key = 'stemmer'", (current,))

    # --- lifecycle -------------------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
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
            json.dumps(clipping_to_dict(c), ensure_ascii=False, separators=(",", ":")),
        )
        refs = {("official", r) for r in e.officials} | {("body", r) for r in e.bodies}
        refs |= {(m.kind, m.ref) for m in e.mentions}
        return _Row(c, values, tuple(sorted(refs)), stems_of(a.title, a.text, e.lang))

    def _write(self, conn: sqlite3.Connection, row: _Row) -> bool:
        """Insert or replace one clipping inside the caller's transaction; True if it was new."""
        found = conn.execute("SELECT doc FROM clip_clippings WHERE id = ?", (row.clipping.id,)).fetchone()
        if found is None:
            cur = conn.execute(f"INSERT INTO clip_clippings({', '.join(_COLUMNS)})"
                               f" VALUES ({', '.join('?' * len(_COLUMNS))})", row.values)
            doc = cur.lastrowid
        else:
            doc = found["doc"]
            conn.execute(f"UPDATE clip_clippings SET {', '.join(f'{c} = ?' for c in _COLUMNS[1:])} WHERE doc = ?",
                         (*row.values[1:], doc))
            conn.execute("DELETE FROM clip_refs WHERE doc = ?", (doc,))
            conn.execute("DELETE FROM clip_fts WHERE rowid = ?", (doc,))
        conn.executemany("INSERT INTO clip_refs(kind, ref, doc) VALUES (?, ?, ?)",
                         [(kind, ref, doc) for kind, ref in row.refs])
        a = row.clipping.article
        conn.execute("INSERT INTO clip_fts(rowid, title, text, stems) VALUES (?, ?, ?, ?)",
                     (doc, a.title, a.text, row.stems))
        return found is None

    def upsert(self, clippings: Iterable[Clipping]) -> int:
        now = utcnow()
        rows = [self._prepare(c, now) for c in clippings]  # stemming and JSON outside the write lock
        if not rows:
            return 0
        with self._transaction() as conn:
            return sum(self._write(conn, row) for row in rows)

    def rebuild(self) -> int:
        """Re-derive every column, reference and FTS row from the stored documents (after the stemming rules
        changed, or a schema fix); returns how many clippings were rebuilt."""
        with self._transaction() as conn:
            docs = [r["document"] for r in conn.execute("SELECT document FROM clip_clippings")]
            now = utcnow()
            for doc in docs:
                self._write(conn, self._prepare(clipping_from_dict(json.loads(doc)), now))
            conn.execute("INSERT OR REPLACE INTO clip_meta(key, value) VALUES ('stemmer', ?)",
                         (stemmer_signature(),))
        self.stems_outdated = False
        return len(docs)

    # --- reading ---------------------------------------------------------------------------------------------
    def get(self, clipping_id: str) -> Clipping | None:
        with self._lock:
            row = self._conn.execute("SELECT document FROM clip_clippings WHERE id = ?", (clipping_id,)).fetchone()
        return clipping_from_dict(json.loads(row["document"])) if row else None

    def search(self, query: SearchQuery) -> SearchResult:
        if query.limit < 0 or query.offset < 0:
            raise QueryError("limit and offset cannot be negative")
        limit = min(query.limit, MAX_LIMIT)
        parsed = parse_query(query.text)
        where, args = _filters(query)
        with self._transaction("DEFERRED") as conn:  # one snapshot for the count and the page
            if parsed is None:
                return self._newest(conn, where, args, limit, query.offset, None)
            branches = self._branches(conn, parsed, query.lang)
            if not branches:  # nothing indexed in the language asked for
                return SearchResult(total=0, hits=())
            if not parsed.include:
                return self._newest(conn, where, args, limit, query.offset, (parsed, branches))
            return self._ranked(conn, where, args, limit, query.offset, parsed, branches)

    def _branches(self, conn: sqlite3.Connection, parsed: ParsedQuery, lang: str | None) -> list[_Branch]:
        if lang is not None:
            langs = [lang]
        else:
            langs = [r[0] for r in conn.execute("SELECT DISTINCT lang FROM clip_clippings")]
        by_expression: dict[tuple[str | None, str | None], list[str]] = {}
        for code in langs:
            by_expression.setdefault(_match_expressions(parsed, code or None), []).append(code)
        if len(by_expression) == 1 and lang is None:
            ((include, exclude),) = by_expression
            return [_Branch(None, include, exclude)]
        return [_Branch(tuple(codes), inc, exc) for (inc, exc), codes in by_expression.items()]

    def _ranked(self, conn: sqlite3.Connection, where: list[str], args: list[Any], limit: int, offset: int,
                parsed: ParsedQuery, branches: list[_Branch]) -> SearchResult:
        selects: list[str] = []
        params: list[Any] = []
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        for b in branches:
            assert b.include is not None
            match = b.include if b.exclude is None else f"{b.include} NOT {b.exclude}"
            conds = ["clip_fts MATCH ?", *where]
            branch_args: list[Any] = [match, *args]
            if b.langs is not None:
                conds.append(f"c.lang IN ({', '.join('?' * len(b.langs))})")
                branch_args.extend(b.langs)
            # CROSS JOIN keeps FTS5 as the outer loop. Left to itself the planner may walk an index on
            # clip_clippings (lang, say) and re-run the MATCH for every row: measured 6 s instead of 30 ms on
            # 5,000 clippings with an exclusion.
            selects.append(f"SELECT c.doc AS doc, bm25(clip_fts, {weights}) AS score, c.published AS published"
                           f" FROM clip_fts CROSS JOIN clip_clippings c ON c.doc = clip_fts.rowid"
                           f" WHERE {' AND '.join(conds)}")
            params.extend(branch_args)
        union = " UNION ALL ".join(selects)
        total = _run(conn, f"SELECT count(*) FROM ({union})", params, parsed)[0][0]
        if not limit or offset >= total:
            return SearchResult(total=total, hits=())
        page = _run(conn, f"SELECT doc, score FROM ({union}) ORDER BY score, published DESC, doc DESC"
                          " LIMIT ? OFFSET ?", [*params, limit, offset], parsed)
        scores = {r["doc"]: -r["score"] for r in page}  # bm25 is lower-is-better; hits report higher-is-better
        return SearchResult(total=total, hits=self._hits(conn, [r["doc"] for r in page], scores, parsed))

    def _newest(self, conn: sqlite3.Connection, where: list[str], args: list[Any], limit: int, offset: int,
                excluding: tuple[ParsedQuery, list[_Branch]] | None) -> SearchResult:
        conds, params = list(where), list(args)
        parsed = None
        if excluding is not None:
            parsed, branches = excluding
            for b in branches:
                assert b.exclude is not None
                sub = "c.doc IN (SELECT rowid FROM clip_fts WHERE clip_fts MATCH ?)"
                if b.langs is None:
                    conds.append(f"NOT {sub}")
                    params.append(b.exclude)
                else:
                    conds.append(f"NOT (c.lang IN ({', '.join('?' * len(b.langs))}) AND {sub})")
                    params.extend([*b.langs, b.exclude])
        sql_where = f" WHERE {' AND '.join(conds)}" if conds else ""
        total = _run(conn, f"SELECT count(*) FROM clip_clippings c{sql_where}", params, parsed)[0][0]
        if not limit or offset >= total:
            return SearchResult(total=total, hits=())
        page = _run(conn, f"SELECT c.doc FROM clip_clippings c{sql_where} ORDER BY c.published DESC, c.doc DESC"
                          " LIMIT ? OFFSET ?", [*params, limit, offset], parsed)
        docs = [r["doc"] for r in page]
        return SearchResult(total=total, hits=self._hits(conn, docs, dict.fromkeys(docs, 0.0), None))

    def _hits(self, conn: sqlite3.Connection, docs: list[int], scores: dict[int, float],
              parsed: ParsedQuery | None) -> tuple[SearchHit, ...]:
        if not docs:
            return ()
        rows = conn.execute(f"SELECT doc, document FROM clip_clippings WHERE doc IN ({', '.join('?' * len(docs))})",
                            docs).fetchall()
        by_doc = {r["doc"]: clipping_from_dict(json.loads(r["document"])) for r in rows}
        terms = parsed.terms() if parsed is not None else []
        hits = []
        for doc in docs:
            c = by_doc[doc]
            snippet = make_snippet(c.article.text, c.enrichment.lang or None, terms)
            hits.append(SearchHit(clipping=c, score=scores[doc], snippet=snippet))
        return tuple(hits)

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
                "SELECT document FROM clip_clippings WHERE cluster_id = ? OR (cluster_id IS NULL AND id = ?)"
                " ORDER BY published, doc", (cluster_id, cluster_id)).fetchall()
        return [clipping_from_dict(json.loads(r["document"])) for r in rows]

    def fingerprints(self, municipality: str, since: datetime) -> list[tuple[str, str, int]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, coalesce(cluster_id, id) AS cluster, fingerprint FROM clip_clippings"
                " WHERE municipality = ? AND published >= ? AND fingerprint IS NOT NULL ORDER BY published, doc",
                (municipality, _ts(since))).fetchall()
        return [(r["id"], r["cluster"], r["fingerprint"] & ((1 << 64) - 1)) for r in rows]


def _filters(q: SearchQuery) -> tuple[list[str], list[Any]]:
    """SQL conditions on `clip_clippings c` for the query's filters."""
    conds: list[str] = []
    args: list[Any] = []
    simple = (("municipality", q.municipality), ("lang", q.lang))
    for column, value in simple:
        if value is not None:
            conds.append(f"c.{column} = ?")
            args.append(value)
    for column, flag in (("critical", q.critical), ("misleading", q.misleading), ("relevant", q.relevant)):
        if flag is not None:
            conds.append(f"c.{column} = ?")
            args.append(int(flag))
    if q.since is not None:
        conds.append("c.published >= ?")
        args.append(_ts(q.since))
    if q.until is not None:
        conds.append("c.published < ?")
        args.append(_ts(q.until))
    for kind, ref in (("official", q.official), ("body", q.body)):
        if ref is not None:
            conds.append("c.doc IN (SELECT doc FROM clip_refs WHERE kind = ? AND ref = ?)")
            args.extend([kind, ref])
    return conds, args


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
