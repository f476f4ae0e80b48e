"""How claims name a thread in chat (its short reference) and say how long ago it changed."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from bridge.desks.claims import _ago, short_reference
from bridge.domain.models import thread_id_for
from bridge.store.store import utcnow


def test_a_threads_short_reference_is_the_first_six_characters_of_its_hash() -> None:
    thread_id = thread_id_for(network="x", account="humas-kota", conversation_id="7")
    digest = hashlib.sha256(b"x\x00humas-kota\x007").hexdigest()
    assert thread_id == f"x-humas-kota-{digest[:16]}"
    assert short_reference(thread_id) == digest[:6]


def test_a_change_is_dated_from_now_and_a_missing_date_is_just_now() -> None:
    assert _ago(utcnow() - timedelta(minutes=5, seconds=5)) == "5 minutes ago"
    assert _ago(utcnow() - timedelta(hours=2, minutes=1)) == "2 hours ago"
    assert _ago(utcnow()) == "just now"
    assert _ago(None) == "just now"
