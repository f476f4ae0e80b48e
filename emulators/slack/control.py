"""The Slack emulator's control API, reading and settings: messages, ephemerals and open
modals as they stand (with what a client would ping and link), the bridge's address and Socket
Mode switched, the bot removed from a channel, the Socket Mode connection looked at or dropped.
What people do is in :mod:`emulators.slack.people`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulators.core import bad_request, read_json_object
from emulators.slack.model import ControlError, JSONDict, exact_ts
from emulators.slack.render import render
from emulators.slack.state import SlackState


class SlackControl(SlackState):
    """Reading the workspace and changing its settings, for tests and the demo."""

    # -- control API: reading --------------------------------------------------------------------

    def _control_channel(self, channel: str | None) -> list[str]:
        if channel is None:
            return list(self.channels)
        if channel not in self.channels:
            raise ControlError(
                404, f"unknown channel {channel!r} (the bot is in {sorted(self.channels)})"
            )
        return [channel]

    def messages(self, channel: str | None = None) -> list[JSONDict]:
        """Messages as they stand now, oldest first, with what a client would ping and link."""
        with self._lock:
            out = []
            for channel_id in self._control_channel(channel):
                for m in self._messages[channel_id].values():
                    item: JSONDict = {
                        "channel": channel_id,
                        "ts": m.ts,
                        "thread_ts": m.thread_ts,
                        "text": m.text,
                        "blocks": m.blocks,
                        "user": m.user,
                        "bot_id": m.bot_id,
                        "metadata": m.metadata,
                        "edited": m.edited,
                        "subtype": m.subtype,
                        "reply_count": len(m.replies),
                        "latest_reply": m.replies[-1] if m.replies else None,
                    }
                    item.update(render(m.text, m.blocks, mrkdwn=m.mrkdwn, link_names=m.link_names))
                    out.append(item)
            return sorted(out, key=lambda item: exact_ts(item["ts"]))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[JSONDict]:
        with self._lock:
            self._control_channel(channel)
            return [
                {
                    "channel": e.channel,
                    "user": e.user,
                    "message_ts": e.message_ts,
                    "thread_ts": e.thread_ts,
                    "text": e.text,
                    "blocks": e.blocks,
                    **render(e.text, e.blocks),
                }
                for e in self._ephemerals
                if channel in (None, e.channel) and user in (None, e.user)
            ]

    def open_views(self, user: str | None = None) -> list[JSONDict]:
        """Open modals, bottom of each user's stack first."""
        with self._lock:
            return [
                {"user": owner, **self._views[view_id].view}
                for owner, stack in self._stacks.items()
                if user in (None, owner)
                for view_id in stack
            ]

    async def _get_messages(self, request: Request) -> Response:
        try:
            return JSONResponse({"messages": self.messages(request.query_params.get("channel"))})
        except ControlError as exc:
            return exc.response()

    async def _get_ephemerals(self, request: Request) -> Response:
        query = request.query_params
        try:
            return JSONResponse(
                {"ephemerals": self.ephemerals(query.get("channel"), query.get("user"))}
            )
        except ControlError as exc:
            return exc.response()

    async def _get_views(self, request: Request) -> Response:
        return JSONResponse({"views": self.open_views(request.query_params.get("user"))})

    async def _config(self, data: JSONDict) -> Response:
        url = data.get("bridge_url", self.bridge_url)
        if "bridge_url" in data and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            return bad_request("bridge_url must be an http(s) URL")
        socket_mode = data.get("socket_mode", self.socket.enabled)
        if not isinstance(socket_mode, bool):
            return bad_request("socket_mode must be true or false")
        with self._lock:
            self.bridge_url = url
            self.socket.enabled = socket_mode
        return JSONResponse({"ok": True, "bridge_url": url, "socket_mode": socket_mode})

    async def _remove_bot(self, data: JSONDict) -> Response:
        """Someone removes the bot from a channel: it can no longer post there."""
        channel = data.get("channel")
        with self._lock:
            if channel not in self.channels:
                return bad_request(f"the bot is not in {channel!r} (in: {sorted(self.channels)})")
            self.non_member_channels[str(channel)] = self.channels.pop(str(channel))
        return JSONResponse({"ok": True, "channel": channel})

    async def _socket_status(self, request: Request) -> Response:
        return JSONResponse(self.socket.status())

    async def _socket_drop(self, data: JSONDict) -> Response:
        after_next_send = data.get("after_next_send", False)
        if not isinstance(after_next_send, bool):
            return bad_request("after_next_send must be true or false")
        dropped = await self.socket.drop(after_next_send=after_next_send)
        return JSONResponse({"ok": True, "dropped": dropped})

    def _control_user(self, data: JSONDict) -> str:
        user = control_str(data, "user")
        if user not in self.users:
            raise ControlError(404, f"unknown user {user!r} (known: {sorted(self.users)})")
        return user


def control_str(data: JSONDict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"{name} must be a non-empty string")
    return value


def optional_str(data: JSONDict, name: str) -> str | None:
    return None if data.get(name) is None else control_str(data, name)


async def control_body(request: Request) -> JSONDict:
    try:
        return await read_json_object(request)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
