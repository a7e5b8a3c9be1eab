"""Typed records handed from stage to stage.

Each stage reads one record and writes one (DESIGN.md, "How data flows"); no stage knows how the store keeps
them. Records are frozen dataclasses so that a stage cannot change what an earlier stage produced; a stage that
adds information returns a new record. Every timestamp is timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

SentimentLabel = Literal["negative", "neutral", "positive"]
FlagType = Literal["critical", "misleading"]
LearnedField = Literal["relevant", "critical", "misleading"]  # what the press office's model may overrule
Field = Literal["title", "text"]


def clipping_id(canonical_url: str) -> str:
    """The stable id of a clipping: a hash of its canonical URL, so re-ingesting is an upsert."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Discovery:
    """A URL found by a feed poll or a crawl, before its page is fetched."""

    url: str  # canonical URL
    outlet: str  # outlet id from the profile's sources
    source: str  # source id (feed or site) that found it
    seen_at: datetime
    feed_title: str | None = None
    feed_published: datetime | None = None
    feed_summary: str | None = None
    feed_updated: datetime | None = None  # when the feed (entry `updated`) or sitemap (`lastmod`) says it changed


@dataclass(frozen=True, slots=True)
class RawPage:
    """A fetched article page exactly as it came off the wire; stored in the durable queue before enrichment."""

    url: str  # canonical URL (the clipping's identity)
    final_url: str  # URL after redirects
    outlet: str
    source: str
    fetched_at: datetime
    status: int
    headers: dict[str, str]
    body: bytes
    feed_title: str | None = None
    feed_published: datetime | None = None

    @property
    def id(self) -> str:
        return clipping_id(self.url)


@dataclass(frozen=True, slots=True)
class Article:
    """What extraction made of a page: clean text and metadata, not yet enriched."""

    id: str
    url: str
    outlet: str
    title: str
    text: str
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    lang: str | None = None
    paywalled: bool = False
    fetched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """One place in the article where an official or a body is named (or referred to by title)."""

    kind: Literal["official", "body"]
    ref: str  # official or body id from the profile
    surface: str  # the text exactly as written
    start: int  # character offsets into `field`
    end: int
    field: Field

    def to_json(self) -> dict[str, Any]:
        return {self.kind: self.ref, "surface": self.surface, "start": self.start, "end": self.end,
                "field": self.field}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a flag was raised: the cue that fired and the sentence that carries it."""

    cue: str
    quote: str
    field: Field
    start: int
    end: int
    record: str | None = None  # for misleading: the official record (fact statement) contradicted
    fact_id: str | None = None
    record_url: str | None = None  # where that record was published (a municipality release), if not the profile


@dataclass(frozen=True, slots=True)
class Flag:
    type: FlagType
    severity: float  # 0..1
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: SentimentLabel
    score: float  # -1..1


@dataclass(frozen=True, slots=True)
class Overruled:
    """The trace of a decision the press office's model (enrich/learn.py) took against the rules: a removed flag
    or a relevance flip stays visible, with how sure the model was and which model it was."""

    field: LearnedField
    rules: bool  # what the rules said (relevant; critical or misleading flag raised)
    model: bool  # what the model decided instead
    probability: float  # the model's P(field is true)
    trained_at: datetime  # the model's version: when it was trained
    judgements: int = 0  # feedback rows it was trained on

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "rules": self.rules, "model": self.model,
                "probability": round(self.probability, 3), "trained_at": self.trained_at.isoformat(),
                "judgements": self.judgements}


@dataclass(frozen=True, slots=True)
class Enrichment:
    """Everything the enrichment stage adds to an article (the enrichment contract in DESIGN.md)."""

    lang: str
    relevant: bool
    officials: tuple[str, ...]
    bodies: tuple[str, ...]
    mentions: tuple[Mention, ...]
    sentiment: Sentiment
    flags: tuple[Flag, ...]
    overruled: tuple[Overruled, ...] = ()  # where the press office's model decided against the rules

    @property
    def critical(self) -> bool:
        return any(f.type == "critical" for f in self.flags)

    @property
    def misleading(self) -> bool:
        return any(f.type == "misleading" for f in self.flags)

    def to_json(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "relevant": self.relevant,
            "officials": list(self.officials),
            "bodies": list(self.bodies),
            "mentions": [m.to_json() for m in self.mentions],
            "sentiment": {"label": self.sentiment.label, "score": round(self.sentiment.score, 3)},
            "critical": self.critical,
            "misleading": self.misleading,
            "flags": [
                {"type": f.type, "severity": round(f.severity, 3),
                 "reasons": [{k: v for k, v in asdict(r).items() if v is not None} for r in f.reasons]}
                for f in self.flags
            ],
            "overruled": [o.to_json() for o in self.overruled],
        }


@dataclass(frozen=True, slots=True)
class Clipping:
    """An article with its enrichment: the record the index stores and the digest reads."""

    article: Article
    enrichment: Enrichment
    municipality: str  # profile id
    cluster_id: str | None = None  # story cluster (syndicated copies share one); the first copy's id
    fingerprint: int | None = None  # 64-bit simhash of the text, for near-duplicate detection
    indexed_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # The press office's response status (index.base.STATUSES). The index owns it: `ClippingIndex.set_status`
    # changes it, reprocessing an article (upsert) keeps it, `get` and `search` return the current one.
    status: str = "new"

    @property
    def id(self) -> str:
        return self.article.id

    @property
    def max_severity(self) -> float:
        return max((f.severity for f in self.enrichment.flags), default=0.0)
