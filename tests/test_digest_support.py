"""Shared builders for the digest tests (no tests here): the demo profile pointed at a loopback SMTP port, and
clippings as enrichment would produce them. The tests use real parts: a SQLite `State` and `SqliteIndex` in
tmp_path, an aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from presswatch.profile import Profile, Smtp, load_profile
from presswatch.records import Article, Clipping, Enrichment, Flag, Mention, Reason, Sentiment, clipping_id

MUNI = "stara-horka"
DAY = date(2026, 11, 22)  # a Sunday; send_at 07:00 Europe/Bratislava (UTC+1) = 06:00 UTC
SEND_AT_UTC = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
NOW = SEND_AT_UTC  # the morning job runs at send time
IN_WINDOW = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def free_port() -> int:
    """A port nothing listens on (bound and released): a stand-in for an SMTP server that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def demo_profile(port: int, **changes: Any) -> Profile:
    profile = load_profile("demo")
    update: dict[str, Any] = {"smtp": Smtp(host="127.0.0.1", port=port, sender="presswatch@stara-horka.example")}
    update.update(changes)
    return profile.model_copy(update=update)


def critical(severity: float, cue: str, quote: str) -> Flag:
    return Flag("critical", severity, (Reason(cue=cue, quote=quote, field="text", start=0, end=len(quote)),))


def misleading(severity: float, cue: str, quote: str, fact_id: str | None = None, record: str | None = None) -> Flag:
    return Flag("misleading", severity, (Reason(cue=cue, quote=quote, field="text", start=0, end=len(quote),
                                                record=record, fact_id=fact_id),))


def clip(slug: str, title: str, *, outlet: str = "pohronie", published: datetime = IN_WINDOW,
         flags: Sequence[Flag] = (), officials: Sequence[str] = (), bodies: Sequence[str] = (),
         sentiment: str = "neutral", cluster: str | None = None, relevant: bool = True,
         municipality: str = MUNI, text: str | None = None, in_title: bool = True) -> Clipping:
    url = f"http://127.0.0.1:8765/{outlet}/2026/11/{slug}.html"
    body = text or f"{title}. Článok {slug} o dianí v Starej Hôrke, ktorý napísala redakcia. " * 3
    mentions = tuple(Mention("official", o, o, 0, len(o), "title" if in_title else "text") for o in officials)
    mentions += tuple(Mention("body", b, b, 0, len(b), "text") for b in bodies)
    score = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}[sentiment]
    return Clipping(
        article=Article(id=clipping_id(url), url=url, outlet=outlet, title=title, text=body, published=published,
                        lang="sk", fetched_at=published),
        enrichment=Enrichment(lang="sk", relevant=relevant, officials=tuple(officials), bodies=tuple(bodies),
                              mentions=mentions, sentiment=Sentiment(sentiment, score),
                              flags=tuple(flags)),
        municipality=municipality,
        cluster_id=cluster,
        indexed_at=published + timedelta(minutes=5),
    )


def audit_story() -> list[Clipping]:
    """A critical story from a major outlet and two syndicated copies in one cluster."""
    original = clip("audit", "Primátor Hrušovský zatajil výsledky auditu", outlet="spravy24",
                    flags=[critical(0.8, "zatajil", "Primátor zatajil poslancom výsledky auditu technických služieb.")],
                    officials=["mayor"], bodies=["tech_services"], sentiment="negative")
    cluster = original.id
    original = clip("audit", original.article.title, outlet="spravy24", flags=original.enrichment.flags,
                    officials=["mayor"], bodies=["tech_services"], sentiment="negative", cluster=cluster)
    copy1 = clip("audit-copy", "Hrušovský zatajil audit, tvrdí opozícia", outlet="horcan",
                 published=IN_WINDOW + timedelta(hours=1), flags=[critical(0.7, "zatajil", "Primátor zatajil audit.")],
                 officials=["mayor"], sentiment="negative", cluster=cluster)
    copy2 = clip("audit-prevzate", "Audit technických služieb: primátor mlčí", outlet="pohronie",
                 published=IN_WINDOW + timedelta(hours=2), flags=[critical(0.6, "mlčí", "Primátor k auditu mlčí.")],
                 officials=["mayor"], sentiment="negative", cluster=cluster)
    return [original, copy1, copy2]


def budget_claim() -> Clipping:
    return clip("rozpocet", "Mesto má na budúci rok rozpočet 30 miliónov", outlet="hronske",
                published=IN_WINDOW + timedelta(hours=3),
                flags=[misleading(0.6, "rozpočet 30 miliónov", "Rozpočet mesta na rok 2026 je 30 miliónov eur.",
                                  fact_id="budget_2026")],
                bodies=["council"], in_title=False)


def park_xss() -> Clipping:
    return clip("park", "<script>alert(1)</script> Nový park pri Hrone", outlet="pohronie",
                published=IN_WINDOW + timedelta(hours=4), bodies=["tech_services"], sentiment="positive")


def text_part(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")

