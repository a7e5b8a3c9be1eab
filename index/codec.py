"""A clipping as a JSON-ready dict and back, losslessly: the stored document of the SQLite index, the CLI's
`--json` output and the Elasticsearch document.

The shape is flat and a superset of an enrichment output line (DESIGN.md, "Enrichment contract"): `id`, `url`,
`title`, `text`, `outlet`, `published`, `lang`, `relevant`, `officials`, `bodies`, `mentions`, `sentiment`,
`critical`, `misleading`, `flags`, plus the article's and the clipping's own fields. Unlike
`Enrichment.to_json` nothing is rounded or dropped, so `clipping_from_dict(clipping_to_dict(c)) == c`.

- Times are ISO 8601 in UTC (`2024-05-01T06:30:00+00:00`); a naive datetime is taken to be UTC already.
- `fingerprint` (a 64-bit simhash) is written as 16 hex digits: JSON numbers above 2**53 lose bits in
  JavaScript and jq, and Elasticsearch's `long` is signed. An integer is accepted when reading.
- `critical`, `misleading` and `max_severity` are derived from `flags`; they are written for readers and
  ignored when reading.
- `overruled` lists where the press office's model decided against the rules (field, what the rules said, what
  the model decided, its probability, when it was trained); documents written before it existed read as none.
- `article_lang` is the language the article declared or extraction guessed (`Article.lang`); `lang` is the
  enrichment's decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast, get_args

from presswatch.records import (
    Article,
    Clipping,
    Enrichment,
    Field,
    Flag,
    FlagType,
    LearnedField,
    Mention,
    Overruled,
    Reason,
    Sentiment,
    SentimentLabel,
)

_FIELDS = get_args(Field)
_FLAG_TYPES = get_args(FlagType)
_LEARNED_FIELDS = get_args(LearnedField)
_LABELS = get_args(SentimentLabel)
_MASK64 = (1 << 64) - 1


class CodecError(ValueError):
    """A clipping document that cannot be read back; the message names the document and the key."""


def to_iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)).isoformat()


def from_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def clipping_to_dict(c: Clipping) -> dict[str, Any]:
    a, e = c.article, c.enrichment
    return {
        "id": a.id,
        "url": a.url,
        "title": a.title,
        "text": a.text,
        "outlet": a.outlet,
        "published": to_iso(a.published),
        "lang": e.lang,
        "relevant": e.relevant,
        "officials": list(e.officials),
        "bodies": list(e.bodies),
        "mentions": [m.to_json() for m in e.mentions],
        "sentiment": {"label": e.sentiment.label, "score": e.sentiment.score},
        "critical": e.critical,
        "misleading": e.misleading,
        "max_severity": c.max_severity,
        "flags": [
            {"type": f.type, "severity": f.severity, "reasons": [_reason_to_dict(r) for r in f.reasons]}
            for f in e.flags
        ],
        "overruled": [_overruled_to_dict(o) for o in e.overruled],
        "authors": list(a.authors),
        "article_lang": a.lang,
        "paywalled": a.paywalled,
        "fetched_at": to_iso(a.fetched_at),
        "municipality": c.municipality,
        "cluster_id": c.cluster_id,
        "fingerprint": None if c.fingerprint is None else f"{c.fingerprint & _MASK64:016x}",
        "indexed_at": to_iso(c.indexed_at),
        "extra": dict(c.extra),
    }


def _overruled_to_dict(o: Overruled) -> dict[str, Any]:
    return {"field": o.field, "rules": o.rules, "model": o.model, "probability": o.probability,
            "trained_at": to_iso(o.trained_at), "judgements": o.judgements}


def _reason_to_dict(r: Reason) -> dict[str, Any]:
    out: dict[str, Any] = {"cue": r.cue, "quote": r.quote, "field": r.field, "start": r.start, "end": r.end}
    if r.record is not None:
        out["record"] = r.record
    if r.fact_id is not None:
        out["fact_id"] = r.fact_id
    if r.record_url is not None:
        out["record_url"] = r.record_url
    return out


def clipping_from_dict(d: Mapping[str, Any]) -> Clipping:
    """Read a clipping document; raises `CodecError` naming the key that is missing or wrong."""
    if not isinstance(d, Mapping):
        raise CodecError(f"a clipping document is a JSON object, not {type(d).__name__}")
    ident = d.get("id", "?")
    try:
        return _decode(d)
    except CodecError as exc:
        raise CodecError(f"clipping {ident}: {exc}") from None
    except KeyError as exc:
        raise CodecError(f"clipping {ident}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise CodecError(f"clipping {ident}: {exc}") from None


def _decode(d: Mapping[str, Any]) -> Clipping:
    article = Article(
        id=_str(d, "id"),
        url=_str(d, "url"),
        outlet=_str(d, "outlet"),
        title=_str(d, "title"),
        text=_str(d, "text"),
        published=_time(d, "published"),
        authors=tuple(str(x) for x in d.get("authors") or ()),
        lang=d.get("article_lang"),
        paywalled=bool(d.get("paywalled", False)),
        fetched_at=_time(d, "fetched_at"),
    )
    sentiment = d["sentiment"]
    enrichment = Enrichment(
        lang=_str(d, "lang"),
        relevant=_bool(d, "relevant"),
        officials=tuple(str(x) for x in d.get("officials") or ()),
        bodies=tuple(str(x) for x in d.get("bodies") or ()),
        mentions=tuple(_mention(m, i) for i, m in enumerate(d.get("mentions") or ())),
        sentiment=Sentiment(label=cast(SentimentLabel, _choice(sentiment, "label", _LABELS, "sentiment.label")),
                            score=float(sentiment["score"])),
        flags=tuple(_flag(f, i) for i, f in enumerate(d.get("flags") or ())),
        overruled=tuple(_overruled(o, i) for i, o in enumerate(d.get("overruled") or ())),
    )
    fingerprint = d.get("fingerprint")
    if isinstance(fingerprint, str):
        try:
            fingerprint = int(fingerprint, 16)
        except ValueError:
            raise CodecError(f"fingerprint {fingerprint!r} is not 16 hex digits") from None
    elif isinstance(fingerprint, int) and not isinstance(fingerprint, bool):
        fingerprint &= _MASK64
    elif fingerprint is not None:
        raise CodecError(f"fingerprint must be hex digits or an integer, not {type(fingerprint).__name__}")
    extra = d.get("extra") or {}
    if not isinstance(extra, Mapping):
        raise CodecError("extra must be an object")
    return Clipping(article=article, enrichment=enrichment, municipality=_str(d, "municipality"),
                    cluster_id=d.get("cluster_id"), fingerprint=fingerprint, indexed_at=_time(d, "indexed_at"),
                    extra=dict(extra))


def _mention(m: Mapping[str, Any], i: int) -> Mention:
    kind = "official" if "official" in m else "body" if "body" in m else None
    if kind is None:
        raise CodecError(f"mentions[{i}] names neither an official nor a body")
    return Mention(kind=kind, ref=str(m[kind]), surface=str(m["surface"]), start=int(m["start"]),
                   end=int(m["end"]), field=cast(Field, _choice(m, "field", _FIELDS, f"mentions[{i}].field")))


def _flag(f: Mapping[str, Any], i: int) -> Flag:
    reasons = tuple(
        Reason(cue=str(r["cue"]), quote=str(r["quote"]),
               field=cast(Field, _choice(r, "field", _FIELDS, f"flags[{i}].reasons[{k}].field")),
               start=int(r["start"]), end=int(r["end"]), record=r.get("record"), fact_id=r.get("fact_id"),
               record_url=r.get("record_url"))
        for k, r in enumerate(f.get("reasons") or ())
    )
    return Flag(type=cast(FlagType, _choice(f, "type", _FLAG_TYPES, f"flags[{i}].type")),
                severity=float(f["severity"]), reasons=reasons)


def _overruled(o: Mapping[str, Any], i: int) -> Overruled:
    trained_at = _time(o, "trained_at")
    if trained_at is None:
        raise CodecError(f"overruled[{i}].trained_at is missing")
    return Overruled(field=cast(LearnedField, _choice(o, "field", _LEARNED_FIELDS, f"overruled[{i}].field")),
                     rules=_bool(o, "rules"), model=_bool(o, "model"), probability=float(o["probability"]),
                     trained_at=trained_at, judgements=int(o.get("judgements") or 0))


def _str(d: Mapping[str, Any], key: str) -> str:
    value = d[key]
    if not isinstance(value, str):
        raise CodecError(f"{key} must be a string, not {type(value).__name__}")
    return value


def _bool(d: Mapping[str, Any], key: str) -> bool:
    value = d[key]
    if not isinstance(value, bool):
        raise CodecError(f"{key} must be true or false, not {value!r}")
    return value


def _time(d: Mapping[str, Any], key: str) -> datetime | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise CodecError(f"{key} must be an ISO 8601 time, not {type(value).__name__}")
    try:
        return from_iso(value)
    except ValueError:
        raise CodecError(f"{key} {value!r} is not an ISO 8601 time") from None


def _choice(d: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = d[key]
    if value not in allowed:
        raise CodecError(f"{where} is {value!r}; expected one of {', '.join(allowed)}")
    return str(value)


__all__ = ["clipping_to_dict", "clipping_from_dict", "CodecError", "to_iso", "from_iso"]
