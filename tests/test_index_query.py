"""The query language parser (index/query.py): words, phrases, groups and the field filters `name:value` and
`date:` ranges, with the errors an analyst gets for a mistyped field or a bad value (what and where)."""

from __future__ import annotations

from datetime import date

import pytest

from presswatch.index.base import STATUSES
from presswatch.index.query import (
    FILTER_FIELDS,
    AllOf,
    AnyOf,
    DateRange,
    Filter,
    Not,
    ParsedQuery,
    Phrase,
    QueryError,
    Word,
    parse_query,
)


def parsed(text: str) -> ParsedQuery:
    result = parse_query(text)
    assert result is not None
    return result


# --- every filter field -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "node"), [
    ("outlet:sme", Filter("outlet", "sme")),
    ("official:hrusovsky", Filter("official", "hrusovsky")),
    ("body:council", Filter("body", "council")),
    ("lang:sk", Filter("lang", "sk")),
    ("flag:critical", Filter("flag", "critical")),
    ("flag:misleading", Filter("flag", "misleading")),
    ("sentiment:positive", Filter("sentiment", "positive")),
    ("sentiment:neutral", Filter("sentiment", "neutral")),
    ("sentiment:negative", Filter("sentiment", "negative")),
    *((f"status:{s}", Filter("status", s)) for s in STATUSES),
    # values and field names are case-insensitive; a quoted value may hold spaces
    ("Outlet:SME", Filter("outlet", "sme")),
    ("FLAG:Critical", Filter("flag", "critical")),
    ('outlet:"Denník N"', Filter("outlet", "denník n")),
    ("outlet:„my outlet“", Filter("outlet", "my outlet")),
    ("body:city-council_2", Filter("body", "city-council_2")),
])
def test_each_field_filter(text: str, node: Filter) -> None:
    assert parsed(text) == ParsedQuery(include=(node,), exclude=())


def test_every_field_is_covered() -> None:
    assert set(FILTER_FIELDS) == {"outlet", "official", "body", "lang", "flag", "sentiment", "status"}


@pytest.mark.parametrize(("text", "start", "end"), [
    ("date:2026-11-05", date(2026, 11, 5), date(2026, 11, 6)),  # one day
    ("date:2026-11", date(2026, 11, 1), date(2026, 12, 1)),  # a month
    ("date:2026-12", date(2026, 12, 1), date(2027, 1, 1)),
    ("date:2026", date(2026, 1, 1), date(2027, 1, 1)),  # a year
    ("date:2026-11-01..2026-11-20", date(2026, 11, 1), date(2026, 11, 21)),  # both days included
    ("date:2026-11-05..2026-11-05", date(2026, 11, 5), date(2026, 11, 6)),
    ("date:2026-10..2026-11", date(2026, 10, 1), date(2026, 12, 1)),
    ("date:2026-11-01..", date(2026, 11, 1), None),
    ("date:..2026-11-20", None, date(2026, 11, 21)),
    ("date:>=2026-11-01", date(2026, 11, 1), None),
    ("date:>2026-11-01", date(2026, 11, 2), None),
    ("date:<2026-11-20", None, date(2026, 11, 20)),
    ("date:<=2026-11-20", None, date(2026, 11, 21)),
    ("date:2024-02-29", date(2024, 2, 29), date(2024, 3, 1)),
    ('date:"2026-11"', date(2026, 11, 1), date(2026, 12, 1)),
    ("date:2026-3-7", date(2026, 3, 7), date(2026, 3, 8)),
])
def test_date_forms(text: str, start: date | None, end: date | None) -> None:
    assert parsed(text).include == (DateRange(start, end),)


# --- filters stand wherever a word may ------------------------------------------------------------------------
def test_filters_mix_with_words_groups_or_and_exclusion() -> None:
    assert parsed("primátor date:2026-11").include == (Word("primátor"), DateRange(date(2026, 11, 1),
                                                                                    date(2026, 12, 1)))
    assert parsed("-flag:critical") == ParsedQuery(include=(), exclude=(Filter("flag", "critical"),))
    assert parsed("NOT status:dismissed most").exclude == (Filter("status", "dismissed"),)
    assert parsed("(outlet:a OR outlet:b) most").include == (
        AnyOf((Filter("outlet", "a"), Filter("outlet", "b"))), Word("most"))
    assert parsed("most OR flag:critical").include == (AnyOf((Word("most"), Filter("flag", "critical"))),)
    assert parsed('(primátor -outlet:sme) OR "nový most"').include == (
        AnyOf((AllOf((Word("primátor"), Not(Filter("outlet", "sme")))), Phrase(("nový", "most")))),)
    assert parsed("most AND lang:sk").include == (Word("most"), Filter("lang", "sk"))
    assert parsed("-(outlet:a flag:critical)").exclude == (AllOf((Filter("outlet", "a"), Filter("flag", "critical"))),)


def test_a_query_of_filters_only_is_valid_and_has_no_terms() -> None:
    q = parsed("outlet:sme flag:critical date:2026-11")
    assert len(q.include) == 3 and q.exclude == ()
    assert q.terms() == []
    assert parsed("primátor outlet:sme").terms() == [Word("primátor")]


@pytest.mark.parametrize(("text", "words"), [
    ("12:30", ("12", "30")),  # a time
    ("https://sme.sk/most", ("https", "sme", "sk", "most")),  # a URL
    ("mailto:info@mesto.sk", ("mailto", "info", "mesto", "sk")),
    ("Hrušovský:", ("Hrušovský",)),  # a trailing colon pasted from a headline
    ("a1:b", ("a1", "b")),  # not letters only: not a field name
])
def test_times_urls_and_trailing_colons_stay_words(text: str, words: tuple[str, ...]) -> None:
    q = parsed(text)
    found = [n.text for n in q.include if isinstance(n, Word)]
    found += [w.text for n in q.include if isinstance(n, AllOf) for w in n.items if isinstance(w, Word)]
    assert tuple(found) == words
    assert not any(isinstance(n, Filter | DateRange) for n in q.include)


def test_quoted_field_like_text_is_a_phrase() -> None:
    assert parsed('"title:most"').include == (Phrase(("title", "most")),)


# --- errors: what and where ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "reason", "position"), [
    ("outet:pohronie", "unknown field 'outet'", 0),
    ("most title:primátor", "unknown field 'title'", 5),
    ("-stav:nový", "unknown field 'stav'", 1),
    ("flag:foo", "flag: is one of critical, misleading", 5),
    ("most status:bar", "status: is one of new, acknowledged", 12),
    ("sentiment:angry", "sentiment: is one of positive, neutral, negative", 10),
    ("lang:slovak", "language code", 5),
    ("date:2026-13-40", "not a calendar date", 5),
    ("date:2026-02-30", "not a calendar date", 5),
    ("date:yesterday", "not a date", 5),
    ("date:2026-11-20..2026-11-01", "ends before it starts", 5),
    ("date:2026-11-01..2026-02-30", "not a calendar date", 17),
    ("date:..", "needs a first or a last day", 5),
    ("date:>=", "not a date", 7),
    ("outlet:", "needs a value", 0),
    ("outlet: sme", "needs a value", 0),
    ('outlet:"sme', "quote is never closed", 7),
    ('outlet:""', "needs a value", 0),
    ("(outlet:a OR", "OR needs", 10),
    ("- flag:critical", None, None),  # a lone dash is punctuation; the filter stands alone
    ("outlet:a OR -flag:critical", "excluded term", 9),
    ("(-flag:critical)", "at least one word", 0),
])
def test_malformed_filters_say_what_and_where(text: str, reason: str | None, position: int | None) -> None:
    if reason is None:
        assert parsed(text).include == (Filter("flag", "critical"),)
        return
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert reason in info.value.reason, info.value.reason
    assert info.value.position == position
    caret = info.value.pointer().splitlines()[1]
    assert caret.index("^") == position


def test_unknown_field_error_names_the_fields() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("outet:sme")
    for name in (*FILTER_FIELDS, "date"):
        assert f"{name}:" in info.value.reason


def test_filters_count_towards_the_term_limit() -> None:
    with pytest.raises(QueryError, match="filters"):
        parse_query(" ".join(f"outlet:o{i}" for i in range(65)))
