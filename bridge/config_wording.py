"""How a problem in the config file is told to an admin: where it is (the line, and the path
inside the file as the admin wrote it) and what is wrong, in our words where pydantic's would
puzzle ("unknown chat 'slak' (known: slack, telegram)")."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import yaml

from bridge.chats import ChatPlatform
from bridge.domain.rules import known_names, unknown
from bridge.networks import NetworkPlatform
from bridge.text.i18n import _


def format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def yaml_lines(
    node: yaml.Node, path: tuple[int | str, ...] = ()
) -> Iterator[tuple[tuple[int | str, ...], int]]:
    """Yield (path, 1-based line) for every node, so errors can point into the file."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield from yaml_lines(value_node, (*path, str(key_node.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from yaml_lines(item, (*path, index))


def humanise(error: Any, chats: Sequence[ChatPlatform], networks: Sequence[NetworkPlatform]) -> str:
    """Our explanation of a pydantic error where we have one, else pydantic's own words (our
    validators' messages arrive as "Value error, ..." and are already in the reader's language)."""
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return _("unknown setting (check the spelling)")
    if kind == "missing":
        return _("required setting is missing")
    if kind == "union_tag_invalid":
        return unknown("chat", error["ctx"]["tag"], [chat.name for chat in chats])
    if kind == "union_tag_not_found":
        known = known_names([chat.name for chat in chats])
        return _("`chat` is missing (one of: {known})", known=known)
    loc = tuple(error["loc"])
    if kind == "literal_error" and loc[:1] == ("destinations",) and loc[-1] == "chat":
        # With one chat there is no choice to tag: its literal is what refuses another.
        return unknown("chat", error["input"], [chat.name for chat in chats])
    if kind == "literal_error" and error["loc"] and error["loc"][-1] == "network":
        return unknown("network", error["input"], [network.name for network in networks])
    if kind == "string_pattern_mismatch":
        return _(
            "'{value}' is not valid here ({hint})",
            value=error["input"],
            hint=_pattern_hint(error["loc"], chats),
        )
    if message.startswith("Value error, "):
        return str(message.removeprefix("Value error, "))
    return str(message)


def _pattern_hint(loc: tuple[int | str, ...], chats: Sequence[ChatPlatform]) -> str:
    last = str(loc[-1]) if loc else ""
    hints = {
        "key": _("lower-case letters, digits, '-' and '_'"),
        "name": _("lower-case letters, digits, '-' and '_'"),
        "user_id": _("digits only"),
    }
    # A destination's field (destinations.<key>.<chat>.<field>) or a person's user id in a
    # chat (people[i].<chat>): the chat says what it should look like.
    named = {chat.name: chat for chat in chats}
    chat = None
    if loc and loc[0] == "destinations":
        alone = chats[0] if len(chats) == 1 else None  # no tag in the path with one chat
        chat = named.get(str(loc[2])) if len(loc) > 3 else alone
    elif loc and loc[0] == "people":
        chat = named.get(last)
    if chat is not None and (hint := chat.format_hints.get(last)):
        return hint()
    return hints.get(last, _("unexpected format"))


def without_union_tag(
    loc: tuple[int | str, ...], chats: Sequence[ChatPlatform]
) -> tuple[int | str, ...]:
    """pydantic puts the chosen chat in the path (destinations.x.slack.channel); admins don't."""
    if len(loc) > 2 and loc[0] == "destinations" and loc[2] in {chat.name for chat in chats}:
        return loc[:2] + loc[3:]
    return loc
