"""Slack in the config: a destination is a channel, a person is known by their user id."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from adapters.slack import texts
from bridge.chats import ChatDestination, ChatPlatform
from bridge.text.i18n import _


class SlackDestination(ChatDestination):
    chat: Literal["slack"]
    channel: Annotated[str, Field(pattern=r"^[CGD][A-Z0-9]{2,}$")]

    @property
    def address(self) -> str:
        return self.channel

    def describe(self) -> str:
        return _("Slack channel {channel}", channel=self.channel)


SLACK = ChatPlatform(
    name="slack",
    label="Slack",
    destination=SlackDestination,
    user_id=Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")],
    command_prefix="/reachable ",
    link_command=texts.link_command,
    unlink_command=texts.unlink_command,
    help=lambda prefix: texts.help_text(prefix.strip()),
    format_hints={
        "channel": lambda: _("a Slack channel id such as C0HUMAS, not its #name"),
        "slack": lambda: _("a Slack user id such as U0RINA, not a display name"),
    },
)
