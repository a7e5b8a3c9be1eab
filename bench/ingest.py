"""Ingest throughput: stored raw pages → extraction → enrichment → clustering → indexing, against bare
`trafilatura.extract` on the same pages in the same run.

    .venv/bin/python bench/ingest.py [--pages DIR] [--repeat N] [--profile demo]

Pages: the Zyte article-extraction benchmark (181 real news pages) from ../shared/data. Both sides start from
bytes in memory and run on one core, one page at a time. The pipeline side goes through the real durable queue
and the real SQLite index in a temporary file (what `presswatch` does after fetching). Printed: pages/s for each
side and the ratio pipeline/bare (how many times slower the whole ingest is than extraction alone), plus the
split of the pipeline's time by stage. Record results in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gzip
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

from presswatch.enrich.cluster import simhash
from presswatch.enrich.enricher import Enricher
from presswatch.enrich.extract import extract
from presswatch.index.sqlite import SqliteIndex
from presswatch.process import Processor
from presswatch.profile import load_profile
from presswatch.records import RawPage
from presswatch.state import State

DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared/data/extraction/zyte-article-benchmark/html"


def load_pages(folder: Path) -> list[tuple[str, bytes]]:
    pages = []
    for path in sorted(folder.glob("*.html.gz")):
        pages.append((path.name.split(".")[0], gzip.decompress(path.read_bytes())))
    if not pages:
        raise SystemExit(f"no *.html.gz pages in {folder}")
    return pages


def raw(page_id: str, body: bytes, n: int) -> RawPage:
    url = f"https://bench.example/{n}/{page_id}"
    return RawPage(url=url, final_url=url, outlet="bench", source="bench", fetched_at=datetime.now(UTC), status=200,
                   headers={"content-type": "text/html"}, body=body)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median round is reported")
    parser.add_argument("--profile", default="demo")
    args = parser.parse_args()

    pages = load_pages(args.pages)
    profile = load_profile(args.profile)
    enricher = Enricher.from_profile(profile)
    bare_times: list[float] = []
    pipe_times: list[float] = []
    stage = {"extract": 0.0, "enrich": 0.0, "cluster": 0.0}
    for round_no in range(args.repeat):
        bare_times.append(timed(lambda: [trafilatura.extract(body.decode("utf-8", "replace")) for _, body in pages]))
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.db"
            state = State(db)
            index = SqliteIndex(db)
            for n, (page_id, body) in enumerate(pages):
                state.enqueue(raw(page_id, body, round_no * 1000 + n))
            processor = Processor(profile, state, index, enricher)
            pipe_times.append(timed(processor.run_all))
            index.close()
            state.close()
        # The per-stage split, measured outside the queue so each stage is timed alone.
        for n, (page_id, body) in enumerate(pages):
            page = raw(page_id, body, n)
            t0 = time.perf_counter()
            article = extract(page)
            t1 = time.perf_counter()
            enricher.enrich(article)
            t2 = time.perf_counter()
            simhash(article.text or article.title)
            t3 = time.perf_counter()
            stage["extract"] += t1 - t0
            stage["enrich"] += t2 - t1
            stage["cluster"] += t3 - t2

    bare = statistics.median(bare_times)
    pipe = statistics.median(pipe_times)
    n = len(pages)
    print(f"machine: {platform.node()} {platform.machine()} {platform.processor() or ''}, python "
          f"{platform.python_version()}, trafilatura {trafilatura.__version__}, {datetime.now(UTC):%Y-%m-%d}")
    print(f"pages: {n} from {args.pages}, rounds: {args.repeat} (median round)")
    print(f"bare trafilatura.extract:      {n / bare:7.1f} pages/s  ({1000 * bare / n:6.1f} ms/page)")
    print(f"presswatch ingest (queue→index): {n / pipe:7.1f} pages/s  ({1000 * pipe / n:6.1f} ms/page)")
    print(f"ratio ingest/bare: {pipe / bare:.2f}x the time of bare extraction")
    total = sum(stage.values())
    per_page = {k: 1000 * v / (n * args.repeat) for k, v in stage.items()}
    print("stage split per page: " + ", ".join(f"{k} {v:.1f} ms ({100 * stage[k] / total:.0f}%)"
                                               for k, v in per_page.items()))
    print(f"enrichment / bare extraction: {per_page['enrich'] / (1000 * bare / n):.2f}")


if __name__ == "__main__":
    main()
