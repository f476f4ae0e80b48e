"""What staff do in Slack: the buttons on a mirrored mention, the reply and dismiss forms, and
``/reachable`` commands.

Each handler turns Slack's payload into a :mod:`bridge.actions` value, hands it to the core's
dispatcher, and shows the answer: privately (an ephemeral message, a form's errors, or the
command's acknowledgement), in the person's language (``SlackChat`` enters it). ``SlackChat``
owns the bolt app, registers these handlers and gates every request before they run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import render, texts
from adapters.slack.errors import wrap_slack_error
from adapters.slack.settings import SlackSettings
from adapters.slack.signing import slack_owns
from bridge.actions import (
    STAFF_VERBS,
    ActionDispatcher,
    Actor,
    Admin,
    AskDismissal,
    Assign,
    ChatStyle,
    Claim,
    Dismiss,
    Help,
    Link,
    OpenReply,
    Release,
    SubmitReply,
    command_verb,
    parse_command,
)
from bridge.config import Config, PersonConfig
from bridge.desks.claims import DISMISS_REASONS
from bridge.desks.replies import ReplyRefused
from bridge.desks.unanswered import LinkOf
from bridge.domain.models import Identity
from bridge.domain.platform_time import PlatformTime
from bridge.errors import RateLimited, TransientError
from bridge.store.store import Store
from bridge.text import messages

log = logging.getLogger(__name__)

# The identity each reply button starts with; "Reply again" lets the person choose.
REPLY_ACTIONS: dict[str, Identity | None] = {
    "reply_institution": Identity.INSTITUTION,
    "reply_personal": Identity.PERSONAL,
    "reply_again": None,
}
REPLY_MODAL = "reply_modal"
DISMISS_MODAL = "dismiss_modal"
# How long a private answer to a person's action is retried while Slack is busy or failing.
EPHEMERAL_PATIENCE_S = 60.0
TELL_PAUSE_MAX_S = 30.0


def _code(text: str) -> str:
    return f"`{text}`"


def _inert(text: str) -> str:
    return render.defuse_broadcasts(render.escape_mrkdwn(text))


class SlackStaff:
    """The bolt listeners for staff's buttons, forms and commands."""

    def __init__(
        self,
        *,
        chat: str,
        client: AsyncWebClient,
        settings: SlackSettings,
        platform_time: PlatformTime,
        config: Callable[[], Config],
        store: Store,
        actions: ActionDispatcher,
        person: Callable[[str], PersonConfig | None],
        link_of: LinkOf,
    ) -> None:
        self.chat = chat
        self.client = client
        self.settings = settings
        self.platform_time = platform_time
        self._config = config
        self._store = store
        self._actions = actions
        self._person = person
        self._link_of = link_of

    def _is_destination(self, channel: str) -> bool:
        return any(
            d.chat == self.chat and d.address == channel
            for d in self._config().destinations.values()
        )

    def _actor(self, person: PersonConfig, user: str, where: str) -> Actor:
        return Actor(person=person, chat=self.chat, user_id=user, where=where)

    async def on_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
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
        thread_id = str(action.get("value", "")).partition("|")[0]
        handles = self._actions.handles
        if person is None:
            log.warning("refused %s by unknown Slack user %s in %s", action_id, user, channel)
            text = messages.unknown_person()
        elif action_id in REPLY_ACTIONS and handles(OpenReply):
            identity = REPLY_ACTIONS[action_id]
            await self._open_reply_form(body, action, channel, person, identity)
            return
        elif action_id == "dismiss" and handles(AskDismissal):
            actor = self._actor(person, user, channel)
            refused = await self._actions.dispatch(AskDismissal(actor, thread_id))
            if refused is None:
                await self._open_dismiss_form(body, action, channel)
                return
            text = refused
        elif action_id in ("claim", "release") and handles(Claim):
            actor = self._actor(person, user, channel)
            pressed = Claim(actor, thread_id) if action_id == "claim" else Release(actor, thread_id)
            text = await self._actions.dispatch(pressed)
        else:
            log.info("%s pressed %s in %s (not available yet)", person.key, action_id, channel)
            text = messages.not_available_yet(action_id)
        await self.tell(channel, user, text)

    async def _open_reply_form(
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
        user = body["user"]["id"]
        thread_id, _, mention_id = str(action.get("value", "")).partition("|")
        actor = self._actor(person, user, channel)
        form = await self._actions.dispatch(OpenReply(actor, thread_id, mention_id, identity))
        if isinstance(form, str):
            await self.tell(channel, user, form)
            return
        metadata = {
            "thread": thread_id,
            "mention": mention_id,
            "identity": form.identity.value,
            "channel": channel,
            "again": action.get("action_id") == "reply_again",
        }
        view = render.reply_modal(
            form.mention,
            network=self._config().network_label(form.mention.network),
            identity=form.identity,
            as_handle=form.as_handle,
            choices=form.choices,
            link_command=texts.link_command(),
            callback_id=REPLY_MODAL,
            metadata=json.dumps(metadata),
        )
        await self._open_form(body, view, channel=channel, what="reply")

    async def _open_dismiss_form(
        self, body: dict[str, Any], action: dict[str, Any], channel: str
    ) -> None:
        thread_id, _, mention_id = str(action.get("value", "")).partition("|")
        mention = await self._store.thread_mention(thread_id, mention_id)
        if mention is None:
            await self.tell(channel, body["user"]["id"], messages.reply_thread_gone())
            return
        view = render.dismiss_modal(
            mention,
            network=self._config().network_label(mention.network),
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
            await self.tell(channel, user, texts.form_busy(seconds=seconds))
        elif isinstance(problem, TransientError):
            await self.tell(channel, user, texts.form_not_opened())

    async def on_dismiss_submit(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        user = str(body["user"]["id"])
        person = self._person(user)
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
        actor = self._actor(person, user, str(metadata["channel"]))
        answer = await self._actions.dispatch(
            Dismiss(actor, metadata["thread"], reason=reason, note=note)
        )
        await self.tell(metadata["channel"], body["user"]["id"], answer)

    async def on_reply_submit(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Check and queue the reply; problems go back into the form, next to the text."""
        metadata = json.loads(view.get("private_metadata") or "{}")
        values = view.get("state", {}).get("values", {})
        text = str(
            (values.get(render.REPLY_BLOCK, {}).get(render.REPLY_INPUT) or {}).get("value") or ""
        )
        user = str(body["user"]["id"])
        person = self._person(user)
        if person is None:
            await ack(
                response_action="errors", errors={render.REPLY_BLOCK: messages.unknown_person()}
            )
            return
        reply = SubmitReply(
            self._actor(person, user, str(metadata["channel"])),
            thread_id=metadata["thread"],
            mention_id=metadata["mention"],
            text=text,
            identity=render.chosen_identity(view) or Identity(metadata["identity"]),
            again=bool(metadata.get("again")),
            once=f"slack-view:{view.get('id')}",
        )
        try:
            queued = await self._actions.dispatch(reply)
        except ReplyRefused as refused:
            await ack(response_action="errors", errors={render.REPLY_BLOCK: refused.reason})
            return
        await ack()
        await self.tell(metadata["channel"], body["user"]["id"], queued)

    async def on_command(self, ack: Any, command: dict[str, Any]) -> None:
        """``/reachable help|link|pin <PIN>|unlink|unanswered|show <ref>|assign|rules|route
        <text>|reload``; the answer is seen by the caller only."""
        name = str(command.get("command", "/reachable"))
        text = str(command.get("text", ""))
        user = str(command.get("user_id", ""))
        person = self._person(user)
        if person is None:
            verb, _ = command_verb(text)
            staff = verb in STAFF_VERBS and (verb != "assign" or self._actions.handles(Assign))
            await ack(text=messages.unknown_person() if staff else texts.help_text(name))
            return
        style = ChatStyle(prefix=f"{name} ", link_of=self._link_of, escape=_inert, code=_code)
        actor = self._actor(person, user, str(command.get("channel_id", "")))
        action = parse_command(text, actor, style=style)
        if isinstance(action, Link) and self._actions.handles(Link):
            # Linking calls X; Slack wants the ack within 3 s, so the answer follows it.
            await ack(text=messages.link_working())
            await self._respond(command, await self._actions.dispatch(action))
        elif isinstance(action, Admin) and self._actions.handles(Admin):
            answer, report = await self._actions.dispatch(action)
            await ack(text=f"```{render.escape_mrkdwn(answer)}```" if report else answer)
        elif isinstance(action, Admin | Assign) and not self._actions.handles(type(action)):
            await ack(text=await self._actions.dispatch(Help(actor, style)))
        else:
            assert not isinstance(action, Admin)
            await ack(text=await self._actions.dispatch(action))

    async def _respond(self, command: dict[str, Any], text: str) -> None:
        """A later, private answer to a slash command, through its response_url."""
        url = command.get("response_url")
        if not url or not slack_owns(str(url), api_url=self.settings.slack_api_url):
            if url:
                log.warning("a slash command's response_url is not Slack's; answering directly")
            await self.tell(str(command.get("channel_id")), str(command.get("user_id")), text)
            return
        try:
            response = await AsyncWebhookClient(str(url)).send(response_type="ephemeral", text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("could not answer %s: %s", command.get("command"), exc)
            return
        if response.status_code != 200:
            log.warning("could not answer %s: %s", command.get("command"), response.body)

    async def tell(self, channel: str, user: str, text: str) -> None:
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
                self.platform_time.seconds(problem.retry_after)
                if isinstance(problem, RateLimited)
                else pause
            )
            if not isinstance(problem, RateLimited | TransientError) or (
                loop.time() + wait > deadline
            ):
                log.warning("could not tell %s: %s", user, problem)
                return
            await asyncio.sleep(wait)
            pause = min(pause * 2, TELL_PAUSE_MAX_S)
