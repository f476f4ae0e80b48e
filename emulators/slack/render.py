"""How Slack reads Block Kit: the ids it fills in, what a client submits and shows.

The emulator needs two things a real workspace does on its own besides refusing what Slack
refuses (:mod:`emulators.slack.blocks`): fill in the ``block_id`` and ``action_id``
values Slack generates (a ``block_actions`` payload always carries them), and tell the tests
what a Slack client would turn into notifications (``pings``) or clickable links whose label
may differ from their target (``links``). Untrusted public text must produce neither.
Submitting a modal needs the client's side too: the ``state.values`` it builds from the inputs.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from collections.abc import Iterator
from typing import Any

BROADCASTS = frozenset({"channel", "here", "everyone"})

# Slack's control sequences: everything between an unescaped "<" and ">". Text that was escaped
# to "&lt;" never matches, which is exactly why escaping public text makes it harmless.
_CONTROL = re.compile(r"<([^<>\n]*)>")
# With parsing on (link_names, or a block text object that is not verbatim) Slack also turns the
# bare words into broadcasts.
_BARE_BROADCAST = re.compile(r"(?<![\w@<!])@(channel|here|everyone)\b")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# The "markdown" block takes standard Markdown, where a link label can hide its target too.
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(([^)\s]+)\)")
_ID_ALPHABET = string.ascii_letters + string.digits


def random_id(length: int = 5) -> str:
    """An id shaped like the short ``block_id``/``action_id`` values Slack makes up."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _interactive_elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            yield block[key]
    if block.get("type") == "actions" and isinstance(block.get("elements"), list):
        yield from (e for e in block["elements"] if isinstance(e, dict))


def normalise_blocks(blocks: list[Any]) -> list[Any]:
    """A copy with the ids Slack fills in when it stores blocks that came without them."""
    stored = copy.deepcopy(blocks)
    for block in stored:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", random_id())
        for element in _interactive_elements(block):
            if element.get("type") not in ("image", None):
                element.setdefault("action_id", random_id())
    return stored


def iter_buttons(blocks: list[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every button of a message with the ``block_id`` of the block that holds it."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for element in _interactive_elements(block):
            if element.get("type") == "button":
                yield str(block.get("block_id", "")), element


# -- modal input: what the client submits ------------------------------------------------------


def _input_blocks(blocks: list[Any]) -> list[tuple[str, str, dict[str, Any], bool]]:
    return [
        (b["block_id"], b["element"].get("action_id", ""), b["element"], bool(b.get("optional")))
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("element"), dict)
    ]


def _state_value(element: dict[str, Any], given: Any, where: str) -> dict[str, Any]:
    kind = element.get("type", "")
    if isinstance(given, dict):
        return {"type": kind, **given}
    if given is not None and not isinstance(given, str):
        raise ValueError(f"{where}: a value must be a string or a state object")
    if kind in ("static_select", "radio_buttons"):
        options = [o for o in element.get("options", []) if o.get("value") == given]
        if given is not None and not options:
            raise ValueError(f"{where}: no option with value {given!r}")
        return {"type": kind, "selected_option": options[0] if options else None}
    if given is not None:
        max_length = element.get("max_length")
        if isinstance(max_length, int) and len(given) > max_length:
            raise ValueError(f"{where}: longer than max_length {max_length}")
    return {"type": kind, "value": given}


def state_values(blocks: list[Any], data: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` as the Slack client fills it from what the user typed.

    ``data`` holds ``text`` (typed into the first plain_text_input) or ``values``
    (``{block_id: {action_id: value}}``); anything the client would refuse raises ``ValueError``.
    """
    inputs = _input_blocks(blocks)
    if "text" in data:
        text = data["text"]
        if not isinstance(text, str):
            raise ValueError("text must be a string")
        first = next((i for i in inputs if i[2].get("type") == "plain_text_input"), None)
        if first is None:
            raise ValueError("the view has no plain_text_input to type into")
        given: dict[str, Any] = {first[0]: {first[1]: text}}
    else:
        given = data["values"]
        if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
            raise ValueError("values must be {block_id: {action_id: value}}")
    known = {(block_id, action_id) for block_id, action_id, _, _ in inputs}
    unknown = [(b, a) for b, actions in given.items() for a in actions if (b, a) not in known]
    if unknown:
        raise ValueError(f"no such inputs {unknown}; the view has {sorted(known)}")
    values: dict[str, Any] = {}
    for block_id, action_id, element, optional in inputs:
        value = given.get(block_id, {}).get(action_id)
        if value in (None, "") and not optional:
            # The client refuses to submit and marks the field "required" itself.
            raise ValueError(f"input {block_id}/{action_id} is required")
        where = f"{block_id}/{action_id}"
        values.setdefault(block_id, {})[action_id] = _state_value(element, value or None, where)
    return values


# -- rendering: pings and links ----------------------------------------------------------------


class Rendering:
    """What a Slack client makes of one message: who gets notified and where links go."""

    def __init__(self) -> None:
        self.pings: list[str] = []
        self.links: list[dict[str, str]] = []

    def as_dict(self) -> dict[str, Any]:
        return {"pings": self.pings, "links": self.links}

    def scan_mrkdwn(self, text: str, *, parse_bare: bool) -> None:
        for match in _CONTROL.finditer(text):
            self._control_sequence(match.group(1))
        if parse_bare:
            self.pings.extend(f"@{m.group(1)}" for m in _BARE_BROADCAST.finditer(text))

    def _control_sequence(self, inner: str) -> None:
        target, _, label = inner.partition("|")
        if target.startswith("!"):
            name = target[1:]
            # "<!date^…>" formats a date and "<!foo>" is ignored; only these notify.
            if name in BROADCASTS or name.startswith("subteam^"):
                self.pings.append(f"<!{name}>")
        elif target.startswith("@"):
            self.pings.append(f"<{target}>")
        elif target.startswith("#"):
            return  # a channel link notifies nobody and cannot disguise its target
        elif _SCHEME.match(target):
            self.links.append({"url": target, "label": label or target})

    def text_object(self, obj: Any) -> None:
        if not isinstance(obj, dict) or obj.get("type") != "mrkdwn":
            return  # plain_text is shown as typed: "<!channel>" there is just characters
        text = obj.get("text")
        if isinstance(text, str):
            # Without "verbatim": true Slack pre-parses the text like a typed message.
            self.scan_mrkdwn(text, parse_bare=not obj.get("verbatim", False))

    def rich_text(self, element: Any) -> None:
        if not isinstance(element, dict):
            return
        kind = element.get("type")
        if kind == "broadcast":
            self.pings.append(f"<!{element.get('range', '')}>")
        elif kind == "user":
            self.pings.append(f"<@{element.get('user_id', '')}>")
        elif kind == "usergroup":
            self.pings.append(f"<!subteam^{element.get('usergroup_id', '')}>")
        elif kind == "link":
            url = str(element.get("url", ""))
            self.links.append({"url": url, "label": str(element.get("text") or url)})
        for child in (
            element.get("elements", []) if isinstance(element.get("elements"), list) else []
        ):
            self.rich_text(child)

    def block(self, block: Any) -> None:
        if not isinstance(block, dict):
            return
        kind = block.get("type")
        if kind == "section":
            self.text_object(block.get("text"))
            for field in block.get("fields") or []:
                self.text_object(field)
        elif kind == "context":
            for element in block.get("elements") or []:
                self.text_object(element)
        elif kind == "rich_text":
            self.rich_text(block)
        elif kind == "markdown" and isinstance(block.get("text"), str):
            for label, url in _MARKDOWN_LINK.findall(block["text"]):
                self.links.append({"url": url, "label": label})


def render(
    text: str | None, blocks: list[Any] | None, *, mrkdwn: bool = True, link_names: bool = False
) -> dict[str, Any]:
    """``{"pings": [...], "links": [{"url", "label"}]}`` for a message as Slack would show it.

    The top-level text counts even when blocks are present: it is the notification text.
    """
    rendering = Rendering()
    if text and mrkdwn:
        rendering.scan_mrkdwn(text, parse_bare=link_names)
    for block in blocks or []:
        rendering.block(block)
    return rendering.as_dict()
