"""Cutting a long public text into parts a chat accepts, without breaking what a reader sees.

Chats limit a message, or a block of one, by length: Telegram in UTF-16 code units, Slack in
"characters" it does not define (counting UTF-16 units is never fewer than code points, so it is
within either reading). A cut must never fall inside a surrogate pair, between a letter and its
combining mark, inside a ZWJ emoji sequence or a flag; it prefers whitespace near the limit, so
words stay whole. Every part joined gives back the text exactly.
"""

from __future__ import annotations

import re
import unicodedata

# How far back from the limit a cut looks for whitespace before it cuts inside a word.
WHITESPACE_WINDOW = 200
_WHITESPACE = re.compile(r"\s")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def joins_previous(char: str) -> bool:
    """True when ``char`` belongs to the grapheme before it (cutting before it would split it)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char == "\u200d"
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def grapheme_cut(text: str, cut: int) -> int:
    """``cut`` (a code point index), moved back until it falls between two graphemes."""
    while 0 < cut < len(text) and (joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    if 0 < cut < len(text) and is_regional_indicator(text[cut]):
        run = 0
        while cut - run > 0 and is_regional_indicator(text[cut - run - 1]):
            run += 1
        if run % 2:
            cut -= 1
    return cut


def units_to_index(text: str, units: int) -> int:
    """How many code points of ``text`` fit in ``units`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def safe_cut(text: str, limit: int, *, window: int = WHITESPACE_WINDOW) -> int:
    """The longest prefix (in code points) within ``limit`` UTF-16 units that ends between two
    graphemes, preferring to end just after the last whitespace within ``window`` of the limit.
    A grapheme longer than the limit (a letter under thousands of combining marks) cannot stay
    whole: it is cut at the limit, not one character at a time. Never 0 for a non-empty text,
    so splitting always advances."""
    if utf16_len(text) <= limit:
        return len(text)
    most = units_to_index(text, limit)
    cut = grapheme_cut(text, most)
    for found in reversed(list(_WHITESPACE.finditer(text, max(cut - window, 0), cut))):
        if found.start() > 0:
            return found.end()
    return cut or most or 1


def split_text(text: str, first_limit: int, next_limit: int | None = None) -> list[str]:
    """``text`` in parts: the first within ``first_limit`` UTF-16 units, the others within
    ``next_limit`` (the same when not given). An empty text is one empty part."""
    parts: list[str] = []
    limit = first_limit
    while text:
        cut = safe_cut(text, limit)
        parts.append(text[:cut])
        text = text[cut:]
        limit = first_limit if next_limit is None else next_limit
    return parts or [""]
