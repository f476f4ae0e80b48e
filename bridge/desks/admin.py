"""What admins do from chat: read the rules, test a text against them, reload the config.

Only admins may (:mod:`bridge.desks.authority`); everyone else gets a polite refusal. The
answers are plain text; each chat shows them in a monospaced block, in the language and time
zone of whoever asked (the chat enters :func:`bridge.text.i18n.speaking` before calling here).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bridge.config import Config, PersonConfig
from bridge.desks import audit
from bridge.desks.authority import Action, record_refusal, refusal, verdict
from bridge.domain.models import Mention
from bridge.domain.routing import decide
from bridge.ops.reload import ReloadOutcome
from bridge.store.store import Store
from bridge.text import i18n, messages
from bridge.text.rules_report import explain, trace_report

log = logging.getLogger(__name__)

ADMIN_VERBS = ("rules", "route", "reload")

Reloader = Callable[[str], Awaitable[ReloadOutcome | None]]


class AdminDesk:
    def __init__(
        self, store: Store, *, config: Callable[[], Config], reload: Reloader | None = None
    ) -> None:
        self.store = store
        self.config = config
        self._reload = reload

    def rules(self) -> str:
        return explain(self.config())

    def route(self, text: str) -> str:
        """Where a mention with ``text`` (of the first account, unknown author, now) would go,
        with times in the asker's zone."""
        config = self.config()
        now = datetime.now(UTC)
        zone = ZoneInfo(i18n.current_zone())
        mention = Mention(
            network=config.accounts[0].network,
            id="2",
            account=config.accounts[0].key,
            text=text,
            created_at=now,
            conversation_id="2",
        )
        decision = decide(config, mention, now=now)
        return trace_report(decision, mention, zone=zone, total_rules=len(config.routes))

    async def reload(self, person: PersonConfig) -> str:
        if self._reload is None:
            return messages.admin_reload_unavailable()
        outcome = await self._reload(person.key)
        if outcome is None:
            return messages.admin_reload_unavailable()
        if outcome.refused:
            return messages.config_refused(path=outcome.source, problems=outcome.problems)
        return messages.admin_reloaded(changed=outcome.changed, needs_restart=outcome.needs_restart)


async def answer_admin_command(
    desk: AdminDesk,
    person: PersonConfig,
    verb: str,
    argument: str,
    *,
    chat: str,
    route_command: str,
) -> tuple[str, bool]:
    """(answer, whether it is a monospaced report) for ``rules``, ``route <text>``, ``reload``.
    Someone not in ``people`` never gets here: :mod:`bridge.desks.strangers` answers them."""
    decision = verdict(Action.ADMIN, person)
    if not decision.allowed:
        await record_refusal(desk.store, decision, person=person.key, chat=chat)
        return refusal(decision, verb=verb), False
    await audit.record(desk.store, outcome="admin", person=person.key, chat=chat, detail=verb)
    if verb == "rules":
        return desk.rules(), True
    if verb == "route":
        if not argument.strip():
            return messages.admin_route_usage(route_command), False
        return desk.route(argument.strip()), True
    return await desk.reload(person), False
