"""Which sentences of an article speak about the municipality — where sentiment and criticism are read.

A sentence is in scope when it names the municipality, one of its officials or bodies (mentions.py), or refers
to the local authority generically ("radnica", "vedenie mesta", "the council", "belediye": `municipal.txt`);
the sentence right after such a sentence is in scope too (it usually continues about the same subject), and so
are the title and the first sentence of a relevant article. A sentence about the national government
(`national.txt`: "vláda", "ministerstvo", "Ankara", "Владата") is marked: criticism there is aimed at the state,
not at us, even when our mayor says it.
"""

from __future__ import annotations

from dataclasses import dataclass

from presswatch.enrich import lexicons
from presswatch.enrich.document import Document, FieldText
from presswatch.enrich.mentions import MentionResult


@dataclass(frozen=True, slots=True)
class ScopedSentence:
    field: FieldText
    index: int  # sentence index in the field
    start: int  # token range
    end: int
    direct: bool  # names the municipality, an official or body, or the local authority generically
    national: bool  # speaks about the national government
    lead: bool  # title or first sentence of the text

    @property
    def quote(self) -> str:
        return self.field.quote(self.index)

    @property
    def span(self) -> tuple[int, int]:
        return self.field.sentences[self.index]


def scope(doc: Document, mres: MentionResult, relevant: bool, lang: str) -> list[ScopedSentence]:
    """The sentences in scope, title first; empty when the article is not about the municipality."""
    if not relevant:
        return []
    municipal = lexicons.cues(lang, "municipal")
    national = lexicons.cues(lang, "national")
    out: list[ScopedSentence] = []
    for ft in doc.fields:
        named = mres.sentences.get(ft.name, set())
        other = mres.other_sentences.get(ft.name, set())
        prev_about = False
        for idx, (s, e) in enumerate(ft.sent_tokens):
            if s == e:
                continue
            is_nat = national.any(ft.keys, s, e)
            direct = idx in named or municipal.any(ft.keys, s, e)
            lead = ft.name == "title" or idx == 0
            about = direct or (prev_about and not is_nat) or lead
            if idx in other and idx not in named:
                about = False
            if about:
                out.append(ScopedSentence(ft, idx, s, e, direct, is_nat, lead))
            prev_about = direct
    return out
