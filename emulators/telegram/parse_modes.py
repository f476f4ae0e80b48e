"""How Telegram turns ``parse_mode`` text (HTML, MarkdownV2, legacy Markdown) into plain text
plus entities, for the emulator.

The Bot API never stores markup: it parses the text, refusing what tdlib refuses with tdlib's
words and byte offsets, and then trims it and adds its own detections
(:func:`emulators.telegram.text.finish`). The parsers below are ports of tdlib's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulators.telegram.text import (
    EntitiesError,
    Entity,
    EntityParseError,
    Output,
    UserLookup,
    byte_offset,
    link_entity,
)

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_HTML = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_SPACE = " \t\n\r\f\v"


# -- HTML ----------------------------------------------------------------------------------------


def _html_reference(source: str, start: int) -> tuple[str, int] | None:
    """A character reference at ``start`` (``&lt;``, ``&#62;``, ``&#x3e;``) and where it ends.

    Unknown names such as ``&foo;`` are not errors in Telegram: the ``&`` stays literal text.
    The ``;`` is optional, as in tdlib.
    """
    end = start + 1
    if source.startswith("&#", start):
        end += 1
        hexadecimal = source[end : end + 1] in ("x", "X")
        end += hexadecimal
        digits_start = end
        allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < len(source) and source[end] in allowed:
            end += 1
        digits = source[digits_start:end]
        code = int(digits, 16 if hexadecimal else 10) if digits else 0
        if code == 0 or code >= 0x10FFFF or end - start >= 10:
            return None
        char = chr(code)
    else:
        while end < len(source) and source[end].isascii() and source[end].isalpha():
            end += 1
        name = source[start + 1 : end]
        if name not in _NAMED_REFERENCES:
            return None
        char = _NAMED_REFERENCES[name]
    if source[end : end + 1] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    name: str
    offset: int
    begin: int
    attributes: dict[str, str]


class _HtmlParser:
    """A port of tdlib's ``parse_html``: the errors and their byte offsets are Telegram's."""

    def __init__(self, source: str, lookup: UserLookup | None) -> None:
        self.source = source
        self.lookup = lookup
        self.pos = 0
        self.out = Output()
        self.stack: list[_OpenTag] = []

    def fail(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else ""

    def parse(self) -> tuple[str, list[Entity]]:
        source = self.source
        while self.pos < len(source):
            char = source[self.pos]
            if char == "&":
                reference = _html_reference(source, self.pos)
                if reference is not None:
                    self.out.add(reference[0])
                    self.pos = reference[1]
                    continue
            if char != "<":
                self.out.add(char)
                self.pos += 1
            elif self.at(self.pos + 1) == "/":
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            name = self.stack[-1].name
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{name}"')
        text = self.out.text()
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise self.fail(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return text, self.out.entities

    def start_tag(self) -> None:
        begin = self.pos
        offset = byte_offset(self.source, begin)
        self.pos += 1
        while self.at(self.pos) not in ("", ">") and self.at(self.pos) not in _HTML_SPACE:
            self.pos += 1
        if self.at(self.pos) == "":
            raise self.fail(f"Unclosed start tag at byte offset {offset}")
        name = self.source[begin + 1 : self.pos].lower()
        if name not in HTML_TAGS:
            raise self.fail(f'Unsupported start tag "{name}" at byte offset {offset}')
        attributes = self.attributes(name, offset)
        self.pos += 1  # the '>'
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise self.fail(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise self.fail(
                f'Custom emoji entity must have "emoji-id" attribute at byte offset {offset}'
            )
        self.stack.append(_OpenTag(name, self.out.units, len(self.out.text()), attributes))

    def skip_space(self) -> None:
        while self.at(self.pos) != "" and self.at(self.pos) in _HTML_SPACE:
            self.pos += 1

    def attributes(self, tag: str, offset: int) -> dict[str, str]:
        found: dict[str, str] = {}
        while self.at(self.pos) != ">":
            self.skip_space()
            if self.at(self.pos) == ">":
                break
            if self.at(self.pos) == "":
                raise self.fail(f"Unclosed start tag at byte offset {offset}")
            name_start = self.pos
            while self.at(self.pos) not in ("", "=", ">") and self.at(self.pos) not in _HTML_SPACE:
                self.pos += 1
            name = self.source[name_start : self.pos]
            if not name:
                raise self.fail(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
            self.skip_space()
            if self.at(self.pos) != "=":
                if tag == "blockquote" and name == "expandable":
                    found[name] = ""
                    continue
                raise self.fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {offset}'
                )
            self.pos += 1
            self.skip_space()
            if self.at(self.pos) == "":
                raise self.fail(f'Unclosed start tag "{tag}" at byte offset {offset}')
            found[name.lower()] = self.attribute_value()
            if self.at(self.pos) == "":
                raise self.fail(f"Unclosed start tag at byte offset {offset}")
        return found

    def attribute_value(self) -> str:
        quote = self.at(self.pos)
        if quote not in ("'", '"'):
            # An unquoted "name token": letters, digits, '.', '-', not case-sensitive.
            start = self.pos
            while self.at(self.pos) != "" and (
                self.at(self.pos).isalnum() or self.at(self.pos) in ".-"
            ):
                self.pos += 1
            if self.at(self.pos) not in ("", ">") and self.at(self.pos) not in _HTML_SPACE:
                offset = byte_offset(self.source, start)
                raise self.fail(f"Unexpected end of name token at byte offset {offset}")
            return self.source[start : self.pos].lower()
        self.pos += 1
        value: list[str] = []
        while self.at(self.pos) not in ("", quote):
            reference = _html_reference(self.source, self.pos) if self.at(self.pos) == "&" else None
            if reference is not None:
                value.append(reference[0])
                self.pos = reference[1]
            else:
                value.append(self.source[self.pos])
                self.pos += 1
        if self.at(self.pos) == quote:
            self.pos += 1
        return "".join(value)

    def end_tag(self) -> None:
        begin = self.pos
        offset = byte_offset(self.source, begin)
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {offset}")
        self.pos += 2
        while self.at(self.pos) not in ("", ">") and self.at(self.pos) not in _HTML_SPACE:
            self.pos += 1
        name = self.source[begin + 2 : self.pos].lower()
        self.skip_space()
        if self.at(self.pos) != ">":
            raise self.fail(f"Unclosed end tag at byte offset {offset}")
        self.pos += 1
        top = self.stack.pop()
        if name and name != top.name:
            raise self.fail(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", '
                f'found "</{name}>"'
            )
        self.close(top)

    def close(self, tag: _OpenTag) -> None:
        out = self.out
        if out.units <= tag.offset:
            return  # Telegram drops empty entities
        if tag.name in _SIMPLE_HTML:
            out.entity(_SIMPLE_HTML[tag.name], tag.offset)
        elif tag.name == "blockquote":
            expandable = "expandable" in tag.attributes
            out.entity("expandable_blockquote" if expandable else "blockquote", tag.offset)
        elif tag.name == "tg-emoji":
            out.entity("custom_emoji", tag.offset, custom_emoji_id=tag.attributes["emoji-id"])
        elif tag.name == "a":
            url = tag.attributes.get("href") or out.text()[tag.begin :]
            link = link_entity(url, self.lookup)
            if link is not None:
                out.entity(str(link.pop("type")), tag.offset, **link)
        else:
            self.close_code(tag)

    def close_code(self, tag: _OpenTag) -> None:
        """``<pre><code class="language-x">`` is one pre entity with a language, not two."""
        out = self.out
        last = out.entities[-1] if out.entities else None
        same_range = (
            last is not None
            and last["offset"] == tag.offset
            and last["length"] == out.units - tag.offset
        )
        language = tag.attributes.get("class", "")
        language = language[len("language-") :] if language.startswith("language-") else ""
        if tag.name == "pre":
            if same_range and last is not None and last["type"] == "code" and "language" in last:
                last["type"] = "pre"
            else:
                out.entity("pre", tag.offset)
        elif same_range and last is not None and last["type"] == "pre" and language:
            last["language"] = language
        elif language:
            out.entity("code", tag.offset, language=language)
        else:
            out.entity("code", tag.offset)


def parse_html(source: str, lookup: UserLookup | None = None) -> tuple[str, list[Entity]]:
    text, entities = _HtmlParser(source, lookup).parse()
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a lone <code class="language-x"> keeps no language
    return text, entities


# -- MarkdownV2 ----------------------------------------------------------------------------------

_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _OpenMark:
    kind: str
    offset: int
    begin: int  # byte offset of the opening mark, for errors
    text_start: int
    language: str = ""


class _MarkdownV2Parser:
    """A port of tdlib's ``parse_markdown_v2``: every reserved character must be escaped."""

    def __init__(self, source: str, lookup: UserLookup | None) -> None:
        self.source = source
        self.lookup = lookup
        self.pos = 0
        self.out = Output()
        self.stack: list[_OpenMark] = []
        self.quote_start: int | None = None

    def at(self, index: int) -> str:
        return self.source[index] if index < len(self.source) else ""

    def parse(self) -> tuple[str, list[Entity]]:
        while self.pos < len(self.source):
            self.step()
        self.close_quote()
        if self.stack:
            top = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_V2_NAMES[top.kind]} entity at byte offset {top.begin}"
            )
        return self.out.text(), self.out.entities

    def in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind in ("code", "pre")

    def step(self) -> None:
        char, following = self.at(self.pos), self.at(self.pos + 1)
        if char == "\\" and following and 0 < ord(following) <= 126:
            self.out.add(following)
            self.pos += 2
            return
        if char == "\n":
            self.out.add(char)
            self.pos += 1
            if self.quote_start is not None and self.at(self.pos) != ">":
                self.close_quote(before_newline=True)
            return
        if char == ">" and not self.in_code() and (self.pos == 0 or self.at(self.pos - 1) == "\n"):
            # '>' at the start of a line quotes it; consecutive quoted lines form one blockquote.
            if self.quote_start is None:
                self.quote_start = self.out.units
            self.pos += 1
            return
        reserved = frozenset("`") if self.in_code() else _V2_RESERVED
        if char not in reserved:
            self.out.add(char)
            self.pos += 1
        elif self.ends_top(char):
            self.close_top()
        else:
            self.open(char)

    def close_quote(self, *, before_newline: bool = False) -> None:
        if self.quote_start is not None:
            end = self.out.units - (1 if before_newline else 0)
            if end > self.quote_start:
                self.out.entities.append(
                    {
                        "offset": self.quote_start,
                        "length": end - self.quote_start,
                        "type": "blockquote",
                    }
                )
            self.quote_start = None

    def ends_top(self, char: str) -> bool:
        if not self.stack:
            return False
        following = self.at(self.pos + 1)
        return {
            "bold": char == "*",
            "italic": char == "_" and following != "_",
            "underline": char == "_" and following == "_",
            "strikethrough": char == "~",
            "spoiler": char == "|" and following == "|",
            "code": char == "`",
            "pre": self.source.startswith("```", self.pos),
            "text_link": char == "]",
            "custom_emoji": char == "]",
        }[self.stack[-1].kind]

    def open(self, char: str) -> None:
        begin = byte_offset(self.source, self.pos)
        following = self.at(self.pos + 1)
        language = ""
        if char == "_" and following == "_":
            kind, width = "underline", 2
        elif char in "_*~[":
            kind = {"_": "italic", "*": "bold", "~": "strikethrough", "[": "text_link"}[char]
            width = 1
        elif char == "|" and following == "|":
            kind, width = "spoiler", 2
        elif char == "!" and following == "[":
            kind, width = "custom_emoji", 2
        elif char == "`" and self.source.startswith("```", self.pos):
            kind, width = "pre", 3
            language, width = self.pre_language(width)
        elif char == "`":
            kind, width = "code", 1
        else:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        self.pos += width
        self.stack.append(_OpenMark(kind, self.out.units, begin, len(self.out.text()), language))

    def pre_language(self, width: int) -> tuple[str, int]:
        """```python\\n...``` names a language on the first line; a lone newline is skipped."""
        end = self.pos + width
        while self.at(end) not in ("", "`") and not self.at(end).isspace():
            end += 1
        if self.at(end) == "\n":
            return self.source[self.pos + width : end], end + 1 - self.pos
        return "", width

    def close_top(self) -> None:
        top = self.stack.pop()
        out = self.out
        widths = {"underline": 2, "spoiler": 2, "pre": 3}
        self.pos += widths.get(top.kind, 1)
        if top.kind in ("text_link", "custom_emoji"):
            self.close_link(top)
        elif top.kind == "pre" and top.language:
            out.entity("pre", top.offset, language=top.language)
        else:
            out.entity(top.kind, top.offset)

    def close_link(self, top: _OpenMark) -> None:
        inner = self.out.text()[top.text_start :]
        url = self.link_target() if self.at(self.pos) == "(" else inner
        if top.kind == "custom_emoji":
            match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
            if match is None:
                raise EntityParseError("Custom emoji URL must have an emoji identifier")
            self.out.entity("custom_emoji", top.offset, custom_emoji_id=match.group(1))
            return
        link = link_entity(url, self.lookup)
        if link is not None:
            self.out.entity(str(link.pop("type")), top.offset, **link)

    def link_target(self) -> str:
        begin = byte_offset(self.source, self.pos)
        self.pos += 1
        url: list[str] = []
        while self.at(self.pos) not in ("", ")"):
            if self.at(self.pos) == "\\" and self.at(self.pos + 1):
                self.pos += 1
            url.append(self.at(self.pos))
            self.pos += 1
        if self.at(self.pos) != ")":
            raise EntityParseError(f"Can't find end of a URL at byte offset {begin}")
        self.pos += 1
        return "".join(url)


def parse_markdown_v2(source: str, lookup: UserLookup | None = None) -> tuple[str, list[Entity]]:
    return _MarkdownV2Parser(source, lookup).parse()


# -- legacy Markdown -----------------------------------------------------------------------------


def parse_markdown(source: str, lookup: UserLookup | None = None) -> tuple[str, list[Entity]]:
    """The legacy mode: ``*bold* _italic_ `code` ```pre``` [text](url)``, no nesting."""
    out = Output()
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char == "\\" and source[pos + 1 : pos + 2] in ("_", "*", "`", "["):
            out.add(source[pos + 1])
            pos += 2
            continue
        if char not in "_*`[":
            out.add(char)
            pos += 1
            continue
        begin = byte_offset(source, pos)
        is_pre = source.startswith("```", pos)
        closing = "```" if is_pre else ("]" if char == "[" else char)
        pos += 3 if is_pre else 1
        end = source.find(closing, pos)
        if end < 0:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        start, inner = out.units, source[pos:end]
        pos = end + len(closing)
        if is_pre:
            language, newline, rest = inner.partition("\n")
            if newline and language and not any(c.isspace() for c in language):
                out.add(rest)
                out.entity("pre", start, language=language)
            else:
                out.add(inner)
                out.entity("pre", start)
        elif char == "[":
            out.add(inner)
            url = ""
            if source[pos : pos + 1] == "(":
                close = source.find(")", pos)
                if close < 0:
                    raise EntityParseError(f"Can't find end of a URL at byte offset {begin}")
                url, pos = source[pos + 1 : close], close + 1
            link = link_entity(url or inner, lookup)
            if link is not None:
                out.entity(str(link.pop("type")), start, **link)
        else:
            out.add(inner)
            out.entity({"*": "bold", "_": "italic", "`": "code"}[char], start)
    return out.text(), out.entities


# -- the parse_mode argument ---------------------------------------------------------------------


def parse_text(
    text: str, parse_mode: str | None, lookup: UserLookup | None = None
) -> tuple[str, list[Entity]]:
    """Plain text and entities for ``text`` in ``parse_mode`` (None: the text as it is)."""
    if parse_mode is None:
        return text, []
    parser = {
        "html": parse_html,
        "markdownv2": parse_markdown_v2,
        "markdown": parse_markdown,
    }.get(parse_mode.lower())
    if parser is None:
        raise EntitiesError(f'unsupported parse_mode "{parse_mode}"')
    return parser(text, lookup)
