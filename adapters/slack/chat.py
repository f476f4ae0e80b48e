"""Slack as a chat sink: posts mirrored mentions and listens for staff actions (slack-bolt).

The Web API client is slack-sdk's ``AsyncWebClient`` with a configurable ``base_url``, so the
same code talks to slack.com or to the local emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.slack import render
from adapters.slack.config import SLACK
from adapters.slack.errors import rate_limit_wait, wrap_slack_error
from adapters.slack.lookup import find_tagged
from adapters.slack.payloads import (
    asked_for,
    channel_of,
    interaction_identity,
    malformed,
    socket_mode,
    team_of,
    user_of,
)
from adapters.slack.settings import slack_settings
from adapters.slack.signing import quiet_bolt_signature_log, why_unsigned
from adapters.slack.staff import DISMISS_MODAL, REPLY_MODAL, SlackStaff
from bridge.actions import ActionDispatcher
from bridge.config import Config, Destination, PersonConfig
from bridge.desks.strangers import refuse_stranger
from bridge.domain.models import MentionCard, MirrorRef
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
# A signed request older than 300 s is refused by its signature, and Slack's retries end within
# minutes of the first attempt: a person's action is remembered for an hour, past both.
INTERACTION_KEEP_S = 3600
SOCKET_RETRY_FIRST_S = 1.0
SOCKET_RETRY_MAX_S = 30.0
_REFUSED_TOKEN = {
    "not_authed",
    "invalid_auth",
    "not_allowed_token_type",
    "token_revoked",
    "account_inactive",
}


class SlackChat:
    chat = SLACK.name

    def __init__(
        self,
        *,
        settings: Settings,
        config: Callable[[], Config],
        store: Store,
        actions: ActionDispatcher | None = None,
    ) -> None:
        """``settings``: the bridge's composed settings (the core's and Slack's)."""
        slack = slack_settings(settings)
        secret = slack.slack_app_token if socket_mode(slack) else slack.slack_signing_secret
        if slack.slack_bot_token is None or secret is None:
            needed = (
                "REACHABLE_SLACK_APP_TOKEN"
                if socket_mode(slack)
                else ("REACHABLE_SLACK_SIGNING_SECRET")
            )
            raise ReachableError(
                f"Slack is configured as a destination in {slack.slack_mode} mode, but "
                f"REACHABLE_SLACK_BOT_TOKEN and {needed} are not both set"
            )
        self.settings = slack
        self.platform_time = settings.platform_time
        self._config = config
        self._store = store
        base_url = slack.slack_api_url.rstrip("/") + "/"
        self.client = AsyncWebClient(
            token=slack.slack_bot_token.get_secret_value(),
            base_url=base_url,
            timeout=SLACK_TIMEOUT_S,
            session=_kept_alive_session(),
        )
        # Socket Mode envelopes come over the bridge's own authenticated websocket: bolt checks
        # signatures only on HTTP requests, which this mode does not accept.
        signing_secret = slack.slack_signing_secret
        self.app = AsyncApp(
            client=self.client,
            signing_secret=signing_secret.get_secret_value() if signing_secret else "",
            raise_error_for_unhandled_request=False,
        )
        self._socket: AsyncSocketModeHandler | None = None
        self._background: set[asyncio.Future[None]] = set()
        self._handler = AsyncSlackRequestHandler(self.app)
        self._staff = SlackStaff(
            chat=self.chat,
            client=self.client,
            settings=slack,
            platform_time=settings.platform_time,
            config=config,
            store=store,
            actions=actions or ActionDispatcher(store, config=config),
            person=self._person,
            link_of=self._permalink_markup,
        )
        self._register_listeners()

    @classmethod
    async def from_context(cls, context: AdapterContext) -> SlackChat:
        return cls(
            settings=context.settings,
            config=context.config,
            store=context.store,
            actions=context.actions,
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

    def channel_interval_s(self, destination: Destination) -> float:
        """Slack's guidance: about one message a second in a channel."""
        return self.platform_time.seconds(self.settings.slack_channel_interval_s)

    def overall_interval_s(self) -> float:
        """Slack sets no limit on the bot's messages across channels."""
        return 0.0

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
            problem = malformed(body, request.headers.get("content-type", ""))
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
                pause = max(pause, self.platform_time.seconds(problem.retry_after))
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
        staff = self._staff
        self.app.action(BUTTON_ACTIONS)(self._in_actors_language(staff.on_button))
        self.app.view(REPLY_MODAL)(self._in_actors_language(staff.on_reply_submit))
        self.app.view(DISMISS_MODAL)(self._in_actors_language(staff.on_dismiss_submit))
        self.app.command("/reachable")(self._in_actors_language(staff.on_command))
        self.app.event("message")(self._on_message)

    def _in_actors_language(self, listener: Listener) -> Listener:
        """What a person does in Slack is answered to them alone (ephemeral messages, forms):
        in their language, else the channel's. bolt passes arguments by the listener's names,
        which ``functools.wraps`` keeps visible."""

        @functools.wraps(listener)
        async def speaking(**arguments: Any) -> None:
            payload = arguments.get("body") or arguments.get("command") or {}
            config = self._config()
            where = config.destination_at(self.chat, channel_of(payload))
            with config.speaking_with(self._person(user_of(payload)), where=where):
                await listener(**arguments)

        return speaking

    async def _only_known_workspace(
        self, body: dict[str, Any], next: Callable[[], Any]
    ) -> BoltResponse | None:
        team, app_id = team_of(body), body.get("api_app_id")
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
        user = user_of(body)
        if self._person(user) is None:
            return await self._refuse_stranger(body, user)
        if not await self._store.first_interaction(self.chat, identity, keep_s=INTERACTION_KEEP_S):
            log.info("ignored a repeated Slack %s of %s: already handled", asked_for(body), user)
            return BoltResponse(status=200, body="")
        await next()
        return None

    async def _refuse_stranger(self, body: dict[str, Any], user: str) -> BoltResponse:
        """Told once a minute per channel, in the channel's language; a command's answer is
        its acknowledgement, a button's an ephemeral message."""
        channel = channel_of(body) or "-"
        asked = asked_for(body)
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
            self._later(self._staff.tell(channel, user, text))
        return BoltResponse(status=200, body="")

    def _later(self, work: Awaitable[None]) -> None:
        """Work that follows an acknowledgement Slack waits for (at most 3 s)."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _person(self, user_id: str) -> PersonConfig | None:
        return next((p for p in self._config().people if p.chat_user(self.chat) == user_id), None)

    async def tell_privately(self, *, user_id: str, where: str, text: str) -> None:
        """A word for one person (a link made to their name), in the channel they asked in."""
        await self._staff.tell(where, user_id, text)

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
