"""X's weighted length, as the reply checks apply it before anything is queued."""

from __future__ import annotations

from adapters.x.publisher import XPublisher
from app.settings import AppSettings

PUBLISHER = XPublisher(AppSettings(), store=None)  # type: ignore[arg-type]  # measuring needs no I/O


def test_281_plain_characters_are_one_too_many() -> None:
    assert PUBLISHER.measure("a" * 281) == (281, 280)
    assert PUBLISHER.check_text("a" * 281) == (
        "1 character too long for X (281 of 280; links count 23, CJK characters and emoji 2)."
    )
    assert PUBLISHER.check_text("a" * 280) is None


def test_exactly_280_with_a_link_an_emoji_and_cjk_passes() -> None:
    link = "https://example.org/" + "panjang/" * 20  # far longer than 23, counts 23
    text = f"{link} 🙂 {'字' * 50} " + "a" * 152
    assert PUBLISHER.measure(text) == (280, 280)
    assert PUBLISHER.check_text(text) is None
    assert PUBLISHER.check_text(text + "a") is not None
    assert PUBLISHER.check_text(text + "字") == (
        "2 characters too long for X (282 of 280; links count 23, CJK characters and emoji 2)."
    )


def test_a_family_emoji_counts_two() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert PUBLISHER.measure(family)[0] == 2
