"""The analysts' query language, parsed once into a small tree that every backend compiles for itself.

User input never reaches a search engine as syntax: the SQLite backend compiles the tree into an FTS5 MATCH
expression with every token quoted, the Elasticsearch backend will compile the same tree into a bool query.

Grammar (OR binds tighter than the implicit AND, as in web search engines):

    query   := clause*                        clauses are ANDed; AND between clauses is allowed and changes nothing
    clause  := unary ("OR" unary)*            OR must be upper case; "or" is a word
    unary   := ("-" | "NOT") primary | primary   exclusion; "-" directly before the term, "NOT" as a word
    primary := word | "phrase" | "(" query ")"

- a word matches itself without diacritics or any form with the same stem (`enrich.text.stem`): `primátor`
  finds `primátora`, `Hrusovsky` finds `Hrušovský`, `gradonacalnik` finds `градоначалникот`;
- a "phrase" matches those words in that order, exactly but diacritics-insensitive, no stemming; typographic
  quotes work too („…“ “…” «…»);
- a chunk that `enrich.text.words` splits into several words (`e-mail`, `Banská-Bystrica`) means all of them;
- punctuation on its own is ignored; a query of exclusions only means "everything except".

Malformed input (an unclosed quote or parenthesis, OR or NOT with nothing to apply to, an exclusion inside OR)
raises `QueryError` naming the problem and its position.
"""

from __future__ import annotations

from dataclasses import dataclass

from presswatch.enrich.text import words

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


Node = Word | Phrase | AllOf | AnyOf | Not


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
    kind: str  # words | phrase | ( | ) | OR | AND | NOT | -
    pos: int
    words: tuple[str, ...] = ()


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
            if nxt is None or nxt.kind not in ("words", "phrase", "("):
                what = "-" if tok.kind == "-" else "NOT"
                raise self.error(f"{what} must be followed by the word, phrase or group to exclude", tok)
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
    if isinstance(node, Word | Phrase):
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
        raise QueryError(f"the query has {n_terms} words and phrases; at most {MAX_TERMS} are allowed", text, 0)
    include = tuple(item for item in items if not isinstance(item, Not))
    exclude = tuple(item.item for item in items if isinstance(item, Not))
    return ParsedQuery(include=include, exclude=exclude)


__all__ = ["QueryError", "ParsedQuery", "Word", "Phrase", "AllOf", "AnyOf", "Not", "Node", "parse_query"]
