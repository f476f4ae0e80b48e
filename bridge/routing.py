"""Which routes a mention takes: rules top to bottom, first match wins unless ``continue``."""

from __future__ import annotations

import re
import unicodedata

from bridge.config import Config, RouteConfig, RouteMatch
from bridge.models import Mention

PRIORITY_ORDER = ("low", "normal", "high", "urgent")
# X still uses the retired ISO 639 codes for some languages; admins write either form.
_LANGUAGE_ALIASES = {"in": "id", "iw": "he", "ji": "yi"}


def normalise_lang(code: str | None) -> str:
    code = (code or "und").lower()
    return _LANGUAGE_ALIASES.get(code, code)


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Keluhán' and 'keluhan' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _has_word(text: str, phrase: str) -> bool:
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in _fold(phrase).split()) + r"(?!\w)"
    return re.search(pattern, _fold(text)) is not None


def matches(match: RouteMatch, mention: Mention) -> bool:
    if match.account is not None and mention.account not in match.account:
        return False
    if match.lang is not None and normalise_lang(mention.lang) not in {
        normalise_lang(code) for code in match.lang
    }:
        return False
    return match.any_words is None or any(_has_word(mention.text, w) for w in match.any_words)


def choose_routes(config: Config, mention: Mention) -> list[RouteConfig]:
    """The routes a mention takes; never empty, since config checks require a catch-all."""
    chosen = []
    for route in config.routes:
        if matches(route.match, mention):
            chosen.append(route)
            if not route.continue_:
                break
    return chosen


def destinations_of(routes: list[RouteConfig]) -> list[str]:
    seen: dict[str, None] = {}
    for route in routes:
        seen.update(dict.fromkeys(route.to))
    return list(seen)


def highest_priority(routes: list[RouteConfig]) -> str:
    return max((r.priority for r in routes), key=PRIORITY_ORDER.index, default="normal")
