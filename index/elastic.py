"""The Elasticsearch backend of `ClippingIndex`, for when one machine is not enough (DESIGN.md, "Decisions").

Indices (all names start with the profile's `store.prefix`, "presswatch" by default), each created from a
versioned composable index template and reached through an alias, so a mapping change is a new `-v2` index, a
reindex and an alias swap, never an in-place edit:

- `<prefix>-clippings` → `<prefix>-clippings-v1`: one document per clipping, id = clipping id. `_source` is the
  index/codec.py document plus the derived fields below; the response status lives in the document (`status`).
- `<prefix>-status` → `<prefix>-status-v1`: one document per status change (the history).
- `<prefix>-saved` → `<prefix>-saved-v1`: the saved searches, each with its compiled query in a `percolator` field;
  it carries the clipping mappings too, as a percolator index must, so that a clipping can be percolated against it.

Matching is defined as for SQLite (index/sqlite.py, index/query.py) so both backends pass the same contract
tests: a word matches its diacritic-free surface form (the `folded` subfields: the same Cyrillic→Latin transliteration
as `enrich.text.fold`, then `asciifolding`) or its stem under `enrich.text.stem` in the clipping's language (the
`stems` field, computed here in Python when the document is written). The per-language subfields (`text.sk`,
`text.cs`, ...; built-in `czech`, `lithuanian`, `turkish`, `english` analyzers, custom chains for Slovak and
Macedonian) only add to the score: if they decided matching, an exclusion or a saved-search alert would depend
on which engine is running.

Requests use only APIs and query bodies that Elasticsearch 7.10 also has (`_index_template`, aliases, bool/term/
terms/range/match_phrase/multi_match/percolate queries, `case_insensitive` on term (7.10), collapse with
inner_hits, terms/date_histogram/cardinality/filter/max aggregations, bulk update with a painless script).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from presswatch.enrich.text import MK_TRANSLIT, SPECIAL_LETTERS, SUFFIXES, stem
from presswatch.index.base import (
    FACETS,
    STATUSES,
    Bucket,
    ClippingIndex,
    Facets,
    IndexStats,
    SavedSearch,
    SearchHit,
    SearchQuery,
    SearchResult,
    StatusChange,
    StatusError,
    wanted_facets,
)
from presswatch.index.codec import clipping_from_dict, clipping_to_dict, from_iso, to_iso
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
from presswatch.index.sqlite import stems_of
from presswatch.records import Clipping

log = logging.getLogger(__name__)

TEMPLATE_VERSION = 1  # bump with every mapping or analysis change, together with the `-v<N>` index names
INDEX_GENERATION = "v1"
MAX_LIMIT = 1000  # as SQLite; from + size stays under index.max_result_window (10,000) for the first pages
LANGS = ("sk", "cs", "lt", "tr", "mk", "en")  # one text subfield each
# Transport retries (elastic-transport): these statuses and timeouts are retried up to `max_retries` times, on the
# next node of the pool. The bulk helper adds exponential backoff for documents rejected with 429.
RETRY_ON_STATUS = (429, 502, 503, 504)
MAX_RETRIES = 5
REQUEST_TIMEOUT = 30.0
BULK_CHUNK = 500
BULK_INITIAL_BACKOFF = 1.0  # seconds; doubles per retry of a rejected chunk
BULK_MAX_BACKOFF = 60.0
_PAGE = 1000  # search_after page size when a method returns everything (cluster, fingerprints, history)
_PERCOLATE_CHUNK = 100  # clippings percolated per request
_TITLE_BOOST = 3.0  # as SQLite's bm25 column weights: a word in the headline says more than one in the body

# Upserting must not reset what the press office did: an existing document is replaced field by field from
# `params.doc` but keeps its `status`; a new one is indexed from `upsert` (status "new"), without running the script.
UPSERT_SCRIPT = ("def status = ctx._source.status; ctx._source.clear(); ctx._source.putAll(params.doc);"
                 " ctx._source.status = status == null ? 'new' : status;")


class ElasticUnavailable(ConnectionError):
    """Elasticsearch cannot be reached or refused the request; the message names the URL (without credentials)."""


def redact(url: str) -> str:
    """The URL without user and password, for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


# --- analysis and mappings -----------------------------------------------------------------------------------
def _fold_mappings() -> list[str]:
    """`mapping` char filter rules: the Cyrillic→Latin transliteration and the letters NFKD does not decompose,
    exactly as `enrich.text.fold` has them, and apostrophes as word breaks (as FTS5's unicode61 does)."""
    rules: list[str] = []
    for cyr, lat in sorted(MK_TRANSLIT.items()):
        if lat:  # ъ and ь vanish: the pattern_replace char filter below removes them
            rules.append(f"{cyr} => {lat}")
            if cyr.upper() != cyr:
                rules.append(f"{cyr.upper()} => {lat}")
    for k, v in sorted(SPECIAL_LETTERS.items()):
        rules.append(f"{k} => {v}")
        if len(k.upper()) == 1 and k.upper() != k and not k.upper().isascii():
            rules.append(f"{k.upper()} => {v}")
    rules.append("İ => i")  # Turkish dotted capital I: lowercase would leave a combining dot
    rules += [f"{a} => \\u0020" for a in "'’ʼ`´"]
    return rules


def _suffix_pattern(lang: str) -> str:
    """A `pattern_replace` token filter pattern that strips the first suffix of `enrich.text.stem`'s list for
    `lang` leaving at least three characters. The lists are longest first, so the reluctant prefix (which
    takes the longest suffix that fits) picks the same suffix as the Python loop."""
    alternatives = "|".join(SUFFIXES[lang])
    return f"^(.{{3,}}?)(?:{alternatives})$"


def analysis_settings() -> dict[str, Any]:
    """The `analysis` index settings shared by the clipping and the saved-search indices."""
    return {
        "char_filter": {
            "pw_translit": {"type": "mapping", "mappings": _fold_mappings()},
            "pw_drop_signs": {"type": "pattern_replace", "pattern": "[ъьЪЬ]", "replacement": ""},
        },
        "tokenizer": {
            # runs of letters, digits and marks, as FTS5's unicode61 and enrich.text.words see words
            "pw_words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}\\p{M}]+"},
        },
        "filter": {
            # No Slovak or Macedonian stemmer ships with Elasticsearch (the `stemmer` filter has no sk/mk and there
            # is no light_slovak/light_macedonian); hunspell needs dictionaries on every node and ICU a plugin. These
            # strip the suffixes enrich/text.py strips, so ES ranks with the stems our own matching uses.
            "pw_sk_suffix": {"type": "pattern_replace", "pattern": _suffix_pattern("sk"), "replacement": "$1"},
            "pw_mk_suffix": {"type": "pattern_replace", "pattern": _suffix_pattern("mk"), "replacement": "$1"},
        },
        "analyzer": {
            "pw_folded": {"type": "custom", "char_filter": ["pw_translit", "pw_drop_signs"],
                          "tokenizer": "pw_words", "filter": ["lowercase", "asciifolding"]},
            "pw_slovak": {"type": "custom", "tokenizer": "standard",
                          "filter": ["lowercase", "asciifolding", "pw_sk_suffix"]},
            "pw_macedonian": {"type": "custom", "char_filter": ["pw_translit", "pw_drop_signs"],
                              "tokenizer": "standard", "filter": ["lowercase", "asciifolding", "pw_mk_suffix"]},
            "pw_stems": {"type": "custom", "tokenizer": "whitespace", "filter": []},
        },
    }


LANG_ANALYZERS: dict[str, str] = {"sk": "pw_slovak", "cs": "czech", "lt": "lithuanian", "tr": "turkish",
                                  "mk": "pw_macedonian", "en": "english"}


def _text_field() -> dict[str, Any]:
    fields: dict[str, Any] = {"folded": {"type": "text", "analyzer": "pw_folded"}}
    fields.update({lang: {"type": "text", "analyzer": analyzer} for lang, analyzer in LANG_ANALYZERS.items()})
    return {"type": "text", "analyzer": "standard", "fields": fields}


def _keyword(*names: str) -> dict[str, Any]:
    return {name: {"type": "keyword"} for name in names}


def clipping_properties() -> dict[str, Any]:
    """Mapped fields of a clipping document. The root is `dynamic: false`: the rest of the codec document
    (mentions, flags with their reasons, overruled, extra) is kept in `_source` but not indexed."""
    return {
        "title": _text_field(),
        "text": _text_field(),
        "stems": {"type": "text", "analyzer": "pw_stems", "norms": False},
        **_keyword("id", "municipality", "outlet", "lang", "article_lang", "status", "officials", "bodies",
                   "official_refs", "body_refs", "flag_types", "cluster_id", "story", "fingerprint", "authors"),
        "url": {"type": "keyword", "index": False},
        "sentiment": {"properties": {"label": {"type": "keyword"}, "score": {"type": "float"}}},
        "relevant": {"type": "boolean"},
        "critical": {"type": "boolean"},
        "misleading": {"type": "boolean"},
        "paywalled": {"type": "boolean"},
        "max_severity": {"type": "float"},
        "published": {"type": "date"},
        "fetched_at": {"type": "date"},
        "indexed_at": {"type": "date"},
        "dated": {"type": "date"},  # publication, else fetch, else index time: what filters, sorts and facets use
    }


def index_templates(prefix: str, shards: int = 1, replicas: int = 1) -> dict[str, dict[str, Any]]:
    """{template name: `put_index_template` arguments} for the three indices.

    One primary shard by default: a municipality's press coverage is small, and with one shard terms aggregations
    and the collapse total are exact."""
    settings: dict[str, Any] = {"number_of_shards": shards, "number_of_replicas": replicas,
                                "analysis": analysis_settings()}
    meta = {"managed_by": "presswatch"}
    clippings = {"dynamic": False, "properties": clipping_properties(), "_meta": meta}
    saved = {"dynamic": False, "_meta": meta, "properties": {
        **clipping_properties(),
        "saved": {"properties": {**_keyword("id", "municipality", "name", "query", "origin", "created_by"),
                                 "alert": {"type": "boolean"}, "created_at": {"type": "date"}}},
        "saved_query": {"type": "percolator"},
    }}
    status = {"dynamic": False, "_meta": meta, "properties": {
        **_keyword("clipping_id", "status", "by"), "note": {"type": "text"}, "at": {"type": "date"},
        "seq": {"type": "long"}}}
    out: dict[str, dict[str, Any]] = {}
    for name, mappings, idx_settings in (("clippings", clippings, settings), ("saved", saved, settings),
                                         ("status", status, {"number_of_shards": shards,
                                                             "number_of_replicas": replicas})):
        out[f"{prefix}-{name}"] = {"index_patterns": [f"{prefix}-{name}-*"], "priority": 100,
                                   "version": TEMPLATE_VERSION,
                                   "template": {"settings": idx_settings, "mappings": mappings}}
    return out


# --- documents -----------------------------------------------------------------------------------------------
def effective_time(c: Clipping) -> datetime | None:
    """The time `search` filters and sorts on: publication, else fetch, else index time (as SQLite)."""
    return c.article.published or c.article.fetched_at or c.indexed_at


def stems_text(c: Clipping) -> str:
    """The `stems` field: SQLite's `stems` column, one definition for both backends."""
    return stems_of(c.article.title, c.article.text, c.enrichment.lang)


def to_document(c: Clipping) -> dict[str, Any]:
    """The `_source` of a clipping without `status` (the index owns it): the codec document plus derived fields."""
    e = c.enrichment
    doc = clipping_to_dict(c)
    doc.update({
        "dated": to_iso(effective_time(c)),
        "story": c.cluster_id or c.id,
        "stems": stems_text(c),
        # as SQLite's clip_refs: an official or body listed by enrichment or named in a mention
        "official_refs": sorted({*e.officials, *(m.ref for m in e.mentions if m.kind == "official")}),
        "body_refs": sorted({*e.bodies, *(m.ref for m in e.mentions if m.kind == "body")}),
        "flag_types": sorted({f.type for f in e.flags}),
    })
    return doc


def from_document(source: Mapping[str, Any]) -> Clipping:
    return replace(clipping_from_dict(source), status=str(source.get("status") or "new"))


def upsert_actions(clippings: Iterable[Clipping], index: str, now: datetime) -> Iterator[dict[str, Any]]:
    """Bulk `update` actions: a scripted replacement that keeps `status`, or an insert with status "new"."""
    for c in clippings:
        if c.indexed_at is None:
            c = replace(c, indexed_at=now)
        doc = to_document(c)
        yield {"_op_type": "update", "_index": index, "_id": c.id, "retry_on_conflict": 3,
               "script": {"source": UPSERT_SCRIPT, "lang": "painless", "params": {"doc": doc}},
               "upsert": {**doc, "status": "new"}}


def load_actions(clippings: Iterable[Clipping], index: str) -> Iterator[dict[str, Any]]:
    """Bulk `index` actions that write clippings with the status they carry (migration, restore)."""
    for c in clippings:
        yield {"_op_type": "index", "_index": index, "_id": c.id, "_source": {**to_document(c), "status": c.status}}


# --- compiling a parsed query --------------------------------------------------------------------------------
def _term(field: str, value: Any, case_insensitive: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"value": value}
    if case_insensitive:
        body["case_insensitive"] = True
    return {"term": {field: body}}


def _stem_groups(word: str) -> list[tuple[str, tuple[str, ...] | None]]:
    """[(stem, languages)] for a query word: the stem differs by language, and a document's `stems` were made in
    its own language. Languages giving the same stem share one clause. `None` stands for the Slovak rules'
    group, which also covers every language outside LANGS (enrich.text.stem's default): it is written as
    "not one of the other groups' languages"."""
    by_stem: dict[str, list[str]] = {}
    for lang in LANGS:
        by_stem.setdefault(stem(word, lang), []).append(lang)
    default = stem(word, None)
    out: list[tuple[str, tuple[str, ...] | None]] = []
    for s, langs in by_stem.items():
        if s:
            out.append((s, None if s == default else tuple(langs)))
    return out


def _word_query(word: str) -> dict[str, Any]:
    should: list[dict[str, Any]] = [
        {"match_phrase": {"title.folded": {"query": word, "boost": _TITLE_BOOST}}},
        {"match_phrase": {"text.folded": {"query": word}}},
    ]
    groups = _stem_groups(word)
    others = [lang for s, langs in groups if langs is not None for lang in langs]
    for s, langs in groups:
        if langs is not None:
            should.append({"bool": {"filter": [_term("stems", s), {"terms": {"lang": list(langs)}}]}})
        else:
            clause: dict[str, Any] = {"filter": [_term("stems", s)]}
            if others:
                clause["must_not"] = [{"terms": {"lang": others}}]
            should.append({"bool": clause})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _phrase_query(words: Sequence[str]) -> dict[str, Any]:
    text = " ".join(words)
    return {"bool": {"should": [{"match_phrase": {"title.folded": {"query": text, "boost": _TITLE_BOOST}}},
                                {"match_phrase": {"text.folded": {"query": text}}}],
                     "minimum_should_match": 1}}


def _utc_midnight(day: date, tz: ZoneInfo) -> str | None:
    """The UTC instant a local day starts (ISO), or None when it is outside what datetime can represent."""
    try:
        return to_iso(datetime(day.year, day.month, day.day, tzinfo=tz))
    except OverflowError:
        return None


def _date_query(node: DateRange, tz: ZoneInfo) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if node.start is not None:
        start = _utc_midnight(node.start, tz)
        if start is None and node.start.year > 5000:
            return {"match_none": {}}
        if start is not None:
            bounds["gte"] = start
    if node.end is not None:
        end = _utc_midnight(node.end, tz)
        if end is None and node.end.year < 5000:
            return {"match_none": {}}
        if end is not None:
            bounds["lt"] = end
    return {"range": {"dated": bounds}} if bounds else {"match_all": {}}


_FILTER_FIELDS = {"outlet": "outlet", "official": "official_refs", "body": "body_refs", "lang": "lang",
                  "sentiment": "sentiment.label", "status": "status"}


def _filter_query(field: str, value: str) -> dict[str, Any]:
    if field == "flag":
        if value not in ("critical", "misleading"):
            raise QueryError(f"flag: is critical or misleading, not {value!r}")
        return _term(value, True)
    target = _FILTER_FIELDS.get(field)
    if target is None:
        raise QueryError(f"unknown field {field!r}")  # parse_query only makes the fields above
    # ids compare case-insensitively, as SQLite's NOCASE
    return _term(target, value, case_insensitive=field in ("outlet", "official", "body"))


def node_query(node: Node, tz: ZoneInfo) -> dict[str, Any]:
    """One node of the query tree as an Elasticsearch query."""
    if isinstance(node, Word):
        return _word_query(node.text)
    if isinstance(node, Phrase):
        return _phrase_query(node.words)
    if isinstance(node, Filter):
        return _filter_query(node.field, node.value)
    if isinstance(node, DateRange):
        return _date_query(node, tz)
    if isinstance(node, Not):
        return {"bool": {"must_not": [node_query(node.item, tz)]}}
    if isinstance(node, AnyOf):
        return {"bool": {"should": [node_query(i, tz) for i in node.items], "minimum_should_match": 1}}
    assert isinstance(node, AllOf)
    body: dict[str, Any] = {}
    must = [node_query(i, tz) for i in node.items if not isinstance(i, Not)]
    must_not = [node_query(i.item, tz) for i in node.items if isinstance(i, Not)]
    if must:
        body["must"] = must
    if must_not:
        body["must_not"] = must_not
    return {"bool": body}


_KEYWORD_VALUES = {"sentiment": ("positive", "neutral", "negative"), "status": STATUSES}


def keyword_filters(q: SearchQuery) -> list[dict[str, Any]]:
    """The keyword fields of `SearchQuery` as filter clauses (the same filters as the query language's)."""
    out: list[dict[str, Any]] = []
    if q.municipality is not None:
        out.append(_term("municipality", q.municipality))
    if q.lang is not None:
        out.append(_term("lang", q.lang))
    for field, value in (("outlet", q.outlet), ("sentiment", q.sentiment), ("status", q.status),
                         ("official", q.official), ("body", q.body)):
        if value is not None:
            allowed = _KEYWORD_VALUES.get(field)
            if allowed is not None and value not in allowed:
                raise QueryError(f"{field} is one of {', '.join(allowed)}, not {value!r}")
            out.append(_filter_query(field, value))
    for field, flag in (("critical", q.critical), ("misleading", q.misleading), ("relevant", q.relevant)):
        if flag is not None:
            out.append(_term(field, flag))
    bounds = {}
    if q.since is not None:
        bounds["gte"] = to_iso(q.since)
    if q.until is not None:
        bounds["lt"] = to_iso(q.until)
    if bounds:
        out.append({"range": {"dated": bounds}})
    return out


def _positive_words(tree: ParsedQuery) -> list[str]:
    return [w for t in tree.terms() for w in ((t.text,) if isinstance(t, Word) else t.words)]


def compile_query(tree: ParsedQuery | None, query: SearchQuery) -> dict[str, Any]:
    """The bool query for a parsed query and the keyword filters of `query`. Included nodes go to `must` (they
    score), excluded ones to `must_not`, keyword filters to `filter`; the per-language subfields add to the score
    through an optional `should` and never decide a match."""
    tz = zone(query.tz)
    body: dict[str, Any] = {"filter": keyword_filters(query)}
    if tree is not None:
        if tree.include:
            body["must"] = [node_query(n, tz) for n in tree.include]
        if tree.exclude:
            body["must_not"] = [node_query(n, tz) for n in tree.exclude]
        positive = _positive_words(tree)
        if positive:
            fields = [f"title.{lang}^{_TITLE_BOOST:g}" for lang in LANGS] + [f"text.{lang}" for lang in LANGS]
            body["should"] = [{"multi_match": {"query": " ".join(positive), "fields": fields,
                                               "type": "most_fields"}}]
            body["minimum_should_match"] = 0
    return {"bool": body}


def is_ranked(tree: ParsedQuery | None) -> bool:
    return tree is not None and bool(tree.terms())


def search_sort(ranked: bool) -> list[Any]:
    newest = [{"dated": {"order": "desc"}}, {"id": {"order": "desc"}}]
    return ["_score", *newest] if ranked else newest


def highlight_request(tree: ParsedQuery | None) -> dict[str, Any] | None:
    """Highlighting on the folded text, marked with [ and ] like SQLite's snippets. A clipping that matched only
    by stem has no highlight there; its snippet comes from index/snippet.py, which marks by stem."""
    if tree is None or not tree.terms():
        return None
    query = {"bool": {"should": [
        {"match_phrase": {"text.folded": " ".join(t.words) if isinstance(t, Phrase) else t.text}}
        for t in tree.terms()]}}
    return {"pre_tags": ["["], "post_tags": ["]"], "encoder": "default",
            "fields": {"text.folded": {"type": "unified", "fragment_size": 220, "number_of_fragments": 1,
                                       "no_match_size": 0, "highlight_query": query}}}


def facet_aggs(facets: Sequence[str], size: int, tz: str) -> dict[str, Any]:
    """Aggregations for `ClippingIndex.aggregate`. Terms buckets: largest first, ties by key; day/week: every
    bucket between the first and the last matching clipping (min_doc_count 0), in the query's time zone. No
    extended_bounds: the contract wants the span of the matches, not of the query's date filter."""
    aggs: dict[str, Any] = {}
    for f in facets:
        if f in ("day", "week"):
            aggs[f] = {"date_histogram": {"field": "dated", "calendar_interval": f, "time_zone": tz,
                                          "min_doc_count": 0, "format": "yyyy-MM-dd"}}
        elif size > 0:
            aggs[f] = {"terms": {"field": _FACET_FIELDS[f], "size": size,
                                 "order": [{"_count": "desc"}, {"_key": "asc"}]}}
    return aggs


_FACET_FIELDS = {"outlet": "outlet", "official": "official_refs", "body": "body_refs", "lang": "lang",
                 "sentiment": "sentiment.label", "flag": "flag_types", "status": "status"}


def facet_buckets(facet: str, agg: Mapping[str, Any] | None) -> tuple[Bucket, ...]:
    if agg is None:
        return ()
    buckets = agg.get("buckets", [])
    if facet == "day":
        return tuple(Bucket(b["key_as_string"], int(b["doc_count"])) for b in buckets)
    if facet == "week":
        return tuple(Bucket(week_key(date.fromisoformat(b["key_as_string"])), int(b["doc_count"])) for b in buckets)
    return tuple(Bucket(str(b["key"]), int(b["doc_count"])) for b in buckets)


def _total(resp: Mapping[str, Any]) -> int:
    total = resp["hits"]["total"]
    return int(total["value"] if isinstance(total, Mapping) else total)


class _Seq:
    """Monotonic sequence numbers for status changes (nanoseconds, never repeating in this process)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


# --- the index -----------------------------------------------------------------------------------------------
class ElasticIndex(ClippingIndex):
    """`ClippingIndex` on Elasticsearch. `refresh` is passed to every write: False (the default: searches see
    writes within the refresh interval), "wait_for" (tests, the migration: a write returns once it is searchable)
    or True."""

    def __init__(self, client: Any, prefix: str = "presswatch", refresh: bool | str = False,
                 url: str = "", setup: bool = True) -> None:
        self.client = client
        self.prefix = prefix
        self.refresh = refresh
        self.url = redact(url)
        self.clippings = f"{prefix}-clippings"
        self.saved = f"{prefix}-saved"
        self.status = f"{prefix}-status"
        self._seq = _Seq()
        if setup:
            self.ensure_indices()

    @classmethod
    def from_url(cls, url: str, prefix: str = "presswatch", refresh: bool | str = False,
                 **client_options: Any) -> ElasticIndex:
        """Connect, check the server answers, and create the templates and indices if missing. Raises
        ElasticUnavailable naming the URL when it does not."""
        from elasticsearch import ApiError, Elasticsearch, TransportError

        client = Elasticsearch(url, **{**client_config(), **client_options})
        try:
            client.info()
            return cls(client, prefix=prefix, refresh=refresh, url=url)
        except (TransportError, ApiError) as exc:
            client.close()
            raise ElasticUnavailable(f"Elasticsearch at {redact(url)} cannot be used: {exc}") from exc

    # --- setup -----------------------------------------------------------------------------------------------
    def ensure_indices(self) -> None:
        """Put the templates (idempotent: same version, same content) and create each `-v1` index with its alias
        unless the alias exists (after a reindex it points elsewhere, and is left alone)."""
        from elasticsearch import BadRequestError

        for name, body in index_templates(self.prefix).items():
            self.client.indices.put_index_template(name=name, **body)
        for alias in (self.clippings, self.saved, self.status):
            if self.client.indices.exists_alias(name=alias):
                continue
            try:
                self.client.indices.create(index=f"{alias}-{INDEX_GENERATION}", aliases={alias: {}})
            except BadRequestError as exc:  # another process created it first
                if "resource_already_exists_exception" not in str(exc):
                    raise

    def close(self) -> None:
        self.client.close()

    # --- writing ---------------------------------------------------------------------------------------------
    def _bulk(self, actions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        from elasticsearch import helpers

        results = []
        for _ok, item in helpers.streaming_bulk(
                self.client, actions, chunk_size=BULK_CHUNK, max_retries=MAX_RETRIES,
                initial_backoff=BULK_INITIAL_BACKOFF, max_backoff=BULK_MAX_BACKOFF, raise_on_error=True,
                refresh=self.refresh):
            results.append(item)
        return results

    def upsert(self, clippings: Iterable[Clipping]) -> int:
        now = datetime.now(UTC)
        items = self._bulk(upsert_actions(clippings, self.clippings, now))
        return sum(1 for item in items if item.get("update", {}).get("result") == "created")

    def load(self, clippings: Iterable[Clipping], history: Iterable[StatusChange] = ()) -> int:
        """Write clippings with the status they carry, and status changes with ids that make a re-run replace
        rather than duplicate them (the migration from SQLite). Returns how many clippings were written."""
        written = len(self._bulk(load_actions(clippings, self.clippings)))
        counters: dict[str, int] = {}
        actions = []
        for change in history:
            n = counters[change.clipping_id] = counters.get(change.clipping_id, 0) + 1
            actions.append({"_op_type": "index", "_index": self.status, "_id": f"{change.clipping_id}:{n:06d}",
                            "_source": _change_doc(change, seq=n)})
        if actions:
            self._bulk(actions)
        return written

    # --- reading ---------------------------------------------------------------------------------------------
    def get(self, clipping_id: str) -> Clipping | None:
        from elasticsearch import NotFoundError

        try:
            resp = self.client.get(index=self.clippings, id=clipping_id)
        except NotFoundError:
            return None
        body = resp.body  # ObjectApiResponse has [] but no .get
        return from_document(body["_source"]) if body.get("found") else None

    def search(self, query: SearchQuery) -> SearchResult:
        if query.limit < 0 or query.offset < 0:
            raise QueryError("limit and offset cannot be negative")
        limit = min(query.limit, MAX_LIMIT)
        tree = parse_query(query.text)
        ranked = is_ranked(tree)
        body: dict[str, Any] = {"query": compile_query(tree, query), "sort": search_sort(ranked),
                                "from_": query.offset, "size": limit, "track_total_hits": True}
        highlight = highlight_request(tree)
        if highlight is not None:
            body["highlight"] = highlight
        if query.collapse:
            body["collapse"] = {"field": "story", "inner_hits": {
                "name": "copies", "size": 100, "sort": [{"dated": {"order": "asc"}}, {"id": {"order": "asc"}}]}}
            body["aggs"] = {"stories": {"cardinality": {"field": "story", "precision_threshold": 40000}}}
        resp = self.client.search(index=self.clippings, **body)
        total = int(resp["aggregations"]["stories"]["value"]) if query.collapse else _total(resp)
        terms = tree.terms() if tree is not None else []
        hits = []
        for h in resp["hits"]["hits"]:
            c = from_document(h["_source"])
            fragments = h.get("highlight", {}).get("text.folded") or []
            snippet = fragments[0] if fragments else make_snippet(c.article.text, c.enrichment.lang or None, terms)
            copies: tuple[Clipping, ...] = ()
            if query.collapse:
                inner = h.get("inner_hits", {}).get("copies", {}).get("hits", {}).get("hits", [])
                copies = tuple(from_document(i["_source"]) for i in inner if i["_id"] != h["_id"])
            hits.append(SearchHit(clipping=c, score=float(h.get("_score") or 0.0) if ranked else 0.0,
                                  snippet=snippet, copies=copies))
        return SearchResult(total=total, hits=tuple(hits))

    def aggregate(self, query: SearchQuery, facets: Sequence[str] = FACETS, size: int = 20) -> Facets:
        wanted = wanted_facets(facets, size)
        zone(query.tz)  # an unknown zone is a QueryError before anything is sent
        aggs = facet_aggs(wanted, size, query.tz)
        resp = self.client.search(index=self.clippings, query=compile_query(parse_query(query.text), query),
                                  size=0, track_total_hits=True, aggs=aggs or None)
        got = resp.body.get("aggregations", {})
        return Facets(total=_total(resp), counts={f: facet_buckets(f, got.get(f)) for f in wanted})

    def stats(self, municipality: str | None = None) -> IndexStats:
        query = {"bool": {"filter": [_term("municipality", municipality)]}} if municipality else {"match_all": {}}
        resp = self.client.search(index=self.clippings, query=query, size=0, track_total_hits=True, aggs={
            "relevant": {"filter": _term("relevant", True)},
            "critical": {"filter": _term("critical", True)},
            "misleading": {"filter": _term("misleading", True)},
            "clusters": {"cardinality": {"field": "story", "precision_threshold": 40000}},
            "by_lang": {"terms": {"field": "lang", "size": 1000, "order": {"_key": "asc"}}},
            "newest": {"max": {"field": "dated"}},
        })
        a = resp["aggregations"]
        newest_ms = a["newest"].get("value")
        return IndexStats(
            clippings=_total(resp), relevant=int(a["relevant"]["doc_count"]),
            critical=int(a["critical"]["doc_count"]), misleading=int(a["misleading"]["doc_count"]),
            clusters=int(a["clusters"]["value"]),
            by_lang={str(b["key"]): int(b["doc_count"]) for b in a["by_lang"]["buckets"]},
            newest=None if newest_ms is None else datetime.fromtimestamp(newest_ms / 1000, UTC))

    def _scan(self, index: str, query: dict[str, Any], sort: list[Any],
              source: list[str] | bool = True) -> Iterator[dict[str, Any]]:
        """Every hit in `sort` order (which must end on a unique field), page by page with search_after."""
        after: list[Any] | None = None
        while True:
            kwargs: dict[str, Any] = {"index": index, "query": query, "sort": sort, "size": _PAGE,
                                      "source": source}
            if after is not None:
                kwargs["search_after"] = after
            hits = self.client.search(**kwargs)["hits"]["hits"]
            yield from hits
            if len(hits) < _PAGE:
                return
            after = hits[-1]["sort"]

    def cluster(self, cluster_id: str) -> list[Clipping]:
        # `story` is coalesce(cluster_id, id): a clipping not clustered yet is a cluster of its own.
        sort = [{"dated": {"order": "asc"}}, {"indexed_at": {"order": "asc"}}, {"id": {"order": "asc"}}]
        return [from_document(h["_source"])
                for h in self._scan(self.clippings, {"bool": {"filter": [_term("story", cluster_id)]}}, sort)]

    def fingerprints(self, municipality: str, since: datetime) -> list[tuple[str, str, int]]:
        query = {"bool": {"filter": [_term("municipality", municipality), {"range": {"dated": {"gte": to_iso(since)}}},
                                     {"exists": {"field": "fingerprint"}}]}}
        sort = [{"dated": {"order": "asc"}}, {"id": {"order": "asc"}}]
        return [(h["_source"]["id"], h["_source"]["story"], int(h["_source"]["fingerprint"], 16))
                for h in self._scan(self.clippings, query, sort, ["id", "story", "fingerprint"])]

    # --- saved searches --------------------------------------------------------------------------------------
    def save_search(self, search: SavedSearch) -> SavedSearch:
        from presswatch.index.sqlite_workflow import validate_search

        validate_search(search)
        if search.created_at is None:  # replacing a search keeps when it was first created
            search = replace(search, created_at=self._created_at(search) or datetime.now(UTC))
        assert search.created_at is not None
        search = replace(search, created_at=search.created_at.astimezone(UTC))
        self.client.index(index=self.saved, id=_saved_id(search.municipality, search.id),
                          document=saved_document(search), refresh=self.refresh)
        return search

    def _created_at(self, search: SavedSearch) -> datetime | None:
        """When the stored search with this id was created (a realtime get: a search may not see it yet)."""
        from elasticsearch import NotFoundError

        try:
            body = self.client.get(index=self.saved, id=_saved_id(search.municipality, search.id),
                                   source=["saved.created_at"]).body
        except NotFoundError:
            return None
        return from_iso(body.get("_source", {}).get("saved", {}).get("created_at")) if body.get("found") else None

    def saved_searches(self, municipality: str) -> list[SavedSearch]:
        query = {"bool": {"filter": [_term("saved.municipality", municipality)]}}
        return [_saved_from(h["_source"]["saved"])
                for h in self._scan(self.saved, query, [{"saved.id": {"order": "asc"}}], ["saved"])]

    def delete_search(self, municipality: str, search_id: str) -> bool:
        from elasticsearch import NotFoundError

        try:
            self.client.delete(index=self.saved, id=_saved_id(municipality, search_id), refresh=self.refresh)
        except NotFoundError:
            return False
        return True

    def match_saved(self, clippings: Sequence[Clipping]) -> dict[str, tuple[str, ...]]:
        ids = list(dict.fromkeys(c.id for c in clippings))
        if not ids:
            return {}
        # The stored documents, not the records passed in: they carry the current status and the derived fields,
        # and a clipping that is not in the index matches nothing.
        docs = [d["_source"] for d in self.client.mget(index=self.clippings, ids=ids)["docs"] if d.get("found")]
        by_municipality: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            by_municipality.setdefault(doc["municipality"], []).append(doc)
        found: dict[str, set[str]] = {}
        for municipality, batch in by_municipality.items():
            for start in range(0, len(batch), _PERCOLATE_CHUNK):
                chunk = batch[start : start + _PERCOLATE_CHUNK]
                query = percolate_query(municipality, chunk)
                resp = self.client.search(index=self.saved, query=query, size=10000, source=["saved.id"])
                for h in resp["hits"]["hits"]:
                    slots = h.get("fields", {}).get("_percolator_document_slot", [0])
                    for slot in slots:
                        found.setdefault(chunk[int(slot)]["id"], set()).add(h["_source"]["saved"]["id"])
        return {cid: tuple(sorted(found[cid])) for cid in ids if cid in found}

    # --- response status -------------------------------------------------------------------------------------
    def set_status(self, clipping_id: str, status: str, by: str, note: str | None = None,
                   at: datetime | None = None) -> StatusChange:
        from elasticsearch import NotFoundError

        if status not in STATUSES:
            raise StatusError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
        when = (datetime.now(UTC) if at is None else at)
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        try:
            self.client.update(index=self.clippings, id=clipping_id, doc={"status": status}, retry_on_conflict=3,
                               refresh=self.refresh)
        except NotFoundError:
            raise StatusError(f"no clipping {clipping_id!r} in the index") from None
        change = StatusChange(clipping_id=clipping_id, status=status, by=by, at=when, note=note)
        seq = self._seq()
        # The document first, then the history: a crash in between loses a history line, never the status.
        self.client.index(index=self.status, id=f"{clipping_id}:{seq}", document=_change_doc(change, seq),
                          refresh=self.refresh)
        return change

    def status_history(self, clipping_id: str) -> list[StatusChange]:
        query = {"bool": {"filter": [_term("clipping_id", clipping_id)]}}
        return [_change_from(h["_source"])
                for h in self._scan(self.status, query, [{"seq": {"order": "asc"}}])]


# --- saved-search and status documents -----------------------------------------------------------------------
def _saved_id(municipality: str, search_id: str) -> str:
    return f"{municipality}:{search_id}"


def saved_document(search: SavedSearch) -> dict[str, Any]:
    """The percolator document: the search as entered, and its query compiled exactly as `search` compiles it
    (municipality filter included; relevance not filtered, as SQLite's matcher). Compiled when saved: after a
    change of the compiler, re-save the searches (`sync_profile_searches` does for the profile's)."""
    tree = parse_query(search.query)
    compiled = compile_query(tree, SearchQuery(municipality=search.municipality, relevant=None))
    return {"saved": {"id": search.id, "municipality": search.municipality, "name": search.name,
                      "query": search.query, "alert": search.alert, "origin": search.origin,
                      "created_by": search.created_by, "created_at": to_iso(search.created_at)},
            "saved_query": compiled}


def _saved_from(d: Mapping[str, Any]) -> SavedSearch:
    return SavedSearch(id=d["id"], municipality=d["municipality"], name=d["name"], query=d["query"],
                       alert=bool(d["alert"]), origin=d["origin"], created_by=d.get("created_by") or "",
                       created_at=from_iso(d.get("created_at")))


def percolate_query(municipality: str, documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The alerting saved searches of `municipality` that match any of `documents` (slots in the hits' fields)."""
    return {"bool": {"must": [{"percolate": {"field": "saved_query", "documents": documents}}],
                     "filter": [_term("saved.municipality", municipality), _term("saved.alert", True)]}}


def _change_doc(change: StatusChange, seq: int) -> dict[str, Any]:
    return {"clipping_id": change.clipping_id, "status": change.status, "by": change.by, "at": to_iso(change.at),
            "note": change.note, "seq": seq}


def _change_from(d: Mapping[str, Any]) -> StatusChange:
    at = from_iso(d["at"])
    assert at is not None
    return StatusChange(clipping_id=d["clipping_id"], status=d["status"], by=d["by"], at=at, note=d.get("note"))


def client_config(max_retries: int = MAX_RETRIES, request_timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:
    """Keyword arguments for `Elasticsearch(...)`: retries on 429 and 5xx gateway errors and on timeouts."""
    return {"max_retries": max_retries, "retry_on_status": RETRY_ON_STATUS, "retry_on_timeout": True,
            "request_timeout": request_timeout}


__all__ = ["ElasticIndex", "ElasticUnavailable", "analysis_settings", "client_config", "clipping_properties",
           "compile_query", "index_templates", "load_actions", "percolate_query", "redact", "saved_document",
           "to_document", "upsert_actions"]
