"""The profile's officials and bodies in an article, in every inflected form, with offsets into the original text.

How a mention is decided (DESIGN.md, "Inflection-aware matching"):
- Full name in any case form (given name + surname, or an alias of the official) is that official.
- A surname alone counts only with support: the official's full name elsewhere in the article, a title attached
  to it ("primátorovi Turčanovi", "Sayın Aydemir'e"), or an article about this municipality (its name, or its
  officials named in full with their titles); never when another given name is attached to the same surname
  anywhere in the article ("Dominik Mráz", "Callum Bishop"), and not at a sentence start when the same word is
  also written in lower case in the article (the common noun: "Mráz prichádza ...", "silný mráz").
- A bare title ("primátor uviedol", "the mayor said", "градоначалникот") counts as the one official holding that
  title or role only when the article is about this municipality, the title is not tied to another place or
  person ("primátor Nových Lazian", "the mayor of Kelsworth", "Gökçeyayla Belediye Başkanı") and no such
  title of the same role appears elsewhere in the article. Council members are many: a bare "poslanec" is nobody.
- Body names work the same way: a name that contains the municipality is enough, a generic alias
  ("zastupiteľstvo", "taryba") needs the article to be about this municipality and no other place attached.
  Bare body nouns (`bodies.txt`: "zastupiteľstvo", "Советот", "the council", "meclis") are generic aliases of
  the one profile body whose name contains a noun of the same key in any language; a body of another place
  anywhere in the article ("zastupiteľstvo v Nových Lazianoch") makes its bare mentions nobody's, and so does a
  longer name of another authority ("krajské zastupiteľstvo", "TBMM") or a national cue in the same sentence for
  a one-word generic body ("Meclis'te kabul edilen yasa ... Ankara").
- The municipality's places (`municipality.places`: neighbourhoods, villages, short names: "v Hôrke", "na
  Podháji") are found like the name, but weigh less (relevance.py); a place with another place name attached
  ("Spišská Hôrka", "Podháj v Martine", "Hôrka nad Váhom") is another place, and then so is every bare mention of
  it in the article.
- In an article from a local or regional outlet of the profile, a bare title or a generic body is ours
  (the outlet covers this town); a bare surname still needs the article's own context.

Words are looked up in tables of inflected forms built once per profile (`inflect.word_forms`), on folded text
(`text.fold`), so "Primatorovi Turcanovi", "Hlaváčkem", "Petrauskienės", "Aydemir’den" and "Јакимовски" /
"Jakimovski" all match; offsets come from the original characters (`document.Token`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from presswatch.enrich import lexicons
from presswatch.enrich.document import Document, FieldText, Token
from presswatch.enrich.inflect import word_forms
from presswatch.enrich.text import translit_variants
from presswatch.profile import Profile
from presswatch.records import Field, Mention

COLLECTIVE_ROLES = frozenset({"council_member"})  # a bare title of these roles never names one person
NOT_TITLES = "not"  # key in roles.txt: word forms that are never titles
LEAD_SENTENCES = 2  # the lead: the title and the first sentences of the text


@dataclass(frozen=True, slots=True)
class Phrase:
    """A multi-word name: per position the set of accepted word forms and whether it must be capitalised."""

    forms: tuple[frozenset[str], ...]
    caps: tuple[bool, ...]
    kind: str  # town | place | body | notbody | title | alias (an official's alias: a full name)
    ref: str  # body id | official id | title key (see TitleInfo)
    specific: bool = False  # body: names the municipality itself


@dataclass(frozen=True, slots=True)
class TitleInfo:
    officials: tuple[str, ...]  # who may hold it
    role: str


@dataclass(frozen=True, slots=True)
class Hit:
    phrase: Phrase
    start: int  # token indices, end exclusive
    end: int


@dataclass(slots=True)
class Evidence:
    """What the mentions say about whether the article is about the municipality (see relevance.py)."""

    town_title: int = 0
    town_lead: int = 0
    town_rest: int = 0
    town_list: int = 0
    full_names: int = 0  # distinct officials named in full
    titled: int = 0  # officials named together with their title or tied to the municipality
    weak: int = 0  # bare titles and bare surnames accepted
    bodies_specific: int = 0
    bodies_generic: int = 0
    places: int = 0  # mentions of the municipality's places (municipality.places), not in a list
    places_list: int = 0  # ... as one item of an enumeration of places
    place_topic: bool = False  # a place of ours is named and the article speaks of the local authority
    other_place: int = 0  # titles and bodies of another place or another person
    home_outlet: bool = False  # a regional or local outlet of the profile: "primátor" there means ours
    anchored: bool = False

    def to_json(self) -> dict[str, int | bool]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(slots=True)
class MentionResult:
    mentions: tuple[Mention, ...]
    officials: tuple[str, ...]
    bodies: tuple[str, ...]
    evidence: Evidence
    # sentences (per field) that name the municipality, its officials or bodies: where sentiment and flags look
    sentences: dict[str, set[int]] = field(default_factory=dict)
    # sentences that name another place's title or body (a criticism there is not about us)
    other_sentences: dict[str, set[int]] = field(default_factory=dict)


@dataclass(slots=True)
class _Name:
    official: str
    given: tuple[frozenset[str], ...]
    initials: frozenset[str]
    surname: frozenset[str]


@dataclass(slots=True)
class _Candidate:
    """A provisional official mention before the article-level decisions."""

    official: str
    field: str
    start: int  # token indices
    end: int
    how: str  # full | alias | titled | place | bare_title | surname
    sent: int
    title_role: str | None = None


def _caps(word: str) -> bool:
    return word[:1].isupper()


class MentionMatcher:
    """Built once from a profile (`from_profile`); `find(document)` is the one entry point."""

    def __init__(self, profile: Profile, phrases: list[Phrase], names: list[_Name], titles: dict[str, TitleInfo],
                 langs: tuple[str, ...]) -> None:
        self.profile = profile
        self.langs = langs
        self.titles = titles
        self.names = {n.official: n for n in names}
        self.roles = {o.id: o.role for o in profile.officials}
        self._first: dict[str, list[Phrase]] = {}
        for p in phrases:
            for form in p.forms[0]:
                self._first.setdefault(form, []).append(p)
        self._surname: dict[str, list[str]] = {}
        self._given: dict[str, list[str]] = {}
        for n in names:
            for form in n.surname:
                self._surname.setdefault(form, []).append(n.official)
            for forms in n.given:
                for form in forms:
                    self._given.setdefault(form, []).append(n.official)
        all_langs = lexicons.LANGS
        # function words of the profile's languages (and their neighbours, and English): another language's
        # function word may be a name here ("net" is Lithuanian for "even")
        self.stop = lexicons.words(word_langs(langs), "stopwords")
        self.honorifics = lexicons.words(all_langs, "honorifics")
        self.generic_place = lexicons.words(all_langs, "places", "generic")
        self.links = lexicons.words(all_langs, "places", "link")
        self.conj = lexicons.words(all_langs, "places", "conj")
        self.modifiers = lexicons.words(all_langs, "places", "modifier")
        self.nameparts = lexicons.words(all_langs, "places", "namepart")

    # --- construction -----------------------------------------------------------------------------------------

    @classmethod
    def from_profile(cls, profile: Profile) -> MentionMatcher:
        langs = tuple(dict.fromkeys(profile.municipality.languages))
        phrases: list[Phrase] = []
        m = profile.municipality
        for name in dict.fromkeys([m.name, *m.aliases]):
            phrases.extend(_phrases(name, langs, "town", m.id, first_free=False))
        town_words = {w for p in phrases for f in p.forms for w in f}
        for place in dict.fromkeys(m.places):
            phrases.extend(_phrases(place, langs, "place", place, first_free=False))
        for body in profile.bodies:
            names = [body.name, *body.aliases]
            # "Harrowfield Borough Council (Full Council)": the part in brackets is another name of the body
            if "(" in body.name and body.name.rstrip().endswith(")"):
                head, _, inner = body.name.rstrip()[:-1].partition("(")
                names = [head.strip(), inner.strip(), *body.aliases]
            for name in dict.fromkeys(n for n in names if n):
                for p in _phrases(name, langs, "body", body.id, first_free=True):
                    specific = any(f & town_words for f, c in zip(p.forms, p.caps, strict=True) if c)
                    phrases.append(Phrase(p.forms, p.caps, p.kind, p.ref, specific))
        phrases.extend(_bare_bodies(profile, langs))
        titles: dict[str, TitleInfo] = {}
        by_role: dict[str, list[str]] = {}
        for o in profile.officials:
            by_role.setdefault(o.role, []).append(o.id)
        by_title: dict[str, list[str]] = {}
        for o in profile.officials:
            if o.title:
                by_title.setdefault(o.title.lower().strip(), []).append(o.id)
        for title, ids in by_title.items():
            key = f"profile:{title}"
            role = next(o.role for o in profile.officials if o.id == ids[0])
            titles[key] = TitleInfo(tuple(ids), role)
            phrases.extend(_phrases(title, langs, "title", key, first_free=True))
        for lang in lexicons.LANGS:
            for role, lex_titles in lexicons.keyed(lang, "roles").items():
                if role == NOT_TITLES:
                    continue
                key = f"role:{role}"
                titles.setdefault(key, TitleInfo(tuple(by_role.get(role, ())), role))
                for t in lex_titles:
                    phrases.extend(_phrases(t, (lang,), "title", key, first_free=True))
        # ordinary words that an inflected title would otherwise swallow ("má na starosti" is not "starosta")
        never = frozenset(w for lang in lexicons.LANGS for w in lexicons.words((lang,), "roles", NOT_TITLES).exact)
        phrases = [Phrase(tuple(f - never for f in p.forms), p.caps, p.kind, p.ref, p.specific)
                   if p.kind == "title" else p for p in phrases]
        people: list[_Name] = []
        for o in profile.officials:
            parts = o.name.split()
            if not parts:
                continue
            given = tuple(_forms(p, langs) for p in parts[:-1])
            initials = frozenset(v[0] for p in parts[:-1] for v in translit_variants(p) if v)
            people.append(_Name(o.id, given, initials, _forms(parts[-1], langs)))
            for alias in o.aliases:
                if len(alias.split()) > 1 and any(_caps(w) for w in alias.split()):
                    phrases.extend(_phrases(alias, langs, "alias", o.id, first_free=False))
                elif alias.strip():
                    phrases.extend(_phrases(alias, langs, "title" if not _caps(alias) else "alias",
                                            f"profile:{alias.lower()}" if not _caps(alias) else o.id,
                                            first_free=not _caps(alias)))
                    if not _caps(alias):
                        titles[f"profile:{alias.lower()}"] = TitleInfo((o.id,), o.role)
        return cls(profile, phrases, people, titles, langs)

    # --- matching ---------------------------------------------------------------------------------------------

    def hits(self, ft: FieldText) -> list[Hit]:
        """Phrase hits in one field, longest first where they overlap (alias > title > body > town on ties)."""
        toks = ft.tokens
        found: list[Hit] = []
        for i, tok in enumerate(toks):
            for p in self._first.get(tok.key, ()):
                n = len(p.forms)
                if i + n > len(toks):
                    continue
                ok = True
                for k in range(n):
                    t = toks[i + k]
                    if t.key not in p.forms[k] or (p.caps[k] and not t.cap) or (k and t.sent != tok.sent):
                        ok = False
                        break
                    if k and ft.gap(i + k - 1).strip() not in ("", "-"):
                        ok = False
                        break
                if ok:
                    found.append(Hit(p, i, i + n))
        towns = _non_overlapping([h for h in found if h.phrase.kind == "town"])
        others = _non_overlapping([h for h in found if h.phrase.kind not in ("town", "place")])
        # a town inside a longer name (a body named after the town) is part of that name; a town that only
        # overlaps a title or body ("Kalnavos savivaldybės | savivaldybės administracija") stays a town and ties
        # the title or body to it
        kept = [t for t in towns if not any(o.start <= t.start and t.end <= o.end for o in others)]
        # a place ("Hôrka") inside the town's name ("Starej Hôrke") or inside another name is part of that name
        places = [p for p in _non_overlapping([h for h in found if h.phrase.kind == "place"])
                  if not any(o.start < p.end and p.start < o.end for o in kept + others)]
        return sorted(others + kept + places, key=lambda h: (h.start, h.phrase.kind in ("town", "place")))

    def find(self, doc: Document, home_outlet: bool = False) -> MentionResult:
        """Mentions in a document; `home_outlet`: the article comes from a local outlet of the profile."""
        ev = Evidence(home_outlet=home_outlet)
        lowercase = {t.key for ft in doc.fields for t in ft.tokens if not t.cap}
        per_field: list[tuple[FieldText, list[Hit], dict[int, Hit]]] = []
        for ft in doc.fields:
            hs = self.hits(ft)
            cover = {k: h for h in hs if h.phrase.kind in ("town", "place") for k in range(h.start, h.end)}
            cover.update({k: h for h in hs if h.phrase.kind not in ("town", "place") for k in range(h.start, h.end)})
            per_field.append((ft, hs, cover))

        cands: list[_Candidate] = []
        conflicts: set[str] = set()  # officials whose surname carries another given name somewhere
        other_roles: set[str] = set()  # roles whose title is tied to another place or person somewhere
        town_sents: dict[str, set[int]] = {"title": set(), "text": set()}
        other_sents: dict[str, set[int]] = {"title": set(), "text": set()}
        body_hits: list[tuple[FieldText, Hit, str]] = []  # (field, hit, verdict: ours | other | generic)
        place_hits: list[tuple[FieldText, Hit, str]] = []  # (field, hit, verdict: ours | other | list | plain)
        not_bodies = False  # another authority's body with the same noun ("krajské zastupiteľstvo", "TBMM")

        for ft, hs, cover in per_field:
            # person names: runs of capitalised words that are not titles, places, honorifics or function words
            for run in self._runs(ft, cover):
                self._names_in_run(ft, run, lowercase, cands, conflicts)
            for h in hs:
                kind = h.phrase.kind
                sent = ft.tokens[h.start].sent
                if kind == "town":
                    town_sents[ft.name].add(sent)
                    if self._in_list(ft, h.start, h.end):
                        ev.town_list += 1
                    elif ft.name == "title":
                        ev.town_title += 1
                    elif sent < LEAD_SENTENCES:
                        ev.town_lead += 1
                    else:
                        ev.town_rest += 1
                elif kind == "place":
                    place_hits.append((ft, h, self._place_of_place(ft, h, cover, lowercase)))
                elif kind == "notbody":
                    not_bodies = True
                elif kind == "alias":
                    cands.append(_Candidate(h.phrase.ref, ft.name, h.start, h.end, "alias", sent))
                elif kind == "body":
                    verdict = "ours" if h.phrase.specific or _tied(h, hs) else self._place(ft, h, cover, lowercase)
                    body_hits.append((ft, h, verdict))
                    if verdict == "other":
                        other_sents[ft.name].add(sent)
                    elif verdict == "ours":
                        town_sents[ft.name].add(sent)
                elif kind == "title":
                    self._title(ft, h, cover, lowercase, cands, other_roles, other_sents, _tied(h, hs))

        # --- article-level decisions ---
        # a place that is somewhere in the article another town's ("Spišská Hôrka") is nowhere ours
        other_places = {h.phrase.ref for _, h, v in place_hits if v == "other"}
        our_places = [(ft, h, v) for ft, h, v in place_hits
                      if v not in ("other", "none") and h.phrase.ref not in other_places]
        ev.places = sum(1 for _, _, v in our_places if v != "list")
        ev.places_list = sum(1 for _, _, v in our_places if v == "list")
        if ev.places:
            topic = lexicons.cues(doc.lang, "municipal") if doc.lang in lexicons.LANGS else None
            ev.place_topic = topic is not None and any(topic.any(ft.keys) for ft in doc.fields)
        for ft, h, v in our_places:
            if v != "list":
                town_sents[ft.name].add(ft.tokens[h.start].sent)
        # a body of another place anywhere in the article: its generic mentions are that place's too
        other_bodies = {h.phrase.ref for _, h, v in body_hits if v == "other"}
        national = lexicons.cues(doc.lang, "national") if doc.lang in lexicons.LANGS else None
        for n, (ft, h, verdict) in enumerate(body_hits):
            if verdict != "generic":
                continue
            one_word = h.end - h.start == 1
            s0, s1 = ft.sent_tokens[ft.tokens[h.start].sent]
            if h.phrase.ref in other_bodies or (one_word and (not_bodies or (
                    national is not None and national.any(ft.keys, s0, s1)))):
                body_hits[n] = (ft, h, "nobody")
        full = {c.official for c in cands if c.how in ("full", "alias")}
        titled = {c.official for c in cands if c.how in ("titled", "place")}
        ev.full_names = len(full)
        town_named = ev.town_title + ev.town_lead + ev.town_rest > 0
        specific_body = any(v == "ours" and h.phrase.specific for _, h, v in body_hits)
        content_anchored = bool(town_named or specific_body or any(c.how == "place" for c in cands)
                                or (full & titled) or len(full) >= 2 or any(c.how == "alias" for c in cands)
                                or (ev.places and (ev.place_topic or full)))
        # a local outlet anchors titles and generic bodies, not bare surnames (which may be common words)
        ev.anchored = content_anchored or home_outlet
        fields = {"title": doc.title, "text": doc.text}
        accepted: list[_Candidate] = []
        for c in cands:
            if c.how in ("full", "alias", "titled", "place"):
                accepted.append(c)
            elif c.how == "surname":
                if c.official in conflicts:
                    continue
                if fields[c.field].tokens[c.end - 1].first and self.names[c.official].surname & lowercase:
                    continue  # "Mráz prichádza ..." where "mráz" (frost) is also written in lower case
                if c.official in full or c.official in titled or content_anchored:
                    accepted.append(c)
            elif c.how == "bare_title":
                if ev.anchored and c.title_role not in other_roles:
                    accepted.append(c)
        accepted = _merge_adjacent(_dedupe(accepted), fields)
        ev.titled = len(titled)
        ev.weak = sum(1 for c in accepted if c.how in ("surname", "bare_title"))
        ev.other_place = len(other_roles) + sum(1 for _, _, v in body_hits if v == "other")

        mentions: list[Mention] = []
        officials: dict[str, None] = {}
        bodies: dict[str, None] = {}
        sentences: dict[str, set[int]] = {"title": set(town_sents["title"]), "text": set(town_sents["text"])}
        for c in sorted(accepted, key=lambda c: (c.field != "title", c.start)):
            ft = fields[c.field]
            s, e = ft.tokens[c.start].start, ft.tokens[c.end - 1].end
            mentions.append(Mention("official", c.official, ft.text[s:e], s, e, _field(c.field)))
            officials.setdefault(c.official)
            sentences[c.field].add(c.sent)
        for ft, h, verdict in body_hits:
            if verdict == "ours" or (verdict == "generic" and ev.anchored):
                if h.phrase.specific:
                    ev.bodies_specific += 1
                else:
                    ev.bodies_generic += 1
                s, e = ft.tokens[h.start].start, ft.tokens[h.end - 1].end
                mentions.append(Mention("body", h.phrase.ref, ft.text[s:e], s, e, ft.name))
                bodies.setdefault(h.phrase.ref)
                sentences[ft.name].add(ft.tokens[h.start].sent)
        mentions.sort(key=lambda m: (m.field != "title", m.start))
        return MentionResult(tuple(mentions), tuple(officials), tuple(bodies), ev, sentences, other_sents)

    # --- helpers ----------------------------------------------------------------------------------------------

    def _plain(self, key: str) -> bool:
        """A function word, honorific or other word that is not part of a person's name."""
        return key in self.stop or key in self.honorifics or key.isdigit()

    def _namelike(self, tok: Token) -> bool:
        """A capitalised word that names something: not a function word (a capitalised function word in the
        middle of a sentence is part of a name: "Nové Zámky"), not an honorific or a kind of place."""
        if not tok.cap or tok.key in self.honorifics or tok.key.isdigit() or tok.key in self.generic_place:
            return False
        return not tok.first or tok.key not in self.stop

    def _runs(self, ft: FieldText, cover: dict[int, Hit]) -> Iterable[tuple[int, int]]:
        toks = ft.tokens
        i = 0
        n = len(toks)
        while i < n:
            if not toks[i].cap or i in cover or self._plain(toks[i].key):
                i += 1
                continue
            j = i + 1
            while j < n and toks[j].cap and j not in cover and not self._plain(toks[j].key) \
                    and toks[j].sent == toks[i].sent and _name_gap(ft, j - 1):
                j += 1
            yield i, j
            i = j

    def _names_in_run(self, ft: FieldText, run: tuple[int, int], lowercase: set[str],
                      cands: list[_Candidate], conflicts: set[str]) -> None:
        toks = ft.tokens
        i0, j0 = run
        for s in range(i0, j0):
            owners = self._surname.get(toks[s].key)
            if not owners:
                continue
            sent = toks[s].sent
            matched = False
            for off in owners:
                name = self.names[off]
                # walk back over given names (and initials) of this official
                g = s
                while g > i0 and (off in self._given.get(toks[g - 1].key, ())
                                  or (len(toks[g - 1].key) == 1 and toks[g - 1].key in name.initials)):
                    g -= 1
                if g < s:
                    cands.append(_Candidate(off, ft.name, g, s + 1, "full", sent))
                    matched = True
                elif s > i0 and not self._loose_first(toks, s - 1, lowercase):
                    conflicts.add(off)
                    matched = True
            if not matched:
                for off in owners:
                    cands.append(_Candidate(off, ft.name, self._honorific_start(ft, s), s + 1, "surname", sent))

    def _loose_first(self, toks: Sequence[Token], k: int, lowercase: set[str]) -> bool:
        """Token k is a capitalised word at a sentence start that is an ordinary word (seen in lower case)."""
        return bool(toks[k].first and toks[k].key in lowercase)

    def _honorific_start(self, ft: FieldText, s: int) -> int:
        k = s
        while k > 0 and ft.tokens[k - 1].key in self.honorifics and _name_gap(ft, k - 1) \
                and ft.tokens[k - 1].sent == ft.tokens[s].sent:
            k -= 1
        return k

    def _person_at(self, ft: FieldText, k: int, cover: dict[int, Hit]) -> tuple[str | None, int, bool]:
        """At token k a person's name starts: (our official or None, end token, is_a_name)."""
        toks = ft.tokens
        j = k
        while j < len(toks) and j not in cover and self._namelike(toks[j]) \
                and toks[j].sent == toks[k].sent and (j == k or _name_gap(ft, j - 1)):
            j += 1
        if j == k:
            return None, k, False
        for s in range(k, j):
            for off in self._surname.get(toks[s].key, ()):
                # every capitalised word before the surname must be this official's given name or initial
                if all(off in self._given.get(toks[g].key, ()) or toks[g].key in self.names[off].initials
                       for g in range(k, s)):
                    return off, s + 1, True
        return None, j, True

    def _title(self, ft: FieldText, h: Hit, cover: dict[int, Hit], lowercase: set[str],
               cands: list[_Candidate], other_roles: set[str], other_sents: dict[str, set[int]],
               tied: bool = False) -> None:
        toks = ft.tokens
        info = self.titles.get(h.phrase.ref)
        if info is None:
            return
        sent = toks[h.start].sent
        start = self._honorific_start(ft, h.start)
        # right: a name, our town (optionally after a link word: of / на / v), or something else capitalised
        k = h.end
        place = "ours" if tied else None
        place_end = h.end  # the mention extends over a town that follows ("the Mayor of Harrowfield")
        steps = 0
        while k < len(toks) and toks[k].sent == sent and steps < 4:
            gap = ft.gap(k - 1).strip()
            if gap not in ("", ","):
                break
            hk = cover.get(k)
            if hk is not None and hk.start == k and hk.phrase.kind == "town":
                place, k = "ours", hk.end
                place_end = k
                steps += 1
                continue
            if hk is not None:
                break
            tok = toks[k]
            if tok.key in self.honorifics:
                k += 1
                steps += 1
                continue
            if self._namelike(tok):
                off, end, is_name = self._person_at(ft, k, cover)
                if off is not None:
                    cands.append(_Candidate(off, ft.name, start, end, "titled", sent, info.role))
                    return
                if place != "ours":
                    place = "other"
                break
            if tok.key in self.links or tok.key in self.generic_place:
                k += 1
                steps += 1
                continue
            if gap == "" and not tok.cap and tok.key not in self.stop and steps < 2 and place is None:
                # a genitive after the title ("mluvčí petičního výboru Jitka Skálová"): look one word further
                k += 1
                steps += 1
                continue
            break
        # left: "Kalnavos rajono meras", "Kuzeykaya Belediye Başkanı", "Gökçeyayla Belediye Başkanı"
        if place is None:
            left = self._place_before(ft, h.start, sent, cover, lowercase)
            if left in ("ours", "other"):
                place = left
        if place == "other":
            other_roles.add(info.role)
            other_sents[ft.name].add(sent)
            return
        end = h.end
        if place == "ours":
            # extend the mention over the town around it ("primátor Javorovej Bystrice", "Kalnavos rajono meras")
            end = max(end, place_end)
            kk = h.start - 1
            while kk >= 0 and toks[kk].key in self.generic_place and kk not in cover:
                kk -= 1
            while kk >= 0 and kk in cover and cover[kk].phrase.kind == "town":
                start = cover[kk].start
                kk = start - 1
        resolvable = [o for o in info.officials if self.roles.get(o) not in COLLECTIVE_ROLES]
        if len(info.officials) != 1 or not resolvable:
            return  # nobody holds it, or several do ("poslanec"): a bare title names no one in particular
        how = "place" if place == "ours" else "bare_title"
        cands.append(_Candidate(resolvable[0], ft.name, start, end, how, sent, info.role))

    def _place(self, ft: FieldText, h: Hit, cover: dict[int, Hit], lowercase: set[str]) -> str:
        """Whether a generic body name is tied to our town, to another place, or to nothing."""
        toks = ft.tokens
        sent = toks[h.start].sent
        k = h.end
        steps = 0
        while k < len(toks) and toks[k].sent == sent and steps < 3 and ft.gap(k - 1).strip() in ("", ","):
            hk = cover.get(k)
            if hk is not None:
                return "ours" if hk.phrase.kind == "town" else "generic"
            tok = toks[k]
            if tok.key in self.links or tok.key in self.generic_place:
                k += 1
                steps += 1
                continue
            if self._namelike(tok):
                return "other"
            break
        return self._place_before(ft, h.start, sent, cover, lowercase) or "generic"

    def _place_of_place(self, ft: FieldText, h: Hit, cover: dict[int, Hit], lowercase: set[str]) -> str:
        """Whether a place of the profile ("Hôrka", "Podháj") is ours: "other" with another place name attached
        ("Spišská Hôrka", "Podháj v Martine", "Hôrka nad Váhom"), "none" where that cannot be told (a common
        noun or a capitalised word at a sentence start), "list" as one item of an enumeration of places, "ours"
        tied to our town ("Podháj v Starej Hôrke"), else "plain"."""
        toks = ft.tokens
        sent = toks[h.start].sent
        if toks[h.start].first and h.phrase.forms[0] & lowercase and h.end - h.start == 1:
            return "none"  # a common noun at a sentence start ("Hôrka" / "hôrka", a hillock)
        left = None
        k = h.start - 1
        if k >= 0 and toks[k].sent == sent and not ft.gap(k).strip():
            hk = cover.get(k)
            if hk is not None:
                if hk.phrase.kind == "town":
                    return "ours"
            elif self._namelike(toks[k]) and toks[k].key not in self.modifiers \
                    and not self._loose_first(toks, k, lowercase) and not _acronym(ft, k):
                # "Spišská Hôrka"; not "HK Hôrka" (a club named after the town). Every word is capitalised at a
                # sentence start ("Obyvatelia Podhája"): there the mention is dropped but does not mark the place
                if not toks[k].first:
                    return "other"
                left = "none"
        k = h.end
        steps = 0
        while k < len(toks) and toks[k].sent == sent and steps < 2 and not ft.gap(k - 1).strip():
            hk = cover.get(k)
            if hk is not None:
                if hk.phrase.kind == "town":
                    return "ours"
                break
            if toks[k].key in self.nameparts or toks[k].key in self.links:
                k += 1
                steps += 1
                continue
            if steps and self._namelike(toks[k]):
                return "other"  # "Podháj v Martine", "Hôrka nad Váhom"
            break
        if left:
            return left
        return "list" if self._in_list(ft, h.start, h.end) else "plain"

    def _place_before(self, ft: FieldText, start: int, sent: int, cover: dict[int, Hit],
                      lowercase: set[str]) -> str | None:
        """The place named just before a hit, in the same sentence ("Kalnavos rajono meras"): "ours" (our
        town), "other" (a name that is not ours), "generic" (another kind of phrase), or None (no place)."""
        toks = ft.tokens
        k = start - 1
        while k >= 0 and toks[k].sent == sent and ft.gap(k).strip() in ("", "-"):
            hk = cover.get(k)
            if hk is not None:
                return "ours" if hk.phrase.kind == "town" else "generic"
            tok = toks[k]
            if tok.key in self.generic_place:
                k -= 1
                continue
            if self._namelike(tok) and tok.key not in self.modifiers \
                    and not self._loose_first(toks, k, lowercase):
                return "other"
            break
        return None

    def _in_list(self, ft: FieldText, i: int, j: int) -> bool:
        """The town is one item of an enumeration of places ("Trnava, Senec, Javorová Bystrica, Levice a ...")
        rather than the subject: its sentence splits at commas and conjunctions into at least three short
        segments that start with a capital, the town's among them."""
        toks = ft.tokens
        s, e = ft.sent_tokens[toks[i].sent]
        segments: list[tuple[int, int]] = []
        begin = s
        for k in range(s, e):
            if toks[k].key in self.conj and k > begin:
                segments.append((begin, k))
                begin = k + 1
            elif k + 1 < e and any(c in ft.gap(k) for c in ",;:"):
                segments.append((begin, k + 1))
                begin = k + 1
        if begin < e:
            segments.append((begin, e))

        def short_name(a: int, b: int) -> bool:
            return 0 < b - a <= 4 and toks[a].cap and not (toks[a].first and toks[a].key in self.stop)

        ours = next(((a, b) for a, b in segments if a <= i < b), None)
        if ours is None or not short_name(*ours) or ours[1] < j:
            return False
        return sum(1 for a, b in segments if short_name(a, b)) >= 3


def word_langs(langs: Sequence[str]) -> tuple[str, ...]:
    """The languages whose word lists apply to a profile's articles: its own, their neighbours, English."""
    out = dict.fromkeys(langs)
    for lang in langs:
        out.update(dict.fromkeys({"sk": ("cs",), "cs": ("sk",)}.get(lang, ())))
    out.setdefault("en")
    return tuple(out)


def _acronym(ft: FieldText, k: int) -> bool:
    """Token k is written in capitals ("HK", "MFK", "TJ"): an organisation's abbreviation, not a place."""
    word = ft.text[ft.tokens[k].start : ft.tokens[k].end]
    return len(word) > 1 and word.isupper()


def _bare_bodies(profile: Profile, langs: Sequence[str]) -> list[Phrase]:
    """Bare body nouns (`bodies.txt`) as generic aliases of the profile's bodies, and the names of other
    authorities that share such a noun ("krajské zastupiteľstvo", "TBMM") as `notbody` phrases.

    A key's nouns ("council": zastupiteľstvo, taryba, совет, meclis, council) name the one body whose name or alias
    contains one of them in any language; none or several such bodies: the bare noun names nobody."""
    out: list[Phrase] = []
    own: list[set[str]] = []  # per body: the folded words of its names
    for body in profile.bodies:
        words: set[str] = set()
        for name in (body.name, *body.aliases):
            for spelling in translit_variants(name):
                words.update(lexicons.fold_word(w) for w in spelling.replace("-", " ").replace("(", " ")
                             .replace(")", " ").split())
        own.append(words)
    all_own = set().union(*own) if own else set()
    nouns: dict[str, list[tuple[str, str]]] = {}  # key -> [(lang, noun)]
    for lang in lexicons.LANGS:
        for key, phrases in lexicons.keyed(lang, "bodies").items():
            if key == "not":
                for phrase in phrases:
                    if all(word_forms(lexicons.fold_word(w), (lang,)) & all_own for w in phrase.split()):
                        continue  # the profile's own body is called that ("Krajské zastupiteľstvo" of a region)
                    out.extend(_phrases(phrase, (lang,), "notbody", phrase, first_free=True))
            else:
                nouns.setdefault(key, []).extend((lang, p) for p in phrases)
    for entries in nouns.values():
        owners = [b.id for b, words in zip(profile.bodies, own, strict=True)
                  if any(words & word_forms(lexicons.fold_word(noun), (lang,)) for lang, noun in entries)]
        if len(set(owners)) != 1:
            continue
        for lang, noun in entries:
            out.extend(_phrases(noun, (lang,), "body", owners[0], first_free=True))
    return out


def _tied(h: Hit, hits: list[Hit]) -> bool:
    """A title or body that shares words with a mention of our town ("Kalnavos savivaldybės administracija")."""
    return any(t.phrase.kind == "town" and t.start < h.end and h.start < t.end for t in hits)


def _non_overlapping(hits: list[Hit]) -> list[Hit]:
    """Longest first where hits overlap (alias > title > body on ties)."""
    rank = {"alias": 0, "title": 1, "notbody": 2, "body": 3, "town": 4, "place": 5}
    used: set[int] = set()
    out: list[Hit] = []
    for h in sorted(hits, key=lambda h: (h.start - h.end, rank[h.phrase.kind], h.start)):
        span = range(h.start, h.end)
        if any(k in used for k in span):
            continue
        used.update(span)
        out.append(h)
    return out


def _dedupe(cands: list[_Candidate]) -> list[_Candidate]:
    """One mention per place: where candidates overlap, the longest (title + full name) wins."""
    kept: list[_Candidate] = []
    for c in sorted(cands, key=lambda c: c.start - c.end):
        if not any(k.field == c.field and k.start < c.end and c.start < k.end for k in kept):
            kept.append(c)
    return kept


def _merge_adjacent(cands: list[_Candidate], fields: dict[str, FieldText]) -> list[_Candidate]:
    """One mention for "primátor Starej Hôrky Marián Hrušovský" when an alias and the name stand side by side."""
    out: list[_Candidate] = []
    for c in sorted(cands, key=lambda c: (c.field, c.start)):
        prev = out[-1] if out else None
        if prev is not None and prev.field == c.field and prev.official == c.official and prev.end == c.start \
                and fields[c.field].gap(prev.end - 1).strip() in ("", ","):
            out[-1] = _Candidate(prev.official, prev.field, prev.start, c.end, prev.how, prev.sent, prev.title_role)
        else:
            out.append(c)
    return out


def _name_gap(ft: FieldText, k: int) -> bool:
    """Token k and k + 1 may belong to one name: only spaces between them, or the full stop of an initial."""
    gap = ft.gap(k)
    return not gap.strip() or (gap.strip() == "." and len(ft.tokens[k].key) == 1)


def _field(name: str) -> Field:
    return "title" if name == "title" else "text"


def _forms(word: str, langs: Sequence[str]) -> frozenset[str]:
    out: set[str] = set()
    for spelling in translit_variants(word):
        for part in spelling.replace("-", " ").split():
            out |= word_forms(lexicons.fold_word(part), langs)
    return frozenset(out)


def _phrases(text: str, langs: Sequence[str], kind: str, ref: str, first_free: bool) -> list[Phrase]:
    """The phrase (one per spelling) for a name: each word inflected, capitals kept where the profile has them."""
    words = [w for w in text.replace("-", " ").replace("(", " ").replace(")", " ").split() if w.strip(".,")]
    if not words:
        return []
    forms = []
    caps = []
    for n, w in enumerate(words):
        w = w.strip(".,")
        forms.append(_forms(w, langs))
        caps.append(_caps(w) and not (first_free and n == 0))
    return [Phrase(tuple(forms), tuple(caps), kind, ref)]
