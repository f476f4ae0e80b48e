"""Who may do what: one table of actions by roles, the only place that decides.

Every desk asks :func:`verdict` before it changes anything, whatever the chat; the staff guide shows
:data:`TABLE` as :func:`markdown_table` renders it (a unit test keeps the two the same).

The roles, as a real institution has them:

- **staff**: everyone listed in ``people``. Nobody else may do anything (see
  :mod:`bridge.desks.strangers`).
- **holder**: the person whose claim the thread carries (not a config role: it follows the
  thread).
- **supervisor**: ``supervisor`` in the person's roles. Oversees the team's work: releases,
  dismisses and hands out threads others hold.
- **admin**: ``admin`` in the person's roles. Configures Reachable (rules, routes, reloads); an
  admin is *not* a supervisor unless the config lists both roles, because setting up the tool
  is not the same job as overseeing the people who answer.

A person's right to an action is the best that any of their roles gives. Speaking for an
institution is not a role: it is the account list ``speaks_for`` of each person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from bridge.config import PersonConfig
from bridge.desks import audit
from bridge.domain.models import Thread, ThreadStatus
from bridge.store.store import Store
from bridge.text import messages


class Role(StrEnum):
    STAFF = "staff"
    HOLDER = "holder"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Action(StrEnum):
    CLAIM = "claim"
    TAKE_OVER = "take_over"
    RELEASE = "release"
    DISMISS_OPEN = "dismiss_open"
    DISMISS_HELD = "dismiss_held"
    ASSIGN = "assign"
    REPLY_AS_INSTITUTION = "reply_institution"
    REPLY_AS_MYSELF = "reply_personal"
    UNANSWERED = "unanswered"
    SHOW = "show"
    ADMIN = "admin"
    LINK = "link"


class Rule(IntEnum):
    """What a role may do; of several roles, the highest value applies."""

    NOT_APPLICABLE = 0
    NO = 1
    # Resolved per person: YES when their ``speaks_for`` lists the thread's account, else NO.
    SPEAKS_FOR = 2
    # Allowed on a second press within a minute (taking a thread over from its holder).
    CONFIRM = 3
    YES = 4
    # The person holds the thread already: they are told so and nothing changes.
    ALREADY = 5


NA, NO, YES = Rule.NOT_APPLICABLE, Rule.NO, Rule.YES
CONFIRM, SPEAKS_FOR, ALREADY = Rule.CONFIRM, Rule.SPEAKS_FOR, Rule.ALREADY

# action -> the rule of each role, in the order of Role: staff, holder, supervisor, admin.
TABLE: dict[Action, tuple[Rule, Rule, Rule, Rule]] = {
    Action.CLAIM: (YES, NA, YES, YES),
    Action.TAKE_OVER: (CONFIRM, ALREADY, CONFIRM, CONFIRM),
    Action.RELEASE: (NO, YES, YES, NO),
    Action.DISMISS_OPEN: (YES, NA, YES, YES),
    Action.DISMISS_HELD: (NO, YES, YES, NO),
    Action.ASSIGN: (NO, NO, YES, NO),
    Action.REPLY_AS_INSTITUTION: (SPEAKS_FOR, SPEAKS_FOR, SPEAKS_FOR, SPEAKS_FOR),
    Action.REPLY_AS_MYSELF: (YES, YES, YES, YES),
    Action.UNANSWERED: (YES, NA, YES, YES),
    Action.SHOW: (YES, NA, YES, YES),
    Action.ADMIN: (NO, NA, NO, YES),
    Action.LINK: (YES, NA, YES, YES),
}

# What each row means, for the staff guide (docs/staff-guide.md); the chat commands that do it
# are in backticks.
ACTION_LABELS: dict[Action, str] = {
    Action.CLAIM: "Claim an open thread",
    Action.TAKE_OVER: "Claim a thread someone holds (take it over)",
    Action.RELEASE: "Release a claim",
    Action.DISMISS_OPEN: "Dismiss an open thread",
    Action.DISMISS_HELD: "Dismiss a claimed thread",
    Action.ASSIGN: "Hand a thread to someone (`assign`)",
    Action.REPLY_AS_INSTITUTION: "Reply as the institution",
    Action.REPLY_AS_MYSELF: "Reply as myself",
    Action.UNANSWERED: "List what is unanswered (`unanswered`)",
    Action.SHOW: "Show a thread here (`show`)",
    Action.ADMIN: "Admin commands (`rules`, `route`, `reload`)",
    Action.LINK: "Link or unlink one's own account on the network (`link`, `pin`, `unlink`)",
}
RULE_LABELS: dict[Rule, str] = {
    Rule.NOT_APPLICABLE: "-",
    Rule.NO: "no",
    Rule.SPEAKS_FOR: "if `speaks_for` lists the account",
    Rule.CONFIRM: "yes, on a second press within a minute",
    Rule.YES: "yes",
    Rule.ALREADY: "told it is theirs already; nothing changes",
}


@dataclass(frozen=True)
class Verdict:
    """The rule that applies to one person for one action, and the roles it came from."""

    action: Action
    rule: Rule
    roles: frozenset[Role]

    @property
    def allowed(self) -> bool:
        return self.rule in (Rule.YES, Rule.CONFIRM)

    @property
    def needs_confirmation(self) -> bool:
        return self.rule is Rule.CONFIRM


def roles_of(person: PersonConfig, thread: Thread | None = None) -> frozenset[Role]:
    roles = {Role.STAFF}
    if "supervisor" in person.roles:
        roles.add(Role.SUPERVISOR)
    if "admin" in person.roles:
        roles.add(Role.ADMIN)
    if (
        thread is not None
        and thread.status is ThreadStatus.CLAIMED
        and thread.status_by == person.key
    ):
        roles.add(Role.HOLDER)
    return frozenset(roles)


def verdict(
    action: Action,
    person: PersonConfig,
    *,
    thread: Thread | None = None,
    account: str | None = None,
) -> Verdict:
    """What ``person`` may do: ``thread`` makes them its holder when they hold it, and
    ``account`` (an institutional account's key) is the one a reply would speak for."""
    roles = roles_of(person, thread)
    ranked = [TABLE[action][list(Role).index(role)] for role in roles]
    resolved = [_speaks_for(rule, person, account) for rule in ranked]
    return Verdict(action=action, rule=max(resolved), roles=roles)


def _speaks_for(rule: Rule, person: PersonConfig, account: str | None) -> Rule:
    if rule is not Rule.SPEAKS_FOR:
        return rule
    return Rule.YES if account is not None and account in person.speaks_for else Rule.NO


def thread_action(pressed: str, thread: Thread) -> Action:
    """The row a button press falls in, by the thread's state: Claim on a thread someone else
    holds is a take-over, Dismiss on a claimed thread needs the holder or a supervisor."""
    held = thread.status is ThreadStatus.CLAIMED
    if pressed == "claim":
        return Action.TAKE_OVER if held else Action.CLAIM
    if pressed == "dismiss":
        return Action.DISMISS_HELD if held else Action.DISMISS_OPEN
    return Action(pressed)


def refusal(verdict: Verdict, *, holder: str = "", verb: str = "", handle: str = "") -> str:
    """Why the action is refused, in the reader's language: ``holder`` names who holds the
    thread, ``verb`` the admin command, ``handle`` the institutional account."""
    if verdict.rule is Rule.ALREADY:
        return messages.claim_yours_already()
    refusals: dict[Action, Callable[[], str]] = {
        Action.RELEASE: lambda: messages.release_not_yours(holder=holder),
        Action.DISMISS_HELD: lambda: messages.dismiss_not_yours(holder=holder),
        Action.ASSIGN: messages.assign_supervisors_only,
        Action.ADMIN: lambda: messages.admin_only(verb),
        Action.REPLY_AS_INSTITUTION: lambda: messages.reply_not_allowed(handle=handle),
    }
    return refusals.get(verdict.action, messages.not_allowed)()


async def record_refusal(
    store: Store, verdict: Verdict, *, person: str, chat: str, thread: str = ""
) -> None:
    """The audit log keeps every refusal: who, where, which action and under which roles."""
    roles = ", ".join(sorted(role.value for role in verdict.roles))
    detail = f"{verdict.action.value} ({verdict.rule.name.lower()} for {roles})"
    where = {"thread": thread} if thread else {}
    await audit.record(store, outcome="refused", person=person, chat=chat, detail=detail, **where)


def markdown_table() -> str:
    """The table as the staff guide shows it."""
    header = "| | " + " | ".join(role.value for role in Role) + " |"
    lines = [header, "| --- " * (len(Role) + 1) + "|"]
    for action, rules in TABLE.items():
        cells = " | ".join(RULE_LABELS[rule] for rule in rules)
        lines.append(f"| {ACTION_LABELS[action]} | {cells} |")
    return "\n".join(lines)
