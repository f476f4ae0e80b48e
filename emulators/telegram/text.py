"""Telegram's message entities, for the emulator: lengths and offsets in UTF-16 code units, the
links it keeps or drops, the ``entities`` a client may send instead of a parse mode, what it
detects on its own (links, e-mail addresses, @mentions, #hashtags, /commands), the trimming
that comes last, and a message rendered back to HTML for the tests.

The parse modes that produce entities from marked-up text are in
:mod:`emulators.telegram.parse_modes`; both follow tdlib's rules rather than any HTML or
Markdown spec, because the bridge's escaping is only tested if the emulator refuses what
Telegram refuses, with the same words.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Entity = dict[str, Any]
UserLookup = Callable[[int], dict[str, Any] | None]

MAX_TEXT_UTF16 = 4096
# Entity types a client may send in ``entities``; the rest are Telegram's own detections.
ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)
# Telegram trims these from both ends of a message (after parsing, so entities move too).
_TRIMMED = " \t\n\r\f\v"
# No auto-detected entity is created inside these: their text is shown as typed.
_OPAQUE = frozenset({"code", "pre", "text_link", "text_mention", "url", "email", "custom_emoji"})

_URL = re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{2,31}(?![\w@])")
_HASHTAG = re.compile(r"(?<![\w#&])#\w*[^\W\d]\w*")
# Like tdlib, a command next to '<' or '>' is not one: "</b>" in text must not become "/b".
_COMMAND = re.compile(
    r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?(?![\w/@<>])"
)
_URL_TAIL = ".,;:!?'\")"


class EntityParseError(ValueError):
    """Text Telegram refuses to parse; the message follows ``can't parse entities: ``."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def byte_offset(source: str, index: int) -> int:
    """tdlib reports positions as byte offsets into the UTF-8 input."""
    return len(source[:index].encode("utf-8", "surrogatepass"))


@dataclass
class Output:
    """The plain text being built, its length in UTF-16 units and the entities found so far."""

    parts: list[str] = field(default_factory=list)
    units: int = 0
    entities: list[Entity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.units += sum(_units(c) for c in text)

    def text(self) -> str:
        return "".join(self.parts)

    def entity(self, kind: str, offset: int, **extra: Any) -> None:
        if self.units > offset:
            self.entities.append({"offset": offset, "length": self.units - offset, "type": kind})
            self.entities[-1].update(extra)


# -- URLs ----------------------------------------------------------------------------------------


def check_url(url: str) -> str | None:
    """The URL Telegram stores for a link, or None when it silently drops the link.

    Telegram adds ``http://`` to bare hosts and a ``/`` to empty paths, and refuses schemes
    other than http(s), tg, ton and ftp, so ``javascript:`` links never survive.
    """
    url = url.strip()
    if not url:
        return None
    if "://" not in url and not url.lower().startswith(("tg:", "ton:")):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("tg", "ton"):
        return url
    if scheme not in ("http", "https", "ftp") or not parts.hostname:
        return None
    if "." not in parts.hostname and parts.hostname != "localhost":
        return None
    if any(c.isspace() for c in url):
        return None
    return url if parts.path else url.replace(parts.netloc, parts.netloc + "/", 1)


def link_entity(url: str, lookup: UserLookup | None) -> dict[str, Any] | None:
    """``tg://user?id=N`` becomes a text_mention of a known user; other URLs a text_link."""
    match = re.fullmatch(r"tg://user\?id=(\d+)", url.strip())
    if match:
        user = lookup(int(match.group(1))) if lookup else None
        return {"type": "text_mention", "user": user} if user else None
    checked = check_url(url)
    return {"type": "text_link", "url": checked} if checked else None


# -- explicit entities, detection, trimming --------------------------------------------------------


class EntitiesError(ValueError):
    """Malformed ``entities``: Telegram answers ``Bad Request: <message>``."""


def check_entities(raw: Any, text: str, lookup: UserLookup | None = None) -> list[Entity]:
    """Entities sent by the client instead of a parse mode, validated as the Bot API does."""
    if not isinstance(raw, list):
        raise EntitiesError("can't parse entities JSON object")
    size = utf16_len(text)
    checked: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise EntitiesError('can\'t parse MessageEntity: Field "type" must be of type String')
        kind = item["type"]
        if kind not in ENTITY_TYPES:
            raise EntitiesError(f'can\'t parse MessageEntity: Unsupported type "{kind}"')
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise EntitiesError('can\'t parse MessageEntity: Field "offset" must be a number')
        if length <= 0 or offset < 0 or offset >= size:
            continue  # Telegram ignores entities that cover nothing
        entity: Entity = {"offset": offset, "length": min(length, size - offset), "type": kind}
        if kind == "text_link":
            url = check_url(str(item.get("url", "")))
            if url is None:
                continue
            entity["url"] = url
        elif kind == "text_mention":
            user = item.get("user")
            user_id = user.get("id") if isinstance(user, dict) else None
            found = lookup(user_id) if lookup and isinstance(user_id, int) else None
            if found is None:
                continue
            entity["user"] = found
        elif kind == "pre" and isinstance(item.get("language"), str) and item["language"]:
            entity["language"] = item["language"]
        elif kind == "custom_emoji":
            entity["custom_emoji_id"] = str(item.get("custom_emoji_id", ""))
        if kind in (
            "bold",
            "italic",
            "underline",
            "strikethrough",
            "spoiler",
            "code",
            "pre",
            "text_link",
            "text_mention",
            "custom_emoji",
            "blockquote",
            "expandable_blockquote",
        ):
            checked.append(entity)
    return checked


def _utf16_offsets(text: str) -> list[int]:
    """``offsets[i]`` is the UTF-16 offset of ``text[i]``; one extra entry for the end."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + _units(char))
    return offsets


def detect_entities(text: str) -> list[Entity]:
    """What Telegram finds on its own: links, e-mail addresses, @mentions, #tags, /commands."""
    offsets = _utf16_offsets(text)
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (
        ("url", _URL),
        ("email", _EMAIL),
        ("mention", _MENTION),
        ("hashtag", _HASHTAG),
        ("bot_command", _COMMAND),
    ):
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                while end > start and text[end - 1] in _URL_TAIL:
                    end -= 1
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append(
                {"offset": offsets[start], "length": offsets[end] - offsets[start], "type": kind}
            )
    return found


def _overlaps(a: Entity, b: Entity) -> bool:
    return bool(a["offset"] < b["offset"] + b["length"] and b["offset"] < a["offset"] + a["length"])


def finish(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim the text as Telegram does, add its own detections and sort like tdlib."""
    stripped = text.lstrip(_TRIMMED)
    head = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip(_TRIMMED)
    size = utf16_len(stripped)
    kept: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - head, 0)
        end = min(entity["offset"] + entity["length"] - head, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    opaque = [e for e in kept if e["type"] in _OPAQUE]
    kept += [d for d in detect_entities(stripped) if not any(_overlaps(d, o) for o in opaque)]
    order = {id(e): i for i, e in enumerate(kept)}
    kept.sort(key=lambda e: (e["offset"], -e["length"], order[id(e)]))
    return stripped, kept


# -- rendering back to HTML ----------------------------------------------------------------------

_OPEN_TAGS = {
    "bold": "<b>",
    "italic": "<i>",
    "underline": "<u>",
    "strikethrough": "<s>",
    "spoiler": "<tg-spoiler>",
    "code": "<code>",
    "blockquote": "<blockquote>",
    "expandable_blockquote": "<blockquote expandable>",
}
_CLOSE_TAGS = {
    "bold": "</b>",
    "italic": "</i>",
    "underline": "</u>",
    "strikethrough": "</s>",
    "spoiler": "</tg-spoiler>",
    "code": "</code>",
    "blockquote": "</blockquote>",
    "expandable_blockquote": "</blockquote>",
    "pre": "</pre>",
    "text_link": "</a>",
    "text_mention": "</a>",
    "custom_emoji": "</tg-emoji>",
}


def _open_tag(entity: Entity) -> str:
    kind = entity["type"]
    if kind == "pre":
        language = entity.get("language")
        return f'<pre><code class="language-{html.escape(language)}">' if language else "<pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(entity["url"])}">'
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity["user"]["id"]}">'
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{html.escape(entity["custom_emoji_id"])}">'
    return _OPEN_TAGS[kind]


def _close_tag(entity: Entity) -> str:
    if entity["type"] == "pre" and entity.get("language"):
        return "</code></pre>"
    return _CLOSE_TAGS[entity["type"]]


def render_html(text: str, entities: list[Entity]) -> str:
    """The text as Telegram HTML again: what a person would have typed to get this message.

    Only formatting entities become tags; Telegram's own detections (links, mentions) stay
    plain text. A child that overlaps its parent's end is cut there, which cannot happen with
    entities that came out of a parser.
    """
    formatting = sorted(
        (e for e in entities if e["type"] in _CLOSE_TAGS),
        key=lambda e: (e["offset"], -e["length"]),
    )
    offsets = _utf16_offsets(text)
    pieces: list[str] = []
    stack: list[tuple[Entity, int]] = []
    pending = list(reversed(formatting))
    for index in range(len(text) + 1):
        here = offsets[index]
        while stack and stack[-1][1] <= here:
            pieces.append(_close_tag(stack.pop()[0]))
        while pending and pending[-1]["offset"] <= here:
            entity = pending.pop()
            end = entity["offset"] + entity["length"]
            if stack:
                end = min(end, stack[-1][1])
            if end > here:
                pieces.append(_open_tag(entity))
                stack.append((entity, end))
        if index < len(text):
            pieces.append(html.escape(text[index], quote=False))
    return "".join(pieces)
