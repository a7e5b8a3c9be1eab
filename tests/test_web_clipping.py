"""The clipping page on the real demo store: what it shows (highlighted officials and reasons, the contradicted
record, the story's copies), and what each role may change there (status, judgements, acknowledging an alert),
checked against what the index, the store and the audit trail hold afterwards."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from presswatch.enrich import learn
from presswatch.index.base import SearchQuery
from presswatch.records import Clipping, Mention, Reason
from presswatch.web import routes_clipping
from presswatch.web.app import Workspace
from presswatch.web.clipping_view import Piece, highlight, http_url, locate, merge
from tests.web_support import (  # noqa: F401
    PASSWORD,
    ROLES_USERS,
    app_client,
    csrf_of,
    demo_store,
    fast_kdf,
    workspace_store,
)


@pytest.fixture
def client(app_client: TestClient) -> TestClient:  # noqa: F811 (the module's client, under a short name)
    return app_client


def ws_of(client: TestClient) -> Workspace:
    ws: Workspace = client.app.state.workspace  # type: ignore[attr-defined]
    return ws


def all_clippings(client: TestClient) -> list[Clipping]:
    return [h.clipping for h in ws_of(client).index.search(SearchQuery(relevant=None, limit=500)).hits]


def sign_in(client: TestClient, role: str, where: str) -> str:
    """Log in as `role` and return the session's CSRF token, read from the page at `where`."""
    client.cookies.clear()
    form = client.get("/login")
    r = client.post("/login", data={"csrf": csrf_of(form.text), "name": ROLES_USERS[role], "password": PASSWORD,
                                    "next": where})
    assert r.status_code == 303, r.text
    page = client.get(where)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def section(html: str, testid: str) -> str:
    """The element with this data-testid, up to the end of the page (enough to look inside it)."""
    at = html.find(f'data-testid="{testid}"')
    assert at != -1, f"no {testid} on the page"
    return html[at:]


def text_part(html: str) -> str:
    """The article text's block, with the officials' marks unwrapped (they nest inside reason marks)."""
    body = section(html, "clipping-text")
    body = body[: body.find("</div>")]
    return re.sub(r'<mark class="official" title="[^"]*">(.*?)</mark>', r"\1", body)


def flagged_with_officials(client: TestClient) -> Clipping:
    for c in all_clippings(client):
        e = c.enrichment
        if (e.critical or e.misleading) and any(m.kind == "official" and m.field == "text" for m in e.mentions) \
                and any(r.field == "text" for f in e.flags for r in f.reasons):
            return c
    raise AssertionError("the demo has no flagged clipping naming an official")


def test_judged_fields_are_learns() -> None:
    assert routes_clipping.JUDGED == learn.JUDGED


def test_page_shows_the_clipping_with_highlights(client: TestClient) -> None:
    clipping = flagged_with_officials(client)
    sign_in(client, "viewer", f"/clipping/{clipping.id}")
    html = client.get(f"/clipping/{clipping.id}").text
    profile = ws_of(client).profile
    assert str(escape(profile.outlet(clipping.article.outlet).name)) in html
    title = section(html, "clipping-title")
    assert str(escape(clipping.article.title.split()[-1])) in title[: title.find("</h1>")]
    link = re.search(r'<a href="([^"]+)"[^>]*data-testid="original-link"', html)
    assert link and link.group(1) == clipping.article.url
    assert 'rel="noopener noreferrer"' in link.group(0) and 'target="_blank"' in link.group(0)
    names = {o.id: o.name for o in profile.officials}
    mentioned = [m for m in clipping.enrichment.mentions if m.kind == "official" and m.field == "text"]
    assert any(f'<mark class="official" title="{escape(names[m.ref])}">{escape(m.surface)}</mark>' in html
               for m in mentioned)
    body = text_part(html)
    quotes = [r.quote for f in clipping.enrichment.flags for r in f.reasons if r.field == "text"]
    assert any(f'<mark class="reason">{escape(q)}</mark>' in body for q in quotes)
    reasons = section(html, "flag-reasons")
    for f in clipping.enrichment.flags:
        assert f'data-flag="{f.type}"' in reasons
    for name in clipping.enrichment.officials:
        assert str(escape(names[name])) in section(html, "officials")


def test_a_misleading_claim_is_shown_beside_the_record_it_contradicts(client: TestClient) -> None:
    found = [(c, r) for c in all_clippings(client) for f in c.enrichment.flags if f.type == "misleading"
             for r in f.reasons if r.record]
    assert found, "the demo has no misleading claim with a record"
    clipping, reason = found[0]
    sign_in(client, "viewer", f"/clipping/{clipping.id}")
    record = section(client.get(f"/clipping/{clipping.id}").text, "record")
    record = record[: record.find("</li>")]
    assert str(escape(reason.record or "")) in record and str(escape(reason.quote)) in record


def test_the_story_s_other_copies_are_listed_and_the_first_is_marked(client: TestClient) -> None:
    stories: dict[str, list[str]] = defaultdict(list)
    for c in all_clippings(client):
        if c.cluster_id:
            stories[c.cluster_id].append(c.id)
    cluster_id = next(k for k, v in stories.items() if len(v) > 1)
    cluster = ws_of(client).index.cluster(cluster_id)
    last = cluster[-1]
    sign_in(client, "viewer", f"/clipping/{last.id}")
    copies = section(client.get(f"/clipping/{last.id}").text, "copies")
    copies = copies[: copies.find("</section>")]
    assert f'href="/clipping/{last.id}"' not in copies
    for other in cluster[:-1]:
        assert f'href="/clipping/{other.id}"' in copies
    first = re.search(r'<li data-first="true">\s*<a href="/clipping/([0-9a-f]+)"', copies)
    assert first and first.group(1) == cluster[0].id
    assert 'data-testid="this-first"' in client.get(f"/clipping/{cluster[0].id}").text


def test_an_unknown_clipping_is_404(client: TestClient) -> None:
    clipping = all_clippings(client)[0]
    sign_in(client, "viewer", f"/clipping/{clipping.id}")
    assert client.get("/clipping/0000000000000000deadbeef").status_code == 404


def unalerted(client: TestClient, status: str = "new") -> list[Clipping]:
    alerted = {r["clipping_id"] for r in ws_of(client).state.execute("SELECT clipping_id FROM alerts")}
    return [c for c in all_clippings(client) if c.id not in alerted and c.status == status]


def test_press_changes_the_status_and_it_is_kept_with_its_history(client: TestClient) -> None:
    clipping = unalerted(client)[0]
    csrf = sign_in(client, "press", f"/clipping/{clipping.id}")
    page = client.get(f"/clipping/{clipping.id}").text
    assert 'data-testid="status-form"' in page and 'data-testid="status-submit"' in page
    r = client.post(f"/clipping/{clipping.id}/status",
                        data={"csrf": csrf, "status": "drafted", "note": "answer <b>by noon</b>"})
    assert r.status_code == 303 and r.headers["location"] == f"/clipping/{clipping.id}?done=status"
    page = client.get(r.headers["location"]).text
    assert 'data-testid="notice"' in page
    assert 'data-status="drafted"' in section(page, "status-current")
    history = section(page, "status-history")
    assert "petra" in history and "answer &lt;b&gt;by noon&lt;/b&gt;" in history
    ws = ws_of(client)
    change = ws.index.status_history(clipping.id)[-1]
    assert (change.status, change.by, change.note) == ("drafted", "petra", "answer <b>by noon</b>")
    entry = ws.accounts.audit_log(action="status")[0]
    assert (entry.user, entry.target, entry.detail) == ("petra", clipping.id, "drafted")
    bad = client.post(f"/clipping/{clipping.id}/status", data={"csrf": csrf, "status": "lost"})
    assert bad.status_code == 400
    assert ws.index.get(clipping.id).status == "drafted"


def test_a_viewer_sees_no_forms_and_a_forged_post_is_refused(client: TestClient) -> None:
    clipping = unalerted(client)[1]
    csrf = sign_in(client, "viewer", f"/clipping/{clipping.id}")
    page = client.get(f"/clipping/{clipping.id}").text
    for hook in ('data-testid="status-form"', 'data-testid="ack"', 'data-testid="judge-critical-yes"',
                 'data-testid="judge-relevant-no"'):
        assert hook not in page
    ws = ws_of(client)
    feedback_before = ws.state.feedback_count(ws.municipality)
    assert client.post(f"/clipping/{clipping.id}/status",
                           data={"csrf": csrf, "status": "dismissed"}).status_code == 403
    assert client.post(f"/clipping/{clipping.id}/judge",
                           data={"csrf": csrf, "field": "critical", "value": "yes"}).status_code == 403
    assert client.post(f"/clipping/{clipping.id}/ack", data={"csrf": csrf}).status_code == 403
    assert ws.index.status_history(clipping.id) == []
    assert ws.index.get(clipping.id).status == "new"
    assert ws.state.feedback_count(ws.municipality) == feedback_before


def test_an_analyst_judges_and_the_judgement_is_stored_and_shown(client: TestClient) -> None:
    clipping = flagged_with_officials(client)
    csrf = sign_in(client, "analyst", f"/clipping/{clipping.id}")
    page = client.get(f"/clipping/{clipping.id}").text
    for field in routes_clipping.JUDGED:
        assert f'data-testid="judge-{field}-yes"' in page and f'data-testid="judge-{field}-no"' in page
    assert 'data-testid="status-form"' not in page and 'data-testid="ack"' not in page
    field = "critical" if clipping.enrichment.critical else "misleading"
    r = client.post(f"/clipping/{clipping.id}/judge",
                        data={"csrf": csrf, "field": field, "value": "no", "note": "only an opinion"})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=judge")
    ws = ws_of(client)
    rows = ws.state.execute("SELECT * FROM feedback WHERE clipping_id=? ORDER BY id DESC", (clipping.id,))
    assert (rows[0]["field"], rows[0]["value"], rows[0]["judged_by"], rows[0]["note"]) == \
        (field, 0, "anton", "only an opinion")
    assert ws.state.feedback_latest(ws.municipality)[clipping.id][field] is False
    entry = ws.accounts.audit_log(action="judge")[0]
    assert (entry.user, entry.target, entry.detail) == ("anton", clipping.id, f"{field}=no")
    shown = section(client.get(r.headers["location"]).text, "judgements")
    assert "anton" in shown[: shown.find("</table>")] and "only an opinion" in shown
    for data in ({"field": "sentiment", "value": "yes"}, {"field": "critical", "value": "maybe"}):
        assert client.post(f"/clipping/{clipping.id}/judge", data={"csrf": csrf, **data}).status_code == 400
    assert client.post(f"/clipping/{clipping.id}/status",
                           data={"csrf": csrf, "status": "dismissed"}).status_code == 403
    assert client.post(f"/clipping/{clipping.id}/ack", data={"csrf": csrf}).status_code == 403


def test_press_acknowledges_an_alert_like_the_command_line(client: TestClient) -> None:
    ws = ws_of(client)
    alerted = {r["clipping_id"] for r in ws.state.execute("SELECT clipping_id FROM alerts WHERE acked_at IS NULL")}
    clipping = next(c for c in all_clippings(client) if c.id in alerted and c.status == "new")
    csrf = sign_in(client, "press", f"/clipping/{clipping.id}")
    assert 'data-testid="ack"' in client.get(f"/clipping/{clipping.id}").text
    r = client.post(f"/clipping/{clipping.id}/ack", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=ack")
    assert ws.index.get(clipping.id).status == "acknowledged"
    cluster = clipping.cluster_id or clipping.id
    rows = ws.state.execute("SELECT acked_by, acked_at FROM alerts WHERE cluster_id=?", (cluster,))
    assert rows and all(row["acked_by"] == "petra" and row["acked_at"] for row in rows)
    entry = ws.accounts.audit_log(action="ack")[0]
    assert (entry.user, entry.target) == ("petra", clipping.id)
    page = client.get(r.headers["location"]).text
    assert 'data-testid="ack"' not in page and 'data-status="acknowledged"' in page
    # a second ack (another tab) changes nothing and says so
    again = client.post(f"/clipping/{clipping.id}/ack", data={"csrf": csrf})
    assert again.headers["location"].endswith("?done=ack_already")
    assert len(ws.index.status_history(clipping.id)) == 1


def test_ack_never_undoes_a_response(client: TestClient) -> None:
    ws = ws_of(client)
    clipping = unalerted(client)[2]
    ws.index.set_status(clipping.id, "published", by="jana")
    csrf = sign_in(client, "admin", f"/clipping/{clipping.id}")
    r = client.post(f"/clipping/{clipping.id}/ack", data={"csrf": csrf})
    assert r.headers["location"].endswith("?done=ack_already")
    assert ws.index.get(clipping.id).status == "published"


def test_a_post_without_its_csrf_token_changes_nothing(client: TestClient) -> None:
    ws = ws_of(client)
    clipping = unalerted(client)[3]
    sign_in(client, "admin", f"/clipping/{clipping.id}")
    feedback_before = ws.state.feedback_count(ws.municipality)
    for path, data in (("status", {"status": "dismissed"}), ("judge", {"field": "relevant", "value": "no"}),
                       ("ack", {})):
        for token in ({}, {"csrf": "forged"}):
            assert client.post(f"/clipping/{clipping.id}/{path}", data={**data, **token}).status_code == 403
    assert ws.index.status_history(clipping.id) == []
    assert ws.state.feedback_count(ws.municipality) == feedback_before


def test_markup_in_a_title_and_text_is_shown_as_text(client: TestClient) -> None:
    ws = ws_of(client)
    base = flagged_with_officials(client)
    evil = "<script>alert(1)</script>"
    article = dataclasses.replace(base.article, id="evil0000000000000000000a", title=f"{evil} {base.article.title}",
                                  text=f"{evil}\n\n{base.article.text}", url="javascript:alert(1)")
    ws.index.upsert([dataclasses.replace(base, article=article, cluster_id=None)])
    sign_in(client, "viewer", f"/clipping/{article.id}")
    html = client.get(f"/clipping/{article.id}").text
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section(html, "clipping-title")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section(html, "clipping-text")
    assert "javascript:" not in html and 'data-testid="original-link"' not in html
    # the offsets no longer fit the shifted text: the marks still cover the words they name
    body = text_part(html)
    quotes = [r.quote for f in base.enrichment.flags for r in f.reasons if r.field == "text"]
    assert any(f'<mark class="reason">{escape(q)}</mark>' in body for q in quotes)


def test_diacritics_before_a_mention_do_not_shift_the_highlight(client: TestClient) -> None:
    profile = ws_of(client).profile
    names = {o.id: o.name for o in profile.officials}
    slovak = [c for c in all_clippings(client) if c.enrichment.lang == "sk"
              and any(m.kind == "official" and m.field == "text" and not m.surface.isascii() and
                      not c.article.text[: m.start].isascii() for m in c.enrichment.mentions)]
    assert slovak, "the demo has no Slovak clipping naming an official after diacritics"
    clipping = slovak[0]
    sign_in(client, "viewer", f"/clipping/{clipping.id}")
    html = client.get(f"/clipping/{clipping.id}").text
    for m in clipping.enrichment.mentions:
        if m.kind == "official" and m.field == "text":
            assert f'<mark class="official" title="{escape(names[m.ref])}">{escape(m.surface)}</mark>' in html


# --- the highlighting itself ---------------------------------------------------------------------------------
MK = "Градоначалникот Петар Петровски изјави дека мостот ќе биде готов.\n\nСоветот не се согласи со Петровски."


def pieces_text(paragraph: tuple[Piece, ...]) -> str:
    return "".join(p.text if p.kind != "reason" else pieces_text(p.children) for p in paragraph)


def test_macedonian_offsets_mark_the_right_words_in_paragraphs() -> None:
    start = MK.index("Петар Петровски")
    mention = Mention("official", "mayor", "Петар Петровски", start, start + len("Петар Петровски"), "text")
    quote = "Градоначалникот Петар Петровски изјави дека мостот ќе биде готов."
    reason = Reason("изјави", quote, "text", 0, len(quote))
    paragraphs = highlight(MK, "text", [mention], [reason], {"mayor": "Петар Петровски"})
    assert [pieces_text(p) for p in paragraphs] == MK.replace("\n\n", "\n").split("\n")
    first = paragraphs[0][0]
    assert first.kind == "reason" and pieces_text((first,)) == quote
    official = [p for p in first.children if p.kind == "official"]
    assert [(p.text, p.title) for p in official] == [("Петар Петровски", "Петар Петровски")]


def test_byte_offsets_and_stale_offsets_fall_back_to_the_quoted_words() -> None:
    word = "Петровски"
    chars = MK.rindex(word)
    byte_start = len(MK[:chars].encode("utf-8"))  # what an enricher counting bytes would have stored
    assert locate(MK, byte_start, byte_start + len(word.encode()), word) == (chars, chars + len(word))
    assert locate(MK, 10_000, 10_010, word) is not None
    assert locate(MK, 0, 5, "Скопје") is None  # not in the text: no mark at all rather than a wrong one
    assert locate(MK, 5, 3, "") is None


def test_overlapping_and_crossing_spans_never_break_the_text() -> None:
    text = "Mayor Novák and deputy Nováková met."
    mentions = [Mention("official", "mayor", "Mayor Novák", 0, 11, "text"),
                Mention("official", "mayor", "Novák", 6, 11, "text"),
                Mention("official", "deputy", "deputy Nováková", 16, 31, "text")]
    reasons = [Reason("met", "Nováková met.", "text", 23, 36), Reason("x", "deputy Nováková", "text", 16, 31)]
    [paragraph] = highlight(text, "text", mentions, reasons, {"mayor": "A", "deputy": "B"})
    assert pieces_text(paragraph) == text
    assert [p.kind for p in paragraph] == ["official", "plain", "reason"]
    assert paragraph[0].title == "A"
    assert [(c.kind, c.text) for c in paragraph[2].children] == [("official", "deputy Nováková"), ("plain", " met.")]
    assert merge([(0, 5, ("a",)), (3, 8, ("b",)), (8, 9, ("c",))]) == [(0, 8, ("a", "b")), (8, 9, ("c",))]
    assert highlight(text, "title", mentions, reasons, {}) == [(Piece("plain", text),)]  # other field: no marks


def test_only_web_addresses_become_links() -> None:
    assert http_url("https://example.sk/a?b=1") == "https://example.sk/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "", None):
        assert http_url(bad) is None
