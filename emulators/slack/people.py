"""The Slack emulator's control API acting as people: a button clicked, a message typed, a
slash command, a modal submitted, an event sent again, a captured action replayed, and what the
bridge then does through a ``response_url``.

Each action reaches the bridge as Slack sends it: POSTed and signed exactly as Slack signs it
(so the bridge's signature check is exercised too), or in Socket Mode as an envelope over the
websocket the bridge opened (see :mod:`emulators.slack.socket`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from emulators.core import CONTROL_PREFIX
from emulators.slack.control import SlackControl, control_body, control_str, optional_str
from emulators.slack.model import (
    OUTGOING_TIMEOUT_S,
    RESPONSE_URL_TTL_S,
    RESPONSE_URL_USES,
    SLACK_USER_AGENT,
    STALE_AGE_S,
    Args,
    ControlError,
    Ephemeral,
    JSONDict,
    OpenView,
    ResponseUrl,
    SentRequest,
    SignOptions,
    SlackError,
    StoredMessage,
)
from emulators.slack.render import iter_buttons, state_values
from emulators.slack.socket import SocketUnavailable


class SlackPeople(SlackControl):
    """People's actions, sent to the bridge signed as Slack signs them or over Socket Mode."""

    # -- control API: acting as people -----------------------------------------------------------

    async def _deliver(
        self,
        body: bytes,
        content_type: str,
        sign: SignOptions,
        headers: dict[str, str] | None = None,
        *,
        envelope: tuple[str, JSONDict],
    ) -> tuple[int, str]:
        """Hand a request to the bridge: over its Socket Mode connection as an envelope of the
        given type, or POSTed and signed as Slack signs it. Returns the status and the body.
        A person's action is kept by its trigger_id, exactly as sent, for ``/replay``."""
        trigger = envelope[1].get("trigger_id")
        if self.socket.enabled:
            kind, payload = envelope
            if isinstance(trigger, str):
                with self._lock:
                    self._sent[trigger] = SentRequest(envelope=envelope)
            try:
                return await self.socket.deliver(kind, payload)
            except SocketUnavailable as exc:
                raise ControlError(504, f"Socket Mode: {exc}") from None
        url = self.bridge_url
        if not url:
            raise ControlError(409, "no bridge_url configured: POST /_emulator/config first")
        timestamp = sign.timestamp if sign.timestamp is not None else int(time.time())
        if sign.replay:
            timestamp -= STALE_AGE_S
        secret = self.signing_secret + "-forged" if sign.bad_signature else self.signing_secret
        base = b"v0:" + str(timestamp).encode() + b":" + body
        signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": SLACK_USER_AGENT,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        if isinstance(trigger, str):
            with self._lock:
                self._sent[trigger] = SentRequest(envelope, body, all_headers)
        # trust_env=False: signed payloads go straight to the bridge, never through a proxy.
        async with httpx.AsyncClient(timeout=OUTGOING_TIMEOUT_S, trust_env=False) as client:
            try:
                response = await client.post(url, content=body, headers=all_headers)
            except httpx.HTTPError as exc:
                raise ControlError(502, f"bridge at {url} unreachable: {exc!r}") from None
        return response.status_code, response.text

    async def _deliver_command(self, fields: dict[str, str], sign: SignOptions) -> tuple[int, str]:
        body = urlencode(fields).encode()
        return await self._deliver(
            body,
            "application/x-www-form-urlencoded",
            sign,
            envelope=("slash_commands", dict(fields)),
        )

    async def _deliver_interactive(self, payload: JSONDict, sign: SignOptions) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._deliver(
            body, "application/x-www-form-urlencoded", sign, envelope=("interactive", payload)
        )

    async def _deliver_event(
        self, body: bytes, sign: SignOptions, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        envelope = ("events_api", json.loads(body))
        return await self._deliver(body, "application/json", sign, headers, envelope=envelope)

    def _new_response_url(self, request: Request, target: ResponseUrl) -> str:
        rid = secrets.token_urlsafe(16)
        self._response_urls[rid] = target
        return f"{str(request.base_url).rstrip('/')}{CONTROL_PREFIX}/response/{rid}"

    def _find_button(
        self, blocks: list[Any] | None, action_id: str, value: str | None
    ) -> tuple[str, JSONDict]:
        buttons = list(iter_buttons(blocks or []))
        for block_id, button in buttons:
            if button.get("action_id") == action_id and value in (None, button.get("value")):
                return block_id, button
        have = sorted({str(b.get("action_id")) for _, b in buttons})
        wanted = action_id if value is None else f"{action_id} with value {value!r}"
        raise ControlError(400, f"the message has no button {wanted} (buttons: {have})")

    def _clicked(self, channel: str, user: str, ts: str) -> StoredMessage | Ephemeral:
        """The message a user clicked in: one in the channel, or one only they can see."""
        message = self._messages[channel].get(ts)
        if message is not None:
            return message
        for ephemeral in self._ephemerals:
            if (ephemeral.channel, ephemeral.user, ephemeral.message_ts) == (channel, user, ts):
                return ephemeral
        raise ControlError(404, f"no message {ts} in {channel} (nor an ephemeral for {user})")

    def _click_payload(self, request: Request, data: JSONDict) -> JSONDict:
        """Find what was clicked and build the block_actions payload Slack would send."""
        user = self._control_user(data)
        channel = self._control_channel(control_str(data, "channel"))[0]
        ts = control_str(data, "ts")
        action_id = control_str(data, "action_id")
        clicked = self._clicked(channel, user, ts)
        block_id, button = self._find_button(clicked.blocks, action_id, optional_str(data, "value"))
        ephemeral = isinstance(clicked, Ephemeral)
        container: JSONDict = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        if clicked.thread_ts:
            container["thread_ts"] = clicked.thread_ts
        target = ResponseUrl(channel, user, ts, clicked.thread_ts, ephemeral, time.monotonic())
        payload: JSONDict = {
            "type": "block_actions",
            "user": self._user_payload(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": self._new_trigger(user),
            "team": self._team_payload(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": self.channels[channel]},
        }
        if isinstance(clicked, StoredMessage):
            # An ephemeral message is not sent back: Slack does not keep it.
            payload["message"] = self._public(clicked, with_metadata=True)
        payload["state"] = {"values": {}}
        payload["response_url"] = self._new_response_url(request, target)
        payload["actions"] = [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": button.get("text"),
                **({"value": button["value"]} if "value" in button else {}),
                **({"style": button["style"]} if "style" in button else {}),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ]
        return payload

    async def _click(self, request: Request) -> Response:
        try:
            data = await control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                payload = self._click_payload(request, data)
            status, text = await self._deliver_interactive(payload, sign)
        except ControlError as exc:
            return exc.response()
        return JSONResponse(
            {
                "status": status,
                "body": text,
                "trigger_id": payload["trigger_id"],
                "response_url": payload["response_url"],
            }
        )

    def _user_message(self, data: JSONDict) -> tuple[StoredMessage, JSONDict]:
        user = self._control_user(data)
        channel = self._control_channel(control_str(data, "channel"))[0]
        text = control_str(data, "text")
        thread_ts = optional_str(data, "thread_ts")
        try:
            root = self._thread_root(channel, thread_ts)
        except SlackError:
            raise ControlError(404, f"no message {thread_ts} in {channel} to reply to") from None
        message = StoredMessage(
            channel, self._next_ts(), text, user, client_msg_id=str(uuid.uuid4())
        )
        self._store(message, root)
        event: JSONDict = {
            "type": "message",
            "client_msg_id": message.client_msg_id,
            "user": user,
            "text": text,
            "team": self.team_id,
            "ts": message.ts,
            "channel": channel,
            "event_ts": message.ts,
            "channel_type": {"G": "group", "D": "im"}.get(channel[:1], "channel"),
        }
        if root is not None:
            event.update(thread_ts=root.ts, parent_user_id=root.user)
        return message, event

    def _event_envelope(self, event: JSONDict) -> JSONDict:
        event_id = "Ev" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10)
        )
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }

    async def _message_event(self, request: Request) -> Response:
        try:
            data = await control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                message, event = self._user_message(data)
                envelope = self._event_envelope(event)
                body = json.dumps(envelope).encode()
                self._events[envelope["event_id"]] = body
            status, text = await self._deliver_event(body, sign)
        except ControlError as exc:
            return exc.response()
        return JSONResponse(
            {"status": status, "body": text, "ts": message.ts, "event_id": envelope["event_id"]}
        )

    async def _redeliver(self, request: Request) -> Response:
        """Send an event again, as Slack does when the bridge did not ack within 3 seconds."""
        try:
            data = await control_body(request)
            sign = SignOptions.parse(data)
            event_id = control_str(data, "event_id")
            retry_num = data.get("retry_num", 1)
            if not isinstance(retry_num, int) or isinstance(retry_num, bool) or retry_num < 1:
                raise ControlError(400, "retry_num must be a positive integer")
            with self._lock:
                body = self._events.get(event_id or "")
            if body is None:
                raise ControlError(404, f"no event {event_id!r} was sent")
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            status, text = await self._deliver_event(body, sign, headers)
        except ControlError as exc:
            return exc.response()
        return JSONResponse({"status": status, "body": text, "event_id": event_id})

    async def _replay(self, request: Request) -> Response:
        """Send a person's action again, ``times`` over: over HTTP the very bytes with the very
        timestamp and signature (a captured request replayed within Slack's 300 s window), in
        Socket Mode the same payload in new envelopes. Slack itself never resends an
        interaction; this plays whoever would."""
        try:
            data = await control_body(request)
            trigger = control_str(data, "trigger_id")
            times = data.get("times", 1)
            if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 10_000:
                raise ControlError(400, "times must be an integer from 1 to 10000")
            with self._lock:
                sent = self._sent.get(trigger)
            if sent is None:
                raise ControlError(404, f"no action with trigger_id {trigger!r} was sent")
            statuses = await self._send_again(sent, times)
        except ControlError as exc:
            return exc.response()
        return JSONResponse({"trigger_id": trigger, "statuses": statuses})

    async def _send_again(self, sent: SentRequest, times: int) -> dict[str, int]:
        statuses: dict[str, int] = {}
        if sent.body is None:
            for _ in range(times):
                try:
                    status, _body = await self.socket.deliver(*sent.envelope)
                except SocketUnavailable as exc:
                    raise ControlError(504, f"Socket Mode: {exc}") from None
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            return statuses
        url = self.bridge_url
        if not url:
            raise ControlError(409, "no bridge_url configured: POST /_emulator/config first")
        async with httpx.AsyncClient(timeout=OUTGOING_TIMEOUT_S, trust_env=False) as client:
            for _ in range(times):
                try:
                    response = await client.post(url, content=sent.body, headers=sent.headers)
                except httpx.HTTPError as exc:
                    raise ControlError(502, f"bridge at {url} unreachable: {exc!r}") from None
                key = str(response.status_code)
                statuses[key] = statuses.get(key, 0) + 1
        return statuses

    def _command_form(self, request: Request, data: JSONDict) -> tuple[dict[str, str], ResponseUrl]:
        """The form Slack posts for a slash command, and where its response_url leads."""
        command = control_str(data, "command")
        if not command.startswith("/"):
            raise ControlError(400, "command must start with '/' (e.g. /reachable)")
        text = data.get("text", "")
        if not isinstance(text, str):
            raise ControlError(400, "text must be a string")
        user = self._control_user(data)
        channel = self._control_channel(control_str(data, "channel"))[0]
        target = ResponseUrl(channel, user, None, None, True, time.monotonic())
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": self.channels[channel],
            "user_id": user,
            "user_name": self.users[user],
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self._new_response_url(request, target),
            "trigger_id": self._new_trigger(user),
        }
        return fields, target

    async def _command(self, request: Request) -> Response:
        try:
            data = await control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                fields, target = self._command_form(request, data)
            status, body = await self._deliver_command(fields, sign)
        except ControlError as exc:
            return exc.response()
        result: JSONDict = {"status": status, "body": body, "trigger_id": fields["trigger_id"]}
        if status == 200 and body.strip():
            try:
                with self._lock:
                    self._apply_response(target, _command_reply(body))
            except SlackError as exc:
                # Slack shows the user "/reachable failed with the error ..." instead.
                result["reply_error"] = exc.error
        return JSONResponse(result)

    # -- response_url ----------------------------------------------------------------------------

    async def _response_url(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        try:
            reply = json.loads(await request.body() or b"{}")
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        with self._lock:
            target = self._response_urls.get(rid)
            if target is None:
                return PlainTextResponse("no_service", status_code=404)
            if time.monotonic() - target.issued > RESPONSE_URL_TTL_S:
                return PlainTextResponse("expired_url", status_code=404)
            if target.uses >= RESPONSE_URL_USES:
                return PlainTextResponse("used_url", status_code=404)
            target.uses += 1
            try:
                self._apply_response(target, reply)
            except SlackError as exc:
                return PlainTextResponse(exc.error, status_code=400)
        return JSONResponse({"ok": True})

    def _apply_response(self, target: ResponseUrl, reply: JSONDict) -> None:
        """What Slack does with a response_url message (and with a slash command's reply)."""
        args = Args(reply)
        text = args.text("text") or ""
        blocks = self._blocks_arg(args)
        original = self._messages[target.channel].get(target.message_ts or "")
        if args.flag("delete_original", False):
            if original is not None and not target.ephemeral:
                self._delete(original)
            self._ephemerals = [e for e in self._ephemerals if e.message_ts != target.message_ts]
            return
        if args.flag("replace_original", False) and target.message_ts:
            if original is not None and not target.ephemeral:
                original.text, original.blocks = text, blocks
            for e in self._ephemerals:
                if e.message_ts == target.message_ts:
                    e.text, e.blocks = text, blocks
            return
        if not text and not blocks:
            raise SlackError("no_text")
        if args.text("response_type") == "in_channel":
            root = self._thread_root(target.channel, target.thread_ts)
            message = StoredMessage(
                target.channel, self._next_ts(), text, self.bot_user_id, blocks, self.bot_id
            )
            self._store(message, root)
        else:
            self._ephemerals.append(
                Ephemeral(
                    target.channel, target.user, self._next_ts(), text, blocks, target.thread_ts
                )
            )

    # -- modal submission ------------------------------------------------------------------------

    def _submission(self, data: JSONDict) -> tuple[OpenView, JSONDict]:
        user = self._control_user(data)
        view_id = control_str(data, "view_id")
        current = self._views.get(view_id)
        if current is None or current.user != user:
            raise ControlError(404, f"no open view {view_id!r} for {user}")
        if self._stacks[user][-1] != view_id:
            raise ControlError(400, "only the top view of a modal stack can be submitted")
        if ("values" in data) == ("text" in data):
            raise ControlError(400, "give either values {block_id: {action_id: value}} or text")
        view = json.loads(json.dumps(current.view))
        try:
            view["state"] = {"values": state_values(view["blocks"], data)}
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        payload: JSONDict = {
            "type": "view_submission",
            "team": self._team_payload(),
            "user": self._user_payload(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "trigger_id": self._new_trigger(user),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return current, payload

    async def _submit(self, request: Request) -> Response:
        try:
            data = await control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                current, payload = self._submission(data)
            status, body = await self._deliver_interactive(payload, sign)
            with self._lock:
                outcome = self._after_submit(current, status, body)
        except ControlError as exc:
            return exc.response()
        return JSONResponse(
            {"status": status, "body": body, "view": outcome, "trigger_id": payload["trigger_id"]}
        )

    def _after_submit(self, current: OpenView, status: int, body: str) -> str:
        """Apply the bridge's answer to a submission the way the Slack client does."""
        if status != 200:
            return "kept_open"  # the client shows "We had some trouble connecting"
        try:
            answer = json.loads(body) if body.strip() else {}
        except ValueError:
            answer = {}
        action = answer.get("response_action") if isinstance(answer, dict) else None
        try:
            if action == "errors":
                return "kept_open"
            if action == "update":
                self._replace_view(
                    current, self._view_arg(Args({"view": answer.get("view")})), None
                )
                return "updated"
            if action == "push":
                self._push_view(current.user, self._view_arg(Args({"view": answer.get("view")})))
                return "pushed"
        except SlackError as exc:
            raise ControlError(
                502, f"the bridge answered with an invalid view: {exc.messages}"
            ) from None
        if action == "clear":
            self._close_views(current.user)
            return "cleared"
        self._close_views(current.user, current.view["id"])
        return "closed"


def _command_reply(body: str) -> JSONDict:
    """A slash command's immediate answer: JSON like a response_url message, or plain text."""
    try:
        reply = json.loads(body)
    except ValueError:
        return {"text": body}
    return reply if isinstance(reply, dict) else {"text": body}
