"""Issue #7, fault 2: the index backend is unreachable. Elasticsearch cannot run here, so "unreachable" is its URL
pointing at a closed port on 127.0.0.1 (the real client, really refused), and "works again" is the same store's
queue processed with the SQLite backend, the one a profile switches back to (see the report of issue #7).

While the index is down, collection goes on, fetched pages wait in the durable queue with none of their attempts
used up, and the error names the backend; once an index works, they flow, each indexed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from presswatch import settings
from presswatch.cycle import CycleReport
from presswatch.enrich.enricher import Enricher
from presswatch.index import ES_URL_ENV
from presswatch.index.elastic import ElasticIndex, client_config
from presswatch.process import Processor
from presswatch.state import State
from tests.test_crawl_server import free_port
from tests.test_faults_support import StreamServer, article, body, fault_profile, pipeline, rss


def _queue(state: State) -> dict[str, tuple[str, int]]:
    return {r["url"]: (r["state"], r["attempts"]) for r in state.execute("SELECT url, state, attempts FROM queue")}


def test_collection_goes_on_while_the_index_is_unreachable_then_pages_flow(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    es_url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv(ES_URL_ENV, es_url)
    with StreamServer() as srv:
        srv.routes.update({
            "/feed.xml": body(rss([srv.url("/a1"), srv.url("/a2")]), content_type="application/rss+xml"),
            "/a1": body(article("a1")),
            "/a2": body(article("a2")),
        })
        feeds = {"f": srv.url("/feed.xml")}
        db = tmp_path / "presswatch.db"
        down = pipeline(fault_profile(feeds, "store: {backend: elasticsearch}\n"), tmp_path, db)  # no exception
        try:
            reports = [down.run_once() for _ in range(settings.QUEUE_MAX_ATTEMPTS + 1)]
        finally:
            down.close()
        first = reports[0]
        assert (first.feeds_ok, first.discovered, first.fetched) == (1, 2, 2)  # polling and fetching went on
        assert first.process.indexed == 0
        errors = "\n".join(first.errors)
        assert f"process_queue: ElasticUnavailable: Elasticsearch at {es_url} cannot be used" in errors
        assert all(any(es_url in e for e in r.errors) for r in reports)
        state = State(db)
        try:
            assert set(_queue(state).values()) == {("queued", 0)}  # waiting, no attempt used, nothing failed
        finally:
            state.close()

        # the backend is back (here: the same store's queue on the SQLite backend)
        up = pipeline(fault_profile(feeds), tmp_path, db)
        try:
            flowed = up.run_once()
            again = up.run_once()
            stats = up.index.stats()
            queue = _queue(up.state)
        finally:
            up.close()
    assert flowed.process.indexed == 2 and not flowed.errors
    assert again.process.indexed == 0 and stats.clippings == 2
    assert {s for s, _ in queue.values()} == {"done"}


def test_index_lost_mid_run_keeps_the_batch_queued(tmp_path: Path) -> None:
    """Elasticsearch answered when the pipeline started, then went away: every batch stops at the first refused
    call, names the backend, and gives its pages back without counting an attempt, however often it runs."""
    from elasticsearch import Elasticsearch

    es_url = f"http://127.0.0.1:{free_port()}"
    with StreamServer() as srv:
        srv.routes.update({
            "/feed.xml": body(rss([srv.url(f"/a{i}") for i in range(3)]), content_type="application/rss+xml"),
            **{f"/a{i}": body(article(f"a{i}")) for i in range(3)},
        })
        profile = fault_profile({"f": srv.url("/feed.xml")})
        pipe = pipeline(profile, tmp_path)
        try:
            collected = CycleReport()  # the pipeline only collects here
            pipe.poll_feeds(collected)
            pipe.fetch_pages(collected)
            assert collected.fetched == 3
            es = ElasticIndex(Elasticsearch(es_url, **client_config(max_retries=0, request_timeout=2)), url=es_url,
                              setup=False)
            gone = Processor(profile, pipe.state, es, Enricher.from_profile(profile))
            runs = [gone.run_all() for _ in range(settings.QUEUE_MAX_ATTEMPTS + 2)]
            queue = _queue(pipe.state)
            back = Processor(profile, pipe.state, pipe.index, Enricher.from_profile(profile)).run_all()
            es.close()
        finally:
            pipe.close()
    for run in runs:
        assert run.indexed == 0 and run.failed == 0
        assert run.outage and f"index backend Elasticsearch at {es_url} unreachable" in run.outage
        assert "3 page(s) stay queued" in run.outage and run.errors == [run.outage]
    assert set(queue.values()) == {("queued", 0)}
    assert back.indexed == 3 and back.outage is None
