"""Each kind of chat action reaches its desk (bridge/actions.py), on a real Redis with the real
desks: what the desk answers comes back, and what it changes is changed."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.slack.config import SLACK
from adapters.x.config import X
from app.config import parse_config
from bridge.actions import (
    ActionDispatcher,
    Actor,
    Admin,
    AskDismissal,
    Assign,
    ChatStyle,
    Claim,
    Dismiss,
    Link,
    OpenReply,
    PreviewReply,
    Release,
    ReplyForm,
    ReplyPreview,
    Show,
    SubmitReply,
    Unanswered,
)
from bridge.config import AccountConfig
from bridge.desks.admin import AdminDesk
from bridge.desks.claims import ThreadDesk, short_reference
from bridge.desks.replies import ReplyDesk, ReplyRefused
from bridge.domain.models import Identity, ThreadStatus
from bridge.store.store import Store
from bridge.text import messages
from tests.integration.test_claims import a_thread

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}, all: {chat: slack, channel: C0ALL}}
people:
  - {key: rina, name: Rina, slack: U0RINA, speaks_for: [humas]}
  - {key: budi, name: Budi, slack: U0BUDI}
  - {key: sari, name: Sari, slack: U0SARI, roles: [staff, supervisor]}
  - {key: adi, name: Adi, slack: U0ADI, roles: [staff, admin]}
routes: [{name: all, to: [all]}]
""")
RINA, BUDI, SARI, ADI = CONFIG.people
STYLE = ChatStyle(prefix="/reachable ")


class Publisher:
    """Enough of a network to queue replies to: nothing is posted here."""

    def check_text(self, text: str) -> str | None:
        return None

    def measure(self, text: str) -> tuple[int, int]:
        return len(text), 280

    def can_post_as(self, account: AccountConfig) -> bool:
        return True

    async def post_reply(self, **kwargs: Any) -> Any:
        raise AssertionError("nothing is posted here")

    async def find_reply(self, **kwargs: Any) -> Any:
        return None

    async def ping(self, account: AccountConfig) -> None:
        return None

    async def close(self) -> None:
        return None


def as_(person: Any, where: str = "C0ALL") -> Actor:
    return Actor(person=person, chat="slack", user_id=person.slack, where=where)


@pytest.fixture
def actions(store: Store) -> ActionDispatcher:
    def config() -> Any:
        return CONFIG

    return ActionDispatcher(
        store,
        config=config,
        replies=ReplyDesk(store, config=config, publishers={"x": Publisher()}),
        threads=ThreadDesk(store, config=config),
        admin=AdminDesk(store, config=config),
    )


async def status(store: Store, thread_id: str) -> tuple[ThreadStatus, str | None]:
    thread = await store.thread(thread_id)
    assert thread is not None
    return thread.status, thread.status_by


async def test_claim_and_release_reach_the_thread_desk(
    store: Store, actions: ActionDispatcher
) -> None:
    thread_id = await a_thread(store)
    assert await actions.dispatch(Claim(as_(RINA), thread_id)) == messages.claim_done()
    assert await status(store, thread_id) == (ThreadStatus.CLAIMED, "rina")
    refused = await actions.dispatch(Release(as_(BUDI), thread_id))
    assert refused == messages.release_not_yours(holder="Rina")
    assert await actions.dispatch(Release(as_(RINA), thread_id)) == messages.release_done()
    assert (await status(store, thread_id))[0] is ThreadStatus.OPEN


async def test_dismissal_is_asked_for_then_done(store: Store, actions: ActionDispatcher) -> None:
    thread_id = await a_thread(store)
    assert await actions.dispatch(AskDismissal(as_(BUDI), thread_id)) is None
    await actions.dispatch(Claim(as_(RINA), thread_id))
    refused = await actions.dispatch(AskDismissal(as_(BUDI), thread_id))
    assert refused == messages.dismiss_not_yours(holder="Rina")
    done = await actions.dispatch(Dismiss(as_(RINA), thread_id, reason="spam", note="iklan"))
    assert done == messages.dismiss_done(reason=messages.dismiss_reason_label("spam") + " (iklan)")
    assert await status(store, thread_id) == (ThreadStatus.DISMISSED, "rina")


async def test_assign_reaches_the_thread_desk_by_reference_or_by_the_mirror_answered(
    store: Store, actions: ActionDispatcher
) -> None:
    thread_id = await a_thread(store)
    reference = short_reference(thread_id)
    refused = await actions.dispatch(Assign(as_(BUDI), (reference, "rina"), style=STYLE))
    assert refused == messages.assign_supervisors_only()
    done = await actions.dispatch(Assign(as_(SARI), (reference, "rina"), style=STYLE))
    assert done == messages.assign_done(name="Rina", reference=reference)
    assert await status(store, thread_id) == (ThreadStatus.CLAIMED, "rina")
    again = await actions.dispatch(Assign(as_(SARI), ("budi",), thread_id, STYLE))
    assert again == messages.assign_done(name="Budi", reference=reference)
    assert await status(store, thread_id) == (ThreadStatus.CLAIMED, "budi")


async def test_admin_commands_reach_the_admin_desk(actions: ActionDispatcher) -> None:
    refused = await actions.dispatch(Admin(as_(RINA), "rules"))
    assert refused == (messages.admin_only("rules"), False)
    text, report = await actions.dispatch(Admin(as_(ADI), "rules"))
    assert report and text
    usage = await actions.dispatch(Admin(as_(ADI), "route", " ", STYLE))
    assert usage == (messages.admin_route_usage(STYLE.command("route")), False)


async def test_unanswered_and_show_read_the_store(store: Store, actions: ActionDispatcher) -> None:
    assert await actions.dispatch(Unanswered(as_(RINA), "", STYLE)) == messages.unanswered_none()
    thread_id = await a_thread(store)
    listed = await actions.dispatch(Unanswered(as_(RINA), "", STYLE))
    assert short_reference(thread_id) in listed
    elsewhere = Show(as_(RINA, where="C0ELSEWHERE"), short_reference(thread_id), STYLE)
    assert await actions.dispatch(elsewhere) == messages.show_not_a_destination()


async def test_a_reply_is_opened_previewed_and_queued_through_the_reply_desk(
    store: Store, actions: ActionDispatcher
) -> None:
    thread_id = await a_thread(store)
    mention_id = "7"
    form = await actions.dispatch(OpenReply(as_(RINA), thread_id, mention_id))
    assert isinstance(form, ReplyForm)
    assert form.identity is Identity.INSTITUTION
    assert form.choices == [(Identity.INSTITUTION, "humas_demo")]
    nothing = await actions.dispatch(OpenReply(as_(BUDI), thread_id, mention_id))
    link = SLACK.link_command()
    assert nothing == messages.reply_no_identity(
        network="X", handle="humas_demo", link_command=link
    )
    preview = await actions.dispatch(PreviewReply(as_(RINA), thread_id, mention_id, "Kami cek."))
    assert isinstance(preview, ReplyPreview)
    assert (preview.length, preview.limit, preview.again) == (9, 280, False)
    assert preview.identities == [(Identity.INSTITUTION, "humas_demo")]
    reply = SubmitReply(
        as_(RINA), thread_id, mention_id, "Kami cek.", Identity.INSTITUTION, once="form-1"
    )
    queued = await actions.dispatch(reply)
    assert queued == messages.reply_queued(handle="humas_demo")
    assert await store.redis.xlen(store.keys.actions_stream) == 1
    with pytest.raises(ReplyRefused) as twice:
        await actions.dispatch(reply)
    assert twice.value.reason == messages.reply_already_queued()
    with pytest.raises(ReplyRefused):
        await actions.dispatch(
            SubmitReply(as_(BUDI), thread_id, mention_id, "halo", Identity.INSTITUTION)
        )


async def test_linking_without_personal_accounts_is_not_set_up(actions: ActionDispatcher) -> None:
    assert not actions.handles(Link)
    assert await actions.dispatch(Link(as_(RINA), "link")) == messages.link_not_set_up(
        network="X", setting=X.linking_setting()
    )
