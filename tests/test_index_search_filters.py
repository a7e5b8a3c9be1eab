"""Field filters, date ranges, collapse and facets of the SQLite index (index/sqlite.py) against a real store file.

Every expectation is computed in this file from the records themselves (Python predicates, `astimezone` for local
days, `Counter` for facets), never by asking the index, so the SQL the index compiles is checked against an
independent reading of the same data."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from presswatch.index import QueryError, SearchQuery
from presswatch.index.base import FACETS, STATUSES, Bucket
from presswatch.index.codec import clipping_to_dict
from presswatch.index.sqlite import SCHEMA_VERSION, SqliteIndex, stemmer_signature
from presswatch.records import Article, Clipping, Enrichment, Flag, Mention, Reason, Sentiment

BRATISLAVA = "Europe/Bratislava"
# Central European summer time ends on Sunday 2026-10-25 at 01:00 UTC (03:00 CEST → 02:00 CET): that local day has
# 25 hours, and the UTC offset of local midnight is +2 before it and +1 after it.
T0 = datetime(2026, 10, 17, 5, 0, tzinfo=UTC)

# (title, text) per language and topic; the words the tests search for stand literally in every title.
TEXTS = {
    ("sk", "bridge"): ("Primátor otvoril nový most", "Mesto dokončilo stavbu mosta cez rieku."),
    ("sk", "budget"): ("Zastupiteľstvo schválilo rozpočet", "Poslanci hlasovali o rozpočte mesta na budúci rok."),
    ("sk", "parking"): ("Nové pravidlá parkovania", "Obyvatelia sa sťažujú na parkovanie v centre."),
    ("cs", "bridge"): ("Starosta otevřel nový most", "Město dokončilo stavbu mostu přes řeku."),
    ("cs", "budget"): ("Zastupitelstvo schválilo rozpočet", "Zastupitelé hlasovali o rozpočtu města."),
    ("cs", "parking"): ("Nová pravidla parkování", "Obyvatelé si stěžují na parkování v centru."),
    ("en", "bridge"): ("Mayor opens the new bridge", "The city finished building the bridge over the river."),
    ("en", "budget"): ("Council approves the budget", "Councillors voted on the city budget for next year."),
    ("en", "parking"): ("New parking rules", "Residents complain about parking in the centre."),
    ("tr", "bridge"): ("Belediye Başkanı yeni köprüyü açtı", "Belediye nehir üzerindeki köprünün inşaatını bitirdi."),
    ("tr", "budget"): ("Meclis bütçeyi onayladı", "Meclis üyeleri şehrin bütçesini oyladı."),
    ("tr", "parking"): ("Yeni otopark kuralları", "Sakinler merkezdeki otoparktan şikâyetçi."),
}
OUTLETS = {"sk": ("sme", "dennikn"), "cs": ("idnes", "seznam"), "en": ("bbc",), "tr": ("hurriyet", "sozcu")}
OFFICIALS = {"bridge": ("mayor",), "budget": ("mayor", "treasurer"), "parking": ("deputy",)}
BODIES = {"bridge": (), "budget": ("council",), "parking": ("transport",)}
LANGS = ("sk", "cs", "sk", "en", "tr", "sk", "cs")
TOPICS = ("bridge", "budget", "parking")
SENTIMENTS = ("negative", "neutral", "positive")


def make(cid: str, lang: str, topic: str, when: datetime, *, outlet: str, sentiment: str = "neutral",
         critical: bool = False, misleading: bool = False, relevant: bool = True,
         cluster_id: str | None = None) -> Clipping:
    title, text = TEXTS[(lang, topic)]
    flags = []
    if critical:
        flags.append(Flag("critical", 0.7, (Reason("kritika", text[:20], "text", 0, 20),)))
    if misleading:
        flags.append(Flag("misleading", 0.6, (Reason("nepravda", text[:20], "text", 0, 20),)))
    officials = OFFICIALS[topic]
    # the body is only *mentioned* (no entry in `bodies`): the body filter reads mentions too
    mentions = tuple(Mention("body", b, b, 0, len(b), "text") for b in BODIES[topic])
    return Clipping(
        article=Article(id=cid, url=f"https://news.example/{cid}", outlet=outlet, title=title, text=text,
                        published=when, lang=lang, fetched_at=when + timedelta(minutes=5)),
        enrichment=Enrichment(lang=lang, relevant=relevant, officials=officials, bodies=(), mentions=mentions,
                              sentiment=Sentiment(sentiment, {"negative": -0.6, "neutral": 0.0,
                                                              "positive": 0.6}[sentiment]),
                              flags=tuple(flags)),
        municipality="demo", cluster_id=cluster_id)


def build_corpus() -> list[Clipping]:
    out: list[Clipping] = []
    first_of: dict[tuple[str, str], str] = {}
    for i in range(30):
        lang, topic = LANGS[i % len(LANGS)], TOPICS[i % len(TOPICS)]
        cid = f"c{i:02d}-{lang}-{topic}"
        cluster = None
        if i % 2 == 0:  # even items of one language and topic are one story, credited to its first copy
            cluster = first_of.setdefault((lang, topic), cid)
        out.append(make(cid, lang, topic, T0 + timedelta(hours=13 * i), outlet=OUTLETS[lang][i % len(OUTLETS[lang])],
                        sentiment=SENTIMENTS[i % 3], critical=i % 4 == 1, misleading=i % 5 == 2,
                        relevant=i % 11 != 10, cluster_id=cluster))
    # Right around the end of summer time: UTC day and Bratislava day differ for the first and the last.
    for cid, when in (("dst-a", "2026-10-24T21:30"), ("dst-b", "2026-10-24T22:30"), ("dst-c", "2026-10-25T22:30"),
                      ("dst-d", "2026-10-25T23:30")):
        out.append(make(cid, "sk", "parking", datetime.fromisoformat(when).replace(tzinfo=UTC), outlet="sme"))
    return out


CORPUS = build_corpus()
BY_ID = {c.id: c for c in CORPUS}
# Response statuses set after indexing (what index/sqlite_workflow.py's set_status writes to the column).
STATUS_OF = {c.id: STATUSES[i % len(STATUSES)] if i % 3 else "new" for i, c in enumerate(CORPUS)}


def topic(c: Clipping) -> str:
    return c.id.split("-")[-1] if not c.id.startswith("dst") else "parking"


def refs(c: Clipping, kind: str) -> set[str]:
    e = c.enrichment
    found = {m.ref for m in e.mentions if m.kind == kind}
    return found | set(e.officials if kind == "official" else e.bodies)


def write_status(path: Path, statuses: dict[str, str]) -> None:
    """Set statuses the way the workflow mixin does: an UPDATE of `clip_clippings.status`, from another
    connection to the same file."""
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("UPDATE clip_clippings SET status = ? WHERE id = ?", [(s, i) for i, s in statuses.items()])
    conn.close()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteIndex]:
    path = tmp_path_factory.mktemp("filters") / "store.db"
    idx = SqliteIndex(path)
    idx.upsert(CORPUS)
    write_status(path, STATUS_OF)
    yield idx
    idx.close()


def ids(index: SqliteIndex, text: str = "", **kw: object) -> set[str]:
    kw.setdefault("relevant", None)
    result = index.search(SearchQuery(text=text, limit=1000, **kw))
    found = {h.clipping.id for h in result.hits}
    assert result.total == len(found)
    return found


def expect(pred: Callable[[Clipping], bool], relevant_only: bool = False) -> set[str]:
    return {c.id for c in CORPUS if pred(c) and (c.enrichment.relevant or not relevant_only)}


# Literal title words stand for their topic in the languages that use them.
def has_most(c: Clipping) -> bool:
    return topic(c) == "bridge" and c.enrichment.lang in ("sk", "cs")


def has_rozpocet(c: Clipping) -> bool:
    return topic(c) == "budget" and c.enrichment.lang in ("sk", "cs")


def has_budget(c: Clipping) -> bool:
    return topic(c) == "budget" and c.enrichment.lang == "en"


# --- the corpus is what the tests think it is -------------------------------------------------------------------
def test_corpus_has_variety() -> None:
    assert len(CORPUS) >= 30
    assert {c.enrichment.lang for c in CORPUS} == {"sk", "cs", "en", "tr"}
    assert len({c.cluster_id for c in CORPUS if c.cluster_id}) >= 5
    assert all(Counter(STATUS_OF.values())[s] for s in STATUSES)


# --- each field filter --------------------------------------------------------------------------------------------
FILTERS: list[tuple[str, Callable[[Clipping], bool]]] = [
    ("outlet:sme", lambda c: c.article.outlet == "sme"),
    ("outlet:IDNES", lambda c: c.article.outlet == "idnes"),  # ids compare case-insensitively
    ('outlet:"hurriyet"', lambda c: c.article.outlet == "hurriyet"),
    ("official:treasurer", lambda c: "treasurer" in c.enrichment.officials),
    ("official:mayor", lambda c: "mayor" in c.enrichment.officials),
    ("body:council", lambda c: "council" in refs(c, "body")),
    ("body:transport", lambda c: "transport" in refs(c, "body")),
    ("lang:cs", lambda c: c.enrichment.lang == "cs"),
    ("lang:tr", lambda c: c.enrichment.lang == "tr"),
    ("flag:critical", lambda c: c.enrichment.critical),
    ("flag:misleading", lambda c: c.enrichment.misleading),
    ("sentiment:negative", lambda c: c.enrichment.sentiment.label == "negative"),
    ("sentiment:positive", lambda c: c.enrichment.sentiment.label == "positive"),
    *((f"status:{s}", lambda c, s=s: STATUS_OF[c.id] == s) for s in STATUSES),
    ("outlet:nobody", lambda c: False),
]


@pytest.mark.parametrize(("text", "pred"), FILTERS, ids=[t for t, _ in FILTERS])
def test_each_filter_alone_and_excluded(index: SqliteIndex, text: str, pred: Callable[[Clipping], bool]) -> None:
    assert ids(index, text) == expect(pred)
    assert ids(index, f"-{text}") == expect(lambda c: not pred(c))
    assert ids(index, text, relevant=True) == expect(pred, relevant_only=True)


def test_filters_only_list_newest_first_with_paging(index: SqliteIndex) -> None:
    want = sorted((c for c in CORPUS if c.enrichment.lang == "sk" and c.enrichment.relevant),
                  key=lambda c: c.article.published or T0, reverse=True)
    result = index.search(SearchQuery(text="lang:sk", limit=5, offset=2))
    assert result.total == len(want)
    assert [h.clipping.id for h in result.hits] == [c.id for c in want[2:7]]
    assert all(h.score == 0.0 for h in result.hits)


def test_filters_and_with_text_and_with_each_other(index: SqliteIndex) -> None:
    assert ids(index, "most outlet:sme") == expect(lambda c: has_most(c) and c.article.outlet == "sme")
    assert ids(index, "rozpočet flag:critical lang:cs") == expect(
        lambda c: has_rozpocet(c) and c.enrichment.critical and c.enrichment.lang == "cs")
    assert ids(index, "flag:critical sentiment:negative") == expect(
        lambda c: c.enrichment.critical and c.enrichment.sentiment.label == "negative")
    assert ids(index, "lang:sk lang:cs") == set()  # a clipping has one language
    assert ids(index, "most lang:en") == set()
    # text ANDed at the top keeps its ranking
    hits = index.search(SearchQuery(text="most outlet:sme", relevant=None)).hits
    assert hits and all(h.score > 0 for h in hits) and "[" in hits[0].snippet


@pytest.mark.parametrize(("text", "pred"), [
    ("most OR flag:critical", lambda c: has_most(c) or c.enrichment.critical),
    ("(outlet:sme OR outlet:bbc) -flag:misleading",
     lambda c: c.article.outlet in ("sme", "bbc") and not c.enrichment.misleading),
    ("(rozpočet outlet:seznam) OR (budget sentiment:negative)",
     lambda c: (has_rozpocet(c) and c.article.outlet == "seznam")
     or (has_budget(c) and c.enrichment.sentiment.label == "negative")),
    ("-(flag:critical OR status:dismissed)",
     lambda c: not (c.enrichment.critical or STATUS_OF[c.id] == "dismissed")),
    ("most -(lang:cs)", lambda c: has_most(c) and c.enrichment.lang != "cs"),
    ("most -outlet:sme -sentiment:positive",
     lambda c: has_most(c) and c.article.outlet != "sme" and c.enrichment.sentiment.label != "positive"),
    ("(outlet:sme -most)", lambda c: c.article.outlet == "sme" and not has_most(c)),
    ("(lang:sk OR lang:cs) -(most OR rozpočet)",
     lambda c: c.enrichment.lang in ("sk", "cs") and not (has_most(c) or has_rozpocet(c))),
    ("(most OR rozpočet OR official:deputy) NOT (status:new OR flag:critical)",
     lambda c: (has_most(c) or has_rozpocet(c) or "deputy" in c.enrichment.officials)
     and not (STATUS_OF[c.id] == "new" or c.enrichment.critical)),
    ("((most -flag:critical) OR (budget body:council)) date:2026-10",
     lambda c: ((has_most(c) and not c.enrichment.critical) or (has_budget(c) and "council" in refs(c, "body")))
     and c.article.published is not None and c.article.published.astimezone(ZoneInfo("UTC")).month == 10),
    ("most -rozpočet outlet:dennikn", lambda c: has_most(c) and c.article.outlet == "dennikn"),
    ("-most -status:new", lambda c: not has_most(c) and STATUS_OF[c.id] != "new"),
])
def test_nested_or_and_not_with_filters(index: SqliteIndex, text: str, pred: Callable[[Clipping], bool]) -> None:
    assert ids(index, text) == expect(pred)


def test_keyword_filters_and_with_the_query(index: SqliteIndex) -> None:
    assert ids(index, "most", outlet="sme") == expect(lambda c: has_most(c) and c.article.outlet == "sme")
    assert ids(index, "", sentiment="negative", status="acknowledged") == expect(
        lambda c: c.enrichment.sentiment.label == "negative" and STATUS_OF[c.id] == "acknowledged")
    assert ids(index, "outlet:sme", outlet="dennikn") == set()
    assert ids(index, "flag:critical", official="mayor", body="council") == expect(
        lambda c: c.enrichment.critical and "mayor" in c.enrichment.officials and "council" in refs(c, "body"))
    with pytest.raises(QueryError):
        index.search(SearchQuery(status="closed"))
    with pytest.raises(QueryError):
        index.search(SearchQuery(sentiment="angry"))


# --- dates in local days, across the end of summer time ---------------------------------------------------------
def local_day(c: Clipping, tz: str) -> date:
    assert c.article.published is not None
    return c.article.published.astimezone(ZoneInfo(tz)).date()


@pytest.mark.parametrize("tz", [BRATISLAVA, "UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize(("text", "pred"), [
    ("date:2026-10-25", lambda d: d == date(2026, 10, 25)),
    ("date:2026-10-24", lambda d: d == date(2026, 10, 24)),
    ("date:2026-10-26", lambda d: d == date(2026, 10, 26)),
    ("date:2026-10", lambda d: d.month == 10),
    ("date:2026-10-24..2026-10-25", lambda d: date(2026, 10, 24) <= d <= date(2026, 10, 25)),
    ("date:2026-10-25..", lambda d: d >= date(2026, 10, 25)),
    ("date:..2026-10-24", lambda d: d <= date(2026, 10, 24)),
    ("date:<2026-10-26", lambda d: d < date(2026, 10, 26)),
    ("date:>2026-10-25", lambda d: d > date(2026, 10, 25)),
    ("-date:2026-10-25", lambda d: d != date(2026, 10, 25)),
    ("date:2026-10-20 OR date:2026-10-25", lambda d: d in (date(2026, 10, 20), date(2026, 10, 25))),
])
def test_date_ranges_are_local_days(index: SqliteIndex, tz: str, text: str, pred: Callable[[date], bool]) -> None:
    assert ids(index, text, tz=tz) == expect(lambda c: pred(local_day(c, tz)))


def test_the_long_day_of_the_dst_change(index: SqliteIndex) -> None:
    # 25 local hours: 22:00 UTC on the 24th (midnight CEST) to 23:00 UTC on the 25th (midnight CET)
    assert ids(index, "date:2026-10-25", tz=BRATISLAVA) >= {"dst-b", "dst-c"}
    assert not ids(index, "date:2026-10-25", tz=BRATISLAVA) & {"dst-a", "dst-d"}
    assert ids(index, "date:2026-10-25", tz="UTC") >= {"dst-c", "dst-d"}
    assert "dst-b" not in ids(index, "date:2026-10-25", tz="UTC")
    assert ids(index, "date:2026-10-25 outlet:sme lang:sk -most", tz=BRATISLAVA) == expect(
        lambda c: local_day(c, BRATISLAVA) == date(2026, 10, 25) and c.article.outlet == "sme"
        and c.enrichment.lang == "sk" and not has_most(c))


def test_an_unknown_time_zone_is_a_query_error(index: SqliteIndex) -> None:
    with pytest.raises(QueryError, match="time zone"):
        index.search(SearchQuery(text="date:2026-10", tz="Europe/Atlantis"))


# --- collapse ----------------------------------------------------------------------------------------------------
def story(c: Clipping) -> str:
    return c.cluster_id or c.id


def published(c: Clipping) -> datetime:
    assert c.article.published is not None
    return c.article.published


@pytest.mark.parametrize("text", ["most", "", "lang:sk", "most OR rozpočet OR budget", "sentiment:neutral -most"])
def test_collapse_gives_one_hit_per_story_with_the_matching_copies(index: SqliteIndex, text: str) -> None:
    flat = index.search(SearchQuery(text=text, relevant=None, limit=1000))
    matched = {h.clipping.id for h in flat.hits}
    result = index.search(SearchQuery(text=text, relevant=None, limit=1000, collapse=True))
    stories: dict[str, list[Clipping]] = {}
    for cid in matched:
        stories.setdefault(story(BY_ID[cid]), []).append(BY_ID[cid])
    assert result.total == len(stories) == len(result.hits)
    assert any(len(v) > 1 for v in stories.values())  # the test exercises real copies
    rank = {h.clipping.id: i for i, h in enumerate(flat.hits)}
    for hit in result.hits:
        members = stories[story(hit.clipping)]
        assert {hit.clipping.id, *(c.id for c in hit.copies)} == {c.id for c in members}
        assert len(hit.copies) == len(members) - 1
        # the best-ranked (newest, without text) clipping of the story stands for it
        assert rank[hit.clipping.id] == min(rank[c.id] for c in members)
        copies = [c.id for c in hit.copies]
        assert copies == [c.id for c in sorted((BY_ID[i] for i in copies), key=lambda c: (published(c), c.id))]
    # stories come in the order of their best clipping
    assert [rank[h.clipping.id] for h in result.hits] == sorted(rank[h.clipping.id] for h in result.hits)


def test_collapse_copies_only_match_the_query_and_paging_counts_stories(index: SqliteIndex) -> None:
    only_sme = index.search(SearchQuery(text="outlet:dennikn", relevant=None, limit=1000, collapse=True))
    for hit in only_sme.hits:
        assert all(c.article.outlet == "dennikn" for c in (hit.clipping, *hit.copies))
    full = index.search(SearchQuery(relevant=None, limit=1000, collapse=True))
    page = index.search(SearchQuery(relevant=None, limit=3, offset=2, collapse=True))
    assert page.total == full.total == len({story(c) for c in CORPUS})
    assert [h.clipping.id for h in page.hits] == [h.clipping.id for h in full.hits[2:5]]
    assert index.search(SearchQuery(relevant=None, limit=0, collapse=True)).total == full.total


# --- facets ------------------------------------------------------------------------------------------------------
def top(counter: Counter[str], size: int) -> tuple[Bucket, ...]:
    return tuple(Bucket(k, n) for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:size])


def expected_facets(matched: list[Clipping], tz: str, size: int) -> dict[str, tuple[Bucket, ...]]:
    days = Counter(local_day(c, tz) for c in matched)
    all_days = [min(days) + timedelta(days=i) for i in range((max(days) - min(days)).days + 1)]
    weeks: Counter[str] = Counter()
    for d in all_days:
        y, w, _ = d.isocalendar()
        weeks[f"{y}-W{w:02d}"] += days[d]
    return {
        "outlet": top(Counter(c.article.outlet for c in matched), size),
        "official": top(Counter(o for c in matched for o in refs(c, "official")), size),
        "body": top(Counter(b for c in matched for b in refs(c, "body")), size),
        "lang": top(Counter(c.enrichment.lang for c in matched), size),
        "sentiment": top(Counter(c.enrichment.sentiment.label for c in matched), size),
        "flag": top(Counter(f for c in matched for f in ("critical", "misleading")
                            if getattr(c.enrichment, f)), size),
        "status": top(Counter(STATUS_OF[c.id] for c in matched), size),
        "day": tuple(Bucket(d.isoformat(), days[d]) for d in all_days),
        "week": tuple(Bucket(k, n) for k, n in weeks.items()),  # insertion order is time order
    }


@pytest.mark.parametrize(("text", "pred", "tz", "size"), [
    ("", lambda c: True, BRATISLAVA, 20),
    ("", lambda c: True, "UTC", 2),
    ("most OR rozpočet", lambda c: has_most(c) or has_rozpocet(c), BRATISLAVA, 20),
    ("-flag:critical (lang:sk OR lang:tr)",
     lambda c: not c.enrichment.critical and c.enrichment.lang in ("sk", "tr"), "America/New_York", 3),
    ("date:2026-10-20..2026-10-28", lambda c: date(2026, 10, 20) <= local_day(c, BRATISLAVA)
     <= date(2026, 10, 28), BRATISLAVA, 1),
])
def test_aggregate_counts_everything_the_query_matches(index: SqliteIndex, text: str,
                                                       pred: Callable[[Clipping], bool], tz: str,
                                                       size: int) -> None:
    matched = [c for c in CORPUS if c.enrichment.relevant and pred(c)]  # relevant=True by default
    facets = index.aggregate(SearchQuery(text=text, tz=tz, limit=1), size=size)
    assert facets.total == len(matched)
    assert set(facets.counts) == set(FACETS)
    want = expected_facets(matched, tz, size)
    for name in FACETS:
        assert facets.counts[name] == want[name], name
    # the day buckets add up, and the zero-filled ones are there
    assert sum(b.count for b in facets.counts["day"]) == len(matched)
    assert sum(b.count for b in facets.counts["week"]) == len(matched)


def test_aggregate_days_follow_the_time_zone(index: SqliteIndex) -> None:
    q = "outlet:sme lang:sk sentiment:neutral date:2026-10-24..2026-10-26"
    local = index.aggregate(SearchQuery(text=q, tz=BRATISLAVA, relevant=None), facets=("day",)).counts["day"]
    utc = index.aggregate(SearchQuery(text=q, tz="UTC", relevant=None), facets=("day",)).counts["day"]
    assert dict((b.key, b.count) for b in local) == Counter(
        local_day(BY_ID[i], BRATISLAVA).isoformat() for i in ids(index, q, tz=BRATISLAVA))
    assert dict((b.key, b.count) for b in utc) == Counter(
        local_day(BY_ID[i], "UTC").isoformat() for i in ids(index, q, tz="UTC"))
    assert local != utc


def test_aggregate_edges(index: SqliteIndex) -> None:
    with pytest.raises(ValueError, match="'colour'"):
        index.aggregate(SearchQuery(), facets=("outlet", "colour"))
    none = index.aggregate(SearchQuery(text="outlet:nobody"), facets=("outlet", "day"))
    assert none.total == 0 and none.counts == {"outlet": (), "day": ()}
    nolang = index.aggregate(SearchQuery(text="most", lang="xx"), facets=("lang",))
    assert nolang.total == 0 and nolang.counts == {"lang": ()}
    only = index.aggregate(SearchQuery(text="flag:misleading", relevant=None), facets=("flag", "status"))
    assert list(only.counts) == ["flag", "status"]
    assert only.counts["flag"][0] == Bucket("misleading", sum(c.enrichment.misleading for c in CORPUS))


def test_match_sql_selects_the_docs_search_finds(index: SqliteIndex) -> None:
    for text in ("most -outlet:sme", "status:drafted OR flag:critical", "(budget OR most) lang:en"):
        query = SearchQuery(text=text, relevant=None)
        with index._transaction("DEFERRED") as conn:
            compiled = index._match_sql(conn, query)
            assert compiled is not None
            sql, params = compiled
            found = {r[0] for r in conn.execute(
                f"SELECT id FROM clip_clippings WHERE doc IN ({sql})", params)}
        assert found == ids(index, text)
    with index._transaction("DEFERRED") as conn:
        assert index._match_sql(conn, SearchQuery(text="most", lang="xx")) is None


# --- the status column --------------------------------------------------------------------------------------------
def test_status_is_the_columns_and_survives_reupsert(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteIndex(path) as idx:
        batch = CORPUS[:6]
        idx.upsert(batch)
        assert {idx.get(c.id).status for c in batch} == {"new"}
        write_status(path, {batch[0].id: "drafted", batch[1].id: "dismissed"})
        # reprocessing the articles (new text, even a record that claims another status) keeps the press office's
        again = [replace(c, article=replace(c.article, title=c.article.title + " (aktualizované)"), status="new")
                 for c in batch[:2]]
        assert idx.upsert([*again, replace(CORPUS[6], status="published")]) == 1
        assert idx.get(batch[0].id).status == "drafted"
        assert idx.get(batch[1].id).status == "dismissed"
        assert idx.get(CORPUS[6].id).status == "new"  # the index owns it
        assert "aktualizované" in idx.get(batch[0].id).article.title
        hits = idx.search(SearchQuery(text="status:drafted", relevant=None)).hits
        assert [(h.clipping.id, h.clipping.status) for h in hits] == [(batch[0].id, "drafted")]
        idx.rebuild()
        assert idx.get(batch[1].id).status == "dismissed"
        cluster = batch[0].cluster_id or batch[0].id
        assert {c.id: c.status for c in idx.cluster(cluster)}[batch[0].id] == "drafted"


# clip_clippings as schema 1 created it, before the status column
SCHEMA_1 = """
CREATE TABLE clip_clippings (
    doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, municipality TEXT NOT NULL, published TEXT NOT NULL,
    outlet TEXT NOT NULL, lang TEXT NOT NULL, relevant INTEGER NOT NULL, critical INTEGER NOT NULL,
    misleading INTEGER NOT NULL, max_severity REAL NOT NULL, sentiment TEXT NOT NULL, cluster_id TEXT,
    fingerprint INTEGER, indexed_at TEXT NOT NULL, document TEXT NOT NULL
);
CREATE INDEX clip_by_published ON clip_clippings(published);
CREATE TABLE clip_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def test_a_schema_1_store_gets_the_status_column_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = CORPUS[0]
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(SCHEMA_1)
        conn.executemany("INSERT INTO clip_meta VALUES (?, ?)", [("schema", "1"), ("stemmer", stemmer_signature())])
        conn.execute("INSERT INTO clip_clippings(id, municipality, published, outlet, lang, relevant, critical,"
                     " misleading, max_severity, sentiment, cluster_id, fingerprint, indexed_at, document)"
                     " VALUES (?, 'demo', '2026-10-17T05:00:00.000000Z', ?, ?, 1, 0, 0, 0.0, 'neutral', NULL, NULL,"
                     " '2026-10-17T06:00:00.000000Z', ?)",
                     (old.id, old.article.outlet, old.enrichment.lang, json.dumps(clipping_to_dict(old))))
    conn.close()
    with SqliteIndex(path) as idx:
        assert idx.get(old.id).status == "new"
        assert ids(idx, "status:new") == {old.id}
        idx.upsert(CORPUS[1:3])
        write_status(path, {old.id: "acknowledged"})
        assert ids(idx, "status:acknowledged") == {old.id}
        assert ids(idx, "status:new") == {c.id for c in CORPUS[1:3]}
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM clip_meta WHERE key = 'schema'").fetchone()[0] == SCHEMA_VERSION
    assert "clip_by_status" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    with SqliteIndex(path) as idx:  # opening a migrated file again changes nothing
        assert idx.get(old.id).status == "acknowledged"
