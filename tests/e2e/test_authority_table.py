"""The whole authority table walked from both chats: for every action and role, a person with
that role does it in Slack (buttons, forms, slash commands through the Slack emulator) and in
Telegram (buttons, replies, commands through the Telegram emulator), and what the chat shows
them and what becomes of the thread match the table.

End to end, with one bridge process per chat's walk reused across its 42 cases, because the
decision is made where each chat's real handlers (bolt's listeners, python-telegram-bot's
handlers) meet the core, and a walk through the core alone would not show that every door asks
the table. Each case arranges the thread it needs (open, or held by Rina) through the same
state change the bridge makes, and waits for the mirror to show it before acting.

Who plays each role: Budi is staff only, Rina holds the threads she claims (and speaks for
@humas_demo), Sari is a supervisor, Adi an admin who is not a supervisor. Everyone has linked an
X account, so replying as oneself can be done. Replies that go out use a fresh thread each.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.config import parse_config
from app.settings import AppSettings
from bridge.desks.authority import TABLE, Action, Role, Rule, verdict
from bridge.desks.claims import short_reference
from bridge.domain.models import THREAD_ACTIONS, ThreadStatus, thread_id_for
from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from bridge.store.threads import change_state
from cli.demo_linking import link_demo_accounts
from tests.e2e.conftest import (
    CONFIG,
    GROUP,
    TOKEN_KEY,
    X_CONSUMER,
    X_TOKEN,
    Deployment,
    Emulators,
    slack_buttons,
    telegram_buttons,
    wait_for,
)
from tests.e2e.test_personal_replies import slack_ephemerals

PEOPLE = """people:
  - {key: rina, slack: U0RINA, telegram: 1001, speaks_for: [humas]}
  - {key: budi, slack: U0BUDI, telegram: 1003}
  - {key: sari, slack: U0SARI, telegram: 1002, roles: [staff, supervisor]}
  - {key: adi, slack: U0ADI, telegram: 1004, roles: [staff, admin]}
demo:
  linked_accounts: {rina: rina_x, budi: budi_x, sari: sari_x, adi: adi_x}
"""
WALK_CONFIG = CONFIG.replace(CONFIG[CONFIG.index("people:") : CONFIG.index("routes:")], PEOPLE, 1)
PLAYERS = {Role.STAFF: "budi", Role.HOLDER: "rina", Role.SUPERVISOR: "sari", Role.ADMIN: "adi"}
SLACK_IDS = {"rina": "U0RINA", "budi": "U0BUDI", "sari": "U0SARI", "adi": "U0ADI"}
TELEGRAM_IDS = {"rina": 1001, "budi": 1003, "sari": 1002, "adi": 1004}
# Actions on a thread held by Rina, whoever does them; the rest start from an open thread.
ON_HELD = {Action.TAKE_OVER, Action.RELEASE, Action.DISMISS_HELD}
REPLIES = {Action.REPLY_AS_INSTITUTION, Action.REPLY_AS_MYSELF}
# What each chat shows for a refusal, and for the outcome that is not a refusal.
REFUSED = {
    Action.RELEASE: "only they or a supervisor can release it",
    Action.DISMISS_HELD: "only they or a supervisor can dismiss it",
    Action.ASSIGN: "Only supervisors may hand a thread to someone",
    Action.ADMIN: "only Reachable's admins may use rules",
    Action.REPLY_AS_INSTITUTION: "You may not reply as @humas_demo",
}
ALREADY = "You hold this thread already; nothing changed."


@dataclass(frozen=True)
class Case:
    action: Action
    role: Role
    rule: Rule

    @property
    def person(self) -> str:
        return PLAYERS[self.role]


def cases() -> list[Case]:
    """Every cell of the table that applies, with the rule the table gives that person."""
    config = parse_config(WALK_CONFIG)
    people = {p.key: p for p in config.people}
    found = []
    for action, rules in TABLE.items():
        for role, rule in zip(Role, rules, strict=True):
            if rule is Rule.NOT_APPLICABLE:
                continue
            person = people[PLAYERS[role]]
            decided = verdict(action, person, account="humas").rule
            found.append(Case(action, role, rule if rule is not Rule.SPEAKS_FOR else decided))
    return found


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    client = connect(redis_url)
    yield Store(client, Keys("e2e"))
    await client.aclose()


class Walk(abc.ABC):
    """One chat's side of the walk; ``act`` does a case and returns what the person saw."""

    chat = ""

    def __init__(self, deployment: Deployment, store: Store) -> None:
        self.deployment = deployment
        self.emulators: Emulators = deployment.emulators
        self.store = store
        self.threads: list[str] = []
        self.texts: dict[str, str] = {}

    def post_mentions(self, count: int) -> None:
        for number in range(count):
            text = f"@humas_demo kasus nomor {number}"
            posted = self.emulators.post(f"warga_{number}", text)
            thread_id = thread_id_for(
                network="x", account="humas", conversation_id=posted["conversation_id"]
            )
            self.threads.append(thread_id)
            self.texts[thread_id] = text

    async def arrange(self, thread_id: str, *, held: bool) -> None:
        """The thread open, or claimed by Rina, and its mirror here showing it."""
        thread = await self.store.thread(thread_id)
        assert thread is not None
        if thread.status in (ThreadStatus.ANSWERED, ThreadStatus.DISMISSED):
            thread = await change_state(self.store, thread_id, status=ThreadStatus.OPEN, by=None)
        if held and (thread.status, thread.status_by) != (ThreadStatus.CLAIMED, "rina"):
            await change_state(self.store, thread_id, status=ThreadStatus.CLAIMED, by="rina")
        if not held and thread.status is not ThreadStatus.OPEN:
            await change_state(self.store, thread_id, status=ThreadStatus.OPEN, by=None)
        wait_for(
            lambda: self.shows(thread_id, held=held),
            what=f"the mirror of {thread_id} {'held by rina' if held else 'open'}",
        )

    @abc.abstractmethod
    def shows(self, thread_id: str, *, held: bool) -> bool:
        """Whether the chat's mirror of the thread shows it held by Rina (or open)."""

    @abc.abstractmethod
    async def act(self, case: Case, thread_id: str) -> str:
        """Do the case as its person would in this chat; what they were told."""

    async def state(self, thread_id: str) -> tuple[ThreadStatus, str | None]:
        thread = await self.store.thread(thread_id)
        assert thread is not None
        return thread.status, thread.status_by

    async def answered(self, thread_id: str, person: str) -> bool:
        return await self.state(thread_id) == (ThreadStatus.ANSWERED, person)


def fresh(seen: Callable[[], list[str]], before: int, what: str) -> str:
    """The first thing shown after ``before`` things, once it is there."""
    return str(wait_for(lambda: seen()[before:] and seen()[before], what=what))


class SlackWalk(Walk):
    chat = "slack"

    def mirror(self, thread_id: str) -> dict[str, Any]:
        found = self.find(thread_id)
        assert found is not None, f"no mirror of {thread_id} in Slack"
        return found

    def find(self, thread_id: str) -> dict[str, Any] | None:
        text = self.texts[thread_id]
        return next((m for m in self.emulators.messages() if text in str(m["blocks"])), None)

    def shows(self, thread_id: str, *, held: bool) -> bool:
        message = self.find(thread_id)
        if message is None:
            return False
        status = ThreadStatus.CLAIMED if held else ThreadStatus.OPEN
        on_it = "rina is on it" in str(message["blocks"])
        return slack_buttons(message) == list(THREAD_ACTIONS[status]) and on_it == held

    def told(self, user: str) -> list[str]:
        return slack_ephemerals(self.emulators, user)

    def press(self, person: str, thread_id: str, action: str) -> str:
        user = SLACK_IDS[person]
        before = len(self.told(user))
        self.emulators.click(user, self.mirror(thread_id)["ts"], action)
        return fresh(lambda: self.told(user), before, f"the answer to {person}'s {action}")

    def form(self, person: str, thread_id: str, action: str, **submitted: Any) -> str:
        """Open a form with a button and submit it: the answer, or the form's error (a
        refusal before the form opens is the answer too)."""
        user = SLACK_IDS[person]
        before = len(self.told(user))
        known = {view["id"] for view in self.open_views(user)}
        self.emulators.click(user, self.mirror(thread_id)["ts"], action)
        opened = wait_for(
            lambda: (
                [v for v in self.open_views(user) if v["id"] not in known]
                or self.told(user)[before:]
            ),
            what=f"a form for {person}",
        )
        if "id" not in opened[0]:
            return str(opened[0])
        result = self.emulators.slack_control(
            "submit", {"user": user, "view_id": opened[0]["id"], **submitted}
        ).json()
        if result["view"] == "kept_open":
            return str(result["body"])
        return fresh(lambda: self.told(user), before, f"the answer to {person}'s form")

    def open_views(self, user: str) -> list[dict[str, Any]]:
        response = self.emulators.http.get(
            f"{self.emulators.slack_server.url}/_emulator/views", params={"user": user}
        )
        return list(response.json()["views"])

    def command(self, person: str, text: str) -> str:
        user = SLACK_IDS[person]

        def answers() -> list[str]:
            return [t for t in self.told(user) if "One moment" not in t]

        before = len(answers())
        answer = self.emulators.slash(user, text)
        if "One moment" in answer:
            # The answer follows through response_url, beside the acknowledgement's message.
            return fresh(answers, before, f"the answer to {person}'s {text}")
        return answer

    async def act(self, case: Case, thread_id: str) -> str:
        person, action = case.person, case.action
        if action in (Action.CLAIM, Action.TAKE_OVER):
            said = self.press(person, thread_id, "claim")
            if case.rule is Rule.CONFIRM:
                said += "\n" + self.press(person, thread_id, "claim")
            return said
        if action is Action.RELEASE:
            return self.press(person, thread_id, "release")
        if action in (Action.DISMISS_OPEN, Action.DISMISS_HELD):
            return self.form(person, thread_id, "dismiss", values={"reason": {"reason": "spam"}})
        if action in REPLIES:
            button = (
                "reply_institution" if action is Action.REPLY_AS_INSTITUTION else ("reply_personal")
            )
            text = f"Terima kasih, {person} menindaklanjuti ({action.value}, {self.chat})."
            return self.form(person, thread_id, button, text=text)
        reference = short_reference(thread_id)
        return self.command(person, COMMANDS[action].format(ref=reference, slash=""))


class TelegramWalk(Walk):
    chat = "telegram"

    def messages(self, chat_id: int = GROUP) -> list[dict[str, Any]]:
        return self.emulators.telegram_messages(chat_id)

    def mirror(self, thread_id: str) -> dict[str, Any]:
        found = self.find(thread_id)
        assert found is not None, f"no mirror of {thread_id} in Telegram"
        return found

    def find(self, thread_id: str) -> dict[str, Any] | None:
        text = self.texts[thread_id]
        return next((m for m in self.messages() if text in m["text"]), None)

    def shows(self, thread_id: str, *, held: bool) -> bool:
        message = self.find(thread_id)
        if message is None:
            return False
        status = ThreadStatus.CLAIMED if held else ThreadStatus.OPEN
        on_it = "rina is on it" in message["text"]
        return telegram_buttons(message) == list(THREAD_ACTIONS[status]) and on_it == held

    def press_on(self, person: str, message_id: int, action: str) -> str | None:
        """A button press; the bot's toast or alert (None: it answered with no text)."""
        query = self.emulators.press(TELEGRAM_IDS[person], GROUP, message_id, action)

        def answer() -> dict[str, Any] | None:
            found = self.emulators.http.get(
                f"{self.emulators.telegram_server.url}/_emulator/answers",
                params={"callback_query_id": query},
            ).json()
            return found if found.get("answered") else None

        return wait_for(answer, what=f"the answer to {person}'s {action}").get("text")

    def reply_to(
        self, person: str, message_id: int, text: str, chat_id: int = GROUP
    ) -> dict[str, Any]:
        """``person`` writes ``text`` (in answer to a message); the bot's answer to it."""
        sent = self.emulators.telegram_control(
            "send",
            {
                "user_id": TELEGRAM_IDS[person],
                "chat_id": chat_id,
                "text": text,
                **({"reply_to_message_id": message_id} if message_id else {}),
            },
        ).json()
        return dict(
            wait_for(
                lambda: next(
                    (
                        m
                        for m in self.messages(chat_id)
                        if m["from"]["is_bot"]
                        and (
                            m["reply_to_message_id"] == sent["message_id"]
                            # In a private chat the bot answers without quoting.
                            or (chat_id > 0 and m["message_id"] > sent["message_id"])
                        )
                    ),
                    None,
                ),
                what=f"the bot's answer to {person}'s {text!r}",
            )
        )

    async def act(self, case: Case, thread_id: str) -> str:
        person, action = case.person, case.action
        mirror = self.mirror(thread_id)["message_id"]
        if action in (Action.CLAIM, Action.TAKE_OVER):
            said = self.press_on(person, mirror, "claim") or ""
            if case.rule is Rule.CONFIRM:
                said += "\n" + (self.press_on(person, mirror, "claim") or "")
            return said
        if action is Action.RELEASE:
            return self.press_on(person, mirror, "release") or ""
        if action in (Action.DISMISS_OPEN, Action.DISMISS_HELD):
            refused = self.press_on(person, mirror, "dismiss")
            if refused:
                return refused
            question = wait_for(
                lambda: [m for m in self.messages() if "Why dismiss" in m["text"]],
                what="the question why",
            )[-1]
            return self.press_on(person, question["message_id"], "dreason:spam") or ""
        if action in REPLIES:
            text = f"Terima kasih, {person} menindaklanjuti ({action.value}, {self.chat})."
            preview = self.reply_to(person, mirror, text)
            wanted = (
                "send_institution" if action is Action.REPLY_AS_INSTITUTION else ("send_personal")
            )
            if wanted not in telegram_buttons(preview):
                return f"offered only {telegram_buttons(preview)}"
            self.press_on(person, preview["message_id"], wanted)
            return str(
                wait_for(
                    lambda: (
                        next(
                            m["text"]
                            for m in self.messages()
                            if m["message_id"] == preview["message_id"]
                        ).startswith("Posting your reply")
                        and "Posting your reply"
                    ),
                    what="the preview saying it is posting",
                )
            )
        command = COMMANDS[action].format(ref=short_reference(thread_id), slash="/")
        if action is Action.LINK:
            chat_id = TELEGRAM_IDS[person]
            return str(self.reply_to(person, 0, command, chat_id=chat_id)["text"])
        return str(self.reply_to(person, 0, command)["text"])


COMMANDS = {
    Action.ASSIGN: "{slash}assign {ref} budi",
    Action.UNANSWERED: "{slash}unanswered",
    Action.SHOW: "{slash}show {ref}",
    Action.ADMIN: "{slash}rules",
    Action.LINK: "{slash}link",
}


async def check(walk: Walk, case: Case, thread_id: str) -> str | None:
    """Do the case; what differs from the table's rule, in what the person saw or what became
    of the thread, or None."""
    before = await walk.state(thread_id)
    said = await walk.act(case, thread_id)
    where = f"{walk.chat}: {case.action.value} by {case.role.value} ({case.person}): {said!r}"
    after = await walk.state(thread_id)
    if case.rule is Rule.NO:
        if walk.chat == "telegram" and case.action is Action.REPLY_AS_INSTITUTION:
            shown = said == "offered only ['send_personal', 'cancel']"
        else:
            shown = REFUSED[case.action] in said
        return None if shown and after == before else f"{where}: not refused, now {after}"
    if case.rule is Rule.ALREADY:
        return None if said == ALREADY and after == before else f"{where}: now {after}"
    if not DONE[case.action](said, case.person):
        return f"{where}: not done"
    wanted = AFTER.get(case.action)
    if wanted is not None and after != wanted(case.person):
        return f"{where}: the thread is {after}, not {wanted(case.person)}"
    if case.action in REPLIES and not await wait_answered(walk, thread_id, case.person):
        return f"{where}: the thread was not answered by {case.person}"
    return None


async def wait_answered(walk: Walk, thread_id: str, person: str) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if await walk.answered(thread_id, person):
            return True
        await asyncio.sleep(0.2)
    return False


DONE: dict[Action, Callable[[str, str], bool]] = {
    Action.CLAIM: lambda said, _p: "It is yours" in said,
    Action.TAKE_OVER: lambda said, _p: (
        "rina claimed this" in said and "You took this over from rina" in said
    ),
    Action.RELEASE: lambda said, _p: "Released" in said,
    Action.DISMISS_OPEN: lambda said, _p: "Dismissed (Spam)" in said,
    Action.DISMISS_HELD: lambda said, _p: "Dismissed (Spam)" in said,
    Action.ASSIGN: lambda said, _p: "now budi's" in said,
    Action.REPLY_AS_INSTITUTION: lambda said, _p: "Posting your reply" in said,
    Action.REPLY_AS_MYSELF: lambda said, _p: "Posting your reply" in said,
    Action.UNANSWERED: lambda said, _p: "Unanswered threads, oldest first" in said,
    Action.SHOW: lambda said, _p: "already shown in this chat" in said,
    Action.ADMIN: lambda said, _p: "Rules, tried top to bottom" in said,
    Action.LINK: lambda said, _p: "linking again replaces it" in said,
}
AFTER: dict[Action, Callable[[str], tuple[ThreadStatus, str | None]]] = {
    Action.CLAIM: lambda person: (ThreadStatus.CLAIMED, person),
    Action.TAKE_OVER: lambda person: (ThreadStatus.CLAIMED, person),
    Action.RELEASE: lambda person: (ThreadStatus.OPEN, person),
    Action.DISMISS_OPEN: lambda person: (ThreadStatus.DISMISSED, person),
    Action.DISMISS_HELD: lambda person: (ThreadStatus.DISMISSED, person),
    Action.ASSIGN: lambda _person: (ThreadStatus.CLAIMED, "budi"),
}


async def walk_the_table(walk: Walk) -> None:
    deployment = walk.deployment
    deployment.config.write_text(WALK_CONFIG)
    emulators = deployment.emulators
    settings = AppSettings(
        _env_file=None,
        x_api_url=emulators.x_server.url,
        x_bearer_token=X_TOKEN,
        x_consumer_key=X_CONSUMER[0],
        x_consumer_secret=X_CONSUMER[1],
        token_key=TOKEN_KEY,
    )
    linked = await link_demo_accounts(settings, parse_config(WALK_CONFIG), walk.store)
    assert len(linked) == 4
    deployment.start()
    table = cases()
    replies_done = [c for c in table if c.action in REPLIES and c.rule is Rule.YES]
    walk.post_mentions(1 + len(replies_done))
    for thread_id in walk.threads:
        wait_for(lambda t=thread_id: walk.shows(t, held=False), what="every mention mirrored")
    main, spare = walk.threads[0], iter(walk.threads[1:])
    differences = []
    for case in table:
        thread_id = next(spare) if case in replies_done else main
        await walk.arrange(thread_id, held=case.action in ON_HELD or case.role is Role.HOLDER)
        differences.append(await check(walk, case, thread_id))
    assert len(table) == 42
    wrong = [d for d in differences if d]
    assert not wrong, "the chat does not do what the table says:\n" + "\n".join(wrong)


async def test_every_action_and_role_from_slack(deployment: Deployment, store: Store) -> None:
    deployment.emulators.slack.rate_limits = True
    await walk_the_table(SlackWalk(deployment, store))


async def test_every_action_and_role_from_telegram(deployment: Deployment, store: Store) -> None:
    # Telegram's rate limits stay off: the walk has the bot post some 35 answers, previews and
    # questions into one group within a minute, where Telegram allows 20, and those answers are
    # not paced like mirrored mentions: with the limits on, flood control cuts the walk off.
    await walk_the_table(TelegramWalk(deployment, store))
