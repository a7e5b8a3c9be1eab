"""The enrichment stage: one Article in, one Enrichment out (DESIGN.md, "Enrichment contract").

`Enricher.from_profile(profile)` compiles everything that depends on the profile once (inflected name forms,
title and body phrases, fact topics); `enrich(article)` runs the steps in the order listed in STEPS. Lexicons are
loaded once per process (lexicons.py caches them). No spaCy pipeline and no model is loaded: everything is
dictionary lookups and a few regular expressions, so a worker can enrich a long stream without growing.

`enrich_item(dict) -> dict` is the JSONL contract used by `presswatch enrich < in.jsonl > out.jsonl`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from presswatch.enrich import lang as langid
from presswatch.enrich import learn, relevance
from presswatch.enrich.document import Document, make_document
from presswatch.enrich.facts import FactChecker
from presswatch.enrich.flags import critical_flag, misleading_flag
from presswatch.enrich.mentions import MentionMatcher, MentionResult
from presswatch.enrich.scope import ScopedSentence, scope
from presswatch.enrich.sentiment import article_sentiment, score_sentences
from presswatch.profile import Profile
from presswatch.records import Article, Enrichment, Flag, Sentiment, clipping_id

# The order of the steps, as data (STYLE.md 3): `analyse` runs `_step_<name>` in this order; each reads what the
# earlier ones left on the work record.
STEPS: tuple[tuple[int, str], ...] = (
    (100, "language"),
    (200, "document"),  # fold, tokenise, split sentences (document.py)
    (300, "mentions"),
    (400, "relevance"),
    (500, "scope"),  # the sentences about the municipality
    (600, "flags"),
    (650, "learned"),  # the press office's judgements adjust relevance and the critical and misleading flags
    (700, "sentiment"),  # after the flags: sarcasm and rebuttals refine the label
)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything `enrich` worked out, for callers (evaluation, debugging) that want more than the record."""

    document: Document
    mentions: MentionResult
    relevance_score: float
    enrichment: Enrichment
    adjusted: tuple[learn.Overruled, ...] = ()  # the learned model's decisions against the rules


@dataclass(slots=True)
class _Work:
    """What the steps hand each other while one article is enriched."""

    article: Article
    lang: str = "other"  # detected
    rules_lang: str = "en"  # whose word lists apply (the detected language, else the hint or the profile's)
    doc: Document | None = None
    mentions: MentionResult | None = None
    relevance_score: float = 0.0
    relevant: bool = False
    sentences: list[ScopedSentence] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    criticism: float = 0.0
    rebutted: bool = False
    sentiment: Sentiment = Sentiment("neutral", 0.0)
    adjusted: list[learn.Overruled] = field(default_factory=list)  # the learned model against the rules


class Enricher:
    def __init__(self, profile: Profile, matcher: MentionMatcher, facts: FactChecker,
                 learned: learn.LearnedModel | None = None) -> None:
        self.profile = profile
        self.matcher = matcher
        self.facts = facts
        self.default_lang = profile.municipality.lang
        self.learned = learned  # the press office's model (None: the rules alone); the Processor refreshes it

    @classmethod
    def from_profile(cls, profile: Profile, learned: learn.LearnedModel | None = None) -> Enricher:
        return cls(profile, MentionMatcher.from_profile(profile), FactChecker.from_profile(profile), learned)

    def enrich(self, article: Article) -> Enrichment:
        return self.analyse(article).enrichment

    def analyse(self, article: Article) -> Analysis:
        work = _Work(article)
        for _, step in sorted(STEPS):
            getattr(self, f"_step_{step}")(work)
        assert work.doc is not None and work.mentions is not None
        enrichment = Enrichment(
            lang=work.lang,
            relevant=work.relevant,
            officials=work.mentions.officials,
            bodies=work.mentions.bodies,
            mentions=work.mentions.mentions,
            sentiment=work.sentiment,
            flags=tuple(work.flags),
            overruled=tuple(work.adjusted),  # the trace of the model's decisions travels with the clipping
        )
        return Analysis(work.doc, work.mentions, work.relevance_score, enrichment, tuple(work.adjusted))

    # --- the steps ----------------------------------------------------------------------------------------------

    def _step_language(self, w: _Work) -> None:
        a = w.article
        w.lang = langid.detect_article(a.title, a.text, hint=a.lang)
        hint = a.lang if a.lang in langid.LANGS else None
        w.rules_lang = w.lang if w.lang in langid.LANGS else (hint or self.default_lang)

    def _step_document(self, w: _Work) -> None:
        w.doc = make_document(w.article.title, w.article.text, w.rules_lang)

    def _step_mentions(self, w: _Work) -> None:
        assert w.doc is not None
        w.mentions = self.matcher.find(w.doc, home_outlet=self._home_outlet(w.article.outlet))

    def _step_relevance(self, w: _Work) -> None:
        assert w.mentions is not None
        w.relevance_score = relevance.score(w.mentions.evidence)
        w.relevant = w.relevance_score >= relevance.THRESHOLD

    def _step_scope(self, w: _Work) -> None:
        assert w.doc is not None and w.mentions is not None
        w.sentences = scope(w.doc, w.mentions, w.relevant, w.rules_lang)

    def _step_flags(self, w: _Work) -> None:
        assert w.doc is not None
        tier = self.profile.outlet(w.article.outlet).tier if w.article.outlet else 2
        critical, w.criticism, w.rebutted = critical_flag(w.sentences, w.rules_lang, tier)
        if critical is not None:
            w.flags.append(critical)
        if w.relevant:
            pub_year = w.article.published.year if w.article.published else None
            contradictions = self.facts.check(w.doc.fields, w.rules_lang, pub_year, w.article.published)
            misleading = misleading_flag(w.sentences, contradictions, w.rules_lang, tier)
            if misleading is not None:
                w.flags.append(misleading)

    def _step_learned(self, w: _Work) -> None:
        """Where the press office's model is sure the rules are wrong, its answer wins; else the rules stand."""
        if self.learned is None:
            return
        assert w.mentions is not None
        ex = learn.example(w.article, w.relevant, w.flags, len(w.mentions.officials), len(w.mentions.bodies))
        flip = self.learned.overruled("relevant", w.relevant, ex)
        if flip is not None:
            w.relevant = flip.model
            w.adjusted.append(flip)
        for flag_type in learn.FLAGS:
            raised = any(f.type == flag_type for f in w.flags)
            flip = self.learned.overruled(flag_type, raised, ex)
            if flip is None or (flip.model and flag_type == "misleading" and not w.relevant):
                continue  # the rules stand; a misleading flag is raised on relevant clippings only, as the rules do
            w.adjusted.append(flip)
            if flip.model:
                w.flags.insert(0 if flag_type == "critical" else len(w.flags),
                               learn.learned_flag(w.article, flip.probability, flag_type))
            else:
                w.flags = [f for f in w.flags if f.type != flag_type]

    def _step_sentiment(self, w: _Work) -> None:
        critical = any(f.type == "critical" for f in w.flags)
        w.sentiment = article_sentiment(score_sentences(w.sentences, w.rules_lang), critical, w.rebutted,
                                        w.criticism)

    def _home_outlet(self, outlet: str) -> bool:
        """A regional or local outlet (tier 2-3) listed in the profile: it covers this municipality."""
        return bool(outlet) and any((o.id == outlet or o.name == outlet) and o.tier >= 2
                                    for o in self.profile.outlets)

    # --- the JSONL contract -----------------------------------------------------------------------------------

    def enrich_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """`{id, url, title, text, outlet?, published?, lang?}` → the same dict plus the enrichment fields."""
        out = dict(item)
        out.update(self.enrich(article_from_item(item)).to_json())
        return out

    def enrich_items(self, items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield self.enrich_item(item)


def article_from_item(item: dict[str, Any]) -> Article:
    """An Article from a JSONL input line; a missing id is derived from the URL (records.clipping_id)."""
    if not isinstance(item, dict):
        raise ValueError("an input line must be a JSON object")
    url = str(item.get("url") or "")
    title = item.get("title") or ""
    text = item.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("`title` and `text` must be strings")
    if not title.strip() and not text.strip():
        raise ValueError("an item needs a `title` or a `text`")
    return Article(
        id=str(item.get("id") or clipping_id(url or title)),
        url=url,
        outlet=str(item.get("outlet") or ""),
        title=title,
        text=text,
        published=parse_datetime(item.get("published")),
        lang=item.get("lang") if isinstance(item.get("lang"), str) else None,
    )


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive values are taken as UTC); None if absent or bad."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)
