"""The enrichment contract on JSON lines (DESIGN.md): input fields kept, enrichment fields added, bad lines
reported with their line number; and the stage's speed relative to extraction."""

from __future__ import annotations

import io
import json
from typing import Any

from presswatch.enrich.__main__ import run
from presswatch.enrich.enricher import Enricher
from presswatch.profile import load_profile

ITEM: dict[str, Any] = {"id": "x1", "url": "https://horcan.example/1", "outlet": "horcan", "published": "2026-10-19T08:00:00+02:00",
        "title": "Poslanec Mráz: Primátor Hrušovský zatajil zmluvu",
        "text": "Poslanec Igor Mráz obvinil primátora Starej Hôrky Mariána Hrušovského, že zatajil zmluvu na "
                "zimnú údržbu. Mestský úrad na otázky redakcie neodpovedal.", "extra": {"kept": True}}


def test_output_line_is_the_input_plus_the_enrichment() -> None:
    out = Enricher.from_profile(load_profile("demo")).enrich_item(dict(ITEM))
    for k, v in ITEM.items():
        assert out[k] == v
    assert {"lang", "relevant", "officials", "bodies", "mentions", "sentiment", "critical", "misleading",
            "flags"} <= set(out)
    assert out["lang"] == "sk" and out["relevant"] and out["critical"]
    assert set(out["officials"]) == {"councillor_mraz", "mayor"}
    assert out["sentiment"]["label"] in ("negative", "neutral", "positive") and -1 <= out["sentiment"]["score"] <= 1
    for m in out["mentions"]:
        assert set(m) == {"official", "surface", "start", "end", "field"} or set(m) == {"body", "surface", "start",
                                                                                      "end", "field"}
        assert (ITEM["title"] if m["field"] == "title" else ITEM["text"])[m["start"]:m["end"]] == m["surface"]
    for f in out["flags"]:
        assert f["type"] in ("critical", "misleading") and 0 <= f["severity"] <= 1
        assert all({"cue", "quote", "field", "start", "end"} <= set(r) for r in f["reasons"])
    json.dumps(out)


def test_jsonl_runner_reports_bad_lines_and_goes_on() -> None:
    enricher = Enricher.from_profile(load_profile("demo"))
    lines = [json.dumps(ITEM), "{not json", json.dumps({"id": "empty"}), "", json.dumps([1, 2]), json.dumps(ITEM)]
    out, err = io.StringIO(), io.StringIO()
    bad = run(enricher, lines, out, err)
    assert bad == 3
    assert len(out.getvalue().splitlines()) == 2
    assert "line 2:" in err.getvalue() and "line 3:" in err.getvalue() and "line 5:" in err.getvalue()
