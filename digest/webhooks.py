"""Webhook delivery and the bodies chat tools accept, built from the same alert context as the email.

Three formats (`alerts.channels[].format`):

- `generic`: presswatch's own JSON (`type: presswatch.alert` or `presswatch.alert_rollup`): the facts as data plus
  the localised plain text, for scripts and automation tools. Built in digest/alerts.py (`Alerter.payload`).
- `slack`: `{"text": ..., "blocks": [...]}` for Slack incoming webhooks (and Mattermost/Rocket.Chat, which read
  the same `text`). Slack parses `&`, `<`, `>` in mrkdwn as entities, links and mentions (`<!channel>`), so every
  piece of article text in mrkdwn is escaped (`slack_escape`); quotes and reasons go into `plain_text` objects,
  where nothing is markup at all, so a headline cannot bold, link or ping anybody.
- `teams`: a `message` with one Adaptive Card (1.4) attachment, the body Teams incoming webhooks and the Teams
  Workflows "when a webhook request is received" trigger both accept. Article text goes only into `TextRun`s of a
  `RichTextBlock`, which Teams renders without Markdown, and links only into `Action.OpenUrl` (http/https).

Every body is built from `ChatStory` records, one per story, so a single alert and a roll-up share one code path.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from typing import IO, Any

from presswatch.digest import defaults
from presswatch.digest.mail import DeliveryError
from presswatch.digest.render import safe_url


@dataclass(frozen=True, slots=True)
class ChatReason:
    cue: str
    quote: str
    record: str | None  # the official record the story contradicts, already labelled ("Contradicts: ...")


@dataclass(frozen=True, slots=True)
class ChatStory:
    """One story of a chat message; all text localised and plain (each format escapes it its own way)."""

    title: str
    url: str | None  # the article (http/https only)
    heading: str  # "Critical coverage · Severity 80 %"
    facts: tuple[str, ...]  # "Outlet: Správy24", "Published: ...", "Officials: ..."
    why_label: str
    reasons: tuple[ChatReason, ...]
    saved: str  # "Matches the saved search ..." or ""
    ack: str  # "Acknowledge: presswatch ack 1a2b3c4d"
    clipping: str  # "Clipping: <id or workspace URL>"
    workspace_url: str | None
    open_label: str  # "Read the article"
    workspace_label: str  # "Open the clipping"


def slack_escape(text: str) -> str:
    """Slack's three control characters in mrkdwn (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    # inside <url|label> a `|` or `>` would end the URL early: percent-encode them
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, 3000), "emoji": False}


def slack_body(subject: str, intro: str, stories: Sequence[ChatStory], text: str) -> dict[str, Any]:
    """Block Kit: a header, then per story a mrkdwn title link, a plain-text "why", and a context line with how to
    acknowledge. More stories than SLACK_MAX_STORIES (Slack allows 50 blocks) are listed as title links."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain(_cut(subject, 150))},
                                    {"type": "section", "text": _plain(intro)}]
    shown = stories[: defaults.SLACK_MAX_STORIES]
    for story in shown:
        title = slack_escape(story.title)
        link = f"<{_slack_url(story.url)}|{title}>" if story.url else title
        head = "\n".join([f"*{link}*", slack_escape(story.heading), *(slack_escape(f) for f in story.facts)])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(head, 3000)}})
        why = [story.why_label + ":"] + ([story.saved] if story.saved else [])
        for r in story.reasons:
            why.append(f"• {r.cue}: {r.quote}")
            if r.record:
                why.append(f"  {r.record}")
        blocks.append({"type": "section", "text": _plain("\n".join(why))})
        refs = [slack_escape(story.ack)]
        workspace = safe_url(story.workspace_url)
        refs.append(f"<{_slack_url(workspace)}|{slack_escape(story.workspace_label)}>" if workspace
                    else slack_escape(story.clipping))
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(" · ".join(refs), 3000)}]})
        blocks.append({"type": "divider"})
    rest = stories[len(shown):]
    if rest:
        lines = [f"• <{_slack_url(s.url)}|{slack_escape(s.title)}>" if s.url else f"• {slack_escape(s.title)}"
                 for s in rest]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), 3000)}})
    return {"text": slack_escape(text), "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def _runs(*parts: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style} for text, style in parts
                                                 if text]}


def teams_body(subject: str, intro: str, stories: Sequence[ChatStory], text: str) -> dict[str, Any]:
    """A Teams message with an Adaptive Card: per story a container (title, heading, facts, why, how to
    acknowledge) and its links as Action.OpenUrl buttons. `text` is not used by Teams; kept for the card's
    fallback text (`fallbackText`) and for relays that read it."""
    body: list[dict[str, Any]] = [_runs((subject, {"weight": "Bolder", "size": "Medium"})),
                                  _runs((intro, {}))]
    for story in stories:
        items: list[dict[str, Any]] = [_runs((story.title, {"weight": "Bolder"})),
                                       _runs((story.heading, {"color": "Attention"}))]
        items += [_runs((f, {"isSubtle": True})) for f in story.facts]
        items.append(_runs((story.why_label, {"weight": "Bolder"})))
        if story.saved:
            items.append(_runs((story.saved, {})))
        for r in story.reasons:
            items.append(_runs((f"{r.cue}: ", {"weight": "Bolder"}), (r.quote, {"italic": True})))
            if r.record:
                items.append(_runs((r.record, {})))
        items.append(_runs((story.ack, {"fontType": "Monospace"}), ("  ·  " + story.clipping, {"isSubtle": True})))
        actions = []
        if story.url:
            actions.append({"type": "Action.OpenUrl", "title": story.open_label, "url": story.url})
        workspace = safe_url(story.workspace_url)
        if workspace:
            actions.append({"type": "Action.OpenUrl", "title": story.workspace_label, "url": workspace})
        if actions:
            items.append({"type": "ActionSet", "actions": actions})
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": items})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "fallbackText": _cut(text, 2000), "msteams": {"width": "Full"}, "body": body}
    return {"type": "message", "summary": _cut(subject, 250), "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def webhook_target(url: str) -> str:
    """What errors and logs may say about a webhook URL: scheme://host[:port]. The path, query and userinfo are
    left out because a Slack/Teams incoming-webhook URL carries its secret there (docs/security.md)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparseable port or bracketed host: say nothing more than the scheme
        return f"{url.split(':', 1)[0][:10]}://?" if ":" in url else "webhook"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if not parts.scheme or not host:
        return "webhook"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: the receiver's 3xx becomes an HTTPError (the default error handler raises it), so a
    webhook body is never re-sent to another URL, and no request goes to a scheme other than http(s)."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Message, newurl: str) -> urllib.request.Request | None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def _scrub(text: str, url: str) -> str:
    """`text` without the URL's secret-bearing parts, in case a library put the URL in an error message."""
    parts = urllib.parse.urlsplit(url) if "://" in url else None
    secrets = [url]
    if parts is not None:
        secrets += [parts.path, parts.query, parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""]
    for secret in sorted((x for x in secrets if len(x) > 1), key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


def post_json(url: str, body: dict[str, Any], timeout: float | None = None) -> None:
    """POST `body` as JSON; any 2xx is success. Raises DeliveryError naming only scheme://host[:port] (never the
    path or query, where webhook URLs keep their secret). A redirect is refused, not followed (an error naming
    the host it pointed to): the body is never re-sent elsewhere."""
    target = webhook_target(url)
    if safe_url(url) is None:
        raise DeliveryError(target, "the webhook URL must be http(s)", transient=False)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "presswatch/0.1 (alerts)"}
    try:
        parts = urllib.parse.urlsplit(url)
        address = url
        if "@" in parts.netloc:  # user:password@ (a receiver behind Basic auth): urllib would take it for the host
            userinfo, _, hostport = parts.netloc.rpartition("@")
            headers["Authorization"] = "Basic " + base64.b64encode(
                urllib.parse.unquote(userinfo).encode("utf-8")).decode("ascii")
            address = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
        request = urllib.request.Request(address, data=data, method="POST", headers=headers)
        with _OPENER.open(request, timeout=timeout or defaults.WEBHOOK_TIMEOUT_S) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        code, reason = exc.code, _scrub(str(exc.reason), url)
        location = exc.headers.get("Location", "") if exc.headers is not None else ""
        exc.close()
        if 300 <= code < 400:
            where = f" to {webhook_target(urllib.parse.urljoin(url, location))}" if location else ""
            # a moved webhook is the channel's configuration, not the alert's fault: back off, count nothing
            raise DeliveryError(target, f"HTTP {code} {reason}: the receiver redirects{where}; webhook redirects are "
                                        "not followed (update the channel's URL)") from None
        raise DeliveryError(target, f"HTTP {code} {reason}",
                            transient=code >= 500 or code in (408, 429)) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DeliveryError(target, _scrub(f"{why}", url)) from None
    except (ValueError, http.client.HTTPException) as exc:  # a malformed URL or response: messages may quote it
        raise DeliveryError(target, _scrub(f"{type(exc).__name__}: {exc}", url), transient=False) from None


__all__ = ["ChatReason", "ChatStory", "post_json", "slack_body", "slack_escape", "teams_body", "webhook_target"]
