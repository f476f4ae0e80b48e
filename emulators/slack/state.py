"""The Slack emulator's state: one workspace, its channels, people, messages and open modals,
behind one lock (uvicorn serves it from its own thread while tests read it from theirs).

:class:`SlackState` holds the workspace and what both the Web API (:mod:`emulators.slack.api`)
and the control API (:mod:`emulators.slack.control`, :mod:`emulators.slack.people`) do to it:
storing and deleting messages in threads, checking blocks, building and stacking modal views.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from typing import Any

from emulators.core import EmulatorCore
from emulators.slack.blocks import (
    MAX_MESSAGE_BLOCKS_TEXT,
    blocks_text_length,
    validate_blocks,
    validate_view,
)
from emulators.slack.model import (
    BOT_PROFILE_UPDATED,
    BOT_SCOPES,
    MAX_VIEW_STACK,
    TRIGGER_TTL_S,
    Args,
    Ephemeral,
    JSONDict,
    OpenView,
    ResponseUrl,
    SentRequest,
    SlackError,
    StoredMessage,
    Trigger,
    fault_response,
    missing_argument,
)
from emulators.slack.render import normalise_blocks
from emulators.slack.socket import SocketHub


class SlackState:
    """One Slack workspace with one installed app (the bot), its channels and its people."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-reachable-emulator",
        signing_secret: str = "emulator-signing-secret",
        team_id: str = "T0REACH",
        team_domain: str = "reachable",
        team_name: str = "Reachable",
        app_id: str = "A0REACH",
        bot_user_id: str = "U0REACHBOT",
        bot_id: str = "B0REACH",
        bot_name: str = "reachable",
        bridge_url: str | None = None,
        channels: dict[str, str] | None = None,
        non_member_channels: dict[str, str] | None = None,
        users: dict[str, str] | None = None,
        rate_limits: bool = True,
        time_scale: float = 1.0,
        verification_token: str = "emulatorVerificationToken",
        trigger_ttl_s: float = TRIGGER_TTL_S,
        app_token: str = "xapp-1-A0REACH-emulator",
        socket_mode: bool = False,
        scopes: tuple[str, ...] = BOT_SCOPES,
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.bridge_url = bridge_url
        self.channels = dict(channels or {})
        self.non_member_channels = dict(non_member_channels or {})
        self.users = dict(users or {})
        self.rate_limits = rate_limits
        self.verification_token = verification_token
        self.trigger_ttl_s = trigger_ttl_s
        self.app_token = app_token
        self.scopes = scopes
        # Socket Mode: the bridge opens a websocket and every event, interaction and command
        # goes through it instead of being POSTed to bridge_url.
        self.socket = SocketHub(app_id)
        self.socket.enabled = socket_mode
        self._lock = threading.RLock()
        self._last_micros = 0
        self._clear_state()
        self.core = EmulatorCore("slack", fault_response, error_codes=True, time_scale=time_scale)
        self.core.on_reset(self.reset_state)

    # -- state -----------------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self._messages: dict[str, dict[str, StoredMessage]] = {c: {} for c in self.channels}
        self._ephemerals: list[Ephemeral] = []
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._views: dict[str, OpenView] = {}
        self._stacks: dict[str, list[str]] = {}
        self._events: dict[str, bytes] = {}
        self._sent: dict[str, SentRequest] = {}
        if hasattr(self, "socket"):
            self.socket.reset()

    def reset_state(self) -> None:
        """Forget messages, modals and tokens; keep the workspace (channels, users, bridge)."""
        with self._lock:
            self._clear_state()

    def _next_ts(self) -> str:
        # Slack ts values are "<seconds>.<6 digits>", unique per channel and increasing.
        micros = max(int(time.time() * 1_000_000), self._last_micros + 100)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_trigger(self, user: str) -> str:
        trigger_id = f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = Trigger(user, time.monotonic())
        return trigger_id

    def _user_payload(self, user: str) -> JSONDict:
        name = self.users.get(user, self.bot_name)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _team_payload(self) -> JSONDict:
        return {"id": self.team_id, "domain": self.team_domain}

    # -- messages --------------------------------------------------------------------------------

    def _blocks_arg(self, args: Args) -> list[Any] | None:
        blocks = args.structured("blocks", "invalid_blocks_format")
        if blocks is None:
            return None
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        errors = validate_blocks(blocks)
        if errors:
            raise SlackError(
                "invalid_blocks",
                messages=[f"[ERROR] {e}" for e in errors],
                extra={"errors": errors},
            )
        if blocks_text_length(blocks) > MAX_MESSAGE_BLOCKS_TEXT:
            raise SlackError("msg_blocks_too_long")
        return normalise_blocks(blocks)

    def _public(self, message: StoredMessage, *, with_metadata: bool) -> JSONDict:
        """A message as the Web API returns it."""
        out: JSONDict = {"type": "message", "ts": message.ts, "user": message.user}
        if message.subtype:
            out["subtype"] = message.subtype
        out["text"] = message.text
        out["team"] = self.team_id
        if message.bot_id:
            out.update(bot_id=message.bot_id, app_id=self.app_id, bot_profile=self._bot_profile())
        if message.client_msg_id:
            out["client_msg_id"] = message.client_msg_id
        if message.blocks is not None:
            out["blocks"] = message.blocks
        if message.thread_ts:
            out["thread_ts"] = message.thread_ts
        if message.parent_user_id:
            out["parent_user_id"] = message.parent_user_id
        if message.replies:
            out.update(
                reply_count=len(message.replies),
                reply_users_count=len(message.reply_users),
                latest_reply=message.replies[-1],
                reply_users=list(message.reply_users),
                is_locked=False,
                subscribed=False,
            )
        if message.edited:
            out["edited"] = dict(message.edited)
        if with_metadata and message.metadata:
            out["metadata"] = message.metadata
        return out

    def _bot_profile(self) -> JSONDict:
        """Slack's bot profile always has the app's icons in three sizes and when it changed."""
        icon = f"https://avatars.slack-edge.com/{self.app_id.lower()}/{self.bot_id.lower()}"
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_name,
            "deleted": False,
            "updated": BOT_PROFILE_UPDATED,
            "team_id": self.team_id,
            "icons": {f"image_{size}": f"{icon}_{size}.png" for size in (36, 48, 72)},
        }

    def _thread_root(self, channel: str, thread_ts: str | None) -> StoredMessage | None:
        if thread_ts is None:
            return None
        root = self._messages[channel].get(thread_ts)
        if root is None:
            raise SlackError("invalid_thread_ts")
        if root.is_reply:
            # Replying to a reply lands in the same thread, under its parent.
            assert root.thread_ts is not None
            root = self._messages[channel][root.thread_ts]
        return root

    def _store(self, message: StoredMessage, root: StoredMessage | None) -> StoredMessage:
        self._messages[message.channel][message.ts] = message
        if root is not None:
            message.thread_ts = root.ts
            message.parent_user_id = root.user
            root.thread_ts = root.ts
            root.replies.append(message.ts)
            if message.user not in root.reply_users:
                root.reply_users.append(message.user)
        return message

    def _delete(self, message: StoredMessage) -> None:
        if message.replies:
            # A thread parent leaves a tombstone so that its replies stay reachable.
            message.text, message.blocks, message.subtype = (
                "This message was deleted.",
                None,
                "tombstone",
            )
            return
        del self._messages[message.channel][message.ts]
        if message.is_reply and message.thread_ts in self._messages[message.channel]:
            root = self._messages[message.channel][message.thread_ts]
            root.replies.remove(message.ts)

    # -- modals ----------------------------------------------------------------------------------

    def _view_arg(self, args: Args) -> JSONDict:
        view = args.structured("view", "invalid_arguments")
        if not isinstance(view, dict):
            raise missing_argument("view")
        errors = validate_view(view)
        if errors:
            raise SlackError("invalid_arguments", messages=[f"[ERROR] {e}" for e in errors])
        return view

    def _build_view(
        self, spec: JSONDict, view_id: str, root: str, previous: str | None
    ) -> JSONDict:
        view: JSONDict = {"id": view_id, "team_id": self.team_id, "type": spec["type"]}
        for key in ("title", "submit", "close"):
            if key in spec:
                view[key] = spec[key]
        view.update(
            blocks=normalise_blocks(spec["blocks"]),
            private_metadata=spec.get("private_metadata", ""),
            callback_id=spec.get("callback_id", ""),
            external_id=spec.get("external_id", ""),
            state={"values": {}},
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            clear_on_close=bool(spec.get("clear_on_close", False)),
            notify_on_close=bool(spec.get("notify_on_close", False)),
            submit_disabled=bool(spec.get("submit_disabled", False)),
            root_view_id=root,
            previous_view_id=previous,
            app_id=self.app_id,
            app_installed_team_id=self.team_id,
            bot_id=self.bot_id,
        )
        return view

    def _push_view(self, user: str, spec: JSONDict) -> JSONDict:
        stack = self._stacks.setdefault(user, [])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        external_id = spec.get("external_id")
        if external_id and any(v.view["external_id"] == external_id for v in self._views.values()):
            raise SlackError("duplicate_external_id")
        view_id = "V0" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9)
        )
        root = stack[0] if stack else view_id
        view = self._build_view(spec, view_id, root, stack[-1] if stack else None)
        self._views[view_id] = OpenView(user, view)
        stack.append(view_id)
        return view

    def _replace_view(
        self, current: OpenView, spec: JSONDict, expected_hash: str | None
    ) -> JSONDict:
        old = current.view
        if expected_hash is not None and expected_hash != old["hash"]:
            raise SlackError("hash_conflict")
        current.view = self._build_view(
            spec, old["id"], old["root_view_id"], old["previous_view_id"]
        )
        return current.view

    def _close_views(self, user: str, view_id: str | None = None) -> None:
        """Close one modal view (the top one) or the whole stack."""
        stack = self._stacks.get(user, [])
        closing = [view_id] if view_id else list(stack)
        for closed in closing:
            self._views.pop(closed, None)
            if closed in stack:
                stack.remove(closed)
