"""A long public text cut into parts: nothing lost, nothing reordered, no grapheme broken."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridge.domain.textsplit import (
    is_regional_indicator,
    joins_previous,
    safe_cut,
    split_text,
    utf16_len,
)

FAMILY = "👨\u200d👩\u200d👧"  # one grapheme, five code points, eight UTF-16 units
GRAPHEMES = ["a", " ", "é", "e\u0301", FAMILY, "🇮🇩", "字", "\u202e", "👍🏽", "\n", "😀"]


def test_an_emoji_sequence_at_the_limit_is_never_cut() -> None:
    text = "a" * 4090 + FAMILY + " end"
    parts = split_text(text, 4096, 4096)
    assert parts == ["a" * 4090, FAMILY + " end"]


def test_a_surrogate_pair_at_the_limit_stays_whole() -> None:
    # Three UTF-16 units of room: "ab" fits, the emoji (two units) would not.
    assert split_text("ab😀cd", 3) == ["ab", "😀c", "d"]


def test_a_cut_prefers_the_last_whitespace_before_the_limit() -> None:
    text = "satu dua tiga\nempat lima"
    assert split_text(text, 16) == ["satu dua tiga\n", "empat lima"]
    assert safe_cut("kata" * 10, 7) == 7  # no whitespace: a cut inside the word, as late as fits


@given(
    st.lists(st.sampled_from(GRAPHEMES), max_size=200).map("".join),
    st.integers(min_value=12, max_value=60),
)
def test_splitting_keeps_every_grapheme_whole(text: str, limit: int) -> None:
    parts = split_text(text, limit, limit)
    assert "".join(parts) == text
    for part in parts:
        assert utf16_len(part) <= limit
        assert not part or not joins_previous(part[0])
        assert not part.startswith("\u200d") and not part.endswith("\u200d")
        # The text holds whole flags only, so a part with half a flag split one.
        assert sum(is_regional_indicator(c) for c in part) % 2 == 0
