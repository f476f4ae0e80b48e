"""Slack's own checks on Block Kit: what chat.postMessage, chat.update, chat.postEphemeral and
views.open/update/push refuse, in Slack's wording.

The emulator must refuse what Slack refuses, or the bridge passes its tests with a message or
a form Slack would turn away. The limits are those of Slack's Block Kit reference (blocks,
block elements, composition objects, the modal view object, docs.slack.dev, 2025) and its
published JSON schema of blocks: a message holds at most 50 blocks and a modal 100; a section's
text 3,000 characters; a modal's title, submit and close 24; ``private_metadata`` 3,000; ids
(``callback_id``, ``block_id``, ``action_id``) 255; a button's text 75 and its value 2,000; a
plain-text input's ``max_length`` and ``min_length`` at most 3,000 and its placeholder 150; a
radio or checkbox group 10 options and a static select 100; an option's text 75 and its value
150. A refusal names each problem with a JSON pointer, as Slack does:
``must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]``.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_ACTION_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_ID_LENGTH = 255
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_INPUT_LENGTH = 3000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
# Slack refuses a message whose blocks carry too much text in all with msg_blocks_too_long. The
# limit is not documented: a Slack engineer put it at 12,000 characters of text with a buffer
# for the blocks themselves (slackapi/bolt-js#2509, where 13,297 characters of markdown blocks
# went through); counting the text alone against 12,000 is never more lenient than Slack.
MAX_MESSAGE_BLOCKS_TEXT = 12_000
# How many options each kind of choice element holds.
MAX_OPTIONS = {"radio_buttons": 10, "checkboxes": 10, "static_select": 100, "overflow": 5}

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


class _Checker:
    """Collects errors in Slack's wording: ``<problem> [json-pointer:/blocks/0/text/text]``."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._block_ids: set[str] = set()
        self._action_ids: set[str] = set()

    def fail(self, problem: str, pointer: str) -> None:
        self.errors.append(f"{problem} [json-pointer:{pointer}]")

    def text_object(
        self, obj: Any, pointer: str, max_len: int, *, plain_only: bool = False
    ) -> None:
        if not isinstance(obj, dict):
            self.fail("must be an object", pointer)
            return
        kind = obj.get("type")
        allowed = {"plain_text"} if plain_only else TEXT_TYPES
        if kind not in allowed:
            self.fail(f"must be one of {sorted(allowed)}", f"{pointer}/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must be more than 0 characters", f"{pointer}/text")
        elif len(text) > max_len:
            self.fail(f"must be less than {max_len + 1} characters", f"{pointer}/text")

    def string(self, value: Any, pointer: str, max_len: int, *, required: bool = False) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str) or (required and not value):
            self.fail("must be a non-empty string" if required else "must be a string", pointer)
        elif len(value) > max_len:
            self.fail(f"must be less than {max_len + 1} characters", pointer)

    def unique_id(self, value: Any, seen: set[str], pointer: str) -> None:
        if value is None:
            return
        if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
            self.fail(f"must be a string of 1 to {MAX_ID_LENGTH} characters", pointer)
        elif value in seen:
            self.fail(f"{value!r} is already used by another element", pointer)
        else:
            seen.add(value)

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict) or not isinstance(element.get("type"), str):
            self.fail("must be an object with a type", pointer)
            return
        self.unique_id(element.get("action_id"), self._action_ids, f"{pointer}/action_id")
        kind = element["type"]
        if kind == "button":
            self._button(element, pointer)
        elif kind == "plain_text_input":
            self._text_input(element, pointer)
        elif kind in MAX_OPTIONS:
            self._choice(element, pointer, MAX_OPTIONS[kind])

    def _button(self, element: dict[str, Any], pointer: str) -> None:
        self.text_object(element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_only=True)
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
            self.fail(f"must be a string of at most {MAX_BUTTON_VALUE} characters", pointer)
        url = element.get("url")
        if url is not None and (not isinstance(url, str) or len(url) > MAX_URL):
            self.fail(f"must be a string of at most {MAX_URL} characters", f"{pointer}/url")

    def _placeholder(self, element: dict[str, Any], pointer: str) -> None:
        if "placeholder" in element:
            self.text_object(
                element["placeholder"], f"{pointer}/placeholder", MAX_PLACEHOLDER, plain_only=True
            )

    def _bound(self, element: dict[str, Any], key: str, pointer: str, low: int) -> int | None:
        value = element.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("must be an integer", f"{pointer}/{key}")
            return None
        if not low <= value <= MAX_INPUT_LENGTH:
            self.fail(f"must be between {low} and {MAX_INPUT_LENGTH}", f"{pointer}/{key}")
            return None
        return value

    def _text_input(self, element: dict[str, Any], pointer: str) -> None:
        self._placeholder(element, pointer)
        longest = self._bound(element, "max_length", pointer, 1)
        shortest = self._bound(element, "min_length", pointer, 0)
        if longest is not None and shortest is not None and shortest > longest:
            self.fail("must not be more than max_length", f"{pointer}/min_length")
        limit = MAX_INPUT_LENGTH if longest is None else longest
        self.string(element.get("initial_value"), f"{pointer}/initial_value", limit)

    def _choice(self, element: dict[str, Any], pointer: str, most: int) -> None:
        self._placeholder(element, pointer)
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= most:
            self.fail(f"must be an array of 1 to {most} items", f"{pointer}/options")
            return
        # Radio buttons and checkboxes may show mrkdwn; a select menu only plain text.
        plain_only = element["type"] in ("static_select", "overflow")
        for i, option in enumerate(options):
            self._option(option, f"{pointer}/options/{i}", plain_only=plain_only)
        initial = [element["initial_option"]] if "initial_option" in element else []
        initial += element.get("initial_options") or []
        for chosen in initial:
            if chosen not in options:
                self.fail("must match one of the options", f"{pointer}/initial_option")

    def _option(self, option: Any, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(option, dict):
            self.fail("must be an object", pointer)
            return
        self.text_object(
            option.get("text"), f"{pointer}/text", MAX_OPTION_TEXT, plain_only=plain_only
        )
        self.string(option.get("value"), f"{pointer}/value", MAX_OPTION_VALUE, required=True)
        if "description" in option:
            self.text_object(
                option["description"],
                f"{pointer}/description",
                MAX_OPTION_TEXT,
                plain_only=plain_only,
            )

    def blocks(self, blocks: list[Any], pointer: str, limit: int) -> None:
        if len(blocks) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must be an object", pointer)
            return
        kind = block.get("type")
        if kind not in KNOWN_BLOCK_TYPES:
            self.fail(f"unsupported type: {kind}", f"{pointer}/type")
            return
        self.unique_id(block.get("block_id"), self._block_ids, f"{pointer}/block_id")
        check = getattr(self, f"_{kind}", None)
        if check is not None:
            check(block, pointer)

    def _section(self, block: dict[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail("must provide either text or fields", pointer)
        if "text" in block:
            self.text_object(block["text"], f"{pointer}/text", MAX_SECTION_TEXT)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_FIELDS:
                self.fail(f"must be an array of 1 to {MAX_FIELDS} items", f"{pointer}/fields")
            else:
                for i, field in enumerate(fields):
                    self.text_object(field, f"{pointer}/fields/{i}", MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def _header(self, block: dict[str, Any], pointer: str) -> None:
        self.text_object(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True)

    def _actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ACTION_ELEMENTS:
            self.fail(
                f"must be an array of 1 to {MAX_ACTION_ELEMENTS} items", f"{pointer}/elements"
            )
            return
        for i, element in enumerate(elements):
            self.element(element, f"{pointer}/elements/{i}")

    def _context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
            self.fail(
                f"must be an array of 1 to {MAX_CONTEXT_ELEMENTS} items", f"{pointer}/elements"
            )
            return
        for i, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") == "image":
                continue
            self.text_object(element, f"{pointer}/elements/{i}", MAX_SECTION_TEXT)

    def _input(self, block: dict[str, Any], pointer: str) -> None:
        self.text_object(block.get("label"), f"{pointer}/label", MAX_LABEL, plain_only=True)
        if "hint" in block:
            self.text_object(block["hint"], f"{pointer}/hint", MAX_LABEL, plain_only=True)
        self.element(block.get("element"), f"{pointer}/element")


def validate_blocks(blocks: list[Any]) -> list[str]:
    """Slack's own checks on a message's blocks, in Slack's error wording; empty when valid."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return checker.errors


def validate_view(view: dict[str, Any]) -> list[str]:
    """Slack's checks on a modal given to ``views.open``/``update``/``push``."""
    checker = _Checker()
    if view.get("type") != "modal":
        checker.fail("must be 'modal'", "/view/type")
    checker.text_object(view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            checker.text_object(view[key], f"/view/{key}", MAX_VIEW_TITLE, plain_only=True)
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        checker.fail("must be an array", "/view/blocks")
        return checker.errors
    checker.blocks(blocks, "/view/blocks", MAX_VIEW_BLOCKS)
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if has_input and "submit" not in view:
        # Slack insists on a submit button as soon as a modal asks for input.
        checker.fail("must provide submit when the view has input blocks", "/view/submit")
    for key, limit in (
        ("private_metadata", MAX_PRIVATE_METADATA),
        ("callback_id", MAX_ID_LENGTH),
        ("external_id", MAX_ID_LENGTH),
    ):
        value = view.get(key, "")
        if not isinstance(value, str) or len(value) > limit:
            checker.fail(f"must be a string of at most {limit} characters", f"/view/{key}")
    return checker.errors


def blocks_text_length(blocks: Any) -> int:
    """The characters of every text object in ``blocks``, however deep."""
    if isinstance(blocks, list):
        return sum(blocks_text_length(item) for item in blocks)
    if not isinstance(blocks, dict):
        return 0
    text = blocks.get("text")
    own = len(text) if blocks.get("type") in TEXT_TYPES and isinstance(text, str) else 0
    return own + sum(
        blocks_text_length(value) for value in blocks.values() if isinstance(value, list | dict)
    )
