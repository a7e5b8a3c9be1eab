"""`python -m presswatch.enrich --profile P < in.jsonl > out.jsonl`: the enrichment contract on JSON lines.

Each input line `{id, url, title, text, outlet?, published?, lang?}` is written back with the enrichment fields
(DESIGN.md, "Enrichment contract"). A line that is not a JSON object with a title or a text is reported on
stderr with its line number and skipped; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TextIO

from presswatch.enrich.enricher import Enricher
from presswatch.profile import ProfileError, load_profile


def run(enricher: Enricher, lines: Iterable[str], out: TextIO, err: TextIO) -> int:
    """Enrich JSON lines; returns the number of lines that could not be enriched."""
    bad = 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            result = enricher.enrich_item(item)
        except (json.JSONDecodeError, ValueError, TypeError) as exc:
            bad += 1
            print(f"line {n}: {exc}", file=err)
            continue
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m presswatch.enrich", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", required=True, help="profile file or name (e.g. demo)")
    args = ap.parse_args(argv)
    try:
        enricher = Enricher.from_profile(load_profile(args.profile))
    except ProfileError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 1 if run(enricher, sys.stdin, sys.stdout, sys.stderr) else 0


if __name__ == "__main__":
    raise SystemExit(main())
