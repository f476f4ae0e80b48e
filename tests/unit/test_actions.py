"""Typed commands are read once, in the core, the same for every chat (bridge/actions.py); a
command's mistakes get the usage texts the chats gave before."""

from __future__ import annotations

import pytest

from adapters.slack import texts as slack_texts
from adapters.telegram import texts as telegram_texts
from adapters.x.config import X
from app.config import parse_config
from bridge.actions import (
    ActionDispatcher,
    Actor,
    Admin,
    Assign,
    ChatStyle,
    Claim,
    Help,
    Link,
    OpenReply,
    Show,
    Unanswered,
    command_verb,
    parse_command,
)
from bridge.desks.claims import ThreadDesk
from bridge.store.store import Store
from bridge.text import messages

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
people: [{key: rina, slack: U0RINA, telegram: 1001}]
routes: [{name: all, to: [desk]}]
""")
RINA = CONFIG.people[0]
SLACK = Actor(person=RINA, chat="slack", user_id="U0RINA", where="C0DESK")
TELEGRAM = Actor(person=RINA, chat="telegram", user_id="1001", where="-100200")
SLACK_STYLE = ChatStyle(prefix="/reachable ", code=lambda text: f"`{text}`")
TELEGRAM_STYLE = ChatStyle(prefix="/")
# Nothing below reaches Redis: every answer is given before a desk would read anything.
NO_STORE: Store = None  # type: ignore[assignment]


def dispatcher() -> ActionDispatcher:
    return ActionDispatcher(
        NO_STORE, config=lambda: CONFIG, threads=ThreadDesk(NO_STORE, config=lambda: CONFIG)
    )


@pytest.mark.parametrize(
    ("slack", "telegram", "expected"),
    [
        ("link", "/link", Link),
        ("pin 123456", "/pin 123456", Link),
        ("unlink", "/unlink@reachable_bot", Link),
        ("assign ab12cd budi", "/assign ab12cd budi", Assign),
        ("unanswered 2", "/unanswered 2", Unanswered),
        ("show ab12cd", "/show@reachable_bot ab12cd", Show),
        ("rules", "/rules", Admin),
        ("route jalan rusak", "/route jalan rusak", Admin),
        ("reload", "/reload", Admin),
        ("help", "/help", Help),
    ],
)
def test_every_shared_command_reads_the_same_in_both_chats(
    slack: str, telegram: str, expected: type
) -> None:
    from_slack = parse_command(slack, SLACK, style=SLACK_STYLE)
    from_telegram = parse_command(telegram, TELEGRAM, style=TELEGRAM_STYLE)
    assert type(from_slack) is type(from_telegram) is expected
    assert from_slack.actor is SLACK and from_telegram.actor is TELEGRAM


def test_a_command_keeps_its_verb_and_what_follows_it() -> None:
    assert command_verb("  ROUTE @humas_demo jalan rusak ") == ("route", "@humas_demo jalan rusak")
    assert command_verb("/Rules@Reachable_Bot") == ("rules", "")
    assert command_verb("/route\njalan rusak") == ("route", "jalan rusak")
    link = parse_command("pin 123456", SLACK, style=SLACK_STYLE)
    assert link == Link(SLACK, "pin", "123456", SLACK_STYLE)
    route = parse_command("/route jalan rusak", TELEGRAM, style=TELEGRAM_STYLE)
    assert route == Admin(TELEGRAM, "route", "jalan rusak")
    assign = parse_command("/assign budi", TELEGRAM, style=TELEGRAM_STYLE, in_reply_to="x:humas:7")
    assert assign == Assign(TELEGRAM, ("budi",), "x:humas:7", TELEGRAM_STYLE)


def test_an_unknown_verb_or_none_at_all_is_answered_with_help() -> None:
    assert isinstance(parse_command("frobnicate", SLACK, style=SLACK_STYLE), Help)
    assert isinstance(parse_command("", SLACK, style=SLACK_STYLE), Help)


async def test_help_is_each_chats_own() -> None:
    desk = dispatcher()
    slack = await desk.dispatch(Help(SLACK, SLACK_STYLE))
    assert slack == slack_texts.help_text("/reachable")
    assert await desk.dispatch(Help(TELEGRAM, TELEGRAM_STYLE)) == telegram_texts.help_text()


@pytest.mark.parametrize(
    ("actor", "style", "command"),
    [(SLACK, SLACK_STYLE, "/reachable"), (TELEGRAM, TELEGRAM_STYLE, "")],
)
async def test_bad_arguments_get_the_usage_texts_of_each_chat(
    actor: Actor, style: ChatStyle, command: str
) -> None:
    desk = dispatcher()
    prefix = f"{command} " if command else "/"
    for text in ("assign", "assign ab12cd", "assign ab12cd budi rina"):
        answer = await desk.dispatch(parse_command(text, actor, style=style))
        assert answer == messages.assign_usage(command=f"{prefix}assign")
    unanswered = await desk.dispatch(parse_command("unanswered two", actor, style=style))
    assert unanswered == messages.unanswered_usage(command=f"{prefix}unanswered")
    show = await desk.dispatch(parse_command("show", actor, style=style))
    assert show == messages.show_usage(command=f"{prefix}show")


async def test_linking_without_its_desk_says_it_is_not_set_up() -> None:
    desk = dispatcher()
    assert not desk.handles(Link)
    answer = await desk.dispatch(parse_command("link", SLACK, style=SLACK_STYLE))
    assert answer == messages.link_not_set_up(network="X", setting=X.linking_setting())


def test_a_desk_left_out_leaves_its_actions_unhandled() -> None:
    bare = ActionDispatcher(NO_STORE, config=lambda: CONFIG)
    assert not bare.handles(Claim) and not bare.handles(OpenReply) and not bare.handles(Admin)
    assert bare.handles(Unanswered) and bare.handles(Show) and bare.handles(Help)
    assert dispatcher().handles(Claim) and dispatcher().handles(Assign)
