"""The press office's responses to a clipping, shared by the command line (`presswatch ack`, `presswatch feedback`)
and the workspace (web/routes_clipping.py): both must do exactly the same thing, so neither owns the logic.

Acknowledging an alert sets the story's response status (in the index, like `respond`) and notes who and when in
the alert ledger; judging a clipping adds feedback rows that the press office's model (enrich/learn.py) learns from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from presswatch.index.base import ClippingIndex, StatusChange
from presswatch.records import Clipping
from presswatch.state import State, utcnow

if TYPE_CHECKING:  # enrich.learn pulls in scikit-learn: imported only when a judgement is recorded
    from presswatch.enrich.learn import LearnedModel


class UnknownClipping(LookupError):
    """No clipping with this id in the index; the message names the id."""


@dataclass(frozen=True, slots=True)
class AckResult:
    clipping: Clipping
    change: StatusChange | None  # None: the story was already further along (`already` says where)
    already: str | None
    owed: int  # alerts of the story still pending for other recipients: acknowledging does not cancel them


def acknowledge(index: ClippingIndex, state: State, municipality: str, clipping: Clipping, by: str,
                note: str | None = None, at: datetime | None = None) -> AckResult:
    """The press office has seen the alert of `clipping`'s story. A story already further along (drafted,
    published, dismissed) or already acknowledged is left as it is: an ack must never undo a response.
    Raises index.base.StatusError when the index refuses the change."""
    current = clipping.status or "new"
    if current != "new":
        return AckResult(clipping, None, current, 0)
    change = index.set_status(clipping.id, "acknowledged", by, note, at=at or utcnow())
    cluster = clipping.cluster_id or clipping.id
    state.alert_acked(municipality, cluster, by, change.at)
    owed = sum(1 for r in state.alerts_pending(municipality) if r["cluster_id"] == cluster)
    return AckResult(clipping, change, None, owed)


def record_judgements(index: ClippingIndex, state: State, municipality: str, clipping_id: str,
                      judged: Sequence[tuple[str, bool]], by: str, note: str | None = None) -> list[int]:
    """Store the press office's judgements of one clipping ((field, value) pairs, fields from learn.JUDGED);
    returns the feedback rows' ids. Raises UnknownClipping before writing anything for an id the index lacks,
    and ValueError for a field that cannot be judged."""
    from presswatch.enrich import learn

    wrong = [name for name, _ in judged if name not in learn.JUDGED]
    if wrong:
        raise ValueError(f"cannot judge {', '.join(map(repr, wrong))}; the fields are {', '.join(learn.JUDGED)}")
    if index.get(clipping_id) is None:
        raise UnknownClipping(clipping_id)
    return [state.feedback_add(clipping_id, municipality, name, value, by, note) for name, value in judged]


def retrain_if_due(index: ClippingIndex, state: State, municipality: str, force: bool = False) -> LearnedModel | None:
    """Retrain the municipality's model when asked (`force`) or when enough new judgements have come in since
    the last training (learn.due); returns the new model or None."""
    from presswatch.enrich import learn

    if force or learn.due(municipality, state):
        return learn.train(municipality, state, index)
    return None


__all__ = ["AckResult", "UnknownClipping", "acknowledge", "record_judgements", "retrain_if_due"]
