"""What the core knows of a chat platform: the description its adapter gives.

The core names no chat. Each chat's adapter describes itself with a :class:`ChatPlatform` (its
``config.py``): the destination model admins write under ``destinations:``, the form of a
person's user id there, how its users type a command. The app lists the chats it runs with
(``app/config.py``), the config is parsed with them, and the parsed config answers for them
(:meth:`bridge.config.Config.chat_platform`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from bridge.domain.rules import Duration, Strict, known_zone
from bridge.text import i18n
from bridge.text.i18n import _

# A language Reachable speaks: en, id, or any with a catalogue in bridge/text/locale.
Locale = Annotated[str, AfterValidator(i18n.known_locale)]
# An IANA time zone: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT).
Zone = Annotated[str, AfterValidator(known_zone)]


class BurstConfig(Strict):
    """What happens when mentions come faster than a destination can show them one by one
    (a viral post): new ones are folded into digest messages instead of waiting in a queue
    for an hour. Folded mentions keep their threads: listed, answerable, counted."""

    # false: never fold; every mention is queued and posted singly, however long that takes.
    fold: bool = True
    # Mentions a minute above which new ones are folded; null: half of what the platform lets
    # Reachable post there in a minute (a Slack channel 30, a Telegram group 10).
    fold_above: Annotated[int, Field(ge=1)] | None = None
    # How often a digest of the folded mentions is posted while a burst lasts.
    digest_every: Duration = timedelta(seconds=20)
    # How many folded mentions each digest quotes (the most urgent first, then the oldest).
    sample: Annotated[int, Field(ge=0, le=10)] = 3

    @field_validator("digest_every")
    @classmethod
    def _digest_pace(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=5):
            raise ValueError(_("a digest interval of at least 5s"))
        return value


class ChatDestination(Strict):
    """A place in a chat where mentions are mirrored. A chat's adapter subclasses it with the
    fields that name the place there (a Slack channel, a Telegram group and topic) and a
    ``chat`` literal of its name."""

    chat: str
    # The language and time zone of what is posted there (default: the config's).
    locale: Locale | None = None
    timezone: Zone | None = None
    # Burst folding there (default: the config's `bursts`).
    bursts: BurstConfig | None = None

    @property
    @abstractmethod
    def address(self) -> str:
        """The chat-side target that platform rate limits count against."""

    @abstractmethod
    def describe(self) -> str:
        """Where it is, in the reader's language: "Slack channel C0HUMAS"."""


@dataclass(frozen=True, eq=False)
class ChatPlatform:
    """A chat platform as the core sees it. Texts are functions: they are said in the
    reader's language, known only when they are said."""

    # As `chat:` names it in the config, and as a person's user id there is keyed.
    name: str
    # As its users call it: "Slack".
    label: str
    destination: type[ChatDestination]
    # The type of a person's user id there, with its checks (pydantic annotation).
    user_id: Any
    # What a command looks like before its verb: "/reachable " in Slack, "/" in Telegram.
    command_prefix: str
    # How a person starts linking their own X account there, and how they unlink it.
    link_command: Callable[[], str]
    unlink_command: Callable[[], str]
    # What `help` answers there, given the command prefix the person typed.
    help: Callable[[str], str]
    # What a field of a destination or a person's user id should look like, by field name,
    # shown when one does not ("channel": "a Slack channel id such as C0HUMAS").
    format_hints: Mapping[str, Callable[[], str]] = field(default_factory=dict)

    def command(self, verb: str) -> str:
        """How a person writes a command here: ``/reachable show`` in Slack, ``/show`` in
        Telegram."""
        return f"{self.command_prefix}{verb}"
