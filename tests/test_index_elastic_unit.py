"""The parts of the Elasticsearch backend that need no server: the query compiler, the index templates and
analysis chains, the bulk actions, the documents, the retry configuration and connection errors. What ES does with
them is the contract suite's job (tests/test_index_contract.py, `es` marker)."""

from __future__ import annotations

import json
import re
import socket
import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from elasticsearch.helpers.actions import expand_action

from presswatch.enrich.text import fold, stem
from presswatch.index import BackendUnavailable, open_index
from presswatch.index.base import SavedSearch, SearchQuery
from presswatch.index.elastic import (
    LANG_ANALYZERS,
    LANGS,
    RETRY_ON_STATUS,
    UPSERT_SCRIPT,
    ElasticIndex,
    ElasticUnavailable,
    _fold_mappings,
    _suffix_pattern,
    analysis_settings,
    client_config,
    compile_query,
    facet_aggs,
    facet_buckets,
    from_document,
    index_templates,
    load_actions,
    percolate_query,
    redact,
    saved_document,
    to_document,
    upsert_actions,
)
from presswatch.index.query import AllOf, AnyOf, DateRange, Filter, Not, ParsedQuery, Phrase, QueryError, Word
from presswatch.profile import ProfileError, parse_profile
from presswatch.records import Article, Clipping, Enrichment, Flag, Mention, Reason, Sentiment

T0 = datetime(2026, 11, 5, 9, 30, tzinfo=UTC)
BUILT_IN = {"standard", "whitespace", "czech", "lithuanian", "turkish", "english"}


def clip(cid: str = "c1", *, status: str = "new", lang: str = "sk", cluster_id: str | None = None) -> Clipping:
    return Clipping(
        article=Article(id=cid, url=f"https://news.example/{cid}", outlet="sme", title="Primátor Hrušovský",
                        text="Primátora Hrušovského kritizovali.", published=T0, lang=lang),
        enrichment=Enrichment(lang=lang, relevant=True, officials=("hrusovsky",), bodies=(),
                              mentions=(Mention("body", "council", "zastupiteľstvo", 0, 5, "text"),),
                              sentiment=Sentiment("negative", -0.4),
                              flags=(Flag("critical", 0.8, (Reason("kritizovali", "x", "text", 0, 1),)),
                                     Flag("critical", 0.5, ()))),
        municipality="bratislava", cluster_id=cluster_id, fingerprint=0xFFFF_0000_FFFF_0001, status=status)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a query body."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def terms_on(body: dict[str, Any], field: str) -> list[Any]:
    return [d["term"][field]["value"] for d in walk(body) if "term" in d and field in d["term"]]


def tree(*include: Any, exclude: tuple[Any, ...] = ()) -> ParsedQuery:
    return ParsedQuery(include=tuple(include), exclude=exclude)


# --- compile_query -------------------------------------------------------------------------------------------
def test_a_word_matches_its_folded_form_or_its_stem_in_the_clippings_language() -> None:
    body = compile_query(tree(Word("primátora")), SearchQuery())
    word = body["bool"]["must"][0]["bool"]
    assert word["minimum_should_match"] == 1
    phrases = [d["match_phrase"] for d in walk(word) if "match_phrase" in d]
    assert {next(iter(p)) for p in phrases} == {"title.folded", "text.folded"}
    # the stem of each language, restricted to the clippings in that language
    stems = terms_on(word, "stems")
    assert stem("primátora", "sk") in stems and stem("primátora", "tr") in stems
    tr_clause = next(d for d in word["should"] if "bool" in d and terms_on(d, "stems") == [stem("primátora", "tr")])
    assert tr_clause["bool"]["filter"][1] == {"terms": {"lang": ["tr"]}}
    # the Slovak rules are enrich.text.stem's default: that clause covers every language not given its own stem
    default = next(d for d in word["should"] if "bool" in d and terms_on(d, "stems") == [stem("primátora", None)])
    assert "tr" in default["bool"]["must_not"][0]["terms"]["lang"]
    assert "sk" not in default["bool"]["must_not"][0]["terms"]["lang"]


def test_stem_groups_cover_every_language_exactly_once() -> None:
    for word in ("primátora", "Hrusovsky", "Aydemir'in", "градоначалникот", "mayors"):
        word_q = compile_query(tree(Word(word)), SearchQuery())["bool"]["must"][0]["bool"]["should"]
        groups = [d["bool"] for d in word_q if "bool" in d]
        listed = [lang for g in groups for f in g["filter"] if "terms" in f for lang in f["terms"]["lang"]]
        defaults = [g for g in groups if "must_not" in g or not any("terms" in f for f in g["filter"])]
        assert len(defaults) == 1, word
        assert len(listed) == len(set(listed)), word  # no language in two groups
        for g in groups:  # each group's stem is that language's stem
            for f in g["filter"]:
                if "terms" in f:
                    assert {stem(word, lang) for lang in f["terms"]["lang"]} == set(terms_on(g, "stems"))


def test_phrases_are_exact_on_the_folded_text_without_stems() -> None:
    body = compile_query(tree(Phrase(("nový", "most"))), SearchQuery())
    assert not terms_on(body["bool"]["must"], "stems")
    assert {"title.folded", "text.folded"} == {k for d in walk(body["bool"]["must"]) if "match_phrase" in d
                                               for k in d["match_phrase"]}
    assert all(v["query"] == "nový most" for d in walk(body) if "match_phrase" in d for v in d["match_phrase"].values())


def test_or_exclusion_and_groups_become_bool_clauses() -> None:
    parsed = tree(AnyOf((Word("most"), Phrase(("nový", "park")))),
                  AllOf((Word("rada"), Not(Word("futbal")))), exclude=(Word("hokej"),))
    body = compile_query(parsed, SearchQuery())["bool"]
    any_of, all_of = body["must"]
    assert any_of["bool"]["minimum_should_match"] == 1 and len(any_of["bool"]["should"]) == 2
    assert len(all_of["bool"]["must"]) == 1 and len(all_of["bool"]["must_not"]) == 1
    assert stem("futbal", "sk") in terms_on(all_of["bool"]["must_not"], "stems")
    assert stem("hokej", "sk") in terms_on(body["must_not"], "stems")
    assert not terms_on(body["must"], "stems") or stem("hokej", "sk") not in terms_on(body["must"], "stems")


def test_only_exclusions_means_everything_except() -> None:
    body = compile_query(tree(exclude=(Word("hokej"),)), SearchQuery(relevant=None))["bool"]
    assert "must" not in body and "should" not in body and body["must_not"]


def test_field_filters_and_keyword_filters() -> None:
    parsed = tree(Filter("outlet", "sme"), Filter("official", "hrusovsky"), Filter("flag", "critical"),
                  Filter("sentiment", "negative"), Filter("status", "drafted"), Filter("lang", "sk"),
                  Filter("body", "council"))
    body = compile_query(parsed, SearchQuery())["bool"]
    must = body["must"]
    assert {"term": {"outlet": {"value": "sme", "case_insensitive": True}}} in must
    assert {"term": {"official_refs": {"value": "hrusovsky", "case_insensitive": True}}} in must
    assert {"term": {"body_refs": {"value": "council", "case_insensitive": True}}} in must
    assert {"term": {"critical": {"value": True}}} in must
    assert {"term": {"sentiment.label": {"value": "negative"}}} in must
    assert {"term": {"status": {"value": "drafted"}}} in must
    assert "should" not in body  # no text: nothing to rank, newest first
    keyword = compile_query(None, SearchQuery(municipality="bratislava", outlet="sme", status="new",
                                              sentiment="positive", official="a", body="b", lang="sk",
                                              critical=True, misleading=False, since=T0,
                                              until=T0 + timedelta(days=1)))["bool"]["filter"]
    assert {"term": {"municipality": {"value": "bratislava"}}} in keyword
    assert {"term": {"relevant": {"value": True}}} in keyword  # analysts see relevant clippings by default
    assert {"term": {"misleading": {"value": False}}} in keyword
    assert {"range": {"dated": {"gte": "2026-11-05T09:30:00+00:00", "lt": "2026-11-06T09:30:00+00:00"}}} in keyword
    assert not any("relevant" in d.get("term", {}) for d in compile_query(None, SearchQuery(relevant=None))
                   ["bool"]["filter"])


@pytest.mark.parametrize("bad", [SearchQuery(status="closed"), SearchQuery(sentiment="angry"),
                                 SearchQuery(tz="Mars/Olympus")])
def test_bad_keyword_values_are_query_errors(bad: SearchQuery) -> None:
    with pytest.raises(QueryError):
        compile_query(None, bad)


def test_date_ranges_are_local_days_in_the_query_time_zone() -> None:
    body = compile_query(tree(DateRange(date(2026, 11, 1), date(2026, 12, 1))),
                         SearchQuery(tz="Europe/Bratislava"))["bool"]["must"][0]
    assert body == {"range": {"dated": {"gte": "2026-10-31T23:00:00+00:00", "lt": "2026-11-30T23:00:00+00:00"}}}
    summer = compile_query(tree(DateRange(date(2026, 7, 1), None)), SearchQuery(tz="Europe/Vilnius"))
    assert summer["bool"]["must"][0] == {"range": {"dated": {"gte": "2026-06-30T21:00:00+00:00"}}}
    # the first day east of UTC starts before what datetime can represent: nothing is before it
    assert compile_query(tree(DateRange(None, date(1, 1, 1))), SearchQuery(tz="Asia/Tokyo"))["bool"]["must"][0] \
        == {"match_none": {}}
    assert compile_query(tree(DateRange(date(1, 1, 1), None)), SearchQuery(tz="Asia/Tokyo"))["bool"]["must"][0] \
        == {"match_all": {}}
    assert compile_query(tree(DateRange(date(9999, 12, 31), None)), SearchQuery(tz="America/Los_Angeles"))[
        "bool"]["must"][0] == {"range": {"dated": {"gte": "9999-12-31T08:00:00+00:00"}}}


def test_language_subfields_only_rank() -> None:
    body = compile_query(tree(Word("primátor"), Phrase(("nový", "most"))), SearchQuery())["bool"]
    assert body["minimum_should_match"] == 0
    fields = body["should"][0]["multi_match"]["fields"]
    assert {f"text.{lang}" for lang in LANGS} <= set(fields) and f"title.sk^{3:g}" in fields
    # the language subfields never appear where a match is decided
    assert not [d for d in walk(body["must"]) if "multi_match" in d]


def test_compiled_queries_are_plain_json() -> None:
    parsed = tree(Word("Hrusovsky"), AnyOf((Filter("outlet", "sme"), DateRange(date(2026, 1, 1), None))),
                  exclude=(Phrase(("a", "b")),))
    text = json.dumps(compile_query(parsed, SearchQuery(since=T0, tz="Europe/Skopje")))
    assert json.loads(text)["bool"]


# --- templates and analysis ----------------------------------------------------------------------------------
def test_templates_versioned_with_aliases_and_per_language_subfields() -> None:
    templates = index_templates("pw")
    assert set(templates) == {"pw-clippings", "pw-saved", "pw-status"}
    for name, body in templates.items():
        assert body["index_patterns"] == [f"{name}-*"] and body["version"] >= 1
    clippings = templates["pw-clippings"]["template"]
    analysis = clippings["settings"]["analysis"]
    props = clippings["mappings"]["properties"]
    assert clippings["mappings"]["dynamic"] is False
    for field in ("title", "text"):
        sub = props[field]["fields"]
        assert set(sub) == {"folded", *LANGS}
        for lang in LANGS:
            analyzer = sub[lang]["analyzer"]
            assert analyzer in BUILT_IN or analyzer in analysis["analyzer"], (field, lang, analyzer)
    assert {LANG_ANALYZERS[x] for x in ("cs", "lt", "tr", "en")} == {"czech", "lithuanian", "turkish", "english"}
    for keyword in ("municipality", "outlet", "lang", "status", "officials", "bodies", "official_refs",
                    "body_refs", "flag_types", "cluster_id", "story", "fingerprint", "id"):
        assert props[keyword] == {"type": "keyword"}, keyword
    assert props["sentiment"]["properties"]["label"] == {"type": "keyword"}
    assert props["published"]["type"] == props["dated"]["type"] == "date"
    saved = templates["pw-saved"]["template"]
    assert saved["mappings"]["properties"]["saved_query"] == {"type": "percolator"}
    # a percolator index must map every field the stored queries use, with the same analysis
    assert set(props) <= set(saved["mappings"]["properties"])
    assert saved["settings"]["analysis"] == analysis
    # every custom analyzer's parts exist
    for a in analysis["analyzer"].values():
        for cf in a.get("char_filter", []):
            assert cf in analysis["char_filter"]
        assert a["tokenizer"] in analysis["tokenizer"] or a["tokenizer"] in {"standard", "whitespace"}
        for f in a["filter"]:
            assert f in analysis["filter"] or f in {"lowercase", "asciifolding"}


def _java_replace(pattern: str, word: str) -> str:
    # The pattern uses only syntax Java and Python read alike; "$1" is Java's group reference.
    return re.sub(pattern, r"\1", word)


@pytest.mark.parametrize("lang,words", [
    ("sk", ["primatora", "primatorovi", "hrusovskeho", "kovacikovej", "starostom", "mestami", "zastupitelstvo",
            "ovcami", "mesto", "pes", "ulica"]),
    ("mk", ["gradonacalnikot", "silegov", "ulicata", "budzetot", "opstinite", "grad", "skopje"]),
])
def test_custom_stemmers_strip_the_suffixes_enrich_text_strips(lang: str, words: list[str]) -> None:
    pattern = _suffix_pattern(lang)
    for word in words:
        assert _java_replace(pattern, word) == stem(word, lang), word


def _char_filter(text: str) -> str:
    rules = dict(rule.split(" => ") for rule in _fold_mappings())
    rules = {k: (" " if v == "\\u0020" else v) for k, v in rules.items()}
    out = "".join(rules.get(ch, ch) for ch in text)
    return re.sub("[ъьЪЬ]", "", out)


@pytest.mark.parametrize("text", ["Градоначалникот Шилегов", "ЃОРЃИ Ќосе Џиновски", "Hrušovský Kováčiková",
                                  "Petrauskienė", "İstanbul Başkanı", "Łódź Đurić", "Объявление"])
def test_the_folded_analyzer_folds_as_enrich_text_does(text: str) -> None:
    # what pw_folded does after the char filters: lowercase, then asciifolding (approximated by dropping marks)
    filtered = _char_filter(text).lower()
    folded = "".join(c for c in unicodedata.normalize("NFKD", filtered) if not unicodedata.combining(c))
    assert folded.split() == fold(text).split()


def test_char_filter_rules_are_unique() -> None:
    keys = [rule.split(" => ")[0] for rule in _fold_mappings()]
    assert len(keys) == len(set(keys)) and all(len(k) == 1 for k in keys)


def test_apostrophes_break_words_as_in_fts5() -> None:
    assert _char_filter("Aydemir'in Aydemir’in").split() == ["Aydemir", "in", "Aydemir", "in"]
    assert "pw_words" in analysis_settings()["tokenizer"]


# --- documents and bulk actions ------------------------------------------------------------------------------
def test_document_adds_the_search_fields_and_reads_back() -> None:
    c = clip(cluster_id=None)
    doc = to_document(c)
    assert "status" not in doc  # the index owns it
    assert doc["story"] == "c1" and to_document(clip(cluster_id="k"))["story"] == "k"
    assert doc["official_refs"] == ["hrusovsky"] and doc["body_refs"] == ["council"]
    assert doc["flag_types"] == ["critical"]
    assert doc["dated"] == "2026-11-05T09:30:00+00:00"
    assert stem("Primátora", "sk") in doc["stems"].split()
    assert doc["fingerprint"] == "ffff0000ffff0001"
    back = from_document({**doc, "status": "drafted"})
    assert back.status == "drafted" and back.article == c.article and back.enrichment == c.enrichment


def test_upsert_actions_keep_the_status_of_an_existing_clipping() -> None:
    now = datetime(2026, 11, 6, tzinfo=UTC)
    [action] = list(upsert_actions([clip(status="published")], "pw-clippings", now))
    meta, body = expand_action(action)
    assert meta == {"update": {"_index": "pw-clippings", "_id": "c1", "retry_on_conflict": 3}}
    assert body is not None and set(body) == {"script", "upsert"}
    assert body["upsert"]["status"] == "new"  # a new clipping starts "new", whatever the record says
    assert "status" not in body["script"]["params"]["doc"]
    assert body["script"]["params"]["doc"]["indexed_at"] == now.isoformat()
    assert "ctx._source.status = status" in UPSERT_SCRIPT and "putAll(params.doc)" in UPSERT_SCRIPT
    json.dumps(body)


def test_load_actions_write_the_status_carried() -> None:
    [action] = list(load_actions([clip(status="acknowledged")], "pw-clippings"))
    meta, body = expand_action(action)
    assert meta == {"index": {"_index": "pw-clippings", "_id": "c1"}}
    assert body is not None and body["status"] == "acknowledged"


def test_saved_searches_are_compiled_for_the_percolator() -> None:
    s = SavedSearch(id="bridge", municipality="bratislava", name="Most", query="most -hokej outlet:sme",
                    created_at=T0)
    doc = saved_document(s)
    assert doc["saved"]["query"] == s.query and doc["saved"]["created_at"] == "2026-11-05T09:30:00+00:00"
    compiled = doc["saved_query"]["bool"]
    assert {"term": {"municipality": {"value": "bratislava"}}} in compiled["filter"]
    assert not any("relevant" in d.get("term", {}) for d in compiled["filter"])
    with pytest.raises(QueryError):
        saved_document(SavedSearch(id="x", municipality="m", name="x", query="(most"))
    perc = percolate_query("bratislava", [{"id": "a"}, {"id": "b"}])["bool"]
    assert perc["must"][0]["percolate"] == {"field": "saved_query", "documents": [{"id": "a"}, {"id": "b"}]}
    assert {"term": {"saved.alert": {"value": True}}} in perc["filter"]


# --- facets --------------------------------------------------------------------------------------------------
def test_facet_aggregations_and_buckets() -> None:
    aggs = facet_aggs(["outlet", "flag", "day", "week"], 5, "Europe/Bratislava")
    assert aggs["outlet"]["terms"] == {"field": "outlet", "size": 5, "order": [{"_count": "desc"}, {"_key": "asc"}]}
    assert aggs["flag"]["terms"]["field"] == "flag_types"
    for f in ("day", "week"):
        h = aggs[f]["date_histogram"]
        assert h["calendar_interval"] == f and h["time_zone"] == "Europe/Bratislava" and h["min_doc_count"] == 0
    assert "outlet" not in facet_aggs(["outlet"], 0, "UTC")  # size 0: no buckets, and ES refuses a terms size 0
    week = facet_buckets("week", {"buckets": [{"key_as_string": "2026-11-02", "doc_count": 3},
                                              {"key_as_string": "2026-11-09", "doc_count": 0}]})
    assert [(b.key, b.count) for b in week] == [("2026-W45", 3), ("2026-W46", 0)]
    assert facet_buckets("day", None) == ()


# --- client configuration and connection errors -------------------------------------------------------------
def test_retry_configuration() -> None:
    config = client_config()
    assert set(RETRY_ON_STATUS) >= {429, 502, 503, 504} and config["retry_on_status"] == RETRY_ON_STATUS
    assert config["max_retries"] >= 3 and config["retry_on_timeout"] is True
    client = Elasticsearch("http://127.0.0.1:9200", **config)  # builds the transport; sends nothing
    assert client._retry_on_status == RETRY_ON_STATUS and client._max_retries == config["max_retries"]
    client.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_is_named_without_its_credentials() -> None:
    url = f"http://analyst:secret@127.0.0.1:{_closed_port()}"
    with pytest.raises(ElasticUnavailable) as err:
        ElasticIndex.from_url(url, max_retries=0, request_timeout=2)
    assert f"127.0.0.1:{url.rsplit(':', 1)[1]}" in str(err.value) and "secret" not in str(err.value)
    assert isinstance(err.value, ConnectionError)
    assert redact("https://u:p@es.example:9243/x") == "https://es.example:9243/x"
    assert redact("http://es:9200") == "http://es:9200"


PROFILE = """
municipality: {id: demo, name: Demo, country: SK, languages: [sk], timezone: Europe/Bratislava}
store: {backend: elasticsearch%s}
"""


def test_open_index_needs_a_url_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRESSWATCH_ES_URL", raising=False)
    with pytest.raises(BackendUnavailable, match="PRESSWATCH_ES_URL or store.url"):
        open_index(parse_profile(PROFILE % ""))
    port = _closed_port()
    with pytest.raises(ElasticUnavailable, match=f"127.0.0.1:{port}"):
        open_index(parse_profile(PROFILE % f", url: 'http://127.0.0.1:{port}', prefix: town-a"))
    monkeypatch.setenv("PRESSWATCH_ES_URL", f"http://127.0.0.1:{port}/env")  # the environment wins
    with pytest.raises(ElasticUnavailable, match="/env"):
        open_index(parse_profile(PROFILE % ", url: 'http://127.0.0.1:1'"))


@pytest.mark.parametrize("store", [", url: 'http://user:pw@es:9200'", ", url: 'es:9200'", ", prefix: Town A"])
def test_profile_refuses_credentials_and_bad_names(store: str) -> None:
    with pytest.raises(ProfileError):
        parse_profile(PROFILE % store)
