"""Long posts and posts of only photos, from X to both chats, as staff see them.

X returns a long post's whole text only in ``note_tweet`` (when asked for); Slack takes 3,000
characters a section and about 12,000 in one message's blocks; Telegram 4,096 UTF-16 units a
message. A 10,000-character mention arrives whole in both chats; a 25,000-character one
arrives whole too: in Telegram in parts, in Slack in the mirror and further messages in its
thread. A reply of only photos reads "(no text, 2 photos)" and can be answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import GROUP, Deployment, Emulators, wait_for


def numbered(author: str, characters: int) -> str:
    """A mention of @humas_demo of ``characters`` characters, its words numbered."""
    text = ("@humas_demo " + " ".join(f"{author}{n}" for n in range(characters)))[:characters]
    return text[:-1] + "." if text.endswith(" ") else text


def stays(read: Callable[[], Any], *, seconds: float = 2.0) -> Any:
    """What ``read`` returns, after checking it does not change for ``seconds`` (no repeats)."""
    first = read()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert read() == first, "changed while it should have stayed"
        time.sleep(0.2)
    return first


def slack_mirror(emulators: Emulators, handle: str) -> dict[str, Any] | None:
    found = [m for m in emulators.messages() if f"@{handle}>" in str(m.get("blocks"))]
    return found[0] if len(found) == 1 else None


def sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def telegram_parts(emulators: Emulators, handle: str) -> list[dict[str, Any]]:
    """A mirror's messages in the group: the first (naming the author), then the parts that
    answer it, in order."""
    messages = emulators.telegram_messages()
    firsts = [m for m in messages if f"@{handle}" in m["text"].split("\n", 1)[0]]
    if len(firsts) != 1:
        return []
    rest = [m for m in messages if m.get("reply_to_message_id") == firsts[0]["message_id"]]
    return firsts + sorted(rest, key=lambda m: m["message_id"])


def telegram_text(parts: list[dict[str, Any]]) -> str:
    """The post as the parts show it: the first between its header and footer, the others
    after their continuation line. Telegram trims each message, and each part was cut at a
    space, so the parts are joined by one."""
    texts = [parts[0]["text"].split("\n\n")[1]] + [p["text"].split("\n", 1)[1] for p in parts[1:]]
    return " ".join(t.strip() for t in texts)


def test_long_mentions_arrive_whole_and_a_reply_of_only_photos_can_be_answered(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    ten, twenty_five = numbered("sepuluh", 10_000), numbered("dua_lima", 25_000)
    emulators.post("warga_sepuluh", ten)
    emulators.post("warga_panjang", twenty_five)
    root = emulators.x_control("posts", {"author": "humas_demo", "text": "Jalan sudah diperbaiki."})
    photos = {
        "author": "warga_foto",
        "in_reply_to": root.json()["id"],
        "media": [{"type": "photo"}] * 2,
    }
    assert emulators.x_control("posts", photos).status_code == 200

    def replies_under(message: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            m
            for m in emulators.messages()
            if m.get("thread_ts") == message["ts"] and m["ts"] != message["ts"]
        ]

    # Slack: one mirror each; the 10,000 characters whole, in sections, the rest in its thread.
    mirrors = wait_for(
        lambda: (
            all(
                slack_mirror(emulators, h) for h in ("warga_sepuluh", "warga_panjang", "warga_foto")
            )
            and stays(
                lambda: [
                    m["ts"]
                    for m in emulators.messages()
                    if m.get("thread_ts") in (None, m["ts"])  # the mirrors, not their threads
                ]
            )
        ),
        timeout=60,
        what="the three mirrors in Slack",
    )
    assert len(mirrors) == 3
    first_of_ten = slack_mirror(emulators, "warga_sepuluh") or {}
    wait_for(lambda: replies_under(first_of_ten), what="the end of the 10,000 in the thread")
    shown = [
        part
        for m in [first_of_ten, *stays(lambda: replies_under(first_of_ten))]
        for part in sections(m)
    ]
    assert len(shown) >= 4 and "".join(shown) == ten
    # The 25,000 characters: the mirror, then the rest in its thread, each part once, in order.
    longest = slack_mirror(emulators, "warga_panjang") or {}
    assert "The post continues in the thread, below." in str(longest["blocks"])

    wait_for(
        lambda: len(replies_under(longest)) >= 2,
        what="the rest of the 25,000 characters in the mirror's thread",
    )
    rest = stays(lambda: replies_under(longest))
    assert [m["blocks"][0]["elements"][0]["text"] for m in rest] == [
        "(2/3, continued)",
        "(3/3, continued)",
    ]
    assert "".join("".join(sections(m)) for m in [longest, *rest]) == twenty_five
    only_photos = slack_mirror(emulators, "warga_foto") or {}
    assert sections(only_photos) == ["(no text, 2 photos)"]

    # Telegram: every part, each once, the text whole and in order.
    wait_for(
        lambda: (
            [
                len(telegram_parts(emulators, h))
                for h in ("warga_sepuluh", "warga_panjang", "warga_foto")
            ]
            == [3, 7, 1]
        ),
        timeout=60,
        what="every part of the three mirrors in Telegram",
    )
    stays(lambda: len(emulators.telegram_messages()))
    assert telegram_text(telegram_parts(emulators, "warga_sepuluh")) == ten
    assert telegram_text(telegram_parts(emulators, "warga_panjang")) == twenty_five
    [photo_mirror] = telegram_parts(emulators, "warga_foto")
    assert telegram_text([photo_mirror]) == "(no text, 2 photos)"

    # The reply of only photos can be answered: Slack's form opens, quoting what it holds...
    emulators.click("U0RINA", only_photos["ts"], "reply_institution")
    [form] = emulators.views("U0RINA")
    assert "(no text, 2 photos)" in str(form["blocks"])
    # ...and Telegram's preview names what the draft answers.
    sent = emulators.telegram_control(
        "send",
        {
            "user_id": 1001,
            "chat_id": GROUP,
            "text": "Terima kasih fotonya.",
            "reply_to_message_id": photo_mirror["message_id"],
        },
    )
    assert sent.status_code == 200, sent.text
    preview = wait_for(
        lambda: [m for m in emulators.telegram_messages() if m["text"].startswith("Preview")],
        what="the preview",
    )[0]
    assert preview["text"].endswith('In answer to @warga_foto: "(no text, 2 photos)"')
