"""Every message and form Reachable builds for Slack stays within Slack's Block Kit limits, in
every language, whatever the config names: the emulator's own checks are the judge.

The mention's own text is left ordinary here (another part of the rendering deals with long
and empty posts); the people, handles, routes, tags and reasons around it are pushed to the
longest the config and X allow.
"""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.slack import render
from bridge.config import PERSON_NAME_LIMIT
from bridge.desks.claims import DISMISS_REASONS
from bridge.domain.models import Identity, ThreadStatus
from bridge.text.i18n import speaking
from emulators.slack.blocks import validate_blocks, validate_view
from tests.unit.cards import POSTED, mention_card

LOCALES = st.sampled_from(["en", "id"])
HANDLES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=15)
KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=64)
NAMES = st.text(min_size=1, max_size=PERSON_NAME_LIMIT).filter(str.strip)
# X allows display names of 50 characters.
AUTHOR_NAMES = st.text(min_size=1, max_size=50)


@settings(max_examples=60, deadline=None)
@given(
    locale=LOCALES,
    status=st.sampled_from(list(ThreadStatus)),
    handle=HANDLES,
    person=NAMES,
    author=AUTHOR_NAMES,
    route=KEYS,
    tags=st.lists(KEYS, max_size=60, unique=True),
    note=st.text(max_size=200),
    first=st.booleans(),
)
@example(
    locale="id",
    status=ThreadStatus.DISMISSED,
    handle="h" * 15,
    person="R" * PERSON_NAME_LIMIT,
    author="A" * 50,
    route="r" * 64,
    tags=[f"{n:02d}" + "t" * 62 for n in range(60)],
    note="n" * 200,
    first=True,
)
def test_every_mirror_fits_slack(
    locale: str,
    status: ThreadStatus,
    handle: str,
    person: str,
    author: str,
    route: str,
    tags: list[str],
    note: str,
    first: bool,
) -> None:
    card = mention_card(
        name=author,
        account_handle=handle,
        route=route,
        tags=tuple(tags),
        is_first_in_thread=first,
        status=status,
        status_by=person,
        status_note=f"Spam ({note})" if note else None,
        status_at=POSTED + timedelta(minutes=5),
        answered_as=handle,
        answered_url=f"https://x.com/{handle}/status/1900000000000000999",
        escalation="⏰ 3 hours past its 30m SLA",
        origin_link="https://reachable.slack.com/archives/C0HUMAS/p1700000000000100",
    )
    with speaking(locale):
        blocks = render.mention_blocks(card)
    assert validate_blocks(blocks) == []


@settings(max_examples=60, deadline=None)
@given(
    locale=LOCALES,
    institution=HANDLES,
    personal=st.none() | HANDLES,
    identity=st.sampled_from(list(Identity)),
    again=st.booleans(),
    author=AUTHOR_NAMES,
)
@example(
    locale="en",
    institution="humas_kominfo_1",
    personal=None,
    identity=Identity.INSTITUTION,
    again=False,
    author="A" * 50,
)
def test_every_reply_form_fits_slack(
    locale: str,
    institution: str,
    personal: str | None,
    identity: Identity,
    again: bool,
    author: str,
) -> None:
    mention = mention_card(name=author).mention
    handles = {Identity.INSTITUTION: institution, Identity.PERSONAL: personal}
    choices = (
        [(Identity.INSTITUTION, institution), (Identity.PERSONAL, personal or "")] if again else []
    )
    metadata = {
        "thread": "x-humas-" + "9" * 19,
        "mention": "9" * 19,
        "identity": identity.value,
        "channel": "C0HUMAS",
        "again": again,
    }
    with speaking(locale):
        view = render.reply_modal(
            mention,
            network="X",
            identity=identity,
            as_handle=handles[identity],
            choices=choices,
            link_command="`/reachable link`",
            callback_id="reply_modal",
            metadata=json.dumps(metadata),
        )
    assert validate_view(view) == []
    # A title too long for Slack says less rather than cut a handle into another name.
    title = view["title"]["text"]
    shown = handles[identity]
    assert not title.endswith("…") and ("@" not in title or title.endswith(f"@{shown}"))


@settings(max_examples=30, deadline=None)
@given(
    locale=LOCALES,
    reasons=st.lists(KEYS, min_size=1, max_size=100, unique=True),
    author=AUTHOR_NAMES,
)
def test_a_dismiss_form_fits_slack_with_any_number_of_reasons(
    locale: str, reasons: list[str], author: str
) -> None:
    mention = mention_card(name=author).mention
    with speaking(locale):
        view = render.dismiss_modal(
            mention,
            network="X",
            reasons=reasons,
            callback_id="dismiss_modal",
            metadata=json.dumps({"thread": "x-humas-" + "9" * 19, "channel": "C0HUMAS"}),
        )
    assert validate_view(view) == []
    element = next(b for b in view["blocks"] if b.get("block_id") == render.DISMISS_BLOCK)
    assert [o["value"] for o in element["element"]["options"]] == reasons


def test_the_forms_speak_the_persons_language_down_to_their_buttons() -> None:
    mention = mention_card().mention
    with speaking("id"):
        dismiss = render.dismiss_modal(
            mention, network="X", reasons=list(DISMISS_REASONS), callback_id="d", metadata="{}"
        )
        reply = render.reply_modal(
            mention,
            network="X",
            identity=Identity.INSTITUTION,
            as_handle="humas_demo",
            choices=[],
            link_command="`/reachable link`",
            callback_id="r",
            metadata="{}",
        )
    assert (dismiss["title"]["text"], dismiss["submit"]["text"], dismiss["close"]["text"]) == (
        "Abaikan mention",
        "Abaikan",
        "Batal",
    )
    # "Balas sebagai @humas_demo" is 25 characters: one more than a Slack title holds.
    assert (reply["title"]["text"], reply["close"]["text"]) == ("Balas", "Batal")
