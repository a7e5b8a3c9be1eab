"""Canonical URLs: the identity of an article page (a clipping's id is a hash of it, records.clipping_id).

The same article reached from a feed (with `?utm_source=rss`), from a section page and from a sitemap must map to
one string, or it is fetched, indexed and alerted on twice. The rules are deliberately conservative: only what is
certainly noise goes (fragments, known tracking parameters, default ports, case of scheme and host); the path is
kept as the site serves it, trailing slash included, because `/a` and `/a/` may be different pages (they become one
article when the site redirects one to the other or its `rel=canonical` says so: see crawlers/fetch.py).

AMP and mobile copies are the same article by construction, so they map to the desktop URL: an `amp.`, `m.` or
`mobile.` host prefix goes (when a registrable name remains), as do an `/amp/` path segment, a trailing `/amp`,
`amp=1` and `outputType=amp`. `<link rel=amphtml>` pairs the two when a site spells AMP some other way.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree, html

# Parameters that identify a campaign or a click, never the content. Sources: Google Analytics campaign
# parameters (utm_*), the click ids of Google Ads (gclid, dclid, gbraid, wbraid), Meta (fbclid), Microsoft Ads
# (msclkid), Yandex (yclid), Mailchimp (mc_cid, mc_eid), HubSpot (_hsenc, _hsmi), Instagram (igshid), Google
# linker (_ga, _gl), Olytics (oly_anon_id, oly_enc_id), Matomo/Piwik campaigns (pk_*, mtm_*): the same families
# Firefox's query-stripping list and the ClearURLs "globalRules" carry.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid",
    "_hsenc", "_hsmi", "igshid", "_ga", "_gl", "oly_anon_id", "oly_enc_id", "vero_id", "mkt_tok",
})
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")

# AMP/mobile variants (Google's AMP URL conventions and the mobile-subdomain habit of news sites).
MOBILE_HOST_PREFIXES = ("amp.", "m.", "mobile.")
AMP_QUERY = {"amp": {"1", "true", ""}, "outputtype": {"amp"}}
_AMP_SEGMENT = re.compile(r"/amp(?=/|$)", re.I)

DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"  # RFC 3986 pchar + "/": left alone; everything else is percent-encoded
_QUERY_SAFE = "/%:@!$&'()*+,;=-._~?"
_QUERY_KEEP = "/:@!$'()*,;~?"  # left unescaped inside names and values (only &, = and + need it)
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _normalise_escapes(text: str) -> str:
    """%7e -> ~ (unreserved characters need no escape), %c4%8d -> %C4%8D (hex digits upper case)."""
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0).upper()
    return _ESCAPE.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    if "/." not in path and not path.startswith("."):
        return path
    trailing = path.endswith(("/", "/.", "/.."))
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):  # normpath keeps a leading "//" (POSIX allows it); URLs do not need it
        cleaned = "/" + cleaned.lstrip("/")
    if trailing and cleaned != "/":
        cleaned += "/"
    return cleaned


def _desktop_host(host: str) -> str:
    """`m.example.sk` -> `example.sk`; `m.sk` stays (nothing registrable would remain), IP literals stay."""
    for prefix in MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2 and not host.replace(".", "").isdigit():
            return host[len(prefix):]
    return host


def _desktop_path(path: str) -> str:
    """`/a/amp/` -> `/a/`, `/amp/a/` -> `/a/`, `/a/amp` -> `/a`."""
    if "amp" not in path.lower():
        return path
    cleaned = _AMP_SEGMENT.sub("", path)
    if path.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned or "/"


def _amp_param(name: str, value: str) -> bool:
    return value.lower() in AMP_QUERY.get(name.lower(), ())


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical form of an http(s) URL (resolved against `base` when relative).

    Raises ValueError for anything that is not an absolute http(s) URL with a host (mailto:, javascript:, ...):
    such a link is not an article, and callers skip it."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").rstrip(".")  # .hostname is lower-cased, brackets removed
    if not host:
        raise ValueError(f"URL without a host: {url!r}")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    else:
        host = _desktop_host(host)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"URL with an invalid port: {url!r}") from None
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _normalise_escapes(quote(parts.path, safe=_PATH_SAFE)) or "/"
    path = _desktop_path(_remove_dot_segments(path))
    # Latin-1 maps every byte to one character and back, so escapes in any charset (a windows-1250 "%9A")
    # survive the round trip unchanged; raw non-ASCII is first escaped as UTF-8, as browsers do.
    raw_query = quote(parts.query, safe=_QUERY_SAFE)
    pairs = [(k, v) for k, v in parse_qsl(raw_query, keep_blank_values=True, encoding="latin-1")
             if not is_tracking_param(k) and not _amp_param(k, v)]
    query = urlencode(sorted(pairs), encoding="latin-1", safe=_QUERY_KEEP)
    return urlunsplit((scheme, netloc, path, query, ""))


def same_site(a: str, b: str) -> bool:
    """Same host, ignoring a leading "www." and the scheme (http -> https moves are the site's own)."""
    ha, hb = (urlsplit(a).hostname or ""), (urlsplit(b).hostname or "")
    return bool(ha) and ha.removeprefix("www.") == hb.removeprefix("www.")


def canonical_from_html(page: str | bytes, url: str) -> str | None:
    """The page's `<link rel="canonical">`, canonicalised, when it points to the same site; else None.

    A canonical link to another site is ignored: syndicated copies point at the original, and the copy on this
    outlet is still a clipping of its own."""
    return page_links(page, url).get("canonical")


def aliases_from_html(page: str | bytes, url: str) -> set[str]:
    """Other URLs of the article at `url` that the page itself names: its same-site `rel=canonical` and
    `rel=amphtml` (canonicalised, `url` itself left out). Fetching one of them again would fetch the same article."""
    return {u for u in page_links(page, url).values() if u != url}


def page_aliases(url: str, final_url: str, body: bytes) -> set[str]:
    """The other URLs of the article fetched as `url`: where its redirects ended (`/a` -> `/a/`) when that is on
    the same site, and the same-site `rel=canonical`/`rel=amphtml` of the page."""
    found = set(aliases_from_html(body, final_url))
    try:
        landed = canonical_url(final_url)
    except ValueError:
        landed = url
    if same_site(landed, url):
        found.add(landed)
    found.discard(url)
    return found


def page_links(page: str | bytes, url: str) -> dict[str, str]:
    """{"canonical": ..., "amphtml": ...}: the page's first same-site link of each kind, canonicalised."""
    out: dict[str, str] = {}
    if not page:
        return out
    try:
        root = html.fromstring(page)
    except (etree.ParserError, ValueError):
        return out
    if root is None:
        return out
    base = url
    for el in root.iter("base"):
        href = el.get("href")
        if href:
            base = urljoin(url, href.strip())
        break
    for el in root.iter("link"):
        rels = (el.get("rel") or "").lower().split()
        href = (el.get("href") or "").strip()
        for kind in ("canonical", "amphtml"):
            if kind in rels and href and kind not in out:
                out[kind] = ""  # the first link of a kind decides, even when it is unusable
                try:
                    found = canonical_url(href, base=base)
                except ValueError:
                    continue
                if same_site(found, url):
                    out[kind] = found
    return {k: v for k, v in out.items() if v}


__all__ = ["canonical_url", "canonical_from_html", "aliases_from_html", "page_aliases", "page_links", "same_site",
           "is_tracking_param", "TRACKING_PARAMS"]
