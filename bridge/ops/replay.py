"""``reachable rules replay``: route last week's mentions with other rules and show what changes.

The mentions are the ones Reachable kept: every mention of every thread, and the dropped ones.
Each is routed again with the candidate rules and compared with the route it actually took.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.config import Config
from bridge.domain.models import Mention
from bridge.domain.routing import Decision, decide
from bridge.store.audit_log import parse_dropped
from bridge.store.store import Store
from bridge.text.i18n import _, ngettext

# Threads older than the window may still have received mentions inside it.
THREAD_LOOKBACK = timedelta(days=30)
EXAMPLES = 10


@dataclass(frozen=True)
class Replayed:
    mention: Mention
    then: str  # the route it took ("spam (dropped)" for a drop)
    now: str
    then_to: tuple[str, ...]
    now_to: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.then != self.now or self.then_to != self.now_to


def label(decision: Decision) -> str:
    return dropped(decision.route) if decision.dropped else decision.route


def dropped(route: str) -> str:
    """How a route that drops reads in the table: "spam (dropped)"."""
    return _("{route} (dropped)", route=route)


Kept = tuple[Mention, str, tuple[str, ...]]


async def stored_mentions(store: Store, *, since: datetime) -> list[Kept]:
    """(mention, the route it took, where it went) for every mention kept since ``since``,
    oldest first."""
    found: list[Kept] = []
    start = (since - THREAD_LOOKBACK).timestamp()
    for thread_id in await store.redis.zrangebyscore(store.keys.threads_by_time, start, "+inf"):
        thread = await store.thread(str(thread_id))
        if thread is None:
            continue
        went = tuple(str(d) for d in await store.redis.hkeys(store.keys.thread_roots(thread.id)))
        for mention in await store.thread_mentions(thread.id):
            if (mention.created_at or thread.created_at) >= since:
                found.append((mention, thread.route, went))
    entries: Any = await store.redis.xrange(
        store.keys.dropped_stream, min=f"{int(since.timestamp() * 1000)}-0", max="+"
    )
    for _entry_id, fields in entries or []:
        rule, mention = parse_dropped(fields)
        if mention.created_at is None or mention.created_at >= since:
            found.append((mention, dropped(rule), ()))
    found.sort(key=lambda pair: (pair[0].created_at or since, len(pair[0].id), pair[0].id))
    return found


def replay(kept: list[Kept], *, candidate: Config, now: datetime) -> list[Replayed]:
    """Each kept mention routed again with the candidate rules, next to where it went."""
    replayed = []
    for mention, route, went in kept:
        again = decide(candidate, mention, now=now)
        replayed.append(
            Replayed(
                mention=mention,
                then=route,
                now=label(again),
                then_to=tuple(sorted(went)),
                now_to=tuple(sorted(again.destinations)),
            )
        )
    return replayed


def report(replayed: list[Replayed], *, since: str, rules_name: str) -> str:
    """A table of counts per route, then and with the candidate rules, and changed examples."""
    if not replayed:
        return _("No mentions kept from the last {since}: nothing to replay.", since=since)
    then, now = Counter(r.then for r in replayed), Counter(r.now for r in replayed)
    routes = sorted(set(then) | set(now), key=lambda name: (-max(then[name], now[name]), name))
    heading = (_("route"), _("then"), _("with"), _("change"))
    width = max(len(heading[0]), *(len(name) for name in routes))
    lines = [
        ngettext(
            "Replayed {count} mention from the last {since} with {rules}:",
            "Replayed {count} mentions from the last {since} with {rules}:",
            len(replayed),
            since=since,
            rules=rules_name,
        ),
        "",
        f"{heading[0]:<{width}}  {heading[1]:>6}  {heading[2]:>6}  {heading[3]:>6}",
    ]
    for name in routes:
        delta = now[name] - then[name]
        shown = f"{delta:+d}" if delta else "·"
        lines.append(f"{name:<{width}}  {then[name]:>6}  {now[name]:>6}  {shown:>6}")
    changed = [r for r in replayed if r.changed]
    lines.append("")
    if not changed:
        lines.append(_("No mention would go anywhere else."))
        return "\n".join(lines)
    lines.append(
        ngettext(
            "{count} mention would go elsewhere, for example:",
            "{count} mentions would go elsewhere, for example:",
            len(changed),
        )
    )
    for item in changed[:EXAMPLES]:
        author = f"@{item.mention.author.handle}" if item.mention.author else "?"
        text = " ".join(item.mention.text.split())
        text = text if len(text) <= 50 else text[:49] + "…"
        lines.append(f"  {author} {text!r}")
        lines.append(f"      {_went(item.then, item.then_to)} → {_went(item.now, item.now_to)}")
    destinations_then = Counter(d for r in replayed for d in r.then_to)
    destinations_now = Counter(d for r in replayed for d in r.now_to)
    lines.append("")
    counts = ", ".join(
        f"{d} {destinations_then[d]} → {destinations_now[d]}"
        for d in sorted(set(destinations_then) | set(destinations_now))
    )
    lines.append(_("Messages per destination: {counts}", counts=counts))
    return "\n".join(lines)


def _went(route: str, destinations: tuple[str, ...]) -> str:
    return f"{route} ({', '.join(destinations) or _('nowhere')})"
