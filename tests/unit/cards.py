"""A mirrored mention as the chats render it, for tests that render many variants of one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.domain.models import Author, Mention, MentionCard

POSTED = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def mention_card(
    text: str = "jalan rusak",
    *,
    name: str = "Budi",
    post_id: str = "1900000000000000123",
    followers: int = 1234,
    mention: dict[str, Any] | None = None,
    **card: Any,
) -> MentionCard:
    """A first mention of @humas_demo by @warga_budi on the complaints route; ``mention`` and
    ``card`` replace any of the fields."""
    posted = Mention(
        **{
            "network": "x",
            "id": post_id,
            "account": "humas",
            "text": text,
            "author": Author(
                id="42", handle="warga_budi", name=name, verified=True, followers=followers
            ),
            "created_at": POSTED,
            "url": f"https://x.com/warga_budi/status/{post_id}",
            "conversation_id": post_id,
            **(mention or {}),
        }
    )
    return MentionCard(
        **{
            "mention": posted,
            "network_name": "X",
            "thread_id": f"x-humas-{post_id}",
            "account_handle": "humas_demo",
            "route": "complaints",
            "priority": "high",
            "sla": timedelta(minutes=30),
            "sla_deadline": POSTED + timedelta(minutes=30),
            "is_first_in_thread": True,
            **card,
        }
    )
