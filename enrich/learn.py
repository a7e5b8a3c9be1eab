"""Learning from the press office: a per-municipality model trained on its judgements (`presswatch feedback`).

The press office marks a clipping relevant or not, critical or not, misleading or not (State.feedback_*; the
latest judgement per clipping and field wins). `train` fits, per field, a logistic regression on hashed word 1-2-grams and character
3-5-grams of the title, the lead and the sentences the flags quote, plus the outlet and the rules' own decisions
(relevant, critical and its severity, misleading, how many officials and bodies were found). Only local data is
used; nothing is downloaded. The model adjusts the rules, it does not replace them: a field is learned only with
at least settings.LEARN_MIN_PER_CLASS judgements of each value, and the rules' decision is overturned only when the
model gives the other answer a probability of at least settings.LEARN_CONFIDENCE. Misleading is learned like
critical, under the same thresholds (so in practice only where the press office judges it often). A flag the model
raises says in its reason that it comes from the press office's judgements and how sure the model was; a decision
against the rules is kept on the record (`Enrichment.overruled`). At training time each learned field also
records its cross-validated accuracy and the rules' accuracy on the same judgements, for `presswatch status`.

The model is a JSON file next to the store (`<store>.learned-<municipality>.json`): the hashing vectorisers need
no vocabulary, so the weights (sparse) and the intercept are all there is to keep, and no pickle is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from presswatch import settings
from presswatch.index.base import ClippingIndex
from presswatch.records import Article, Clipping, Flag, FlagType, LearnedField, Overruled, Reason
from presswatch.state import State

FIELDS: tuple[LearnedField, ...] = ("relevant", "critical", "misleading")  # what the model may adjust
FLAGS: tuple[FlagType, ...] = ("critical", "misleading")  # the flags among them
LEARNED_CUE = "press office judgements"  # how a flag the model raised names its source
JUDGED: tuple[str, ...] = ("relevant", "critical", "misleading")  # what the press office may judge
FORMAT = 1
_HASH_FEATURES = 2**18
_WORDS = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=_HASH_FEATURES, alternate_sign=False,
                           strip_accents="unicode", lowercase=True)
_CHARS = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=_HASH_FEATURES, alternate_sign=False,
                           strip_accents="unicode", lowercase=True)
_NUMERIC = ("rule_relevant", "rule_critical", "critical_severity", "rule_misleading", "officials", "bodies")
DIMENSIONS = 2 * _HASH_FEATURES + len(_NUMERIC)
LEAD_CHARS = 400
_CV_FOLDS = 5


@dataclass(frozen=True, slots=True)
class Example:
    """What the model sees of one clipping: its words and the rules' decisions."""

    title: str
    lead: str
    quotes: tuple[str, ...]  # the sentences the flags quote
    outlet: str
    authors: tuple[str, ...]
    relevant: bool
    critical: bool
    critical_severity: float
    misleading: bool
    officials: int
    bodies: int

    def text(self) -> str:
        marks = [f"outlet_{_slug(self.outlet)}"] + [f"author_{_slug(a)}" for a in self.authors]
        return "\n".join([self.title, self.lead, *self.quotes, " ".join(marks)])

    def numeric(self) -> list[float]:
        return [float(self.relevant), float(self.critical), self.critical_severity, float(self.misleading),
                min(self.officials, 5) / 5, min(self.bodies, 5) / 5]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.lower()).strip("_") or "none"


def example(article: Article, relevant: bool, flags: Sequence[Flag], officials: int, bodies: int) -> Example:
    crit = [f for f in flags if f.type == "critical"]
    quotes = tuple(dict.fromkeys(r.quote for f in flags for r in f.reasons))
    return Example(title=article.title, lead=article.text[:LEAD_CHARS], quotes=quotes, outlet=article.outlet,
                   authors=article.authors, relevant=relevant, critical=bool(crit),
                   critical_severity=max((f.severity for f in crit), default=0.0),
                   misleading=any(f.type == "misleading" for f in flags), officials=officials, bodies=bodies)


def example_from_clipping(c: Clipping) -> Example:
    """The example as the rules saw the clipping: where a model overruled them (Enrichment.overruled), the rules'
    values are restored and the flags the model raised are left out, so that the model learns from the rules'
    decisions, as it is applied to them (a flag the model removed is lost, with its quotes: its value is kept)."""
    e = c.enrichment
    rules = {o.field: o.rules for o in e.overruled}
    flags = [f for f in e.flags if not any(r.cue.startswith(LEARNED_CUE) for r in f.reasons)]
    ex = example(c.article, rules.get("relevant", e.relevant), flags, len(e.officials), len(e.bodies))
    crit, mis = rules.get("critical", ex.critical), rules.get("misleading", ex.misleading)
    if crit != ex.critical or mis != ex.misleading:
        ex = replace(ex, critical=crit, misleading=mis)
    return ex


def vectorise(examples: Sequence[Example]) -> sparse.csr_matrix:
    texts = [ex.text() for ex in examples]
    numeric = sparse.csr_matrix(np.array([ex.numeric() for ex in examples], dtype=np.float64))
    return sparse.hstack([_WORDS.transform(texts), _CHARS.transform(texts), numeric], format="csr")


@dataclass(slots=True)
class FieldModel:
    field: str
    yes: int
    no: int
    intercept: float
    weights: np.ndarray  # dense, DIMENSIONS long
    cv_accuracy: float | None = None  # cross-validated on the judgements at training time
    rules_accuracy: float | None = None  # the rules alone on the same judgements

    def probability(self, x: sparse.csr_matrix) -> float:
        z = float((x @ self.weights)[0]) + self.intercept
        return float(1.0 / (1.0 + np.exp(-z)))


@dataclass(slots=True)
class LearnedModel:
    municipality: str
    trained_at: datetime
    judgements: int  # feedback rows when it was trained (for retraining after N new ones)
    fields: dict[str, FieldModel] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> (yes, no), learned or not
    confidence: float = settings.LEARN_CONFIDENCE

    def probability(self, field_name: str, ex: Example) -> float | None:
        """P(field is true) by the model, or None when the field has too few judgements to be learned."""
        fm = self.fields.get(field_name)
        return None if fm is None else fm.probability(vectorise([ex]))

    def overruled(self, field_name: LearnedField, rule_value: bool, ex: Example) -> Overruled | None:
        """The trace of the model's decision against the rules' value, or None when the rules stand."""
        decision, p = self.decide(field_name, rule_value, ex)
        if decision == rule_value or p is None:
            return None
        return Overruled(field_name, rule_value, decision, p, self.trained_at, self.judgements)

    def decide(self, field_name: str, rule_value: bool, ex: Example) -> tuple[bool, float | None]:
        """(decision, the model's probability): the rules' value unless the model is sure of the other answer."""
        p = self.probability(field_name, ex)
        if p is None:
            return rule_value, None
        if rule_value and 1.0 - p >= self.confidence:
            return False, p
        if not rule_value and p >= self.confidence:
            return True, p
        return rule_value, p

    # --- persistence ------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "municipality": self.municipality, "dimensions": DIMENSIONS,
                               "trained_at": self.trained_at.isoformat(), "judgements": self.judgements,
                               "counts": {k: list(v) for k, v in self.counts.items()}, "fields": {}}
        for name, fm in self.fields.items():
            nz = np.flatnonzero(fm.weights)
            out["fields"][name] = {"yes": fm.yes, "no": fm.no, "intercept": fm.intercept,
                                   "cv_accuracy": fm.cv_accuracy, "rules_accuracy": fm.rules_accuracy,
                                   "index": nz.tolist(), "weight": [round(float(w), 6) for w in fm.weights[nz]]}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LearnedModel:
        if data.get("format") != FORMAT or data.get("dimensions") != DIMENSIONS:
            raise ValueError("learned model written by another version; run `presswatch feedback --train`")
        model = cls(municipality=str(data["municipality"]), trained_at=datetime.fromisoformat(data["trained_at"]),
                    judgements=int(data["judgements"]),
                    counts={k: (int(v[0]), int(v[1])) for k, v in data.get("counts", {}).items()})
        for name, f in data["fields"].items():
            weights = np.zeros(DIMENSIONS)
            weights[np.asarray(f["index"], dtype=np.int64)] = np.asarray(f["weight"], dtype=np.float64)
            model.fields[name] = FieldModel(name, int(f["yes"]), int(f["no"]), float(f["intercept"]), weights,
                                            _opt_float(f.get("cv_accuracy")), _opt_float(f.get("rules_accuracy")))
        return model


def _opt_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def model_path(store: Path, municipality: str) -> Path:
    """The model file next to the store file."""
    return store.with_name(f"{store.stem}.learned-{_slug(municipality)}.json")


def save(model: LearnedModel, store: Path) -> Path:
    path = model_path(store, model.municipality)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(model.to_json()), encoding="utf-8")
    tmp.replace(path)  # atomic: a running daemon reads the old model or the new one
    return path


def load(store: Path, municipality: str) -> LearnedModel | None:
    path = model_path(store, municipality)
    if not path.exists():
        return None
    return LearnedModel.from_json(json.loads(path.read_text(encoding="utf-8")))


class ModelFile:
    """The municipality's model, reloaded when `presswatch feedback` has written a new one (a long-running daemon
    picks it up at its next batch)."""

    def __init__(self, store: Path, municipality: str) -> None:
        self.path = model_path(store, municipality)
        self._mtime: float | None = None
        self._model: LearnedModel | None = None

    def current(self) -> LearnedModel | None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._mtime, self._model = None, None
            return None
        if mtime != self._mtime:
            self._model = LearnedModel.from_json(json.loads(self.path.read_text(encoding="utf-8")))
            self._mtime = mtime
        return self._model


# --- training -----------------------------------------------------------------------------------------------
def fit(examples: Sequence[Example], labels: Mapping[str, Sequence[bool | None]], municipality: str,
        judgements: int = 0, min_per_class: int = settings.LEARN_MIN_PER_CLASS) -> LearnedModel:
    """A model from examples and, per field, their labels (None: not judged). Fields with fewer than
    `min_per_class` judgements of either value are not learned: the rules stand for them."""
    model = LearnedModel(municipality=municipality, trained_at=datetime.now(UTC), judgements=judgements)
    x_all = vectorise(examples) if examples else None
    for name in FIELDS:
        ys = labels.get(name, [])
        rows = [i for i, y in enumerate(ys) if y is not None]
        yes = sum(1 for i in rows if ys[i])
        no = len(rows) - yes
        model.counts[name] = (yes, no)
        if x_all is None or yes < min_per_class or no < min_per_class:
            continue
        y = np.array([int(bool(ys[i])) for i in rows])
        clf = _classifier()
        clf.fit(x_all[rows], y)
        rules = np.array([int(_rule_value(examples[i], name)) for i in rows])
        model.fields[name] = FieldModel(name, yes, no, float(clf.intercept_[0]), np.asarray(clf.coef_[0]).copy(),
                                        cv_accuracy=_cv_accuracy(x_all[rows], y),
                                        rules_accuracy=round(float(np.mean(rules == y)), 4))
    return model


def _classifier() -> LogisticRegression:
    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, solver="liblinear")


def _rule_value(ex: Example, name: str) -> bool:
    return bool(getattr(ex, name))


def _cv_accuracy(x: sparse.csr_matrix, y: np.ndarray) -> float | None:
    """Stratified k-fold accuracy of the model's own answer (not of the thresholded adjustment): a cheap check on
    a few hundred judgements at most."""
    smallest = int(np.bincount(y).min())
    if smallest < 2:
        return None
    folds = StratifiedKFold(n_splits=min(_CV_FOLDS, smallest), shuffle=True, random_state=0)
    return round(float(np.mean(cross_val_score(_classifier(), x, y, cv=folds, scoring="accuracy"))), 4)


def train(municipality: str, state: State, index: ClippingIndex) -> LearnedModel:
    """Train on the press office's latest judgements of the municipality's clippings and save the model next to
    the store. Judged clippings no longer in the index are left out."""
    judged = state.feedback_latest(municipality)
    examples: list[Example] = []
    labels: dict[str, list[bool | None]] = {name: [] for name in FIELDS}
    for cid, values in sorted(judged.items()):
        clipping = index.get(cid)
        if clipping is None:
            continue
        examples.append(example_from_clipping(clipping))
        for name in FIELDS:
            labels[name].append(values.get(name))
    model = fit(examples, labels, municipality, judgements=state.feedback_count(municipality))
    save(model, state.path)
    return model


def due(municipality: str, state: State, every: int = settings.LEARN_RETRAIN_EVERY) -> bool:
    """Enough new judgements since the last training (or none yet and at least `every`) to train again."""
    model = load(state.path, municipality) if model_path(state.path, municipality).exists() else None
    trained = model.judgements if model else 0
    return state.feedback_count(municipality) - trained >= every


def learned_flag(article: Article, probability: float, flag_type: FlagType = "critical") -> Flag:
    """A flag (critical or misleading) raised by the press office's judgements where the rules found none: its
    reason says so and how sure the model was."""
    title = article.title
    reason = Reason(cue=f"{LEARNED_CUE} (p={probability:.2f})", quote=title, field="title", start=0,
                    end=len(title))
    return Flag(flag_type, round(0.2 + 0.3 * probability, 3), (reason,))


__all__ = ["FIELDS", "FLAGS", "JUDGED", "LEARNED_CUE", "Example", "LearnedModel", "ModelFile", "Overruled", "due",
           "example", "example_from_clipping", "fit", "learned_flag", "load", "model_path", "save", "train"]
