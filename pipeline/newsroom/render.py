"""Rendering: the Jinja2 environment, date formats and the words each outlet's pages use.

Every template is autoescaped (HTML and XML alike), so a headline such as `<script>alert(1)</script>` reaches
the page as text; JSON-LD goes through `tojson`, which also escapes `<`, `>` and `&`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from presswatch.newsroom.content import NewsArticle, Outlet

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

_SK_MONTHS = ("januára", "februára", "marca", "apríla", "mája", "júna", "júla", "augusta", "septembra",
              "októbra", "novembra", "decembra")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")

# The boilerplate around an article, per language: what an extractor has to learn to leave out.
WORDS: dict[str, dict[str, str]] = {
    "sk": {
        "locale": "sk_SK", "home": "Titulka", "sections": "Rubriky", "today": "Dnes je", "subscribe": "Predplatné",
        "login": "Prihlásiť sa", "advert": "Reklama", "latest": "Najnovšie správy", "empty": "Zatiaľ tu nič nie je.",
        "cookie": "Na našej stránke používame súbory cookies, aby sme vám mohli ponúknuť lepší obsah a merať "
                  "návštevnosť. Kliknutím na Súhlasím vyjadrujete súhlas s ich spracovaním.",
        "cookie_accept": "Súhlasím", "cookie_settings": "Nastavenia",
        "by": "Autor:", "updated": "Aktualizované", "read_also": "Čítajte aj:", "share": "Zdieľať",
        "topics": "Témy", "comments": "Diskusia",
        "comments_text": "Do diskusie môžu prispievať len prihlásení čitatelia. Pravidlá diskusie nájdete tu.",
        "related": "Súvisiace články", "newsletter": "Najdôležitejšie správy každé ráno do vašej schránky",
        "newsletter_button": "Odoberať", "contact": "Kontakt", "ads": "Inzercia", "privacy": "Ochrana osobných údajov",
        "rights": "Všetky práva vyhradené. Šírenie obsahu bez písomného súhlasu vydavateľa je zakázané.",
        "paywall_title": "Tento článok je dostupný len pre predplatiteľov",
        "paywall_text": "Predplaťte si prístup ku všetkým článkom, analýzam a komentárom už od 4,99 € mesačne. "
                        "Zrušiť ho môžete kedykoľvek.",
        "paywall_button": "Predplatiť a čítať ďalej", "internal": "Pre redakciu",
    },
    "en": {
        "locale": "en_GB", "home": "Home", "sections": "Sections", "today": "Today", "subscribe": "Subscribe",
        "login": "Sign in", "advert": "Advertisement", "latest": "Latest news", "empty": "Nothing here yet.",
        "cookie": "We use cookies to personalise content and to analyse our traffic. By clicking Accept you "
                  "consent to our use of cookies.",
        "cookie_accept": "Accept", "cookie_settings": "Manage preferences",
        "by": "By", "updated": "Updated", "read_also": "Read more:", "share": "Share", "topics": "Topics",
        "comments": "Comments",
        "comments_text": "Comments are open to subscribers. Please read our community guidelines before posting.",
        "related": "Related stories", "newsletter": "Sign up for the Herald morning briefing",
        "newsletter_button": "Sign up", "contact": "Contact us", "ads": "Advertise", "privacy": "Privacy policy",
        "rights": "All rights reserved.",
        "paywall_title": "Subscribe to read the full story",
        "paywall_text": "This article is for subscribers only. Get unlimited access to Central Europe Herald "
                        "journalism from €1 for the first month.",
        "paywall_button": "Subscribe to read", "internal": "Newsroom",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["en"])


def local(dt: datetime, outlet: Outlet) -> datetime:
    return dt.astimezone(ZoneInfo(outlet.timezone))


def iso_local(dt: datetime, outlet: Outlet) -> str:
    """RFC 3339 / ISO 8601 in the outlet's local zone, e.g. 2026-11-22T10:05:00+01:00."""
    return local(dt, outlet).isoformat(timespec="seconds")


def rfc822(dt: datetime, outlet: Outlet) -> str:
    """RSS pubDate: local offset for Slovak outlets (+0100), GMT for the Herald, as real feeds differ."""
    if outlet.lang == "en":
        return http_date(dt)
    return format_datetime(local(dt, outlet))


def http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def human_date(dt: datetime, outlet: Outlet) -> str:
    d = local(dt, outlet)
    if outlet.lang == "sk":
        return f"{d.day}. {_SK_MONTHS[d.month - 1]} {d.year}, {d:%H:%M}"
    return f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}, {d:%H:%M} {d.tzname()}"


def summary(article: NewsArticle, limit: int = 220) -> str:
    """A teaser for feeds and listings: the lead, or the first paragraph cut at a word boundary."""
    text = article.lead or (article.body[0] if article.body else "")
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def comment_count(article: NewsArticle) -> int:
    # Stable per article, so a page's bytes (and ETag) do not change between requests.
    return int(hashlib.sha1(article.key.encode()).hexdigest()[:4], 16) % 60


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(iso_local=iso_local, rfc822=rfc822, rfc3339=iso_local, human_date=human_date,
                       summary=summary)
    return env
