"""The clipping store interface: upsert, get, search, aggregate (facets), saved searches and the press office's
response status with its history. Two backends implement it and pass the same contract tests
(tests/test_index_contract.py): the embedded SQLite/FTS5 index (index/sqlite.py) and Elasticsearch
(index/elastic.py).

Callers (the pipeline, the digest, the CLI) talk only to `ClippingIndex`; they never see SQL or ES queries. The
query language (`SearchQuery.text`, index/query.py) carries words, phrases, OR, exclusion, grouping and field
filters; the keyword fields of `SearchQuery` are the same filters for callers that build queries in code. Both are
applied together (AND).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from presswatch.records import Clipping


def first_publisher(copies: list[Clipping]) -> Clipping | None:
    """The copy a story is credited to: the first of `ClippingIndex.cluster`'s order."""
    return copies[0] if copies else None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str = ""  # words; a word matches its inflected forms and its form without diacritics
    municipality: str | None = None
    since: datetime | None = None  # UTC, inclusive, on the publication time (fetch time when unknown)
    until: datetime | None = None  # UTC, exclusive
    lang: str | None = None
    official: str | None = None  # official id
    body: str | None = None
    critical: bool | None = None
    misleading: bool | None = None
    relevant: bool | None = True  # by default analysts see only relevant clippings
    limit: int = 20
    offset: int = 0
    outlet: str | None = None  # outlet id
    sentiment: str | None = None  # positive | neutral | negative
    status: str | None = None  # one of STATUSES
    collapse: bool = False  # one hit per story cluster; the cluster's other matching clippings in `copies`
    tz: str = "UTC"  # IANA zone for the day boundaries of `date:` filters and of the day/week facets


# The press office's response status of a clipping, in workflow order; every clipping starts "new".
STATUSES: tuple[str, ...] = ("new", "acknowledged", "drafted", "published", "dismissed")
# What `aggregate` can count: field filters of the query language, plus day and week (volume over time).
FACETS: tuple[str, ...] = ("outlet", "official", "body", "lang", "sentiment", "flag", "status", "day", "week")


@dataclass(frozen=True, slots=True)
class SearchHit:
    clipping: Clipping
    score: float
    snippet: str  # a piece of the text around the match, highlights marked with [ and ]
    copies: tuple[Clipping, ...] = ()  # collapse: the story's other clippings that match, earliest first


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str  # outlet/official/body id, language, sentiment label, flag type, status, or the ISO day / week
    count: int


@dataclass(frozen=True, slots=True)
class Facets:
    """Counts over every clipping a query matches (not just one page). Buckets are largest first, ties by key;
    `day` and `week` are in time order and include empty days/weeks between the first and the last."""

    total: int
    counts: dict[str, tuple[Bucket, ...]]


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """A named query of the press office. Each new clipping is matched against the alerting ones
    (`match_saved`), and a match is routed like a flag (digest/alerts.py)."""

    id: str  # [a-z0-9_-]+, unique per municipality
    municipality: str
    name: str
    query: str  # the query language of index/query.py, field filters included
    alert: bool = True
    origin: Literal["profile", "store"] = "store"  # profile entries are synced from the profile on start
    created_by: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    clipping_id: str
    status: str  # one of STATUSES
    by: str
    at: datetime  # UTC
    note: str | None = None


class StatusError(ValueError):
    """An unknown status or clipping: the message names which."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    hits: tuple[SearchHit, ...]


@dataclass(frozen=True, slots=True)
class IndexStats:
    clippings: int
    relevant: int
    critical: int
    misleading: int
    clusters: int
    by_lang: dict[str, int] = field(default_factory=dict)
    newest: datetime | None = None


def wanted_facets(facets: Sequence[str], size: int) -> list[str]:
    """The facets `aggregate` was asked for, each once, in order; an unknown name or a negative size is a
    ValueError naming it (the same check for every backend)."""
    unknown = [f for f in facets if f not in FACETS]
    if unknown:
        raise ValueError(f"unknown facet {', '.join(map(repr, unknown))}; the facets are {', '.join(FACETS)}")
    if size < 0:
        raise ValueError("size cannot be negative")
    return list(dict.fromkeys(facets))


class ClippingIndex(ABC):
    """Upsert by clipping id: indexing the same article twice leaves one clipping (the newer version)."""

    @abstractmethod
    def upsert(self, clippings: Iterable[Clipping]) -> int:
        """Store or replace clippings; returns how many were new (not replacements)."""

    @abstractmethod
    def get(self, clipping_id: str) -> Clipping | None: ...

    @abstractmethod
    def search(self, query: SearchQuery) -> SearchResult:
        """Full-text search with filters; no text: newest first."""

    @abstractmethod
    def stats(self, municipality: str | None = None) -> IndexStats: ...

    @abstractmethod
    def fingerprints(self, municipality: str, since: datetime) -> list[tuple[str, str, int]]:
        """(clipping id, cluster id, 64-bit simhash) of the municipality's clippings published since `since`;
        story clustering (enrich/cluster.py) compares a new clipping against these."""

    @abstractmethod
    def cluster(self, cluster_id: str) -> list[Clipping]:
        """Every clipping of a story cluster, earliest publication first (publication time, else fetch time, as
        `search` filters; ties in indexing order). The first is the story's first publisher; the others are where
        it was also published ("also in"). Empty for an unknown cluster."""

    # --- facets ---------------------------------------------------------------------------------------------
    @abstractmethod
    def aggregate(self, query: SearchQuery, facets: Sequence[str] = FACETS, size: int = 20) -> Facets:
        """Counts per facet over everything `query` matches (limit/offset/collapse ignored); at most `size`
        buckets per facet except day/week. An unknown facet name raises ValueError naming it."""

    # --- saved searches -------------------------------------------------------------------------------------
    @abstractmethod
    def save_search(self, search: SavedSearch) -> SavedSearch:
        """Create or replace by (municipality, id); the query is parsed first and a bad one raises QueryError.
        Returns the stored search (created_at set)."""

    @abstractmethod
    def saved_searches(self, municipality: str) -> list[SavedSearch]:
        """The municipality's saved searches, by id."""

    @abstractmethod
    def delete_search(self, municipality: str, search_id: str) -> bool: ...

    @abstractmethod
    def match_saved(self, clippings: Sequence[Clipping]) -> dict[str, tuple[str, ...]]:
        """{clipping id: ids of the alerting saved searches of its municipality that it matches}, for clippings
        already upserted (SQLite runs the queries restricted to this batch; Elasticsearch percolates).
        Clippings that match none are left out."""

    # --- response status ------------------------------------------------------------------------------------
    @abstractmethod
    def set_status(self, clipping_id: str, status: str, by: str, note: str | None = None,
                   at: datetime | None = None) -> StatusChange:
        """Record a status change (history is kept); raises StatusError for an unknown status or clipping."""

    @abstractmethod
    def status_history(self, clipping_id: str) -> list[StatusChange]:
        """Every change, oldest first; empty for a clipping still "new" from the start."""

    @abstractmethod
    def close(self) -> None: ...
