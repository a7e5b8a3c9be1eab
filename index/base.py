"""The clipping store interface. The embedded SQLite/FTS5 backend implements it today; the Elasticsearch backend
implements the same interface and passes the same contract tests (issue 5).

Callers (the pipeline, the digest, the CLI) talk only to `ClippingIndex`; they never see SQL or ES queries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True, slots=True)
class SearchHit:
    clipping: Clipping
    score: float
    snippet: str  # a piece of the text around the match, highlights marked with [ and ]


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

    @abstractmethod
    def close(self) -> None: ...
