"""An article's title and text analysed once for every enrichment step: folded word keys, offsets, sentences.

Matching works on folded words (`text.fold`), offsets always point into the original field text, so a mention
found in "Primatorovi Turcanovi" or "Примáторовi" reports exactly the characters the reader sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from presswatch.enrich.lemmas import lemma
from presswatch.enrich.lexicons import Keys
from presswatch.enrich.text import WORD_RE, fold_map, sentence_spans
from presswatch.records import Field


class Token(NamedTuple):
    key: str  # folded word; a suffix after an apostrophe is cut off (Aydemir'in → aydemir, Bishop's → bishop)
    norm: str  # folded word as written, suffix included
    start: int  # offsets in the original field text
    end: int
    cap: bool  # starts with a capital letter in the original
    sent: int  # index of its sentence in the field
    first: bool  # first word of its sentence
    lemma: str = ""  # folded lemma (lemmas.py) of the word as written; the key itself where none is known


@dataclass(frozen=True, slots=True)
class FieldText:
    name: Field
    text: str
    tokens: tuple[Token, ...]
    keys: tuple[str, ...]  # token keys, for cue matching (a `lexicons.Keys`, which also carries the lemmas)
    sentences: tuple[tuple[int, int], ...]  # character spans
    sent_tokens: tuple[tuple[int, int], ...]  # token index range of each sentence

    def gap(self, i: int) -> str:
        """The original text between token i and token i + 1 (punctuation, spaces)."""
        return self.text[self.tokens[i].end : self.tokens[i + 1].start]

    def joined(self, i: int) -> bool:
        """Token i and i + 1 are separated by spaces only (no comma, dash, quote or full stop)."""
        return i + 1 < len(self.tokens) and not self.gap(i).strip()

    def sentence_of(self, tok: int) -> tuple[int, int]:
        return self.sent_tokens[self.tokens[tok].sent]

    def quote(self, sent: int) -> str:
        s, e = self.sentences[sent]
        return self.text[s:e]


@dataclass(frozen=True, slots=True)
class Document:
    title: FieldText
    text: FieldText
    lang: str

    @property
    def fields(self) -> tuple[FieldText, FieldText]:
        return (self.title, self.text)


def analyze(text: str, name: Field, lang: str | None = None) -> FieldText:
    """Tokens, sentences and keys of one field; with `lang`, each token also gets its lemma (else its key)."""
    folded, index = fold_map(text)
    spans = sentence_spans(text) if name == "text" else ([(0, len(text))] if text.strip() else [])
    if not spans and text:
        spans = [(0, len(text))]
    tokens: list[Token] = []
    sent_tokens: list[tuple[int, int]] = []
    sent = 0
    next_start = spans[1][0] if len(spans) > 1 else len(text) + 1
    first_tok = 0
    last_sent = -1
    for m in WORD_RE.finditer(folded):
        fs, fe = m.span()
        start, end = index[fs], index[fe - 1] + 1
        while start >= next_start:  # the token belongs to a later sentence
            sent_tokens.append((first_tok, len(tokens)))
            first_tok = len(tokens)
            sent += 1
            next_start = spans[sent + 1][0] if sent + 1 < len(spans) else len(text) + 1
        norm = m.group()
        key = norm.split("'", 1)[0] if "'" in norm else norm
        # a capitalised word inside a sentence of the body is a name: no lemma (see lemmas.py)
        name_like = name == "text" and sent == last_sent and text[start].isupper()
        lem = lemma(text[start:end], lang) if lang and not name_like else key
        tokens.append(Token(key, norm, start, end, text[start].isupper(), sent, sent != last_sent, lem or key))
        last_sent = sent
    while len(sent_tokens) < len(spans):
        sent_tokens.append((first_tok, len(tokens)))
        first_tok = len(tokens)
    keys = Keys([t.key for t in tokens], [t.lemma for t in tokens])
    return FieldText(name, text, tuple(tokens), keys, tuple(spans), tuple(sent_tokens))


def make_document(title: str, text: str, lang: str) -> Document:
    return Document(analyze(title, "title", lang), analyze(text, "text", lang), lang)
