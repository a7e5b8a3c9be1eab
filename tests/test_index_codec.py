"""The clipping codec: every field survives a trip through JSON; bad documents are refused with the key named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from presswatch.index.codec import CodecError, clipping_from_dict, clipping_to_dict
from presswatch.records import Article, Clipping, Enrichment, Flag, Mention, Reason, Sentiment


def full_clipping() -> Clipping:
    return Clipping(
        article=Article(id="abc123", url="https://news.example/a", outlet="sme", title="Primátor „ticho“",
                        text="Primátora Hrušovského kritizovali.\nDruhý odsek.",
                        published=datetime(2024, 5, 1, 8, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Bratislava")),
                        authors=("Ján Novák", "Eva Malá"), lang=None, paywalled=True,
                        fetched_at=datetime(2024, 5, 1, 7, 0, tzinfo=UTC)),
        enrichment=Enrichment(
            lang="sk", relevant=True, officials=("hrusovsky",), bodies=("council", "dpb"),
            mentions=(Mention("official", "hrusovsky", "Hrušovského", 10, 21, "text"),
                      Mention("body", "council", "zastupiteľstvo", 0, 14, "title")),
            sentiment=Sentiment("negative", -0.123456789),
            flags=(Flag("critical", 0.876543219, (Reason("kritizovali", "Primátora … kritizovali.", "text", 0, 34),)),
                   Flag("misleading", 0.5, (Reason("nepravda", "Most stál 20 mil.", "title", 0, 9,
                                                   record="Most stál 10 mil. €", fact_id="bridge-cost"),)))),
        municipality="bratislava", cluster_id="abc000", fingerprint=(1 << 64) - 2,
        indexed_at=datetime(2024, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=3))),
        extra={"teaser": False, "source": "feed:sme", "nested": {"n": [1, 2]}})


def test_round_trip_through_json_is_lossless() -> None:
    c = full_clipping()
    d = json.loads(json.dumps(clipping_to_dict(c), ensure_ascii=False))
    back = clipping_from_dict(d)
    assert back == c
    assert back.article.published is not None and back.article.published.utcoffset() == timedelta(0)
    assert back.enrichment.sentiment.score == -0.123456789 and back.fingerprint == (1 << 64) - 2


def test_document_shape_extends_the_enrichment_contract() -> None:
    d = clipping_to_dict(full_clipping())
    assert d["published"] == "2024-05-01T06:30:15.123456+00:00"
    assert d["indexed_at"] == "2024-05-01T06:00:00+00:00"
    assert d["fingerprint"] == "fffffffffffffffe"
    assert d["critical"] is True and d["misleading"] is True and d["max_severity"] == 0.876543219
    assert d["mentions"][0] == {"official": "hrusovsky", "surface": "Hrušovského", "start": 10, "end": 21,
                                "field": "text"}
    assert "record" not in d["flags"][0]["reasons"][0] and d["flags"][1]["reasons"][0]["fact_id"] == "bridge-cost"
    contract = {"id", "url", "title", "text", "outlet", "published", "lang", "relevant", "officials", "bodies",
                "mentions", "sentiment", "critical", "misleading", "flags"}
    assert contract <= d.keys()


def test_minimal_document_and_integer_fingerprint() -> None:
    d = {"id": "x", "url": "u", "title": "t", "text": "", "outlet": "o", "lang": "en", "relevant": False,
         "sentiment": {"label": "neutral", "score": 0}, "municipality": "m", "fingerprint": -1,
         "published": "2024-05-01T08:00:00Z"}
    c = clipping_from_dict(d)
    assert c.fingerprint == (1 << 64) - 1 and c.enrichment.flags == () and c.article.authors == ()
    assert c.article.published == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("change", "message"), [
    ({"lang": None}, "lang must be a string"),
    ({"relevant": "yes"}, "relevant must be true or false"),
    ({"published": "yesterday"}, "'yesterday' is not an ISO 8601 time"),
    ({"sentiment": {"label": "angry", "score": 0}}, "sentiment.label is 'angry'"),
    ({"flags": [{"type": "rude", "severity": 1}]}, "flags[0].type"),
    ({"mentions": [{"surface": "x", "start": 0, "end": 1, "field": "text"}]}, "mentions[0] names neither"),
    ({"fingerprint": "xyz"}, "not 16 hex digits"),
])
def test_bad_documents_name_the_key(change: dict[str, object], message: str) -> None:
    d = clipping_to_dict(full_clipping()) | change
    with pytest.raises(CodecError, match="clipping abc123: .*" + message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        clipping_from_dict(d)


def test_missing_key_and_wrong_type() -> None:
    d = clipping_to_dict(full_clipping())
    del d["municipality"]
    with pytest.raises(CodecError, match="missing key 'municipality'"):
        clipping_from_dict(d)
    not_an_object: Any = [1, 2]
    with pytest.raises(CodecError, match="JSON object"):
        clipping_from_dict(not_an_object)


def _overruled_clipping() -> Clipping:
    from dataclasses import replace

    from presswatch.records import Overruled

    c = full_clipping()
    trained = datetime(2026, 9, 1, 7, 15, 30, 5, tzinfo=UTC)
    trace = (Overruled("critical", rules=True, model=False, probability=0.0712345678, trained_at=trained,
                       judgements=60),
             Overruled("relevant", rules=True, model=False, probability=0.1, trained_at=trained, judgements=60))
    return replace(c, enrichment=replace(c.enrichment, relevant=False, overruled=trace))


def test_overruled_trace_round_trips_and_old_documents_have_none() -> None:
    c = _overruled_clipping()
    d = json.loads(json.dumps(clipping_to_dict(c)))
    assert d["overruled"][0] == {"field": "critical", "rules": True, "model": False, "probability": 0.0712345678,
                                 "trained_at": "2026-09-01T07:15:30.000005+00:00", "judgements": 60}
    assert clipping_from_dict(d) == c
    assert c.enrichment.to_json()["overruled"][1] == {"field": "relevant", "rules": True, "model": False,
                                                      "probability": 0.1, "trained_at": "2026-09-01T07:15:30.000005"
                                                      "+00:00", "judgements": 60}
    old = clipping_to_dict(full_clipping())
    del old["overruled"]  # written before the trace existed
    assert clipping_from_dict(old).enrichment.overruled == ()
    assert clipping_to_dict(full_clipping())["overruled"] == []


@pytest.mark.parametrize(("change", "message"), [
    ({"field": "sentiment"}, "overruled[0].field is 'sentiment'"),
    ({"rules": "yes"}, "rules must be true or false"),
    ({"trained_at": None}, "overruled[0].trained_at is missing"),
    ({"trained_at": "last week"}, "'last week' is not an ISO 8601 time"),
])
def test_bad_overruled_trace_names_the_key(change: dict[str, object], message: str) -> None:
    d = clipping_to_dict(_overruled_clipping())
    d["overruled"] = [d["overruled"][0] | change]
    with pytest.raises(CodecError, match="clipping abc123: .*" + message.replace("[", r"\[").replace("]", r"\]")):
        clipping_from_dict(d)
