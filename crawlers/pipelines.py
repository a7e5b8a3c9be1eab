"""Scrapy item pipeline: article pages (RawPage items) into the durable queue.

A SQLite write can wait for a lock held by another process (the daemon's processing step writes the same file),
and a blocking call in `process_item` stalls every download of the crawl (scrapy#4689). So each write runs in
the reactor's thread pool and the coroutine awaits it; downloads and parsing carry on meanwhile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from presswatch.crawlers.canonical import page_aliases
from presswatch.records import RawPage
from presswatch.state import State

STORED = "presswatch/pages_stored"
DUPLICATE = "presswatch/pages_duplicate"


class StatePipeline:
    def __init__(self, db_path: Path, stats: StatsCollector) -> None:
        self.db_path = db_path
        self.stats = stats
        self.state: State | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatePipeline:
        assert crawler.stats is not None
        return cls(Path(crawler.settings["PRESSWATCH_DB"]), crawler.stats)

    def open_spider(self) -> None:
        self.state = State(self.db_path)

    def close_spider(self) -> None:
        if self.state is not None:
            self.state.close()
            self.state = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage) or self.state is None:
            return item
        stored = await maybe_deferred_to_future(deferToThread(self._store, self.state, item))
        self.stats.inc_value(STORED if stored else DUPLICATE)
        return item

    @staticmethod
    def _store(state: State, item: RawPage) -> bool:
        stored = state.enqueue(item)
        state.mark_aliases(page_aliases(item.url, item.final_url, item.body), item.url, item.outlet, item.source)
        return stored


__all__ = ["StatePipeline", "STORED", "DUPLICATE"]
