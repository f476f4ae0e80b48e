"""What staff see in each chat, drawn in a terminal from the emulators' control API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from bridge.text.i18n import _

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_DATE = re.compile(r"<!date\^\d+\^[^|]*\|([^>]+)>")


def _slack_mrkdwn(text: str) -> str:
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(
        lambda m: m.group(2) if m.group(2).startswith("@") else f"{m.group(2)} ({m.group(1)})",
        text,
    )
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _slack_element(element: dict[str, Any]) -> str:
    text = str(element.get("text", ""))
    return _slack_mrkdwn(text) if element.get("type") == "mrkdwn" else text


def _boxed(lines: list[str], indent: str) -> str:
    return "\n".join(f"{indent}│ {line}" for line in lines)


@dataclass(frozen=True)
class ChatView:
    """One channel or group of an emulator, as a person sees it."""

    kind: str  # "slack" | "telegram"
    url: str
    address: str
    title: str

    async def messages(self, http: httpx.AsyncClient) -> list[dict[str, Any]]:
        param = "channel" if self.kind == "slack" else "chat_id"
        response = await http.get(f"{self.url}/_emulator/messages", params={param: self.address})
        response.raise_for_status()
        return list(response.json()["messages"])

    def key(self, message: dict[str, Any]) -> str:
        return str(message["ts"] if self.kind == "slack" else message["message_id"])

    def parent(self, message: dict[str, Any]) -> str | None:
        if self.kind == "slack":
            parent = message.get("thread_ts")
            return str(parent) if parent and parent != message["ts"] else None
        parent = message.get("reply_to_message_id")
        return str(parent) if parent else None

    def render_message(self, message: dict[str, Any], *, indent: str = "") -> str:
        if self.kind == "telegram":
            lines = str(message.get("text", "")).splitlines()
            keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
            buttons = [f"[{button['text']}]" for row in keyboard for button in row]
            if buttons:
                lines.append("  ".join(buttons))
            return _boxed(lines, indent)
        lines = []
        for block in message.get("blocks") or []:
            kind = block.get("type")
            if kind == "context":
                lines.append(" · ".join(_slack_element(e) for e in block.get("elements", [])))
            elif kind == "section" and block.get("text"):
                lines += [f"  {line}" for line in _slack_element(block["text"]).splitlines()]
            elif kind == "actions":
                lines.append(
                    "  ".join(
                        f"[{_slack_element(e.get('text', {}))}]" for e in block.get("elements", [])
                    )
                )
        return _boxed(lines or _slack_mrkdwn(str(message.get("text", ""))).splitlines(), indent)

    def _answer_label(self) -> str:
        """What a message below another is: in Slack a thread reply, in Telegram a reply."""
        return _("in the thread:") if self.kind == "slack" else _("reply:")

    def render(self, messages: list[dict[str, Any]]) -> str:
        out = [_("What staff now see in {chat}:", chat=self.title)]
        for message in messages:
            if self.parent(message) is not None:
                continue
            out.append("┌" + "─" * 70)
            out.append(self.render_message(message))
            for reply in messages:
                if self.parent(reply) == self.key(message):
                    out.append("│   ↳ " + self._answer_label())
                    out.append(self.render_message(reply, indent="│     "))
            out.append("└" + "─" * 70)
        return "\n".join(out)
