"""Evaluate the enrichment stage on a labelled set: `<lang>.yaml` profiles beside `<lang>.jsonl` items with `gold`.

    python -m presswatch.enrich.evaluate ../shared/eval/dev          # the report
    python -m presswatch.enrich.evaluate ../shared/eval/dev --json   # the figures as JSON

Items are enriched without their `lang` field (so language identification is measured too). Metrics, per
language and overall: language accuracy, relevance accuracy, officials precision/recall (micro over items, on
official ids), bodies precision/recall, critical precision/recall/F1, misleading precision/recall/F1,
sentiment accuracy, and the share of gold mention surfaces found (a found mention overlaps the gold one).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presswatch.enrich.enricher import Enricher
from presswatch.profile import ProfileError, load_profile

FLOORS_PATH = Path(__file__).resolve().parent / "eval_floors.json"
FLOOR_MARGIN = 0.03  # floors sit this far below what was measured, so that a rounding change does not fail CI
METRICS = ("lang_acc", "relevance_acc", "officials_p", "officials_r", "bodies_p", "bodies_r", "critical_p",
           "critical_r", "critical_f1", "misleading_p", "misleading_r", "misleading_f1", "sentiment_acc",
           "mentions_r")
# The acceptance minimums, per language and overall, on every set (tests/test_eval.py); the recorded floors
# (measured minus FLOOR_MARGIN) sit above them wherever we measured more.
MINIMUMS: dict[str, float] = {"officials_p": 0.90, "officials_r": 0.90, "relevance_acc": 0.90, "critical_f1": 0.80,
                              "misleading_r": 0.70, "sentiment_acc": 0.75}


@dataclass
class Counts:
    n: int = 0
    lang_ok: int = 0
    rel_ok: int = 0
    off_tp: int = 0
    off_fp: int = 0
    off_fn: int = 0
    body_tp: int = 0
    body_fp: int = 0
    body_fn: int = 0
    crit_tp: int = 0
    crit_fp: int = 0
    crit_fn: int = 0
    mis_tp: int = 0
    mis_fp: int = 0
    mis_fn: int = 0
    sent_ok: int = 0
    men_found: int = 0
    men_total: int = 0

    def add(self, other: Counts) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def metrics(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float:
            return round(a / b, 4) if b else 1.0

        def f1(p: float, r: float) -> float:
            return round(2 * p * r / (p + r), 4) if p + r else 0.0

        cp, cr = ratio(self.crit_tp, self.crit_tp + self.crit_fp), ratio(self.crit_tp, self.crit_tp + self.crit_fn)
        mp, mr = ratio(self.mis_tp, self.mis_tp + self.mis_fp), ratio(self.mis_tp, self.mis_tp + self.mis_fn)
        return {
            "lang_acc": ratio(self.lang_ok, self.n),
            "relevance_acc": ratio(self.rel_ok, self.n),
            "officials_p": ratio(self.off_tp, self.off_tp + self.off_fp),
            "officials_r": ratio(self.off_tp, self.off_tp + self.off_fn),
            "bodies_p": ratio(self.body_tp, self.body_tp + self.body_fp),
            "bodies_r": ratio(self.body_tp, self.body_tp + self.body_fn),
            "critical_p": cp,
            "critical_r": cr,
            "critical_f1": f1(cp, cr),
            "misleading_p": mp,
            "misleading_r": mr,
            "misleading_f1": f1(mp, mr),
            "sentiment_acc": ratio(self.sent_ok, self.n),
            "mentions_r": ratio(self.men_found, self.men_total),
        }


@dataclass
class ItemResult:
    id: str
    lang: str
    errors: list[str]  # what differs from gold, readable
    note: str = ""


@dataclass
class EvalReport:
    set_dir: str
    fingerprint: str
    per_lang: dict[str, dict[str, float]]
    overall: dict[str, float]
    counts: dict[str, int]
    items: list[ItemResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "set": self.set_dir,
            "fingerprint": self.fingerprint,
            "overall": self.overall,
            "per_lang": self.per_lang,
            "counts": self.counts,
            "errors": {i.id: i.errors for i in self.items if i.errors},
        }


def fingerprint(set_dir: Path) -> str:
    """sha256 over the names and bytes of the set's .yaml and .jsonl files (sorted)."""
    h = hashlib.sha256()
    for p in sorted(set_dir.glob("*.yaml")) + sorted(set_dir.glob("*.jsonl")):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _overlap(a: str, b: str) -> bool:
    a, b = a.casefold(), b.casefold()
    return a in b or b in a


def score_item(item: dict[str, Any], out: dict[str, Any]) -> tuple[Counts, list[str]]:
    gold = item["gold"]
    c = Counts(n=1)
    errs: list[str] = []
    c.lang_ok = int(out["lang"] == gold["lang"])
    if not c.lang_ok:
        errs.append(f"lang {out['lang']} != {gold['lang']}")
    c.rel_ok = int(out["relevant"] == gold["relevant"])
    if not c.rel_ok:
        errs.append(f"relevant {out['relevant']} != {gold['relevant']}")
    for kind, tp, fp, fn in (("officials", "off_tp", "off_fp", "off_fn"), ("bodies", "body_tp", "body_fp", "body_fn")):
        got, want = set(out[kind]), set(gold.get(kind, []))
        setattr(c, tp, len(got & want))
        setattr(c, fp, len(got - want))
        setattr(c, fn, len(want - got))
        if got != want:
            errs.append(f"{kind} +{sorted(got - want)} -{sorted(want - got)}")
    for flag, tp, fp, fn in (("critical", "crit_tp", "crit_fp", "crit_fn"), ("misleading", "mis_tp", "mis_fp", "mis_fn")):
        raised, expected = bool(out[flag]), bool(gold.get(flag))
        setattr(c, tp, int(raised and expected))
        setattr(c, fp, int(raised and not expected))
        setattr(c, fn, int(expected and not raised))
        if raised != expected:
            errs.append(f"{flag} {raised} != {expected}")
    c.sent_ok = int(out["sentiment"]["label"] == gold.get("sentiment"))
    if not c.sent_ok:
        errs.append(f"sentiment {out['sentiment']['label']}({out['sentiment']['score']}) != {gold.get('sentiment')}")
    for gm in gold.get("mentions", []):
        ref = gm.get("official") or gm.get("body")
        c.men_total += 1
        if any((m.get("official") or m.get("body")) == ref and _overlap(m["surface"], gm["surface"])
               for m in out["mentions"]):
            c.men_found += 1
        else:
            errs.append(f"mention not found: {ref} {gm['surface']!r}")
    return c, errs


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None


def evaluate(set_dir: Path) -> EvalReport:
    """Enrich every item of the set with its language's profile and compare with `gold`."""
    set_dir = Path(set_dir)
    per_lang: dict[str, dict[str, float]] = {}
    total = Counts()
    items: list[ItemResult] = []
    pairs = [(p, p.with_suffix(".jsonl")) for p in sorted(set_dir.glob("*.yaml"))]
    pairs = [(y, j) for y, j in pairs if j.exists()]
    if not pairs:
        raise FileNotFoundError(f"{set_dir}: no <lang>.yaml with a <lang>.jsonl beside it")
    for yaml_path, jsonl_path in pairs:
        enricher = Enricher.from_profile(load_profile(yaml_path))
        counts = Counts()
        for item in _read_jsonl(jsonl_path):
            if "gold" not in item:
                raise ValueError(f"{jsonl_path}: item {item.get('id')!r} has no `gold`")
            given = {k: v for k, v in item.items() if k not in ("gold", "lang")}
            out = enricher.enrich_item(given)
            c, errs = score_item(item, out)
            counts.add(c)
            note = item["gold"].get("note", "")
            items.append(ItemResult(str(item.get("id")), yaml_path.stem, errs, note))
        per_lang[yaml_path.stem] = counts.metrics()
        total.add(counts)
    return EvalReport(str(set_dir), fingerprint(set_dir), per_lang, total.metrics(),
                      {"items": total.n, "languages": len(per_lang)}, items)


def format_report(report: EvalReport, errors: bool = False) -> str:
    cols = ("lang_acc", "relevance_acc", "officials_p", "officials_r", "critical_p", "critical_r", "critical_f1",
            "misleading_p", "misleading_r", "sentiment_acc", "bodies_p", "bodies_r", "mentions_r")
    short = {"lang_acc": "lang", "relevance_acc": "relev", "officials_p": "off_P", "officials_r": "off_R",
             "critical_p": "crit_P", "critical_r": "crit_R", "critical_f1": "crit_F1", "misleading_p": "mis_P",
             "misleading_r": "mis_R", "sentiment_acc": "sent", "bodies_p": "body_P", "bodies_r": "body_R",
             "mentions_r": "ment_R"}
    lines = [f"{report.set_dir}  ({report.counts['items']} items, sha256 {report.fingerprint[:12]})",
             "lang     " + " ".join(f"{short[c]:>7}" for c in cols)]
    for lang, m in sorted(report.per_lang.items()):
        lines.append(f"{lang:<8} " + " ".join(f"{m[c]:>7.3f}" for c in cols))
    lines.append(f"{'overall':<8} " + " ".join(f"{report.overall[c]:>7.3f}" for c in cols))
    if errors:
        for it in report.items:
            if it.errors:
                lines.append(f"  {it.id} {it.note[:60]}")
                lines.extend(f"      {e}" for e in it.errors)
    return "\n".join(lines)


def floors_for(report: EvalReport, margin: float = FLOOR_MARGIN, lang: str | None = None) -> dict[str, float]:
    """Quality floors from a measured report: each overall (or one language's) metric minus the margin (≥ 0)."""
    measured = report.overall if lang is None else report.per_lang[lang]
    return {m: round(max(0.0, measured[m] - margin), 3) for m in METRICS}


def below_minimums(report: EvalReport) -> dict[str, dict[str, float]]:
    """{"<lang>|overall": {metric: measured}} for every figure under the issue's MINIMUMS."""
    out: dict[str, dict[str, float]] = {}
    for name, measured in [*sorted(report.per_lang.items()), ("overall", report.overall)]:
        low = {m: measured[m] for m, floor in MINIMUMS.items() if measured[m] < floor}
        if low:
            out[name] = low
    return out


def update_floors(report: EvalReport, name: str, path: Path = FLOORS_PATH) -> dict[str, Any]:
    """Record `report` as the floors of set `name` in the floors file, with the set's fingerprint."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data["minimums"] = MINIMUMS
    data.setdefault("about", "Quality floors of the enrichment stage (tests/test_eval.py). Regenerate after a "
                    "deliberate change: python -m presswatch.enrich.evaluate <set> --update-floors <name>")
    data.setdefault("sets", {})[name] = {
        "fingerprint": report.fingerprint,
        "items": report.counts["items"],
        "measured": report.overall,
        "floors": floors_for(report),
        "per_lang": {lang: {"measured": m, "floors": floors_for(report, lang=lang)}
                     for lang, m in sorted(report.per_lang.items())},
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m presswatch.enrich.evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--errors", action="store_true", help="list what differs from gold, item by item")
    ap.add_argument("--update-floors", metavar="NAME", help="record the result as the floors of set NAME "
                    f"in {FLOORS_PATH.name} (dev, own)")
    args = ap.parse_args(argv)
    try:
        report = evaluate(args.set_dir)
    except (OSError, ValueError, ProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if args.json
          else format_report(report, args.errors))
    for name, low in below_minimums(report).items():
        print(f"below the acceptance minimums: {name} {low}", file=sys.stderr)
    if args.update_floors:
        update_floors(report, args.update_floors)
        print(f"floors of {args.update_floors!r} written to {FLOORS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
