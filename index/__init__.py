"""presswatch.index: the clipping store behind one interface (`ClippingIndex`).

`open_index(profile)` picks the backend the profile names (`store.backend`); callers never see SQL or
Elasticsearch queries. The query language every backend accepts is described in index/query.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from presswatch.index.base import ClippingIndex, IndexStats, SearchHit, SearchQuery, SearchResult
from presswatch.index.codec import CodecError, clipping_from_dict, clipping_to_dict
from presswatch.index.query import QueryError, parse_query

if TYPE_CHECKING:  # the index itself needs no profile machinery (pydantic, YAML) to import
    from presswatch.profile import Profile


class BackendUnavailable(NotImplementedError):
    """The profile names a backend this installation does not have, or one it cannot configure."""


ES_URL_ENV = "PRESSWATCH_ES_URL"


def elastic_url(profile: Profile) -> str:
    """Where Elasticsearch is: PRESSWATCH_ES_URL wins over the profile's `store.url` (environment > profile)."""
    url = os.environ.get(ES_URL_ENV) or profile.store.url
    if not url:
        raise BackendUnavailable(
            f"profile {profile.id!r} needs Elasticsearch but names none: set {ES_URL_ENV} or store.url")
    return url


def open_elastic(profile: Profile, refresh: bool | str = False) -> ClippingIndex:
    """The profile's Elasticsearch index, whatever its `store.backend` (the migration writes to it before the
    profile switches). Raises `ElasticUnavailable` (a ConnectionError) naming the URL when it cannot be used."""
    from presswatch.index.elastic import ElasticIndex

    return ElasticIndex.from_url(elastic_url(profile), prefix=profile.store.prefix, refresh=refresh)


def open_index(profile: Profile, path: Path | None = None) -> ClippingIndex:
    """The clipping index for `profile`: its `store.backend`, stored at `path` or `profile.db_path()` (SQLite) or
    at PRESSWATCH_ES_URL / `store.url` under `store.prefix` (Elasticsearch)."""
    backend = profile.store.backend
    if backend == "sqlite":
        from presswatch.index.sqlite import SqliteIndex

        return SqliteIndex(path if path is not None else profile.db_path())
    if backend == "elasticsearch":
        return open_elastic(profile)
    raise BackendUnavailable(f"profile {profile.id!r}: unknown store.backend {backend!r}; use sqlite or"
                             " elasticsearch")


__all__ = [
    "BackendUnavailable",
    "ClippingIndex",
    "CodecError",
    "ES_URL_ENV",
    "IndexStats",
    "QueryError",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "clipping_from_dict",
    "clipping_to_dict",
    "elastic_url",
    "open_elastic",
    "open_index",
    "parse_query",
]
