"""The municipality's own releases as the official record for `misleading` (enrich/official.py, facts.py).

Unit level: what a release states (figures with units, full dates, each with its own clause), how a claim is
compared with several records (any agreeing record clears it; a release is the record only from its publication
on). End to end: the demo newsroom with a profile that has NO facts: the releases alone must make the bridge and
budget stories misleading, quoting the release and linking it — including a story indexed before the release
arrived, which is re-checked when it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch.crawlers.crawl import load_profile_rebased, run_crawl
from presswatch.crawlers.feeds import FeedPoller
from presswatch.crawlers.fetch import PageFetcher
from presswatch.enrich.document import make_document
from presswatch.enrich.facts import FactChecker
from presswatch.enrich.official import OfficialRecord, records_from_release
from presswatch.index.sqlite import SqliteIndex
from presswatch.process import Processor
from presswatch.profile import Profile, parse_profile
from presswatch.records import Article, Clipping, Flag
from presswatch.state import State

PROFILE = """
municipality: {id: lipany, name: Lipany nad Hronom, country: SK, languages: [sk], timezone: Europe/Bratislava}
officials:
  - {id: mayor, name: Pavol Kráľ, role: mayor, title: primátor}
"""
T0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _profile() -> Profile:
    return parse_profile(PROFILE, "lipany.yaml")


def _release(text: str, title: str = "Tlačová správa", published: datetime = T0, rid: str = "r1") -> Article:
    return Article(id=rid, url=f"https://lipany.example/spravy/{rid}", outlet="mesto", title=title, text=text,
                   published=published)


def _checker(*releases: Article) -> FactChecker:
    checker = FactChecker.from_profile(_profile())
    checker.set_records(r.checked(checker.topics) for a in releases for r in records_from_release(a, "sk"))
    return checker


def _claims(checker: FactChecker, title: str, text: str, published: datetime) -> list[str]:
    doc = make_document(title, text, "sk")
    return [c.cue for c in checker.check(doc.fields, "sk", published.year, published)]


def test_a_release_states_figures_and_dates_each_with_its_own_clause() -> None:
    rel = _release("Mestské zastupiteľstvo schválilo rozpočet mesta na rok 2027 vo výške 9,6 mil. EUR. Bežné príjmy "
                   "boli k 30. septembru naplnené na 71 percent, kapitálové výdavky na 44 percent. Nová krytá "
                   "plaváreň sa otvorí 1. marca 2027.",
                   title="Rozpočet na rok 2027: 9,6 mil. EUR")
    recs = records_from_release(rel, "sk")
    by_cue = {r.cue: r for r in recs}
    assert set(by_cue) == {"9,6 mil. EUR", "71 percent", "44 percent", "1. marca 2027"}  # the title repeats 9,6
    assert by_cue["9,6 mil. EUR"].value == pytest.approx(9_600_000) and by_cue["9,6 mil. EUR"].unit == "EUR"
    assert by_cue["9,6 mil. EUR"].year == 2027  # "na rok 2027", not the release's year
    assert by_cue["71 percent"].year == 2026  # no year named: the year the release was published
    assert "kapitálové" not in by_cue["71 percent"].context and "kapitálové" in by_cue["44 percent"].context
    assert by_cue["1. marca 2027"].day is not None and by_cue["1. marca 2027"].day.isoformat() == "2027-03-01"
    assert all(r.statement in rel.text and r.url == rel.url for r in recs)
    # "k 30. septembru" has no year: an as-of date, not a dated event of the record
    assert not any(r.day and r.day.month == 9 for r in recs)


def test_a_claim_that_contradicts_a_release_is_found_and_one_that_agrees_is_not() -> None:
    checker = _checker(_release("Nová krytá plaváreň na Športovej ulici sa otvorí 1. marca 2027, uviedol primátor."))
    later = T0 + timedelta(days=2)
    assert _claims(checker, "Plaváreň otvoria až v lete", "Nová plaváreň na Športovej ulici sa otvorí "
                   "15. júna 2027, tvrdia stavbári.", later) == ["15. júna 2027"]
    assert _claims(checker, "Plaváreň otvoria v marci", "Nová plaváreň na Športovej ulici sa otvorí "
                   "1. marca 2027.", later) == []
    # another topic with another date is not a claim about the pool
    assert _claims(checker, "Trhy", "Vianočné trhy na námestí potrvajú do 6. januára 2027.", later) == []


def test_a_release_is_the_record_only_for_articles_published_after_it() -> None:
    checker = _checker(_release("Oprava mosta na Hlavnej ulici sa predĺži, most sa otvorí 20. decembra 2026.",
                                published=T0))
    text = "Opravený most na Hlavnej ulici sa otvorí 5. decembra 2026."
    assert _claims(checker, "Most", text, T0 - timedelta(days=3)) == []  # written before the postponement
    assert _claims(checker, "Most", text, T0 + timedelta(hours=5)) == ["5. decembra 2026"]


def test_an_amended_figure_in_a_later_release_is_right_and_the_newest_release_is_quoted() -> None:
    first = _release("Rozpočet mesta na rok 2026 je 9,2 mil. EUR.", published=T0, rid="r1")
    amended = _release("Po zmene je rozpočet mesta na rok 2026 vo výške 9,8 mil. EUR.",
                       published=T0 + timedelta(days=20), rid="r2")
    checker = _checker(first, amended)
    after = T0 + timedelta(days=25)
    assert _claims(checker, "Rozpočet", "Mesto hospodári s rozpočtom 9,8 milióna eur.", after) == []
    assert _claims(checker, "Rozpočet", "Mesto hospodári s rozpočtom 9,2 milióna eur.", after) == []
    doc = make_document("Rozpočet", "Mesto hospodári s rozpočtom 11,5 milióna eur.", "sk")
    [c] = checker.check(doc.fields, "sk", 2026, after)
    assert c.fact.url == amended.url and "9,8 mil. EUR" in c.fact.statement


def test_records_are_stored_and_a_new_version_of_a_release_replaces_its_figures(tmp_path: Path) -> None:
    state = State(tmp_path / "store.db")
    try:
        v1 = records_from_release(_release("Poplatok za odpad na rok 2026 je 30 eur na osobu."), "sk")
        state.records_replace("lipany", "r1", [r.to_row() for r in v1])
        assert [OfficialRecord.from_row(r) for r in state.records("lipany")] == v1
        v2 = records_from_release(_release("Poplatok za odpad na rok 2026 je 32 eur na osobu."), "sk")
        state.records_replace("lipany", "r1", [r.to_row() for r in v2])
        assert [r["cue"] for r in state.records("lipany")] == ["32 eur"]
        assert state.records("other-town") == []
    finally:
        state.close()


# --- end to end: the demo newsroom with the profile's facts removed ---------------------------------------------

server = pytest.importorskip("presswatch.newsroom.server", reason="the local newsroom is not built yet")

DEMO = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
DEMO_BASE = "http://127.0.0.1:8765"
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


@dataclass
class Run:
    before: dict[str, Clipping]  # after the news only (no release polled yet)
    after: dict[str, Clipping]  # after the releases arrived
    rechecked: int
    records: int


def _by_path(index: SqliteIndex, state: State, municipality: str) -> dict[str, Clipping]:
    out = {}
    for row in state.execute("SELECT id, url FROM queue WHERE state = 'done'"):
        c = index.get(row["id"])
        if c is not None and c.municipality == municipality:
            out[row["url"].split("/", 3)[3]] = c
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    mp = pytest.MonkeyPatch()
    mp.setenv("PRESSWATCH_CRAWL_START_DELAY", "0.1")
    tmp = tmp_path_factory.mktemp("official")
    db = tmp / "store.db"
    with server.Newsroom(now=NOW) as nr:
        full = load_profile_rebased(DEMO, [(DEMO_BASE, nr.base_url)])
        no_facts = full.model_copy(update={"facts": []})
        news_only = no_facts.model_copy(update={"sources": full.sources.model_copy(update={"releases": []})})
        state, index = State(db), SqliteIndex(db)
        try:
            # first the news (feeds and the crawled site), no release yet
            FeedPoller.from_profile(news_only, state).poll_all()
            run_crawl(DEMO, "hronske-site", db, base_url_override=nr.base_url, timeout_s=120)
            PageFetcher.from_profile(news_only, state).fetch_pending()
            Processor.from_profile(news_only, state, index).run_all()
            before = _by_path(index, state, full.id)
            # then the municipality's releases arrive
            FeedPoller.from_profile(no_facts, state).poll_all()
            PageFetcher.from_profile(no_facts, state).fetch_pending()
            report = Processor.from_profile(no_facts, state, index).run_all()
            yield Run(before, _by_path(index, state, full.id), report.rechecked, report.records)
        finally:
            index.close()
            state.close()
    mp.undo()


def _misleading(c: Clipping) -> list[Flag]:
    return [f for f in c.enrichment.flags if f.type == "misleading"]


def test_without_releases_only_the_unverified_accusation_is_misleading(run: Run) -> None:
    flagged = [p for p, c in run.before.items() if _misleading(c)]
    assert len(flagged) == 1 and flagged[0].startswith("horcan/") and "uplatok" in flagged[0]  # the bribery story


def test_the_releases_alone_make_the_bridge_and_budget_stories_misleading(run: Run) -> None:
    assert run.records >= 5
    flagged = {p: _misleading(c)[0] for p, c in run.after.items() if _misleading(c)}
    bridge = next(f for p, f in flagged.items() if "most-na-mlynskej-otvoria-az-na-jar" in p)
    budget = next(f for p, f in flagged.items() if "hospodari-s-rozpoctom" in p)
    [r] = [r for r in bridge.reasons if r.record]
    assert r.cue == "31. marca 2027" and "15. decembra 2026" in r.record
    assert r.record_url and "/mesto/" in r.record_url and "most-na-mlynskej-otvorime-15-decembra" in r.record_url
    [r] = [r for r in budget.reasons if r.record][:1]
    assert "27,3" in r.cue and "24,8 mil. EUR" in r.record and r.record_url and "/mesto/" in r.record_url
    # nothing else became misleading because of the releases, and the releases are not flagged against themselves
    assert {p for p in flagged if "uplatok" not in p} == {
        p for p in flagged if "most-na-mlynskej-otvoria" in p or "hospodari-s-rozpoctom" in p}
    assert not any(p.startswith("mesto/") for p in flagged)


def test_a_story_indexed_before_the_release_is_rechecked_when_it_arrives(run: Run) -> None:
    path = next(p for p in run.before if "most-na-mlynskej-otvoria-az-na-jar" in p)
    assert not _misleading(run.before[path]) and _misleading(run.after[path])
    assert run.rechecked >= 2
    # the re-check changed only the misleading flag: the critical flag and the rest are as they were
    assert [f for f in run.after[path].enrichment.flags if f.type != "misleading"] == \
        [f for f in run.before[path].enrichment.flags if f.type != "misleading"]


def test_people_see_the_release_a_claim_contradicts_and_only_a_web_link_is_kept() -> None:
    from presswatch.digest.i18n import locale
    from presswatch.digest.views import flag_views
    from presswatch.records import Reason

    def view(url: str) -> object:
        reason = Reason(cue="5. decembra 2026", quote="Most sa otvorí 5. decembra 2026.", field="text", start=0,
                        end=31, record="Most sa otvorí 20. decembra 2026.", fact_id="r1#1", record_url=url)
        [fv] = flag_views(_profile(), locale("sk"), [Flag("misleading", 0.7, (reason,))])
        return fv.reasons[0]

    good = view("https://lipany.example/spravy/most")
    assert good.record == "Most sa otvorí 20. decembra 2026." and good.record_url == "https://lipany.example/spravy/most"
    assert view("javascript:alert(1)").record_url is None
