"""Telling the admins about problems only they can fix, in the escalation destination."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.config import Config
from bridge.store.store import Store
from bridge.text import i18n

log = logging.getLogger(__name__)

ALERT_QUIET_S = 6 * 3600


async def alert_admins(
    store: Store,
    config: Config,
    *,
    subject: str,
    say: Callable[[], str],
    avoid: str | None = None,
) -> bool:
    """Queue what ``say`` says for the escalation destination, in its language, at most once per
    ``subject`` in six hours (and log it in English).

    ``avoid`` is the destination the problem is about: an alert is never sent into the very
    chat that cannot be reached. Returns whether an alert was queued.
    """
    with i18n.speaking(i18n.SOURCE_LOCALE):
        log.error("%s", say())
    target = config.escalation.to if config.escalation else None
    if target is None or target == avoid:
        return False
    if not await store.redis.set(store.keys.alert_sent(subject), "1", nx=True, ex=ALERT_QUIET_S):
        return False
    with config.speaking_to(target):
        text = say()
    await queue_notice(store, destination=target, text=text)
    return True


async def queue_notice(store: Store, *, destination: str, text: str) -> None:
    """A message from Reachable itself into one destination, posted by the mirror stage."""
    await store.outbox.add_notice(destination=destination, text=text)
