"""Extraction quality, measured on real pages (`presswatch eval extraction`), with floors tied to the data.

Three corpora under ../shared/data/extraction (data/README.md there names their sources and licences):

* **zyte** — the Zyte article-extraction benchmark: our body text against `ground-truth.json` `articleBody`,
  scored exactly as the benchmark's own `evaluate.py` does: `\\w+` tokens, 4-token shingles counted as a
  multiset, per page tp/fp/fn normalised to sum 1 (a long page weighs no more than a short one), precision and
  recall averaged over the pages, F1 from the two averages. Bare `trafilatura.extract` with its defaults runs
  on the same pages in the same run as the baseline. The body is scored as trafilatura gives it; the lead we
  add for the press office (the page's description) is scored separately as `text` for transparency.
* **trafilatura** — trafilatura's evaluation corpus: per page, snippets the text must contain (`with`) and
  must not contain (`without`), whitespace-normalised; precision, recall, accuracy (the share of snippets
  satisfied) and F1 over the summed counts, as trafilatura's `tests/README.rst` describes. The baseline is
  trafilatura's "standard" setting there (no comments, tables, no formatting).
* **fundus** — fundus's parser test pages: title (whitespace-normalised, exact), publication date (same
  instant within a minute, and same calendar day) and authors (same set of names, case- and
  whitespace-insensitive) against `ground_truth_flat.jsonl`; the crawl date is the fetch time.

Floors live in enrich/extraction_floors.json with the sha256 of each corpus's ground-truth file; regenerate
deliberately with `python -m presswatch.enrich.extraction_eval --update-floors`.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import trafilatura

from presswatch import settings
from presswatch.enrich.extract import Extracted, ExtractionError, extract_page
from presswatch.records import RawPage

DEFAULT_DATA = settings.PROJECT_ROOT.parent / "shared" / "data" / "extraction"
FLOORS_PATH = Path(__file__).with_name("extraction_floors.json")
GROUND_TRUTH = {
    "zyte": "zyte-article-benchmark/ground-truth.json",
    "trafilatura": "trafilatura-eval/evaldata.json",
    "fundus": "fundus/ground_truth_flat.jsonl",
}
# the figures that have floors (per corpus); the rest of a report is context
FLOOR_METRICS = {
    "zyte": ("f1", "precision", "recall"),
    "trafilatura": ("f1", "accuracy"),
    "fundus": ("title_acc", "date_day_acc", "authors_acc"),
}
ZYTE_F1_PUBLISHED_FLOOR = 0.957  # bare trafilatura 2.3.1 on this benchmark (../shared/data/README.md)
_TOKEN = re.compile(r"\w+")


# --- metrics -------------------------------------------------------------------------------------------------


def shingle_counts(true: str, pred: str, n: int = 4) -> tuple[float, float, float]:
    """(tp, fp, fn) over `n`-token shingles, normalised to sum 1 — the Zyte benchmark's `string_shingle_matching`."""
    a, b = _shingles(true, n), _shingles(pred, n)
    tp = fp = fn = 0
    for key in a.keys() | b.keys():
        x, y = a.get(key, 0), b.get(key, 0)
        tp += min(x, y)
        fp += max(0, y - x)
        fn += max(0, x - y)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def _shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    # a text shorter than n tokens is one (short) shingle, as in the benchmark
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def prf_from_counts(counts: Iterable[tuple[float, float, float]]) -> dict[str, float]:
    """Macro precision and recall over pages, F1 of the two (the benchmark's `metrics_from_tp_fp_fns`)."""
    counts = list(counts)

    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    ps = [precision(*c) for c in counts if c[0] + c[1] > 0]
    rs = [recall(*c) for c in counts if c[0] + c[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


@dataclass
class SnippetCounts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, text: str, with_: list[str], without: list[str]) -> None:
        norm = " ".join(text.split())
        for s in with_:
            if " ".join(s.split()) in norm:
                self.tp += 1
            else:
                self.fn += 1
        for s in without:
            if " ".join(s.split()) in norm:
                self.fp += 1
            else:
                self.tn += 1

    def scores(self) -> dict[str, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        total = self.tp + self.fn + self.fp + self.tn
        return {"precision": round(p, 4), "recall": round(r, 4),
                "accuracy": round((self.tp + self.tn) / total, 4) if total else 0.0,
                "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


# --- running -------------------------------------------------------------------------------------------------


@dataclass
class CorpusReport:
    name: str
    fingerprint: str
    pages: int
    ours: dict[str, float]
    bare: dict[str, float] | None = None  # bare trafilatura in the same run, where comparable
    ms_per_page: dict[str, float] = field(default_factory=dict)  # ours / bare
    extra: dict[str, Any] = field(default_factory=dict)  # context: subsets, per language, failures

    def to_json(self) -> dict[str, Any]:
        return {"pages": self.pages, "fingerprint": self.fingerprint, "ours": self.ours, "bare": self.bare,
                "ms_per_page": self.ms_per_page, **self.extra}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _raw_page(body: bytes, url: str, fetched_at: datetime | None = None) -> RawPage:
    return RawPage(url=url, final_url=url, outlet="eval", source="eval", fetched_at=fetched_at or datetime.now(UTC),
                   status=200, headers={}, body=body)


def _ours(page: RawPage) -> Extracted | None:
    try:
        return extract_page(page)
    except ExtractionError:
        return None


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _bare(body: bytes, **options: Any) -> str:
    try:
        return trafilatura.extract(body, **options) or ""
    except Exception:  # a crash of the baseline counts as an empty extraction, as in the benchmarks
        return ""


def score_zyte(data: Path, baseline: bool = True) -> CorpusReport:
    root = data / "zyte-article-benchmark"
    gt_path = root / "ground-truth.json"
    truth: dict[str, dict[str, Any]] = json.loads(gt_path.read_text(encoding="utf-8"))
    body_c, text_c, bare_c = [], [], []
    t_ours = t_bare = 0.0
    for key, item in truth.items():
        raw = gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes())
        got, dt = _timed(_ours, _raw_page(raw, item.get("url") or f"https://zyte.example/{key}"))
        t_ours += dt
        gold = item.get("articleBody", "")
        body_c.append(shingle_counts(gold, got.body if got else ""))
        text_c.append(shingle_counts(gold, got.text if got else ""))
        if baseline:
            text, dt = _timed(_bare, raw)
            t_bare += dt
            bare_c.append(shingle_counts(gold, text))
    n = len(truth)
    ms = {"ours": round(1000 * t_ours / n, 1)}
    if baseline:
        ms["bare"] = round(1000 * t_bare / n, 1)
    return CorpusReport("zyte", sha256_file(gt_path), n, prf_from_counts(body_c),
                        prf_from_counts(bare_c) if baseline else None, ms,
                        {"ours_text_with_lead": prf_from_counts(text_c)})


def trafilatura_keys(evaldata: dict[str, Any], every: int = 1) -> list[str]:
    """The pages scored: all, or every `every`-th of the keys in sorted order (a fixed, reproducible subset)."""
    return sorted(evaldata)[::every]


def score_trafilatura(data: Path, every: int = 1, baseline: bool = True) -> CorpusReport:
    root = data / "trafilatura-eval"
    gt_path = root / "evaldata.json"
    evaldata: dict[str, dict[str, Any]] = json.loads(gt_path.read_text(encoding="utf-8"))
    ours, bare = SnippetCounts(), SnippetCounts()
    t_ours = t_bare = 0.0
    keys = trafilatura_keys(evaldata, every)
    missing = 0
    for url in keys:
        item = evaldata[url]
        path = next((p for p in (root / "html" / "cache" / f"{item['file']}.gz",
                                 root / "html" / "eval" / f"{item['file']}.gz") if p.is_file()), None)
        if path is None:
            missing += 1
            continue
        raw = gzip.decompress(path.read_bytes())
        got, dt = _timed(_ours, _raw_page(raw, url))
        t_ours += dt
        ours.add(got.body if got else "", item.get("with", []), item.get("without", []))
        if baseline:
            text, dt = _timed(_bare, raw, include_comments=False, include_tables=True,
                              include_formatting=False)
            t_bare += dt
            bare.add(text, item.get("with", []), item.get("without", []))
    n = len(keys) - missing
    ms = {"ours": round(1000 * t_ours / max(n, 1), 1)}
    if baseline:
        ms["bare"] = round(1000 * t_bare / max(n, 1), 1)
    return CorpusReport("trafilatura", sha256_file(gt_path), n, ours.scores(), bare.scores() if baseline else None,
                        ms, {"every": every, "missing_files": missing,
                             "published": {"trafilatura 2.2.0 standard (990 pages)":
                                           {"precision": 0.906, "recall": 0.943, "accuracy": 0.923, "f1": 0.924}}})


def _norm(s: str | None) -> str:
    return " ".join((s or "").split()).casefold()


def _gt_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def score_fundus(data: Path) -> CorpusReport:
    root = data / "fundus"
    gt_path = root / "ground_truth_flat.jsonl"
    rows = [json.loads(line) for line in gt_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    hits: Counter[str] = Counter()
    per_lang: dict[str, Counter[str]] = {}
    dated = 0
    misses: dict[str, list[str]] = {"title": [], "date": [], "authors": []}
    t_ours = 0.0
    for row in rows:
        raw = gzip.decompress((root / row["html"]).read_bytes())
        crawled = _gt_date(row.get("crawl_date"))
        got, dt = _timed(_ours, _raw_page(raw, row["url"], crawled))
        t_ours += dt
        lang = row.get("lang_detected") or "?"
        c = per_lang.setdefault(lang, Counter())
        c["pages"] += 1
        title_ok = got is not None and _norm(got.title) == _norm(row.get("title"))
        authors_ok = got is not None and {_norm(a) for a in got.authors} == {_norm(a) for a in row.get("authors")
                                                                              or []}
        gold_date = _gt_date(row.get("publishing_date"))
        date_ok = day_ok = False
        if gold_date is not None:
            dated += 1
            c["dated"] += 1
            when = got.published if got else None
            date_ok = when is not None and abs(when - gold_date) <= timedelta(minutes=1)
            # the calendar day where the page was published (the ground truth's own offset)
            day_ok = when is not None and when.astimezone(gold_date.tzinfo).date() == gold_date.date()
        for name, ok in (("title", title_ok), ("authors", authors_ok), ("date", date_ok), ("date_day", day_ok)):
            hits[name] += int(ok)
            c[name] += int(ok)
        for name, ok in (("title", title_ok), ("authors", authors_ok)):
            if not ok:
                misses[name].append(row["html"])
        if gold_date is not None and not day_ok:
            misses["date"].append(row["html"])
    n = len(rows)

    def acc(k: str, d: int) -> float:
        return round(hits[k] / d, 4) if d else 0.0

    ours = {"title_acc": acc("title", n), "date_acc": acc("date", dated), "date_day_acc": acc("date_day", dated),
            "authors_acc": acc("authors", n)}
    langs = {lang: {"pages": c["pages"], "title": c["title"], "authors": c["authors"],
                    "date_day": f"{c['date_day']}/{c['dated']}"}
             for lang, c in sorted(per_lang.items()) if lang in ("cs", "lt", "tr", "sk", "mk", "pl", "ru")}
    return CorpusReport("fundus", sha256_file(gt_path), n, ours, None, {"ours": round(1000 * t_ours / n, 1)},
                        {"dated_pages": dated, "our_languages": langs, "misses": misses})


CORPORA: dict[str, Callable[..., CorpusReport]] = {"zyte": score_zyte, "trafilatura": score_trafilatura,
                                                   "fundus": score_fundus}


def evaluate_extraction(data: Path = DEFAULT_DATA, every: int = 1, baseline: bool = True,
                        corpora: Iterable[str] = tuple(CORPORA)) -> dict[str, CorpusReport]:
    """Score every corpus found under `data`; FileNotFoundError if none is there."""
    if not data.is_dir():
        raise FileNotFoundError(f"{data}: no extraction data here (expected {', '.join(GROUND_TRUTH.values())})")
    out: dict[str, CorpusReport] = {}
    for name in corpora:
        if not (data / GROUND_TRUTH[name]).is_file():
            continue
        if name == "zyte":
            out[name] = score_zyte(data, baseline)
        elif name == "trafilatura":
            out[name] = score_trafilatura(data, every, baseline)
        else:
            out[name] = score_fundus(data)
    if not out:
        raise FileNotFoundError(f"{data}: no extraction corpus found (expected {', '.join(GROUND_TRUTH.values())})")
    return out


def overall(reports: dict[str, CorpusReport]) -> dict[str, Any]:
    """Across corpora: pages, extraction cost, and our text-quality figures beside bare trafilatura's."""
    pages = sum(r.pages for r in reports.values())
    text = [r for r in reports.values() if r.bare is not None]
    out: dict[str, Any] = {"pages": pages,
                           "ms_per_page_ours": round(sum(r.ms_per_page["ours"] * r.pages for r in reports.values())
                                                     / max(pages, 1), 1)}
    if text:
        out["text_f1_ours_mean"] = round(statistics.mean(r.ours["f1"] for r in text), 4)
        out["text_f1_bare_mean"] = round(statistics.mean(r.bare["f1"] for r in text if r.bare), 4)
        out["not_below_bare"] = all(r.bare is not None and r.ours["f1"] >= r.bare["f1"] for r in text)
    return out


def to_json(reports: dict[str, CorpusReport]) -> dict[str, Any]:
    return {"corpora": {n: r.to_json() for n, r in reports.items()}, "overall": overall(reports)}


def format_report(reports: dict[str, CorpusReport]) -> str:
    lines: list[str] = []
    for name, r in reports.items():
        subset = f", a fixed subset: every Nth page, N={r.extra['every']}" if r.extra.get("every", 1) > 1 else ""
        lines.append(f"{name}: {r.pages} pages{subset}  (ground truth sha256 {r.fingerprint[:12]})")
        for who, figures in (("ours", r.ours), ("bare trafilatura", r.bare)):
            if figures:
                ms = r.ms_per_page.get("ours" if who == "ours" else "bare")
                cost = f"   {ms} ms/page" if ms is not None else ""
                lines.append(f"  {who:<18} " + "  ".join(f"{k} {v:.3f}" for k, v in figures.items()) + cost)
        if "ours_text_with_lead" in r.extra:
            lines.append("  ours, lead + body  " + "  ".join(f"{k} {v:.3f}"
                                                           for k, v in r.extra["ours_text_with_lead"].items()))
        for label, figures in r.extra.get("published", {}).items():
            lines.append(f"  published: {label}  " + "  ".join(f"{k} {v:.3f}" for k, v in figures.items()))
        if r.extra.get("our_languages"):
            lines.append("  our region's pages: " + "; ".join(
                f"{lang} {v['pages']} (title {v['title']}, authors {v['authors']}, date {v['date_day']})"
                for lang, v in r.extra["our_languages"].items()))
    o = overall(reports)
    summary = f"overall: {o['pages']} pages, {o['ms_per_page_ours']} ms/page ours"
    if "text_f1_ours_mean" in o:
        summary += (f"; text F1 ours {o['text_f1_ours_mean']:.3f} vs bare {o['text_f1_bare_mean']:.3f} "
                    f"(mean over corpora){'' if o['not_below_bare'] else '  BELOW BARE'}")
    lines.append(summary)
    return "\n".join(lines)


# --- floors ----------------------------------------------------------------------------------------------------


def load_floors(path: Path = FLOORS_PATH) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check_floors(reports: dict[str, CorpusReport], floors: dict[str, Any] | None = None) -> list[str]:
    """What is wrong: a changed ground-truth file (stale floors) or a figure below its floor; [] when all is well."""
    floors = floors or load_floors()
    problems: list[str] = []
    for name, r in reports.items():
        rec = floors["corpora"][name]
        if r.fingerprint != rec["sha256"]:
            problems.append(f"{name}: the ground truth {GROUND_TRUTH[name]} changed since the floors were recorded "
                            f"(sha256 {r.fingerprint[:12]} != {rec['sha256'][:12]}); review the new figures and run "
                            "`python -m presswatch.enrich.extraction_eval --update-floors`")
            continue
        for metric, floor in rec["floors"].items():
            if r.ours[metric] < floor:
                problems.append(f"{name}: {metric} {r.ours[metric]:.4f} is below its floor {floor:.4f}")
    return problems


def update_floors(reports: dict[str, CorpusReport], margin: float, every: int, path: Path = FLOORS_PATH) -> None:
    data: dict[str, Any] = {
        "about": "Extraction quality floors (enrich/extraction_eval.py); floor = measured - margin, the Zyte F1 "
                 f"floor never below {ZYTE_F1_PUBLISHED_FLOOR} (bare trafilatura's published figure). sha256 is "
                 "the ground-truth file each corpus was measured on.",
        "margin": margin,
        "trafilatura_every": every,
        "corpora": {},
    }
    for name, r in reports.items():
        floors = {m: round(max(0.0, r.ours[m] - margin), 4) for m in FLOOR_METRICS[name]}
        if name == "zyte":
            floors["f1"] = max(floors["f1"], ZYTE_F1_PUBLISHED_FLOOR)
        data["corpora"][name] = {"ground_truth": GROUND_TRUTH[name], "sha256": r.fingerprint, "pages": r.pages,
                                 "measured": r.ours, "bare": r.bare, "floors": floors}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="score extraction on ../shared/data/extraction; maintain the floors")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--update-floors", action="store_true",
                    help="measure as CI does and record the floors (measured - margin) with the data's sha256")
    ap.add_argument("--margin", type=float, default=0.005)
    args = ap.parse_args(argv)
    every = load_floors()["trafilatura_every"] if FLOORS_PATH.is_file() else 3
    reports = evaluate_extraction(args.data, every=every if args.update_floors else 1,
                                  baseline=True)
    print(format_report(reports))
    if args.update_floors:
        update_floors(reports, args.margin, every)
        print(f"floors written to {FLOORS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
