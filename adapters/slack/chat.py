"""Slack as a chat sink: posts mirrored mentions and listens for staff actions (slack-bolt).

The Web API client is slack-sdk's ``AsyncWebClient`` with a configurable ``base_url``, so the
same code talks to slack.com or to the local emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.slack import render
from adapters.slack.errors import rate_limit_wait, wrap_slack_error
from adapters.slack.lookup import find_tagged
from adapters.slack.signing import quiet_bolt_signature_log, slack_owns, why_unsigned
from bridge.config import Config, Destination, PersonConfig
from bridge.desks.admin import ADMIN_VERBS, AdminDesk, answer_admin_command
from bridge.desks.claims import DISMISS_REASONS, ThreadDesk
from bridge.desks.linking import ChatUser, LinkDesk, answer_link_command
from bridge.desks.replies import ReplyDesk, ReplyRefused
from bridge.desks.strangers import refuse_stranger
from bridge.desks.unanswered import answer_show, answer_unanswered
from bridge.domain.models import Identity, MentionCard, MirrorRef
from bridge.errors import (
    RateLimited,
    ReachableError,
    TransientError,
)
from bridge.ops.refusals import note_refused
from bridge.ports import AdapterContext, PostProgress
from bridge.settings import Settings
from bridge.store.store import Store
from bridge.text import messages

log = logging.getLogger(__name__)
quiet_bolt_signature_log()

Listener = Callable[..., Awaitable[None]]

MIRROR_EVENT_TYPE = "reachable_mirror"
NOTICE_EVENT_TYPE = "reachable_notice"
SLACK_TIMEOUT_S = 15
BUTTON_ACTIONS = re.compile(
    r"^(reply_institution|reply_personal|reply_again|claim|release|dismiss)$"
)
# The identity each reply button starts with; "Reply again" lets the person choose.
REPLY_ACTIONS: dict[str, Identity | None] = {
    "reply_institution": Identity.INSTITUTION,
    "reply_personal": Identity.PERSONAL,
    "reply_again": None,
}
REPLY_MODAL = "reply_modal"
DISMISS_MODAL = "dismiss_modal"
# A signed request older than 300 s is refused by its signature, and Slack's retries end within
# minutes of the first attempt: a person's action is remembered for an hour, past both.
INTERACTION_KEEP_S = 3600
# Requests that carry what a person did (the rest are events).
INTERACTIVE_TYPES = {"block_actions", "view_submission", "shortcut", "message_action"}
SOCKET_RETRY_FIRST_S = 1.0
# How long a private answer to a person's action is retried while Slack is busy or failing.
EPHEMERAL_PATIENCE_S = 60.0
SOCKET_RETRY_MAX_S = 30.0
_REFUSED_TOKEN = {
    "not_authed",
    "invalid_auth",
    "not_allowed_token_type",
    "token_revoked",
    "account_inactive",
}


def _malformed(body: bytes, content_type: str) -> str | None:
    """Why a body is not one Slack sends, in words; bolt would answer it with a 500."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the request body is not UTF-8"
    if "json" in content_type:
        found: Any = text
    else:
        fields = parse_qs(text)
        if "payload" not in fields:
            return None
        found = fields["payload"][0]
    try:
        parsed = json.loads(found)
    except ValueError:
        return "the payload is not JSON"
    return None if isinstance(parsed, dict) else "the payload is not a JSON object"


def interaction_identity(body: dict[str, Any]) -> str | None:
    """What stays the same in a replay or a retry of one person's action, and differs between
    two actions: Slack gives each button press, form submission, shortcut and slash command a
    trigger_id of its own. Without one, the request itself. None for events (their event_id
    serves) and for anything that is not a person's action."""
    if not _is_action(body):
        return None
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        return f"trigger:{trigger}"
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    return "body:" + hashlib.sha256(canonical).hexdigest()


def _is_action(body: dict[str, Any]) -> bool:
    return "command" in body or body.get("type") in INTERACTIVE_TYPES


def _asked_for(body: dict[str, Any]) -> str:
    """What a request asked for, in a word: the command's verb, the button or the form."""
    if "command" in body:
        return f"{body['command']} {str(body.get('text', '')).strip().partition(' ')[0]}"
    actions = body.get("actions") or [{}]
    name = actions[0].get("action_id") if isinstance(actions[0], dict) else None
    return str(name or (body.get("view") or {}).get("callback_id") or body.get("type"))


def socket_mode(settings: Settings) -> bool:
    return settings.slack_mode == "socket"


def _user_of(body: dict[str, Any]) -> str:
    """Who acted: a button or form (``user.id``), a command (``user_id``) or an event."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id", ""))
    return str(body.get("user_id") or (body.get("event") or {}).get("user") or "")


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    found = (
        body.get("channel_id")
        or (body.get("container") or {}).get("channel_id")
        or (body.get("event") or {}).get("channel")
    )
    if found:
        return str(found)
    # A form carries the channel it was opened from in its metadata.
    try:
        metadata = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
    except ValueError:
        return None
    return (
        str(metadata["channel"]) if isinstance(metadata, dict) and "channel" in metadata else None
    )


def _team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if team is None and isinstance(body.get("user"), dict):
        team = body["user"].get("team_id")
    return str(team) if team else None


class SlackChat:
    chat = "slack"

    def __init__(
        self,
        *,
        settings: Settings,
        config: Callable[[], Config],
        store: Store,
        desk: ReplyDesk | None = None,
        linking: LinkDesk | None = None,
        admin: AdminDesk | None = None,
        threads: ThreadDesk | None = None,
    ) -> None:
        secret = (
            settings.slack_app_token if socket_mode(settings) else settings.slack_signing_secret
        )
        if settings.slack_bot_token is None or secret is None:
            needed = (
                "REACHABLE_SLACK_APP_TOKEN"
                if socket_mode(settings)
                else ("REACHABLE_SLACK_SIGNING_SECRET")
            )
            raise ReachableError(
                f"Slack is configured as a destination in {settings.slack_mode} mode, but "
                f"REACHABLE_SLACK_BOT_TOKEN and {needed} are not both set"
            )
        self.settings = settings
        self._config = config
        self._store = store
        self._desk = desk
        self._linking = linking
        self._admin = admin
        self._threads = threads
        base_url = settings.slack_api_url.rstrip("/") + "/"
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=base_url,
            timeout=SLACK_TIMEOUT_S,
            session=_kept_alive_session(),
        )
        # Socket Mode envelopes come over the bridge's own authenticated websocket: bolt checks
        # signatures only on HTTP requests, which this mode does not accept.
        signing_secret = settings.slack_signing_secret
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret.get_secret_value() if signing_secret else "",
            raise_error_for_unhandled_request=False,
        )
        self._socket: AsyncSocketModeHandler | None = None
        self._background: set[asyncio.Future[None]] = set()
        self._handler = AsyncSlackRequestHandler(self.app)
        self._register_listeners()

    @classmethod
    async def from_context(cls, context: AdapterContext) -> SlackChat:
        return cls(
            settings=context.settings,
            config=context.config,
            store=context.store,
            desk=context.desk,
            linking=context.linking,
            admin=context.admin,
            threads=context.threads,
        )

    # -- posting ---------------------------------------------------------------------------------

    async def post_mention(
        self,
        *,
        destination: Destination,
        card: MentionCard,
        reply_to: MirrorRef | None,
        effect_key: str,
        progress: PostProgress,
    ) -> MirrorRef:
        """Slack shows a mention in one message, or, for a post longer than one message holds,
        in further messages in that message's thread: each a step, paced and recorded, so a
        retry posts only what is not out yet. The first message's record goes with the
        mirror's own; an interrupted one is found by its metadata tag (``find_posted``)."""
        thread_root = reply_to.message_id if reply_to else None
        card = await self._with_origin_link(card)
        first = progress.posted(0)
        resumed = first is not None
        for step, message in enumerate(render.mention_messages(card)):
            if progress.posted(step) is not None:
                continue
            if resumed and first is not None:
                # An earlier attempt got this far: its next message may be out, unrecorded.
                found = await self._find_part(destination, thread_root or first, effect_key, step)
                if found is not None:
                    progress.record(step, found)
                    continue
            await progress.turn()
            tag: dict[str, Any] = {"effect_key": effect_key, "thread_id": card.thread_id}
            if step:
                tag["part"] = step
            try:
                response = await self.client.chat_postMessage(
                    channel=destination.address,
                    text=message.text,
                    blocks=message.blocks,
                    thread_ts=thread_root if step == 0 else (thread_root or first),
                    metadata={"event_type": MIRROR_EVENT_TYPE, "event_payload": tag},
                    unfurl_links=False,
                    unfurl_media=False,
                )
            except Exception as exc:
                raise wrap_slack_error(exc) from exc
            progress.record(step, str(response["ts"]))
            first = first or str(response["ts"])
        assert first is not None
        return MirrorRef(
            chat=self.chat,
            channel=destination.address,
            message_id=first,
            thread_root=thread_root,
        )

    async def _find_part(
        self, destination: Destination, thread_ts: str, effect_key: str, part: int
    ) -> str | None:
        try:
            return await find_tagged(
                self.client,
                channel=destination.address,
                thread_ts=thread_ts,
                effect_key=effect_key,
                since=None,
                part=part,
            )
        except Exception as exc:
            raise wrap_slack_error(exc) from exc

    async def edit_mention(
        self, *, destination: Destination, ref: MirrorRef, card: MentionCard
    ) -> None:
        card = await self._with_origin_link(card)
        try:
            await self.client.chat_update(
                channel=ref.channel,
                ts=ref.message_id,
                text=render.fallback_text(card),
                blocks=render.mention_blocks(card),
            )
        except Exception as exc:
            raise wrap_slack_error(exc) from exc

    async def post_notice(
        self,
        *,
        destination: Destination,
        text: str,
        reply_to: MirrorRef | None = None,
        monospace: bool = False,
        effect_key: str | None = None,
    ) -> None:
        thread_ts = (reply_to.thread_root or reply_to.message_id) if reply_to else None
        shown = render.escape_mrkdwn(text)
        tag = {"event_type": NOTICE_EVENT_TYPE, "event_payload": {"effect_key": effect_key}}
        try:
            await self.client.chat_postMessage(
                channel=destination.address,
                text=f"```{shown}```" if monospace else shown,
                thread_ts=thread_ts,
                unfurl_links=False,
                metadata=tag if effect_key else None,
            )
        except Exception as exc:
            raise wrap_slack_error(exc) from exc

    async def find_posted(
        self,
        *,
        destination: Destination,
        reply_to: MirrorRef | None,
        effect_key: str,
        since: datetime | None = None,
    ) -> MirrorRef | None:
        """Look for our metadata tag among the messages since the attempt: did it get through?"""
        try:
            ts = await find_tagged(
                self.client,
                channel=destination.address,
                thread_ts=reply_to.message_id if reply_to else None,
                effect_key=effect_key,
                since=since,
            )
        except Exception as exc:
            raise wrap_slack_error(exc) from exc
        if ts is None:
            return None
        return MirrorRef(
            chat=self.chat,
            channel=destination.address,
            message_id=ts,
            thread_root=reply_to.message_id if reply_to else None,
        )

    # -- listening -------------------------------------------------------------------------------

    def web_routes(self) -> Sequence[Route]:
        if socket_mode(self.settings):
            return []

        async def events(request: Request) -> Response:
            # Starlette keeps the body for bolt to read again.
            body = await request.body()
            origin = request.client.host if request.client else None
            secret = self.settings.slack_signing_secret
            unsigned = why_unsigned(
                secret=secret.get_secret_value() if secret else "",
                headers=request.headers,
                body=body,
                now=time.time(),
            )
            if unsigned:
                await note_refused(self._store, door="slack", origin=origin, reason=unsigned)
                return JSONResponse({"error": "invalid request"}, status_code=401)
            problem = _malformed(body, request.headers.get("content-type", ""))
            if problem:
                await note_refused(self._store, door="slack", origin=origin, reason=problem)
                return JSONResponse({"error": problem}, status_code=400)
            return await self._handler.handle(request)

        return [Route("/slack/events", events, methods=["POST"])]

    async def listen(self, stop: asyncio.Event) -> None:
        """In HTTP mode Slack pushes to the web app's route and there is nothing to do here; in
        Socket Mode this keeps a websocket to Slack open (slack-sdk reconnects it when it drops)
        and the same listeners, with the same dedup, take the envelopes."""
        if not socket_mode(self.settings):
            await stop.wait()
            return
        assert self.settings.slack_app_token is not None
        self._socket = AsyncSocketModeHandler(
            self.app,
            app_token=self.settings.slack_app_token.get_secret_value(),
            web_client=self.client,
            ping_interval=self.settings.slack_socket_ping_s,
        )
        if not await self._socket_url_granted(stop):
            return
        await self._socket.connect_async()  # type: ignore[no-untyped-call]
        log.info("Slack: connected in Socket Mode")
        try:
            await stop.wait()
        finally:
            await self._socket.close_async()  # type: ignore[no-untyped-call]

    async def _socket_url_granted(self, stop: asyncio.Event) -> bool:
        """Ask Slack for a Socket Mode address once, so a refused token stops the start with
        what to fix (slack-sdk would retry it forever). Slack down or unreachable is waited
        out, with a growing pause; False when ``stop`` came first."""
        assert self._socket is not None
        pause = SOCKET_RETRY_FIRST_S
        while True:
            try:
                # Not the client's issue_new_wss_url(): it fails on a 5xx's plain-text body.
                await self._socket.client.web_client.apps_connections_open(
                    app_token=self._socket.app_token
                )
                return True
            except SlackApiError as exc:
                error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
                if error in _REFUSED_TOKEN:
                    raise ReachableError(
                        f"Slack refused to open a Socket Mode connection ({error or exc}): "
                        "check REACHABLE_SLACK_APP_TOKEN, an app-level token (xapp-…) with the "
                        "connections:write scope, and that Socket Mode is on in the app's "
                        "settings"
                    ) from None
                problem = wrap_slack_error(exc)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                problem = wrap_slack_error(exc)
            if not isinstance(problem, TransientError | RateLimited):
                raise problem
            if isinstance(problem, RateLimited):
                pause = max(pause, self.settings.platform_time.seconds(problem.retry_after))
            log.warning(
                "Slack: cannot open a Socket Mode connection yet (%s); retrying in %.0f s",
                problem,
                pause,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
                return False
            pause = min(pause * 2, SOCKET_RETRY_MAX_S)

    def _register_listeners(self) -> None:
        self.app.middleware(self._only_known_workspace)
        self.app.middleware(self._people_once)
        self.app.action(BUTTON_ACTIONS)(self._in_actors_language(self._on_button))
        self.app.view(REPLY_MODAL)(self._in_actors_language(self._on_reply_submit))
        self.app.view(DISMISS_MODAL)(self._in_actors_language(self._on_dismiss_submit))
        self.app.command("/reachable")(self._in_actors_language(self._on_command))
        self.app.event("message")(self._on_message)

    def _in_actors_language(self, listener: Listener) -> Listener:
        """What a person does in Slack is answered to them alone (ephemeral messages, forms):
        in their language, else the channel's. bolt passes arguments by the listener's names,
        which ``functools.wraps`` keeps visible."""

        @functools.wraps(listener)
        async def speaking(**arguments: Any) -> None:
            payload = arguments.get("body") or arguments.get("command") or {}
            config = self._config()
            where = config.destination_at(self.chat, _channel_of(payload))
            with config.speaking_with(self._person(_user_of(payload)), where=where):
                await listener(**arguments)

        return speaking

    async def _only_known_workspace(
        self, body: dict[str, Any], next: Callable[[], Any]
    ) -> BoltResponse | None:
        team, app_id = _team_of(body), body.get("api_app_id")
        expected_team, expected_app = self.settings.slack_team_id, self.settings.slack_app_id
        # Every payload Slack sends an app names it; one without is not from our app.
        if (expected_team and team != expected_team) or (expected_app and app_id != expected_app):
            log.warning("ignored a Slack request from workspace %s / app %s", team, app_id)
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id")
        if event_id and not await self._store.first_sighting(self.chat, str(event_id)):
            log.info("ignored Slack event %s: already handled", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _people_once(
        self, body: dict[str, Any], next: Callable[[], Any]
    ) -> BoltResponse | None:
        """A person's action (button, form, command, shortcut) acts once: a replay or retry of
        one already taken is acknowledged and changes nothing, a new press goes through. Someone
        not in ``people`` is answered by the strangers' gate, and never reaches a listener."""
        identity = interaction_identity(body)
        if identity is None:
            await next()
            return None
        user = _user_of(body)
        if self._person(user) is None:
            return await self._refuse_stranger(body, user)
        if not await self._store.first_interaction(self.chat, identity, keep_s=INTERACTION_KEEP_S):
            log.info("ignored a repeated Slack %s of %s: already handled", _asked_for(body), user)
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _refuse_stranger(self, body: dict[str, Any], user: str) -> BoltResponse:
        """Told once a minute per channel, in the channel's language; a command's answer is
        its acknowledgement, a button's an ephemeral message."""
        channel = _channel_of(body) or "-"
        asked = _asked_for(body)
        log.warning("refused %s by Slack user %s in %s: not in people", asked, user, channel)
        told = await refuse_stranger(
            self._store, chat=self.chat, where=channel, user_id=user, what=asked
        )
        if not told:
            return BoltResponse(status=200, body="")
        config = self._config()
        with config.speaking_with(None, where=config.destination_at(self.chat, channel)):
            text = messages.unknown_person()
        if "command" in body:
            return BoltResponse(status=200, body={"text": text})
        if body.get("type") == "block_actions":
            self._later(self._tell(channel, user, text))
        return BoltResponse(status=200, body="")

    def _later(self, work: Awaitable[None]) -> None:
        """Work that follows an acknowledgement Slack waits for (at most 3 s)."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _person(self, user_id: str) -> PersonConfig | None:
        return next((p for p in self._config().people if p.slack == user_id), None)

    def _is_destination(self, channel: str) -> bool:
        return any(
            d.chat == self.chat and d.address == channel
            for d in self._config().destinations.values()
        )

    async def _on_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = str(body.get("user", {}).get("id", ""))
        channel = str(
            (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id", "")
        )
        action_id = str(action.get("action_id"))
        if not self._is_destination(channel):
            log.warning(
                "ignored %s from %s in channel %s: not a configured destination",
                action_id,
                user,
                channel,
            )
            return
        person = self._person(user)
        if person is None:
            log.warning("refused %s by unknown Slack user %s in %s", action_id, user, channel)
            text = messages.unknown_person()
        elif action_id in REPLY_ACTIONS and self._desk is not None:
            await self._open_reply_modal(body, action, channel, person, REPLY_ACTIONS[action_id])
            return
        elif action_id == "dismiss" and self._threads is not None:
            thread_id = str(action.get("value", "")).partition("|")[0]
            refused = await self._threads.refuse_dismissal(thread_id, person, chat=self.chat)
            if refused is None:
                await self._open_dismiss_modal(body, action, channel)
                return
            text = refused
        elif action_id in ("claim", "release") and self._threads is not None:
            thread_id = str(action.get("value", "")).partition("|")[0]
            act = self._threads.claim if action_id == "claim" else self._threads.release
            text = await act(thread_id, person, chat=self.chat)
        else:
            log.info("%s pressed %s in %s (not available yet)", person.key, action_id, channel)
            text = messages.not_available_yet(action_id)
        await self._tell(channel, user, text)

    async def _open_reply_modal(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        channel: str,
        person: PersonConfig,
        identity: Identity | None,
    ) -> None:
        """The reply form: the mention quoted, who the reply goes out as, and a text box.

        ``identity`` None is "Reply again": the person picks among the identities they have.
        """
        assert self._desk is not None
        user = body["user"]["id"]
        thread_id, _, mention_id = str(action.get("value", "")).partition("|")
        mention = await self._store.thread_mention(thread_id, mention_id)
        thread = await self._store.thread(thread_id)
        if mention is None or thread is None:
            await self._tell(channel, user, messages.reply_thread_gone())
            return
        account = self._config().account(thread.account)
        personal = await self._desk.linked_handle(person, thread.network)
        handles = {Identity.INSTITUTION: account.handle, Identity.PERSONAL: personal}
        choices: list[tuple[Identity, str]] = []
        if identity is None:
            choices = [
                (i, handles[i] or "") for i in await self._desk.identities_for(person, account)
            ]
            if not choices:
                link = messages.link_command(self.chat)
                await self._tell(
                    channel,
                    user,
                    messages.reply_no_identity(handle=account.handle, link_command=link),
                )
                return
            identity = choices[0][0]
        metadata = {
            "thread": thread_id,
            "mention": mention_id,
            "identity": identity.value,
            "channel": channel,
            "again": action.get("action_id") == "reply_again",
        }
        view = render.reply_modal(
            mention,
            identity=identity,
            as_handle=handles[identity],
            choices=choices,
            link_command=messages.link_command(self.chat),
            callback_id=REPLY_MODAL,
            metadata=json.dumps(metadata),
        )
        await self._open_form(body, view, channel=channel, what="reply")

    async def _open_dismiss_modal(
        self, body: dict[str, Any], action: dict[str, Any], channel: str
    ) -> None:
        thread_id, _, mention_id = str(action.get("value", "")).partition("|")
        mention = await self._store.thread_mention(thread_id, mention_id)
        if mention is None:
            await self._tell(channel, body["user"]["id"], messages.reply_thread_gone())
            return
        view = render.dismiss_modal(
            mention,
            reasons=list(DISMISS_REASONS),
            callback_id=DISMISS_MODAL,
            metadata=json.dumps({"thread": thread_id, "channel": channel}),
        )
        await self._open_form(body, view, channel=channel, what="dismiss")

    async def _open_form(
        self, body: dict[str, Any], view: dict[str, Any], *, channel: str, what: str
    ) -> None:
        """Open a form for the button just pressed. Its trigger lasts three seconds, so there
        is no waiting out a busy Slack: the person is told, in their language, to press again."""
        try:
            await self.client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        except Exception as exc:
            problem = wrap_slack_error(exc)
        log.warning("could not open the %s form: %s", what, problem)
        user = str(body["user"]["id"])
        if isinstance(problem, RateLimited):
            seconds = max(1, math.ceil(problem.retry_after))
            await self._tell(channel, user, messages.form_busy(seconds=seconds))
        elif isinstance(problem, TransientError):
            await self._tell(channel, user, messages.form_not_opened())

    async def _on_dismiss_submit(
        self, ack: Any, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        assert self._threads is not None
        metadata = json.loads(view.get("private_metadata") or "{}")
        person = self._person(str(body["user"]["id"]))
        reason, note = render.dismiss_choice(view)
        if person is None:
            await ack(
                response_action="errors", errors={render.DISMISS_BLOCK: messages.unknown_person()}
            )
            return
        if reason not in DISMISS_REASONS:
            problem = messages.dismiss_reason_unknown(
                [messages.dismiss_reason_label(r) for r in DISMISS_REASONS]
            )
            await ack(response_action="errors", errors={render.DISMISS_BLOCK: problem})
            return
        await ack()
        answer = await self._threads.dismiss(
            metadata["thread"], person, reason=reason, note=note, chat=self.chat
        )
        await self._tell(metadata["channel"], body["user"]["id"], answer)

    async def tell_privately(self, *, user_id: str, where: str, text: str) -> None:
        """A word for one person (a link made to their name), in the channel they asked in."""
        await self._tell(where, user_id, text)

    async def _tell(self, channel: str, user: str, text: str) -> None:
        """A message only this person sees, in the channel they are working in. It answers
        what they just did, so a rate limit or a passing failure is waited out, for a while."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EPHEMERAL_PATIENCE_S
        pause = 1.0
        while True:
            try:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except Exception as exc:
                problem = wrap_slack_error(exc)
            wait = (
                self.settings.platform_time.seconds(problem.retry_after)
                if isinstance(problem, RateLimited)
                else pause
            )
            if not isinstance(problem, RateLimited | TransientError) or (
                loop.time() + wait > deadline
            ):
                log.warning("could not tell %s: %s", user, problem)
                return
            await asyncio.sleep(wait)
            pause = min(pause * 2, SOCKET_RETRY_MAX_S)

    async def _on_reply_submit(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Check and queue the reply; problems go back into the form, next to the text."""
        assert self._desk is not None
        metadata = json.loads(view.get("private_metadata") or "{}")
        values = view.get("state", {}).get("values", {})
        text = str(
            (values.get(render.REPLY_BLOCK, {}).get(render.REPLY_INPUT) or {}).get("value") or ""
        )
        person = self._desk.person_by(chat=self.chat, user_id=str(body["user"]["id"]))
        if person is None:
            await ack(
                response_action="errors", errors={render.REPLY_BLOCK: messages.unknown_person()}
            )
            return
        identity = render.chosen_identity(view) or Identity(metadata["identity"])
        try:
            request = await self._desk.request(
                thread_id=metadata["thread"],
                mention_id=metadata["mention"],
                text=text,
                identity=identity,
                person=person,
                chat=self.chat,
                where=self._desk.destination_of(chat=self.chat, address=metadata["channel"]),
                again=bool(metadata.get("again")),
                once=f"slack-view:{view.get('id')}",
            )
        except ReplyRefused as refused:
            await ack(response_action="errors", errors={render.REPLY_BLOCK: refused.reason})
            return
        await ack()
        handle = (
            self._config().account(request.account).handle
            if identity is Identity.INSTITUTION
            else await self._desk.linked_handle(person, request.network)
        )
        await self._tell(
            metadata["channel"], body["user"]["id"], messages.reply_queued(handle=handle)
        )

    async def _on_command(self, ack: Any, command: dict[str, Any]) -> None:
        """``/reachable help|link|pin <PIN>|unlink|unanswered|show <ref>|assign|rules|route
        <text>|reload``; the answer is seen by the caller only."""
        name = str(command.get("command", "/reachable"))
        verb, _, argument = str(command.get("text", "")).strip().partition(" ")
        person = self._person(str(command.get("user_id", "")))
        verb = verb.lower()
        if verb in ("link", "pin", "unlink") and person is None:
            await ack(text=messages.unknown_person())
        elif verb in ("link", "pin", "unlink") and self._linking is None:
            await ack(text=messages.link_not_set_up())
        elif verb in ("link", "pin", "unlink"):
            assert person is not None and self._linking is not None
            # Linking calls X; Slack wants the ack within 3 s, so the answer follows it.
            await ack(text=messages.link_working())
            asker = ChatUser(
                chat=self.chat,
                user_id=str(command.get("user_id")),
                where=str(command.get("channel_id")),
            )
            answer = await answer_link_command(
                self._linking,
                person,
                verb,
                argument,
                asker=asker,
                pin_command=f"`{name} pin <PIN>`",
            )
            await self._respond(command, answer)
        elif verb == "assign" and self._threads is not None:
            reference, _, target = argument.strip().partition(" ")
            if person is None:
                await ack(text=messages.unknown_person())
            elif not reference or not target.strip():
                await ack(text=messages.assign_usage(command=f"{name} assign"))
            else:
                await ack(
                    text=await self._threads.reassign(
                        reference, person, target.strip(), chat=self.chat
                    )
                )
        elif verb == "unanswered":
            if person is None:
                await ack(text=messages.unknown_person())
                return
            await ack(
                text=await answer_unanswered(
                    self._store,
                    config=self._config(),
                    chat=self.chat,
                    argument=argument,
                    link_of=self._permalink_markup,
                    command=f"{name} unanswered",
                    escape=lambda text: render.defuse_broadcasts(render.escape_mrkdwn(text)),
                )
            )
        elif verb == "show":
            if person is None:
                await ack(text=messages.unknown_person())
                return
            await ack(
                text=await answer_show(
                    self._store,
                    config=self._config(),
                    chat=self.chat,
                    address=str(command.get("channel_id", "")),
                    argument=argument,
                    link_of=self._permalink_markup,
                    command=f"{name} show",
                )
            )
        elif verb in ADMIN_VERBS and self._admin is not None and person is not None:
            answer, report = await answer_admin_command(
                self._admin, person, verb, argument, chat=self.chat
            )
            await ack(text=f"```{render.escape_mrkdwn(answer)}```" if report else answer)
        else:
            await ack(text=messages.slash_help(name))

    async def _with_origin_link(self, card: MentionCard) -> MentionCard:
        """An escalated mirror links to the message it was escalated from, when in Slack."""
        if card.origin is None or card.origin.chat != self.chat:
            return card
        link = await self._permalink(card.origin)
        return card.model_copy(update={"origin_link": link}) if link else card

    async def _permalink(self, ref: MirrorRef) -> str | None:
        """A link to a message; None when Slack has none. A rate limit is raised: a mirror
        waits for its link rather than going out without it."""
        try:
            answer = await self.client.chat_getPermalink(
                channel=ref.channel, message_ts=ref.message_id
            )
        except SlackApiError as exc:
            if rate_limit_wait(exc) is not None:
                raise wrap_slack_error(exc) from exc
            return None
        link = answer.get("permalink")
        return link if isinstance(link, str) else None

    async def _permalink_markup(self, ref: MirrorRef) -> str | None:
        """A link for a command's answer, which cannot wait: none while Slack is busy."""
        try:
            link = await self._permalink(ref)
        except RateLimited:
            return None
        return f"<{render.escape_mrkdwn(link)}|open>" if link else None

    async def _respond(self, command: dict[str, Any], text: str) -> None:
        """A later, private answer to a slash command, through its response_url."""
        url = command.get("response_url")
        if not url or not slack_owns(str(url), api_url=self.settings.slack_api_url):
            if url:
                log.warning("a slash command's response_url is not Slack's; answering directly")
            await self._tell(str(command.get("channel_id")), str(command.get("user_id")), text)
            return
        try:
            response = await AsyncWebhookClient(str(url)).send(response_type="ephemeral", text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("could not answer %s: %s", command.get("command"), exc)
            return
        if response.status_code != 200:
            log.warning("could not answer %s: %s", command.get("command"), response.body)

    async def _on_message(self, event: dict[str, Any]) -> None:
        """Staff messages in channels are not acted on yet; acknowledged so Slack stops retrying."""
        log.debug("Slack message in %s ignored", event.get("channel"))

    async def ping(self) -> None:
        try:
            await self.client.auth_test()
        except Exception as exc:
            raise wrap_slack_error(exc) from exc
        if self._socket is not None and not await self._socket.client.is_connected():
            raise TransientError("slack", "the Socket Mode connection is not open")

    async def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()


def _kept_alive_session() -> aiohttp.ClientSession | None:
    """One HTTP session, so one pool of kept-alive connections, for every Slack call: without
    it slack_sdk opens a session, and a new TCP (and TLS) connection, per call. It can only be
    made inside the event loop; elsewhere slack_sdk's own per-call sessions remain."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_S))
