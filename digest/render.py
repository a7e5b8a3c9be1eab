"""Jinja2 environments for the digest's templates (digest/templates/).

Two environments over the same folder: HTML with autoescape ON, so that anything taken from an article (a
headline `<script>alert(1)</script>`, an outlet name, a quote) is text in the email and never markup; plain text
with autoescape off (there is nothing to escape in text/plain). Both use StrictUndefined: a misspelt variable
is an error in the tests, not an empty hole in a mayor's briefing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

_loader = FileSystemLoader(TEMPLATES_DIR)
_html = Environment(loader=_loader, autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                    lstrip_blocks=True)
_text = Environment(loader=_loader, autoescape=False, undefined=StrictUndefined, trim_blocks=True,
                    lstrip_blocks=True, keep_trailing_newline=True)


def render_html(name: str, **context: Any) -> str:
    return _html.get_template(name).render(**context)


def render_text(name: str, **context: Any) -> str:
    text = _text.get_template(name).render(**context)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:, a broken value) is shown as text."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def one_line(text: str, limit: int | None = None) -> str:
    """Whitespace collapsed (titles and quotes may carry newlines and tabs), cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
        flat = cut.rstrip(" ,.;:") + "…"
    return flat
