"""One clipping: its text with the officials and the flags' reasons highlighted, the story's other copies, the
press office's response status, judging the enrichment right or wrong, and acknowledging an alert.

The forms do what the command line does, through the same functions (pipeline/respond.py: `presswatch ack`,
`presswatch feedback`; index.set_status: `presswatch respond`), so the two can never disagree. Each change is
written to the audit trail with the signed-in user's name.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from presswatch.index.base import STATUSES, StatusError
from presswatch.records import Clipping
from presswatch.respond import UnknownClipping, acknowledge, record_judgements, retrain_if_due
from presswatch.web import clipping_view as view
from presswatch.web.app import Page, WebRoute

NOTE_MAX_CHARS = 2000  # a note is a sentence or two; a megabyte pasted into it is a mistake, not a note
# enrich/learn.py JUDGED, repeated so that showing a clipping does not load scikit-learn (a test keeps them equal)
JUDGED = ("relevant", "critical", "misleading")
LANG_NAMES = ("sk", "cs", "lt", "tr", "mk", "en")  # languages with a name in clipping.yaml (clipping_lang_*)
DONE = ("status", "judge", "ack", "ack_already")  # the notices a redirect after a form may ask for


def _clipping(page: Page) -> Clipping | None:
    return page.ws.index.get(str(page.request.path_params.get("id", "")))


def _back(page: Page, clipping: Clipping, done: str) -> Response:
    return page.redirect(f"/clipping/{clipping.id}?done={done}")


def _note(page: Page) -> str | None:
    return page.field("note").strip()[:NOTE_MAX_CHARS] or None


def show(page: Page) -> Response:
    clipping = _clipping(page)
    if clipping is None:
        return page.not_found()
    done = page.arg("done")
    notice = page.text.t(f"clipping_done_{done}") if done in DONE else None
    return page.render("clipping.html", notice=notice, **context(page, clipping))


def context(page: Page, clipping: Clipping) -> dict[str, Any]:
    profile, ws = page.ws.profile, page.ws
    article, enrichment = clipping.article, clipping.enrichment
    labels = view.names(profile)
    reasons = view.all_reasons(clipping)
    cluster = ws.index.cluster(clipping.cluster_id) if clipping.cluster_id else []
    judgements = view.judgements(ws.state.feedback_history(ws.municipality, 20, clipping_id=clipping.id))
    latest: dict[str, bool] = {}
    for j in judgements:  # newest first: the first row per field is the press office's current judgement
        latest.setdefault(j.field, j.value)
    lang = enrichment.lang or article.lang or ""
    return {
        "clipping": clipping,
        "article": article,
        "enrichment": enrichment,
        "outlet": profile.outlet(article.outlet).name,
        "lang_name": page.text.t(f"clipping_lang_{lang}") if lang in LANG_NAMES else lang,
        "original": view.http_url(article.url),
        "title_pieces": view.highlight(article.title, "title", enrichment.mentions, reasons, labels),
        "paragraphs": view.highlight(article.text, "text", enrichment.mentions, reasons, labels),
        "officials": [labels.get(i, i) for i in enrichment.officials],
        "bodies": [labels.get(i, i) for i in enrichment.bodies],
        "copies": view.copies(clipping, cluster, profile),
        "first_copy": bool(cluster) and len(cluster) > 1 and cluster[0].id == clipping.id,
        "history": ws.index.status_history(clipping.id),
        "statuses": STATUSES,
        "judgements": judgements,
        "latest": latest,
        "judged_fields": JUDGED,
        "flag_label": {"critical": page.text.t("flag_critical"), "misleading": page.text.t("flag_misleading")},
        "sentiment_label": page.text.t(f"sentiment_{enrichment.sentiment.label}"),
        "field_label": {"relevant": page.text.t("clipping_field_relevant"),
                        "critical": page.text.t("clipping_field_critical"),
                        "misleading": page.text.t("clipping_field_misleading")},
        "flag_of": lambda t: view.flag_of(clipping, t),
        "http_url": view.http_url,
        "note_max": NOTE_MAX_CHARS,
    }


def set_status(page: Page) -> Response:
    clipping = _clipping(page)
    if clipping is None:
        return page.not_found()
    status = page.field("status")
    if status not in STATUSES:
        return page.bad_request(page.text.t("clipping_bad_status"))
    try:
        page.ws.index.set_status(clipping.id, status, by=page.user, note=_note(page))
    except StatusError:
        return page.bad_request(page.text.t("clipping_bad_status"))
    page.audit("status", clipping.id, status)
    return _back(page, clipping, "status")


def judge(page: Page) -> Response:
    clipping = _clipping(page)
    if clipping is None:
        return page.not_found()
    field, value = page.field("field"), page.field("value")
    if field not in JUDGED or value not in ("yes", "no"):
        return page.bad_request(page.text.t("clipping_bad_judgement"))
    ws = page.ws
    try:
        record_judgements(ws.index, ws.state, ws.municipality, clipping.id, [(field, value == "yes")], page.user,
                          _note(page))
    except UnknownClipping:  # removed between the page and the click (retention)
        return page.not_found()
    page.audit("judge", clipping.id, f"{field}={value}")
    # like `presswatch feedback`: after settings.LEARN_RETRAIN_EVERY new judgements the model is retrained
    retrain_if_due(ws.index, ws.state, ws.municipality)
    return _back(page, clipping, "judge")


def ack(page: Page) -> Response:
    clipping = _clipping(page)
    if clipping is None:
        return page.not_found()
    ws = page.ws
    try:
        result = acknowledge(ws.index, ws.state, ws.municipality, clipping, page.user, _note(page))
    except StatusError:
        return page.bad_request(page.text.t("clipping_bad_status"))
    page.audit("ack", clipping.id, "acknowledged" if result.change else f"already {result.already}")
    return _back(page, clipping, "ack" if result.change else "ack_already")


ROUTES: list[WebRoute] = [
    WebRoute("/clipping/{id}", show, "read"),
    WebRoute("/clipping/{id}/status", set_status, "status", methods=("POST",)),
    WebRoute("/clipping/{id}/judge", judge, "judge", methods=("POST",)),
    WebRoute("/clipping/{id}/ack", ack, "ack", methods=("POST",)),
]

__all__ = ["JUDGED", "ROUTES", "context"]
