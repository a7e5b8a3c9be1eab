"""presswatch.index: the clipping store behind one interface (`ClippingIndex`).

`open_index(profile)` picks the backend the profile names (`store.backend`); callers never see SQL or
Elasticsearch queries. The query language every backend accepts is described in index/query.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from presswatch.index.base import ClippingIndex, IndexStats, SearchHit, SearchQuery, SearchResult
from presswatch.index.codec import CodecError, clipping_from_dict, clipping_to_dict
from presswatch.index.query import QueryError, parse_query

if TYPE_CHECKING:  # the index itself needs no profile machinery (pydantic, YAML) to import
    from presswatch.profile import Profile


class BackendUnavailable(NotImplementedError):
    """The profile names a backend this installation does not have yet."""


def open_index(profile: Profile, path: Path | None = None) -> ClippingIndex:
    """The clipping index for `profile`: its `store.backend`, stored at `path` or `profile.db_path()`."""
    backend = profile.store.backend
    if backend == "sqlite":
        from presswatch.index.sqlite import SqliteIndex

        return SqliteIndex(path if path is not None else profile.db_path())
    if backend == "elasticsearch":
        raise BackendUnavailable(
            f"profile {profile.id!r} sets store.backend: elasticsearch, which arrives with the Elasticsearch"
            " backend; until then use store.backend: sqlite (the default)")
    raise BackendUnavailable(f"profile {profile.id!r}: unknown store.backend {backend!r}; use sqlite")


__all__ = [
    "BackendUnavailable",
    "ClippingIndex",
    "CodecError",
    "IndexStats",
    "QueryError",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "clipping_from_dict",
    "clipping_to_dict",
    "open_index",
    "parse_query",
]
