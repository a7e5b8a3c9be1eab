"""The analysts' query language, parsed once into a small tree that every backend compiles for itself.

User input never reaches a search engine as syntax: the SQLite backend compiles the tree into an FTS5 MATCH
expression with every token quoted, the Elasticsearch backend will compile the same tree into a bool query.

Grammar (OR binds tighter than the implicit AND, as in web search engines):

    query   := clause*                        clauses are ANDed; AND between clauses is allowed and changes nothing
    clause  := unary ("OR" unary)*            OR must be upper case; "or" is a word
    unary   := ("-" | "NOT") primary | primary   exclusion; "-" directly before the term, "NOT" as a word
    primary := word | "phrase" | filter | "(" query ")"
    filter  := field ":" value | field ":" "quoted value"    no space around the colon
    field   := outlet | official | body | lang | flag | sentiment | status | date    (case-insensitive)

- a word matches itself without diacritics or any form with the same stem (`enrich.text.stem`): `primátor`
  finds `primátora`, `Hrusovsky` finds `Hrušovský`, `gradonacalnik` finds `градоначалникот`;
- a "phrase" matches those words in that order, exactly but diacritics-insensitive, no stemming; typographic
  quotes work too („…“ “…” «…»);
- a chunk that `enrich.text.words` splits into several words (`e-mail`, `Banská-Bystrica`) means all of them;
- punctuation on its own is ignored; a query of exclusions only means "everything except";
- a field filter (`Filter`, `DateRange`) stands wherever a word may: `-flag:critical`, `(outlet:a OR outlet:b)`,
  `primátor date:2026-11`; a query of filters only lists what they select, newest first. Values:
  `outlet:`/`official:`/`body:` an id, `lang:` a 2-3 letter code, `flag:critical|misleading`,
  `sentiment:positive|neutral|negative`, `status:` one of `index.base.STATUSES`, `date:` the forms in `DateRange`;
- `name:value` where `name` is letters but not a field (`outet:pohronie`, `title:most`) is an error naming the
  fields, so a typo never silently becomes a word search; a time or a URL (`12:30`, `https://…`) and a word with
  a trailing colon (`Hrušovský:`) stay words. To search for such text, quote it: `"title:most"`.

Malformed input (an unclosed quote or parenthesis, OR or NOT with nothing to apply to, an exclusion inside OR,
an unknown field, a bad filter value, an impossible or reversed date range) raises `QueryError` naming the problem
and its position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from presswatch.enrich.text import words
from presswatch.index.base import STATUSES

MAX_QUERY_CHARS = 2000
MAX_TERMS = 64
MAX_DEPTH = 16

# Opening quote → the characters that may close it. Slovak, Czech, Lithuanian and Macedonian typeset „…“,
# Turkish and English “…”; people paste both, and word processors mix them up.
_QUOTES = {'"': '"“”', "„": "“”\"", "“": "”“\"", "”": "”\"", "«": "»", "»": "«"}
_STOP = set(_QUOTES) | {"(", ")"}


class QueryError(ValueError):
    """A query the user has to fix: `reason` says what is wrong, `position` (0-based) where in `query`."""

    def __init__(self, reason: str, query: str = "", position: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.query = query
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.reason
        return f"{self.reason} (at character {self.position + 1} of {self.query!r})"

    def pointer(self) -> str:
        """Two lines for a terminal: the query and a caret under the problem."""
        shown = "".join(" " if c.isspace() else c for c in self.query)
        pos = self.position if self.position is not None else 0
        return f"{shown}\n{' ' * pos}^ {self.reason}"


# --- the tree ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Word:
    """One word: matches its form without diacritics or its stem."""

    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words in this order, exactly (diacritics-insensitive)."""

    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every positive item, and none of the `Not` items (a group has at least one positive item)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one item (never a `Not`)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


# Field filters: `name:value`. Values are ids (outlet, official, body), a language code, a flag type
# (critical | misleading), a sentiment label or a response status; matched exactly, case-insensitively.
FILTER_FIELDS: tuple[str, ...] = ("outlet", "official", "body", "lang", "flag", "sentiment", "status")


@dataclass(frozen=True, slots=True)
class Filter:
    """A field filter, e.g. `outlet:pohronie`, `flag:critical`, `status:acknowledged` (value lower-cased)."""

    field: str  # one of FILTER_FIELDS
    value: str


@dataclass(frozen=True, slots=True)
class DateRange:
    """`date:` on the publication time, in local days of `SearchQuery.tz`: `date:2026-11-05` (one day),
    `date:2026-11` (a month), `date:2026-11-01..2026-11-20` (both days included), `date:2026-11-01..`,
    `date:..2026-11-20`, `date:>=2026-11-01`, `date:<2026-11-20`."""

    start: date | None  # first day included; None: open
    end: date | None  # first day NOT included; None: open


Node = Word | Phrase | AllOf | AnyOf | Not | Filter | DateRange


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A parsed query: clippings must match every `include` node and none of the `exclude` nodes.
    `include` is empty when the query only excludes ("everything except")."""

    include: tuple[Node, ...]
    exclude: tuple[Node, ...]

    def terms(self) -> list[Word | Phrase]:
        """The positive words and phrases, for highlighting."""
        out: list[Word | Phrase] = []

        def walk(node: Node) -> None:
            if isinstance(node, Word | Phrase):
                out.append(node)
            elif isinstance(node, AllOf | AnyOf):
                for item in node.items:
                    walk(item)
            # Not: excluded terms are never highlighted

        for node in self.include:
            walk(node)
        return out


# --- lexing --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # words | phrase | filter | ( | ) | OR | AND | NOT | -
    pos: int
    words: tuple[str, ...] = ()
    node: Filter | DateRange | None = None  # kind "filter"


# `name:` at the start of a chunk, name made of letters (any script): a field, or a mistyped one.
_FIELD_PREFIX = re.compile(r"([^\W\d_]+):")
_ALL_FIELDS = (*FILTER_FIELDS, "date")
# Schemes whose `name:` starts a URL rather than a filter (`mailto:x@y.sk` has no `//`).
_URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps", "file", "mailto", "tel", "www", "urn", "news"})
_FILTER_VALUES: dict[str, tuple[str, ...]] = {
    "flag": ("critical", "misleading"),
    "sentiment": ("positive", "neutral", "negative"),
    "status": STATUSES,
}
_EXAMPLES = {"outlet": "outlet:sme", "official": "official:hrusovsky", "body": "body:council", "lang": "lang:sk",
             "flag": "flag:critical", "sentiment": "sentiment:negative", "status": "status:new",
             "date": "date:2026-11"}
_LANG_CODE = re.compile(r"[a-z]{2,3}")
_PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def _period(value: str, text: str, pos: int) -> tuple[date, date]:
    """A year, month or day as [first day, first day after)."""
    m = _PERIOD.fullmatch(value)
    if m is None:
        raise QueryError(f"{value!r} is not a date; write 2026-11-05 (a day), 2026-11 (a month) or 2026 (a year)",
                         text, pos)
    year, month, day = int(m[1]), m[2], m[3]
    try:
        if day is not None:
            first = date(year, int(month), int(day))
            return first, date.fromordinal(first.toordinal() + 1)
        if month is not None:
            first = date(year, int(month), 1)
            return first, date(year + 1, 1, 1) if first.month == 12 else date(year, first.month + 1, 1)
        return date(year, 1, 1), date(year + 1, 1, 1)
    except (ValueError, OverflowError):
        raise QueryError(f"{value!r} is not a calendar date", text, pos) from None


def _date_range(value: str, text: str, pos: int) -> DateRange:
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            first, after = _period(value[len(op):], text, pos + len(op))
            if op == ">=":
                return DateRange(first, None)
            if op == ">":
                return DateRange(after, None)
            return DateRange(None, first if op == "<" else after)
    if ".." in value:
        left, right = value.split("..", 1)
        if not left and not right:
            raise QueryError("a date range needs a first or a last day: date:2026-11-01..2026-11-20", text, pos)
        start = _period(left, text, pos)[0] if left else None
        end = _period(right, text, pos + len(left) + 2)[1] if right else None
        if start is not None and end is not None and start >= end:
            raise QueryError("this date range ends before it starts", text, pos)
        return DateRange(start, end)
    first, after = _period(value, text, pos)
    return DateRange(first, after)


def _filter_node(name: str, value: str, text: str, pos: int) -> Filter | DateRange:
    """The node for `name:value`; `pos` is where the value starts (errors point there)."""
    if name == "date":
        return _date_range(value.strip(), text, pos)
    value = value.strip().lower()
    allowed = _FILTER_VALUES.get(name)
    if allowed is not None and value not in allowed:
        raise QueryError(f"{name}: is one of {', '.join(allowed)}, not {value!r}", text, pos)
    if name == "lang" and not _LANG_CODE.fullmatch(value):
        raise QueryError(f"lang: takes a language code such as sk or cs, not {value!r}", text, pos)
    return Filter(name, value)


def _lex_field(text: str, i: int) -> tuple[_Tok, int] | None:
    """A filter token starting at `i` and where it ends, or None when the chunk is not a filter (a word)."""
    m = _FIELD_PREFIX.match(text, i)
    if m is None:
        return None
    name, n = m[1].lower(), len(text)
    j = m.end()  # the value starts here
    rest_blank = j >= n or text[j].isspace() or text[j] in "()"
    if name in _URL_SCHEMES or text.startswith("//", j):
        return None
    if name not in _ALL_FIELDS:
        if rest_blank:  # "Hrušovský: most" pasted from a headline: a word with a colon
            return None
        raise QueryError(f"unknown field {m[1]!r}; the fields are {', '.join(f + ':' for f in _ALL_FIELDS)}"
                         " (to search for this text, put it in quotes)", text, i)
    if j < n and text[j] in _QUOTES:
        closers = _QUOTES[text[j]]
        k = next((k for k in range(j + 1, n) if text[k] in closers), -1)
        if k < 0:
            raise QueryError("this quote is never closed", text, j)
        value, value_pos, end = text[j + 1 : k], j + 1, k + 1
    else:
        end = j
        while end < n and not text[end].isspace() and text[end] not in _STOP:
            end += 1
        value, value_pos = text[j:end], j
    if not value.strip():
        raise QueryError(f"{name}: needs a value right after the colon, e.g. {_EXAMPLES[name]}", text, i)
    return _Tok("filter", i, node=_filter_node(name, value, text, value_pos)), end


def _search_words(text: str) -> tuple[str, ...]:
    # `\w` also matches "_" and marks that the FTS tokenizer treats as separators; a "word" without a letter or a
    # digit would compile to an empty phrase, which matches nothing.
    return tuple(w for w, _, _ in words(text) if any(c.isalnum() for c in w))


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _QUOTES:
            closers = _QUOTES[ch]
            j = next((k for k in range(i + 1, n) if text[k] in closers), -1)
            if j < 0:
                raise QueryError("this quote is never closed", text, i)
            found = _search_words(text[i + 1 : j])
            if found:  # an empty phrase ("" or "?!") asks for nothing
                toks.append(_Tok("phrase", i, found))
            i = j + 1
        elif ch in "()":
            toks.append(_Tok(ch, i))
            i += 1
        elif ch == "-" and i + 1 < n and (text[i + 1].isalnum() or text[i + 1] in _STOP):
            toks.append(_Tok("-", i))
            i += 1
        elif (field := _lex_field(text, i)) is not None:
            toks.append(field[0])
            i = field[1]
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _STOP:
                j += 1
            chunk = text[i:j]
            if chunk in ("OR", "AND", "NOT"):
                toks.append(_Tok(chunk, i))
            else:
                found = _search_words(chunk)
                if found:  # punctuation alone (a dash between words, "&", "*") is not a term
                    toks.append(_Tok("words", i, found))
            i = j
    return toks


# --- parsing -------------------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str, toks: list[_Tok]) -> None:
        self.text = text
        self.toks = toks
        self.i = 0

    def error(self, reason: str, tok: _Tok | None = None) -> QueryError:
        return QueryError(reason, self.text, tok.pos if tok else len(self.text))

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def sequence(self, depth: int, opener: _Tok | None) -> list[Node]:
        items: list[Node] = []
        while (tok := self.peek()) is not None and tok.kind != ")":
            if tok.kind == "AND":
                self.take()
                nxt = self.peek()
                if not items or nxt is None or nxt.kind in (")", "OR", "AND"):
                    raise self.error("AND needs a word, phrase or group on both sides", tok)
                continue
            items.append(self.either(depth))
        tok = self.peek()
        if opener is not None:
            if tok is None:
                raise self.error("this parenthesis is never closed", opener)
            self.take()
        elif tok is not None:
            raise self.error("this closing parenthesis has no opening one", tok)
        return items

    def either(self, depth: int) -> Node:
        alternatives = [self.unary(depth)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", ")"):
                raise self.error("OR needs a word, phrase or group on both sides", tok)
            alternatives.append(self.unary(depth))
            if isinstance(alternatives[-1], Not) or isinstance(alternatives[0], Not):
                raise self.error("an excluded term cannot be one side of OR", tok)
        return alternatives[0] if len(alternatives) == 1 else AnyOf(tuple(alternatives))

    def unary(self, depth: int) -> Node:
        tok = self.peek()
        assert tok is not None
        if tok.kind in ("-", "NOT"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("words", "phrase", "filter", "("):
                what = "-" if tok.kind == "-" else "NOT"
                raise self.error(f"{what} must be followed by the word, phrase, filter or group to exclude", tok)
            return Not(self.primary(depth))
        return self.primary(depth)

    def primary(self, depth: int) -> Node:
        tok = self.take()
        if tok.kind == "words":
            if len(tok.words) == 1:
                return Word(tok.words[0])
            return AllOf(tuple(Word(w) for w in tok.words))
        if tok.kind == "phrase":
            return Phrase(tok.words)
        if tok.kind == "filter":
            assert tok.node is not None
            return tok.node
        if tok.kind == "(":
            if depth >= MAX_DEPTH:
                raise self.error(f"parentheses nested more than {MAX_DEPTH} deep", tok)
            items = self.sequence(depth + 1, tok)
            if not items:
                raise self.error("these parentheses are empty", tok)
            if all(isinstance(item, Not) for item in items):
                raise self.error("a group needs at least one word that is not excluded", tok)
            return items[0] if len(items) == 1 else AllOf(tuple(items))
        if tok.kind == "OR":
            raise self.error("OR needs a word, phrase or group on both sides", tok)
        raise self.error(f"unexpected {tok.kind}", tok)  # not reached: unary/sequence handle the rest


def _count_terms(node: Node) -> int:
    if isinstance(node, Word | Phrase | Filter | DateRange):
        return 1
    if isinstance(node, Not):
        return _count_terms(node.item)
    return sum(_count_terms(item) for item in node.items)


def parse_query(text: str) -> ParsedQuery | None:
    """Parse an analyst's query; None when there is nothing to search for (blank text: list newest first)."""
    if not text.strip():
        return None
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters", text[:80] + "…", None)
    toks = _lex(text)
    if not toks:
        raise QueryError("the query has no words to search for", text, 0)
    parser = _Parser(text, toks)
    items = parser.sequence(0, None)
    n_terms = sum(_count_terms(item) for item in items)
    if n_terms > MAX_TERMS:
        raise QueryError(f"the query has {n_terms} words, phrases and filters; at most {MAX_TERMS} are allowed",
                         text, 0)
    include = tuple(item for item in items if not isinstance(item, Not))
    exclude = tuple(item.item for item in items if isinstance(item, Not))
    return ParsedQuery(include=include, exclude=exclude)


__all__ = ["FILTER_FIELDS", "AllOf", "AnyOf", "DateRange", "Filter", "Node", "Not", "ParsedQuery", "Phrase",
           "QueryError", "Word", "parse_query"]


# --- shared by the backends: the query's time zone and the week facet's keys --------------------------------------
@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone a query's dates are local days in; an unknown name is the analyst's error, said so."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"unknown time zone {name!r}; use an IANA name such as Europe/Bratislava") from None


def week_key(day: date) -> str:
    """The ISO week of a day as the week facet names it: `2026-W47`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
