"""Feed polling throughput: 500 generated feeds served on loopback, polled twice through the real FeedPoller and
State (a SQLite file in a temporary folder), against bare `feedparser.parse` on the same bytes in the same run.

    .venv/bin/python bench/feeds.py [--feeds 500] [--repeat 3]

The feeds: 20-50 items each, three in five RSS 2.0 and two in five Atom 1.0, one in ten in a legacy code page
(windows-1250/1251/1257/1254, declared). Half of them carry an ETag and answer the second poll's conditional GET
with 304; the other half have no validators and answer 200 with two new items. Printed: feeds/s for the first
(full) poll and the second (half 304) poll, bare feedparser's feeds/s on the bodies each poll received, and the
ratios. Record results in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser

from presswatch import settings
from presswatch.crawlers.feeds import FeedPoller
from presswatch.crawlers.http import HttpClient
from presswatch.profile import parse_profile
from presswatch.state import State

WORDS = ("mesto zastupiteľstvo primátor rozpočet cesta most škola nemocnica doprava voľby park voda ulica"
         " radnica občania poslanci projekt investícia oprava kanalizácia námestie kultúra šport").split()
WORDS_BY_ENCODING = {
    "windows-1251": "град совет градоначалник буџет пат мост училиште болница сообраќај избори парк вода".split(),
    "windows-1257": "miestas taryba meras biudžetas kelias tiltas mokykla ligoninė eismas rinkimai parkas".split(),
    "windows-1254": "şehir meclis başkan bütçe yol köprü okul hastane trafik seçim park su çarşı".split(),
}
LEGACY = {"windows-1250": "Žluťoučký kůň", "windows-1251": "Градоначалник Скопје", "windows-1257": "Savivaldybė ąžuolas",
          "windows-1254": "Belediye Başkanı"}


def _sentence(rng: random.Random, n: int, words: list[str] = WORDS) -> str:
    return " ".join(rng.choice(words) for _ in range(n)).capitalize()


def make_feed(i: int, generation: int, base: str) -> tuple[bytes, str]:
    """Feed i's bytes and Content-Type; `generation` 1 adds two new items at the top."""
    rng = random.Random(i)
    count = rng.randint(20, 50)
    encoding = list(LEGACY)[(i // 20) % 4] if i % 20 in (4, 9) else "utf-8"  # one in ten, both halves
    extra = LEGACY.get(encoding, "")
    words = WORDS_BY_ENCODING.get(encoding, WORDS)
    atom = i % 5 in (1, 3)
    ids = list(range(count + 2 * generation))[::-1][:count + 2 * generation]
    items = []
    for n in ids:
        title = f"{extra} {_sentence(rng, 8, words)} {n}".strip()
        summary = " ".join(_sentence(rng, 12, words) + "." for _ in range(4))
        link = f"{base}/site{i}/clanok-{n}/"
        day = 1 + n % 28
        if atom:
            items.append(f"<entry><title>{title}</title><id>tag:bench,2026:{i}:{n}</id><link rel=\"alternate\""
                         f" href=\"{link}\"/><updated>2026-11-{day:02d}T10:00:00Z</updated>"
                         f"<summary type=\"html\">&lt;p&gt;{summary}&lt;/p&gt;</summary></entry>")
        else:
            items.append(f"<item><title>{title}</title><link>{link}?utm_source=rss</link><guid>{link}</guid>"
                         f"<pubDate>Sun, {day:02d} Nov 2026 10:00:00 +0100</pubDate>"
                         f"<description>&lt;p&gt;{summary}&lt;/p&gt;</description></item>")
    decl = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    if atom:
        text = (decl + f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Feed {i} {extra}</title>'
                f"<id>tag:bench,2026:{i}</id><updated>2026-11-22T06:00:00Z</updated>" + "".join(items) + "</feed>")
        ctype = "application/atom+xml"
    else:
        text = (decl + f'<rss version="2.0"><channel><title>Feed {i} {extra}</title><link>{base}/site{i}/</link>'
                f"<description>d</description>" + "".join(items) + "</channel></rss>")
        ctype = "application/rss+xml"
    return text.encode(encoding), f"{ctype}; charset={encoding}"


class FeedServer:
    """Serves /feed/<i>.xml; `generation` switches every feed without an ETag to its next version. Runs in its
    own process (see `serve`), so serving does not compete with the poller for the GIL."""

    def __init__(self, feeds: int, port: int = 0, generation: Any = None) -> None:
        self.feeds = feeds
        self._generation = generation
        self.bodies: dict[tuple[int, int], tuple[bytes, str]] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                i = int(self.path.rsplit("/", 1)[1].split(".")[0])
                etag = f'"feed-{i}"' if i % 2 == 0 else None
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                generation = 0 if etag else owner.generation
                body, ctype = owner.body(i, generation)
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def generation(self) -> int:
        return int(self._generation.value) if self._generation is not None else 0

    def body(self, i: int, generation: int) -> tuple[bytes, str]:
        key = (i, generation)
        if key not in self.bodies:
            self.bodies[key] = make_feed(i, generation, self.base)
        return self.bodies[key]



def serve(feeds: int, port: Any, generation: Any, ready: Any) -> None:
    server = FeedServer(feeds, 0, generation)
    for i in range(feeds):  # generated before the poll starts
        server.body(i, 0)
        server.body(i, 1)
    port.value = server.httpd.server_address[1]
    ready.set()
    server.httpd.serve_forever()


def profile_text(base: str, feeds: int) -> str:
    lines = "".join(f"    - {{id: feed-{i}, outlet: o, url: '{base}/feed/{i}.xml'}}\n" for i in range(feeds))
    return ("municipality: {id: bench-town, name: Bench Town, country: SK, languages: [sk],"
            " timezone: Europe/Bratislava}\noutlets:\n  - {id: o, name: Outlet}\n"
            "sources:\n  feeds:\n" + lines + "  releases: []\n  sites: []\n"
            "operator: {name: Bench, contact: bench@example.org}\n")


def bare(bodies: list[bytes]) -> float:
    start = time.perf_counter()
    for body in bodies:
        feedparser.parse(body)
    return time.perf_counter() - start


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run_once(feeds: int, concurrency: int) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    port, generation, ready = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Event()
    proc = ctx.Process(target=serve, args=(feeds, port, generation, ready), daemon=True)
    proc.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the feed server did not start")
        base = f"http://127.0.0.1:{port.value}"
        # The same bytes the server sends (the feeds are deterministic): all version 0 first, then the
        # ETag-less (odd) feeds' version 1 on the second poll; the even ones answer 304.
        first_bodies = [make_feed(i, 0, base)[0] for i in range(feeds)]
        second_bodies = [make_feed(i, 1, base)[0] for i in range(feeds) if i % 2]
        with tempfile.TemporaryDirectory() as tmp:
            result = _polls(feeds, base, Path(tmp), generation, concurrency)
    finally:
        proc.terminate()
        proc.join(10)
    return {**result, "bare_first_s": bare(first_bodies), "bare_second_s": bare(second_bodies),
            "mb": sum(map(len, first_bodies)) / 1e6}


def _polls(feeds: int, base: str, tmp: Path, generation: Any, concurrency: int) -> dict[str, float]:
    profile = parse_profile(profile_text(base, feeds))
    state = State(tmp / "bench.db")
    poller = FeedPoller(profile, state, HttpClient.from_profile(profile), concurrency=concurrency)
    first_s, first = timed(poller.poll_all)
    generation.value = 1
    second_s, second = timed(poller.poll_all)
    state.close()
    assert isinstance(first, list) and isinstance(second, list)
    assert all(r.ok for r in first) and all(r.ok for r in second), [r.error for r in first + second if not r.ok]
    return {"first_s": first_s, "second_s": second_s, "not_modified": sum(r.not_modified for r in second),
            "new_second": sum(r.new for r in second), "entries": sum(r.entries for r in first)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=settings.FETCH_CONCURRENCY,
                        help="feeds polled at once (the poller's threads)")
    args = parser.parse_args()
    runs = [run_once(args.feeds, args.concurrency) for _ in range(args.repeat)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    n = args.feeds
    print(f"python {platform.python_version()}, feedparser {feedparser.__version__},"
          f" poller concurrency {args.concurrency}, median of {args.repeat}")
    print(f"{n} feeds, {med['entries']:.0f} entries, {med['mb']:.1f} MB on the first poll")
    print(f"first poll (all 200):      {n / med['first_s']:7.1f} feeds/s   bare feedparser.parse"
          f" {n / med['bare_first_s']:7.1f} feeds/s   ratio poll/bare {med['first_s'] / med['bare_first_s']:.2f}x")
    print(f"second poll ({med['not_modified']:.0f} x 304):   {n / med['second_s']:7.1f} feeds/s   bare on the"
          f" {n - med['not_modified']:.0f} bodies {n / med['bare_second_s']:7.1f} feeds/s   ratio poll/bare"
          f" {med['second_s'] / med['bare_second_s']:.2f}x   ({med['new_second']:.0f} new items)")


if __name__ == "__main__":
    main()
