"""The Slack forms: the reply form and the dismiss form, and what the submission handlers read
back from them.

A form is checked the way it is used: rendered, filled in as a Slack client fills
``view.state.values`` from its inputs (the emulator's :func:`state_values`), then read back
with the product's own parsers (:func:`render.chosen_identity`, :func:`render.dismiss_choice`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.slack import render
from bridge.desks.claims import DISMISS_REASONS
from bridge.domain.models import Identity, Mention
from bridge.text import messages
from bridge.text.i18n import speaking
from emulators.slack.blocks import validate_view
from emulators.slack.render import state_values
from tests.unit.cards import mention_card

INSTITUTION = (Identity.INSTITUTION, "humas_demo")
PERSONAL = (Identity.PERSONAL, "rina_x")
METADATA = {
    "thread": "x-humas-1900000000000000123",
    "mention": "1900000000000000123",
    "identity": "institution",
    "channel": "C0HUMAS",
    "again": False,
}


def a_mention(**changes: Any) -> Mention:
    return mention_card().mention.model_copy(update=changes)


def reply_form(
    *,
    identity: Identity = Identity.INSTITUTION,
    as_handle: str | None = "humas_demo",
    choices: list[tuple[Identity, str]] | None = None,
    mention: Mention | None = None,
    metadata: str = json.dumps(METADATA),
) -> dict[str, Any]:
    view = render.reply_modal(
        mention or a_mention(),
        network="X",
        identity=identity,
        as_handle=as_handle,
        choices=choices or [],
        link_command="/reachable link",
        callback_id="reply_modal",
        metadata=metadata,
    )
    assert validate_view(view) == []
    return view


def dismiss_form(
    reasons: list[str] | None = None, *, mention: Mention | None = None
) -> dict[str, Any]:
    view = render.dismiss_modal(
        mention or a_mention(),
        network="X",
        reasons=list(DISMISS_REASONS) if reasons is None else reasons,
        callback_id="dismiss_modal",
        metadata=json.dumps({"thread": METADATA["thread"], "channel": "C0HUMAS"}),
    )
    assert validate_view(view) == []
    return view


def submitted(view: dict[str, Any], **data: Any) -> dict[str, Any]:
    """The view as Slack hands it to the submission handler, filled in with ``data``."""
    return {**view, "state": {"values": state_values(view["blocks"], data)}}


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    (only,) = found
    return only


def contexts(view: dict[str, Any]) -> list[str]:
    return [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]


def reply_text(view: dict[str, Any]) -> str:
    """What the reply handler reads as the reply's text."""
    values = view["state"]["values"]
    return str(values[render.REPLY_BLOCK][render.REPLY_INPUT]["value"])


# -- the reply form ----------------------------------------------------------------------------


def test_the_reply_form_says_who_wrote_the_quoted_post_literally() -> None:
    view = reply_form(mention=mention_card(name="<!channel> *Budi*").mention)
    intro = view["blocks"][0]
    assert intro == {
        "type": "context",
        "elements": [
            {"type": "plain_text", "text": "<!channel> *Budi* (@warga_budi) wrote:", "emoji": False}
        ],
    }
    assert view["blocks"][1]["text"]["text"] == "jalan rusak"


def test_the_reply_form_of_a_post_without_an_author_says_so() -> None:
    view = reply_form(mention=a_mention(author=None))
    assert contexts(view)[0] == "Unknown author wrote:"


def test_a_typed_reply_reaches_the_handler_as_typed() -> None:
    view = reply_form()
    field = block(view, render.REPLY_BLOCK)
    assert field["label"]["text"] == "Your reply (public, on X)"
    assert "optional" not in field
    # Several paragraphs: a one-line box would make a person write them on one line.
    assert field["element"] == {
        "type": "plain_text_input",
        "action_id": render.REPLY_INPUT,
        "multiline": True,
    }
    text = "Terima kasih, laporan Anda kami teruskan.\n\nSalam, Humas"
    assert reply_text(submitted(view, text=text)) == text


def test_the_reply_text_is_required() -> None:
    with pytest.raises(ValueError, match="required"):
        submitted(reply_form(), values={})


def test_the_reply_form_hands_its_metadata_and_callback_back_to_the_handler() -> None:
    view = reply_form()
    assert view["type"] == "modal"
    assert view["callback_id"] == "reply_modal"
    assert json.loads(submitted(view, text="ok")["private_metadata"]) == METADATA


def test_the_reply_forms_buttons_say_post_reply_and_cancel() -> None:
    view = reply_form()
    assert view["submit"] == {"type": "plain_text", "text": "Post reply", "emoji": False}
    assert view["close"] == {"type": "plain_text", "text": "Cancel", "emoji": False}


def test_replying_as_the_institution_names_its_handle_in_title_and_note() -> None:
    view = reply_form(identity=Identity.INSTITUTION, as_handle="humas_demo")
    assert view["title"]["text"] == "Reply as @humas_demo"
    assert contexts(view)[-1] == (
        "The reply is posted publicly on X as @humas_demo, under the post above."
    )
    assert not any(b.get("block_id") == render.IDENTITY_BLOCK for b in view["blocks"])


def test_replying_as_oneself_says_it_goes_out_from_ones_own_account() -> None:
    view = reply_form(identity=Identity.PERSONAL, as_handle="rina_x")
    assert view["title"]["text"] == "Reply as @rina_x"
    assert contexts(view)[-1] == "The reply is posted publicly on X from your own account @rina_x."


def test_replying_as_oneself_unlinked_says_how_to_link() -> None:
    view = reply_form(identity=Identity.PERSONAL, as_handle=None)
    assert view["title"]["text"] == "Reply as myself"
    assert contexts(view)[-1] == (
        "Your personal X account is not linked yet. Link it with /reachable link, then reply again."
    )


def test_a_title_of_exactly_slacks_limit_is_kept_whole() -> None:
    handle = "abcdefghijklmn"  # "Reply as @" and 14 characters: 24, a title's limit.
    assert len(f"Reply as @{handle}") == render.TITLE_LIMIT
    view = reply_form(as_handle=handle)
    assert view["title"]["text"] == f"Reply as @{handle}"


def test_a_title_too_long_for_slack_says_reply_rather_than_cut_the_handle() -> None:
    view = reply_form(as_handle="abcdefghijklmno")
    assert view["title"]["text"] == "Reply"


def test_with_a_single_identity_to_reply_as_there_is_nothing_to_choose() -> None:
    # "Reply again" by someone who may reply only as the institution.
    view = reply_form(choices=[INSTITUTION])
    assert not any(b.get("block_id") == render.IDENTITY_BLOCK for b in view["blocks"])
    assert view["title"]["text"] == "Reply as @humas_demo"
    assert contexts(view)[-1].startswith("The reply is posted publicly on X as @humas_demo")
    assert render.chosen_identity(submitted(view, text="ok")) is None


def test_with_two_identities_the_person_chooses_who_to_post_as() -> None:
    view = reply_form(choices=[INSTITUTION, PERSONAL])
    assert view["title"]["text"] == "Reply again"
    choice = block(view, render.IDENTITY_BLOCK)
    assert choice["type"] == "input" and choice["label"]["text"] == "Post as"
    element = choice["element"]
    assert (element["type"], element["action_id"]) == ("radio_buttons", render.IDENTITY_INPUT)
    assert [(o["text"]["text"], o["value"]) for o in element["options"]] == [
        ("@humas_demo (the institution)", "institution"),
        ("@rina_x (yourself)", "personal"),
    ]
    # No note about one identity: the choice says it.
    assert not any("posted publicly" in text for text in contexts(view))


def test_the_choice_starts_at_the_identity_given() -> None:
    for identity, value in ((Identity.INSTITUTION, "institution"), (Identity.PERSONAL, "personal")):
        view = reply_form(identity=identity, choices=[INSTITUTION, PERSONAL])
        element = block(view, render.IDENTITY_BLOCK)["element"]
        assert element["initial_option"]["value"] == value
        assert element["initial_option"] in element["options"]


def test_the_identity_picked_in_the_form_is_the_one_the_handler_reads() -> None:
    view = reply_form(choices=[INSTITUTION, PERSONAL])
    for value, identity in (("personal", Identity.PERSONAL), ("institution", Identity.INSTITUTION)):
        filled = submitted(
            view, values={"reply": {"text": "ok"}, render.IDENTITY_BLOCK: {"as": value}}
        )
        assert render.chosen_identity(filled) is identity
        assert reply_text(filled) == "ok"


def test_the_preselected_identity_as_slack_submits_it_untouched() -> None:
    view = reply_form(identity=Identity.PERSONAL, choices=[INSTITUTION, PERSONAL])
    initial = block(view, render.IDENTITY_BLOCK)["element"]["initial_option"]
    filled = submitted(
        view,
        values={"reply": {"text": "ok"}, "identity": {"as": {"selected_option": initial}}},
    )
    assert render.chosen_identity(filled) is Identity.PERSONAL


def test_the_identity_choice_may_be_left_empty_the_form_still_submits() -> None:
    # The handler then goes by the identity the form started at (its metadata).
    view = reply_form(choices=[INSTITUTION, PERSONAL])
    assert block(view, render.IDENTITY_BLOCK)["optional"] is True
    assert render.chosen_identity(submitted(view, text="ok")) is None


def test_the_reply_again_title_gives_way_to_reply_when_too_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A translation may well be longer than a Slack title holds.
    monkeypatch.setattr(messages, "reply_again_title", lambda: "Balas sekali lagi ke orang ini")
    view = reply_form(choices=[INSTITUTION, PERSONAL])
    assert view["title"]["text"] == "Reply"


def test_the_reply_form_speaks_the_persons_language() -> None:
    with speaking("id"):
        view = reply_form(identity=Identity.PERSONAL, choices=[INSTITUTION, PERSONAL])
    assert view["title"]["text"] == "Balas lagi"
    element = block(view, render.IDENTITY_BLOCK)["element"]
    assert [o["text"]["text"] for o in element["options"]] == [
        "@humas_demo (institusi)",
        "@rina_x (akun Anda)",
    ]


# -- reading the identity back ------------------------------------------------------------------


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"state": {}},
        {"state": {"values": {}}},
        {"state": {"values": {"reply": {"text": {"value": "ok"}}}}},
        {"state": {"values": {"identity": {}}}},
        {"state": {"values": {"identity": {"as": None}}}},
        {"state": {"values": {"identity": {"as": {"selected_option": None}}}}},
        {"state": {"values": {"identity": {"as": {"selected_option": "personal"}}}}},
        {"state": {"values": {"identity": {"as": {"selected_option": {}}}}}},
        {"state": {"values": {"identity": {"as": {"selected_option": {"value": "admin"}}}}}},
    ],
)
def test_no_identity_is_read_from_a_form_without_a_valid_choice(view: dict[str, Any]) -> None:
    assert render.chosen_identity(view) is None


# -- the dismiss form --------------------------------------------------------------------------


def test_the_dismiss_form_says_who_wrote_the_quoted_post() -> None:
    assert contexts(dismiss_form())[0] == "Budi (@warga_budi) wrote:"
    assert contexts(dismiss_form(mention=a_mention(author=None)))[0] == "Unknown author wrote:"
    assert dismiss_form()["blocks"][1]["text"]["text"] == "jalan rusak"


def test_the_dismiss_form_reads_dismiss_mention_dismiss_and_cancel() -> None:
    view = dismiss_form()
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Dismiss mention",
        "Dismiss",
        "Cancel",
    )
    assert view["title"]["type"] == "plain_text"


def test_a_dismiss_title_too_long_gives_way_to_dismiss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(messages, "dismiss_modal_title", lambda: "Abaikan mention yang ini saja")
    assert dismiss_form()["title"]["text"] == "Dismiss"


def test_the_dismiss_form_hands_its_metadata_and_callback_back_to_the_handler() -> None:
    view = dismiss_form()
    assert view["type"] == "modal"
    assert view["callback_id"] == "dismiss_modal"
    filled = submitted(view, values={"reason": {"reason": "spam"}})
    assert json.loads(filled["private_metadata"]) == {
        "thread": METADATA["thread"],
        "channel": "C0HUMAS",
    }


def test_the_reasons_are_offered_in_order_with_their_labels() -> None:
    choice = block(dismiss_form(), render.DISMISS_BLOCK)
    assert choice["label"]["text"] == (
        "Why dismiss this mention? It stays listed, and a new mention reopens it."
    )
    assert "optional" not in choice
    element = choice["element"]
    assert (element["type"], element["action_id"]) == ("radio_buttons", render.DISMISS_INPUT)
    assert [(o["text"]["text"], o["value"]) for o in element["options"]] == [
        ("Spam", "spam"),
        ("Not for us", "not_for_us"),
        ("Duplicate", "duplicate"),
        ("Other", "other"),
    ]


def test_each_reason_and_the_note_reach_the_handler_as_chosen() -> None:
    view = dismiss_form()
    for reason in DISMISS_REASONS:
        filled = submitted(
            view, values={"reason": {"reason": reason}, "note": {"note": "akun bot <!here>"}}
        )
        assert render.dismiss_choice(filled) == (reason, "akun bot <!here>")


def test_the_note_is_optional_and_reads_back_empty() -> None:
    view = dismiss_form()
    note = block(view, render.NOTE_BLOCK)
    assert note["optional"] is True
    assert note["label"]["text"] == "Note for the team (optional)"
    assert render.dismiss_choice(submitted(view, values={"reason": {"reason": "spam"}})) == (
        "spam",
        "",
    )


def test_a_reason_is_required() -> None:
    with pytest.raises(ValueError, match="required"):
        submitted(dismiss_form(), values={"note": {"note": "x"}})


def test_the_note_box_holds_what_the_dismissal_keeps() -> None:
    # The thread keeps 200 characters of the note: the box takes no more, and says so as one
    # types, rather than cut the note silently.
    view = dismiss_form()
    assert block(view, render.NOTE_BLOCK)["element"] == {
        "type": "plain_text_input",
        "action_id": render.NOTE_INPUT,
        "max_length": 200,
    }
    filled = submitted(view, values={"reason": {"reason": "other"}, "note": {"note": "n" * 200}})
    assert render.dismiss_choice(filled) == ("other", "n" * 200)
    with pytest.raises(ValueError, match="max_length"):
        submitted(view, values={"reason": {"reason": "other"}, "note": {"note": "n" * 201}})


def test_up_to_ten_reasons_are_radio_buttons_more_a_menu() -> None:
    def kind(count: int) -> str:
        element = block(dismiss_form([f"r{n}" for n in range(count)]), render.DISMISS_BLOCK)
        return str(element["element"]["type"])

    assert [kind(n) for n in (1, 9, 10, 11, 100)] == [
        "radio_buttons",
        "radio_buttons",
        "radio_buttons",
        "static_select",
        "static_select",
    ]


def test_a_reason_picked_from_the_menu_reaches_the_handler() -> None:
    reasons = [f"r{n}" for n in range(12)]
    filled = submitted(dismiss_form(reasons), values={"reason": {"reason": "r11"}})
    assert render.dismiss_choice(filled) == ("r11", "")


def test_a_label_too_long_for_an_option_is_clipped_but_its_value_kept() -> None:
    # A reason the catalogue does not know is shown as its key.
    long_reason = "r" * 100
    element = block(dismiss_form([long_reason, "spam"]), render.DISMISS_BLOCK)["element"]
    first, second = element["options"]
    assert first["text"]["text"] == "r" * 74 + "…"
    assert first["value"] == long_reason
    assert second["text"]["text"] == "Spam"
    assert render.dismiss_choice(
        submitted(dismiss_form([long_reason]), values={"reason": {"reason": long_reason}})
    ) == (long_reason, "")


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"state": {}},
        {"state": {"values": {}}},
        {"state": {"values": {"reason": {}, "note": {}}}},
        {"state": {"values": {"reason": {"reason": None}, "note": {"note": None}}}},
        {"state": {"values": {"reason": {"reason": {"selected_option": None}}}}},
        {"state": {"values": {"reason": {"reason": {"selected_option": "spam"}}}}},
        {"state": {"values": {"reason": {"reason": {"selected_option": {}}}}}},
        {"state": {"values": {"note": {"note": {"value": None}}}}},
        {"state": {"values": {"note": {"note": {"value": ""}}}}},
    ],
)
def test_a_dismiss_form_without_a_choice_reads_as_no_reason_and_no_note(
    view: dict[str, Any],
) -> None:
    # The handler answers with the reasons there are.
    assert render.dismiss_choice(view) == ("", "")


# -- the labels of a form's title and buttons -----------------------------------------------------


def test_a_label_is_the_first_wording_that_fits() -> None:
    assert render._label("Reply as @humas_demo", "Reply")["text"] == "Reply as @humas_demo"
    assert render._label("x" * 25, "y" * 24, "Reply")["text"] == "y" * 24
    assert render._label("Cancel") == {"type": "plain_text", "text": "Cancel", "emoji": False}


def test_a_label_where_no_wording_fits_is_the_last_one_clipped() -> None:
    assert render._label("a" * 30)["text"] == "a" * 23 + "…"
    assert render._label("a" * 30, "b" * 30, "c" * 25 + " d")["text"] == "c" * 23 + "…"
