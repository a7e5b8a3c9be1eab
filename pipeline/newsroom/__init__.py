"""The local newsroom: fictional outlets served on loopback for the demo and the tests.

`Newsroom` (server.py) serves the outlets of content/outlets.yaml and the articles under content/articles/;
each article carries an `expect` block with the ground truth the pipeline's stages can be checked against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from presswatch.newsroom.content import Expect, NewsArticle, Outlet
from presswatch.newsroom.feeds import ROBOTS_DISALLOW

if TYPE_CHECKING:
    from presswatch.newsroom.server import Newsroom, RequestRecord

__all__ = ["ROBOTS_DISALLOW", "Expect", "NewsArticle", "Newsroom", "Outlet", "RequestRecord"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that `python -m presswatch.newsroom.server` does not find its module pre-imported.
    if name in ("Newsroom", "RequestRecord"):
        from presswatch.newsroom import server

        return getattr(server, name)
    raise AttributeError(name)
