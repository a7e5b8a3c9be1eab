"""The feed parsing path over real-world and conformance corpora (../shared/data/feeds): bytes in, through the
same decoding and `parse_feed` the poller uses; nothing may raise, and what a feed holds must come out."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from presswatch import settings
from presswatch.crawlers.feeds import ParsedFeed, parse_feed
from presswatch.crawlers.http import decode_body
from tests.conftest import shared_path

pytestmark = pytest.mark.shared_data


def _index(folder: Path) -> list[dict[str, str]]:
    with (folder / "INDEX.tsv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


SERVED_AS = {"content-type": "application/xml"}  # what a server would send; the corpora have no headers


def _parse(path: Path, headers: dict[str, str]) -> tuple[ParsedFeed, float]:
    start = time.perf_counter()
    body = decode_body(path.read_bytes(), headers.get("content-encoding"), settings.FEED_MAX_BYTES)
    parsed = parse_feed(body, headers, f"http://feeds.example/{path.name}")
    return parsed, time.perf_counter() - start


def test_realworld_feeds() -> None:
    folder = shared_path("data", "feeds", "realworld-feeds")
    rows = _index(folder)
    assert len(rows) >= 50
    slowest, with_entries, linked = 0.0, 0, 0
    for row in rows:
        parsed, took = _parse(folder / row["path"], SERVED_AS)
        slowest = max(slowest, took)
        if not row["feedparser_version_detected"]:  # HTML served in place of a feed
            assert parsed.error and parsed.error.startswith("not a feed"), (row["path"], parsed.error)
            continue
        assert parsed.error is None, (row["path"], parsed.error)
        assert len(parsed.entries) <= int(row["n_entries"])
        assert all(e.url.startswith(("http://", "https://")) for e in parsed.entries)
        assert all(e.published is None or e.published.tzinfo is not None for e in parsed.entries)
        if int(row["n_entries"]):
            with_entries += 1
            linked += bool(parsed.entries)  # entries with only tag: URIs or no link at all have nothing to fetch
        if row["bozo"] == "1" and parsed.entries:
            assert parsed.warning, row["path"]  # ill-formed, or a wrong declared encoding: said in the health
    assert linked >= 0.9 * with_entries, (linked, with_entries)
    assert slowest < 2.0


# Channel-only documents in CDF (Microsoft's 1997 Channel Definition Format): feedparser names no format for them
# and there is no entry, so the poller refuses them as "not a feed". CDF with items parses (wellformed/base/cdf_*).
CDF_CHANNEL_ONLY = "wellformed/cdf/channel_"


def test_feedparser_conformance_documents() -> None:
    folder = shared_path("data", "feeds", "feedparser-tests")
    rows = _index(folder)
    assert len(rows) >= 400
    refused_wellformed = []
    for row in rows:
        headers = dict(SERVED_AS)
        if row["http_headers"]:
            name, _, value = row["http_headers"].partition(":")
            headers[name.strip().lower()] = value.strip()
        parsed, _ = _parse(folder / row["path"], headers)
        assert parsed.error is None or parsed.entries == (), row["path"]
        if row["expect"].startswith("not bozo") and parsed.error and not row["path"].startswith(CDF_CHANNEL_ONLY):
            refused_wellformed.append((row["path"], parsed.error))
    # Documents feedparser's own suite calls well-formed are never refused as "not a feed" or ill-formed.
    assert not refused_wellformed, refused_wellformed[:5]
