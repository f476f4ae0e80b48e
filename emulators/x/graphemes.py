"""Where X may cut a long post's head: UTF-16 indexes and grapheme boundaries.

Written for the emulator on its own, not shared with the bridge: the emulator stands for X, and
a rule the two shared could not catch the bridge getting it wrong.
"""

from __future__ import annotations

import unicodedata


def units_to_index(text: str, units: int) -> int:
    """How many code points of ``text`` fit in ``units`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def _extends_grapheme(char: str) -> bool:
    """Combining marks, ZWJ, variation selectors, skin tones and tag characters."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or code == 0x200D
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _flag_letter(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def grapheme_boundary(text: str, cut: int) -> int:
    """``cut`` (a code point index), moved back until it falls between two graphemes."""
    while 0 < cut < len(text) and (_extends_grapheme(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    if 0 < cut < len(text) and _flag_letter(text[cut]):
        letters_before = 0
        while cut - letters_before > 0 and _flag_letter(text[cut - letters_before - 1]):
            letters_before += 1
        if letters_before % 2:
            cut -= 1
    return cut
