"""CLI messages that users read, in the six languages presswatch serves.

The language is chosen as a user expects from a command-line tool: `--lang`, else PRESSWATCH_LANG, else the
locale (LC_ALL / LC_MESSAGES / LANG, e.g. `sk_SK.UTF-8`), else English. The briefing and alerts have their own,
richer catalogues in digest/locales/; these are the terminal's.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from presswatch.profile import LANGS

_DIR = Path(__file__).resolve().parent / "locales"
_CATALOGUES: dict[str, dict[str, str]] = {}


def _catalogue(lang: str) -> dict[str, str]:
    if lang not in _CATALOGUES:
        data = yaml.safe_load((_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))
        _CATALOGUES[lang] = {str(k): str(v) for k, v in data.items()}
    return _CATALOGUES[lang]


def detect_language(explicit: str | None = None) -> str:
    for candidate in (explicit, os.environ.get("PRESSWATCH_LANG"), os.environ.get("LC_ALL"),
                      os.environ.get("LC_MESSAGES"), os.environ.get("LANG")):
        if candidate:
            code = candidate.split("_")[0].split(".")[0].lower()
            if code in LANGS:
                return code
    return "en"


class Messages:
    """`msg("key", n=3)` formats the message in the chosen language, falling back to English per key."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "en"

    def __call__(self, key: str, **kwargs: object) -> str:
        template = _catalogue(self.lang).get(key) or _catalogue("en")[key]
        return template.format(**kwargs)

    @staticmethod
    def keys(lang: str) -> set[str]:
        return set(_catalogue(lang))
