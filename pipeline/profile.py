"""Municipality profiles: one YAML file per municipality (DESIGN.md, "Profile").

A profile with an error is refused with the file, the line and the key named, so that an operator who mistypes
`timezone` as `timzone` learns exactly where. Validation is pydantic with `extra="forbid"`; the YAML is composed
once to keep the line of every node, and pydantic's error locations are mapped back onto those lines.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from presswatch import settings
from presswatch.digest import defaults as digest_defaults

LANGS = ("sk", "cs", "lt", "tr", "mk", "en")
Lang = Literal["sk", "cs", "lt", "tr", "mk", "en"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# a query parameter that carries a secret: token, key, sig, secret (also api_key, access-token, signature ...)
_SECRET_PARAM = re.compile(r"(^|[_-])(token|key|apikey|sig|signature|secret|password)$", re.I)
log = logging.getLogger(__name__)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Municipality(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    languages: list[Lang] = Field(min_length=1)
    timezone: str
    aliases: list[str] = []
    # neighbourhoods, districts, villages of the municipality and its short names ("Podháj", "Hôrka"): weaker
    # evidence than the name itself (enrich/relevance.py)
    places: list[str] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Bratislava)") from None
        return value

    @property
    def lang(self) -> str:
        return self.languages[0]


class Official(_Model):
    id: str
    name: str
    role: str  # mayor | deputy_mayor | council_member | spokesperson | ...
    title: str = ""
    aliases: list[str] = []


class Body(_Model):
    id: str
    name: str
    aliases: list[str] = []


class Fact(_Model):
    id: str
    statement: str
    value: float | int | str
    unit: str = ""


class Outlet(_Model):
    id: str
    name: str
    tier: int = Field(default=2, ge=1, le=3)  # 1 national/major .. 3 small/local blog
    lang: Lang | None = None
    homepage: str | None = None


class FeedSource(_Model):
    id: str
    outlet: str
    url: str = Field(pattern=r"^https?://")
    interval_minutes: int = Field(default=settings.FEED_INTERVAL_MINUTES, ge=1)


class SiteSource(_Model):
    id: str
    outlet: str
    start_urls: list[str] = []
    sitemaps: list[str] = []
    allow: list[str] = []  # URL regexes an article URL must match (any)
    deny: list[str] = []
    depth: int = Field(default=2, ge=0, le=10)
    interval_minutes: int = Field(default=settings.CRAWL_INTERVAL_MINUTES, ge=5)

    @field_validator("start_urls", "sitemaps")
    @classmethod
    def _http_only(cls, value: list[str]) -> list[str]:
        # only http(s) is ever fetched (docs/security.md): a file: or ftp: URL is refused here, not at crawl time
        for url in value:
            if not re.match(r"^https?://", url):
                raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        return value


class Sources(_Model):
    feeds: list[FeedSource] = []
    sites: list[SiteSource] = []
    releases: list[FeedSource] = []  # the municipality's own press releases (the official record)


class AlertRule(_Model):
    id: str
    flag: Literal["critical", "misleading", "any"] = "any"
    min_severity: float = Field(default=0.0, ge=0.0, le=1.0)
    officials: list[str] = []  # empty: any
    bodies: list[str] = []
    max_outlet_tier: int = Field(default=3, ge=1, le=3)
    # after this rule's alert went out on a channel, its further stories wait this long and then go out together
    # as one roll-up (digest/alerts.py); 0: every story at once
    cooldown_minutes: int = Field(default=digest_defaults.ALERT_COOLDOWN_MINUTES, ge=0, le=24 * 60)


class Channel(_Model):
    type: Literal["email", "webhook"]
    to: list[str] = []  # email recipients
    # A webhook's URL: `url` in the profile only for a receiver without a secret in its URL (an internal relay);
    # a Slack/Teams incoming-webhook URL is itself a bearer secret, so it goes in the environment variable that
    # `url_env` names (read at delivery, digest/alerts.py), like smtp.password_env. Exactly one of the two.
    url: str | None = None
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # the webhook's body: generic (presswatch's JSON), slack (text + Block Kit), teams (an Adaptive Card message)
    format: Literal["generic", "slack", "teams"] = "generic"
    language: Lang | None = None  # defaults to the digest language

    @model_validator(mode="after")
    def _complete(self) -> Channel:
        if self.type == "webhook":
            if self.url and self.url_env:
                raise ValueError("a webhook channel takes url or url_env, not both")
            if not self.url and not self.url_env:
                raise ValueError("a webhook channel needs url_env (the environment variable holding its URL) or an"
                                 " http:// or https:// url")
            if self.url is not None and not self.url.startswith(("http://", "https://")):
                raise ValueError("a webhook channel needs an http:// or https:// url")
        if self.type == "email" and self.url_env:
            raise ValueError("url_env is for webhook channels")
        if self.type == "email" and self.format != "generic":
            raise ValueError("format is for webhook channels (generic, slack, teams)")
        return self

    def secret_hint(self) -> str | None:
        """Why this channel's `url` looks like it embeds a secret (then it belongs in `url_env`); None if not.
        Checked when the profile loads, which warns (parse_profile): a URL without a secret stays allowed."""
        if not self.url:
            return None
        parts = urlsplit(self.url)
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.username or parts.password:
            return "it has credentials before the host (user:password@)"
        if host == "hooks.slack.com" and parts.path.startswith(("/services/", "/workflows/", "/triggers/")):
            return "a Slack incoming-webhook URL carries its token in the path"
        if host == "webhook.office.com" or host.endswith(".webhook.office.com"):
            return "a Teams incoming-webhook URL carries its secret in the path"
        if host in ("discord.com", "discordapp.com") and parts.path.startswith("/api/webhooks/"):
            return "a Discord webhook URL carries its token in the path"
        names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
        secret = next((n for n in names if _SECRET_PARAM.search(n)), None)
        if secret is not None:
            return f"its query has a parameter named {secret!r}"
        return None


class QuietHours(_Model):
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"expected a time as HH:MM, got {value!r}")
        return value


class SavedSearchEntry(_Model):
    """A saved search the profile defines (`saved_searches`); synced into the index on start (the press office's
    own ones, made with `presswatch saved add`, live only in the store)."""

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: str = Field(min_length=1)
    query: str
    alert: bool = True

    @field_validator("query")
    @classmethod
    def _parses(cls, value: str) -> str:
        from presswatch.index.query import QueryError, parse_query  # imported here: the index imports profile types

        try:
            parsed = parse_query(value)
        except QueryError as exc:
            raise ValueError(f"not a valid search: {exc}") from None
        if parsed is None:
            raise ValueError("an empty search would match every clipping")
        return value


class Alerts(_Model):
    rules: list[AlertRule] = [AlertRule(id="critical", flag="critical")]
    channels: list[Channel] = []
    quiet_hours: QuietHours | None = None
    # Where the press office opens a clipping in its own workspace (intranet, shared drive viewer): a URL with
    # `{id}` for the clipping id. presswatch has no web interface of its own; without it an alert links the
    # article and shows the clipping id.
    clipping_url: str | None = Field(default=None, pattern=r"^https?://.*\{id\}")


class Digest(_Model):
    recipients: list[str] = []
    send_at: str = "07:00"
    language: Lang | None = None  # default: the municipality's first language
    english_copy: bool = False

    @field_validator("send_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"expected a time as HH:MM, got {value!r}")
        return value


class Smtp(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    sender: str = "presswatch@localhost"
    # Credentials never live in the profile (it may be world-readable): only the names of the variables.
    username_env: str | None = None
    password_env: str | None = None
    # A CA bundle (PEM) to verify the server's STARTTLS certificate with, for a relay with a private CA; default:
    # the system's trust store. The certificate is always verified, name included.
    ca_file: str | None = None


class Store(_Model):
    path: str = settings.DEFAULT_DB
    backend: Literal["sqlite", "elasticsearch"] = "sqlite"
    # Elasticsearch (backend: elasticsearch, and `presswatch index migrate --to es`). PRESSWATCH_ES_URL wins over
    # `url`; credentials belong in that variable, never in the profile (it may be world-readable).
    url: str = ""
    prefix: str = Field(default="presswatch", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, value: str) -> str:
        if value and not re.match(r"^https?://", value):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        if re.match(r"^https?://[^/]*@", value):
            raise ValueError("credentials do not belong in the profile; put the URL with them in PRESSWATCH_ES_URL")
        return value


class Retention(_Model):
    """How long working data is kept (pipeline/retention.py says what each horizon deletes). Clippings and the
    fetch-once ledgers have no horizon: they are kept."""

    raw_pages_days: int = Field(default=settings.RETENTION_RAW_PAGES_DAYS, ge=1)
    queue_done_days: int = Field(default=settings.RETENTION_QUEUE_DONE_DAYS, ge=1)
    alerts_days: int = Field(default=settings.RETENTION_ALERTS_DAYS, ge=settings.RETENTION_ALERTS_MIN_DAYS)
    briefings_days: int | None = Field(default=settings.RETENTION_BRIEFINGS_DAYS, ge=1)

    @model_validator(mode="after")
    def _order(self) -> Retention:
        if self.queue_done_days < self.raw_pages_days:
            raise ValueError("queue_done_days must be at least raw_pages_days (the row outlives its body)")
        return self


class Operator(_Model):
    name: str = "presswatch"
    contact: str = ""


class Profile(_Model):
    municipality: Municipality
    officials: list[Official] = []
    bodies: list[Body] = []
    facts: list[Fact] = []
    outlets: list[Outlet] = []
    sources: Sources = Sources()
    alerts: Alerts = Alerts()
    digest: Digest = Digest()
    smtp: Smtp = Smtp()
    store: Store = Store()
    operator: Operator = Operator()
    retention: Retention = Retention()
    saved_searches: list[SavedSearchEntry] = []

    @model_validator(mode="after")
    def _references(self) -> Profile:
        ids = [o.id for o in self.officials] + [b.id for b in self.bodies]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate official/body ids: {sorted(dupes)}")
        searches = [s.id for s in self.saved_searches]
        twice = {i for i in searches if searches.count(i) > 1}
        if twice:
            raise ValueError(f"saved_searches lists these ids twice: {sorted(twice)}")
        known = {o.id for o in self.outlets}
        for group in (self.sources.feeds, self.sources.sites, self.sources.releases):
            for src in group:
                if known and src.outlet not in known:
                    raise ValueError(f"source {src.id!r} names outlet {src.outlet!r}, which is not in outlets")
        return self

    @property
    def id(self) -> str:
        return self.municipality.id

    @property
    def digest_language(self) -> str:
        return self.digest.language or self.municipality.lang

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.municipality.timezone)

    def outlet(self, outlet_id: str) -> Outlet:
        for o in self.outlets:
            if o.id == outlet_id or o.name == outlet_id:
                return o
        return Outlet(id=outlet_id, name=outlet_id)

    def db_path(self, base: Path | None = None) -> Path:
        """Where the store lives: PRESSWATCH_DB wins over the profile, relative paths are from `base` (cwd)."""
        raw = os.environ.get("PRESSWATCH_DB") or self.store.path
        path = Path(raw).expanduser()
        return path if path.is_absolute() else (base or Path.cwd()) / path


@dataclass(frozen=True)
class ProfileError(Exception):
    """A profile refused: every problem with its file, line and key."""

    path: str
    problems: tuple[tuple[int | None, str, str], ...]  # (line, key path, message)

    def __str__(self) -> str:
        lines = [f"{self.path}: invalid profile"]
        for line, key, msg in self.problems:
            where = f"{self.path}:{line}" if line else self.path
            lines.append(f"  {where}: {key}: {msg}" if key else f"  {where}: {msg}")
        return "\n".join(lines)


def _node_lines(node: yaml.Node, prefix: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[prefix + (key,)] = key_node.start_mark.line + 1
            _node_lines(value_node, prefix + (key,), out)
            out[prefix + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _node_lines(item, prefix + (i,), out)


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def parse_profile(text: str, path: str = "<profile>") -> Profile:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ProfileError(path, ((line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}"),)) from None
    if not isinstance(data, dict) or node is None:
        raise ProfileError(path, ((1, "", "a profile is a YAML mapping with at least `municipality`"),))
    lines: dict[tuple[Any, ...], int] = {}
    _node_lines(node, (), lines)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see docs/profile.md)"
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            problems.append((_line_for(loc, lines), key, msg))
        raise ProfileError(path, tuple(problems)) from None
    for i, channel in enumerate(profile.alerts.channels):  # allowed, but the profile may be world-readable
        hint = channel.secret_hint()
        if hint:
            line = _line_for(("alerts", "channels", i, "url"), lines)
            log.warning("%s: alerts.channels[%d].url looks like it embeds a secret (%s): put the URL in an "
                        "environment variable and name that variable in url_env instead",
                        f"{path}:{line}" if line else path, i, hint)
    return profile


def read_profile_text(path: str | Path) -> tuple[Path, str]:
    """The resolved path of a profile and its text; a missing or non-UTF-8 file is a ProfileError."""
    p = resolve_profile_path(path)
    try:
        return p, p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(str(path), ((None, "", "no such profile file"),)) from None
    except UnicodeDecodeError as exc:
        raise ProfileError(str(p), ((None, "", f"not UTF-8 text ({exc.reason})"),)) from None


def load_profile(path: str | Path) -> Profile:
    """Load and validate a profile file; a bare name (e.g. `demo`) is looked up in the shipped config/ folder."""
    p, text = read_profile_text(path)
    return parse_profile(text, str(p))


def resolve_profile_path(path: str | Path) -> Path:
    p = Path(path)
    if p.exists() or p.suffix in (".yaml", ".yml") or os.sep in str(path):
        return p
    return settings.CONFIG_DIR / f"{p}.yaml"
