"""Response-time reports: mentions, answered share, time to first response, SLA breaches,
by account, route and person, and institution vs personal replies.

Figures come from the threads Reachable kept. A thread counts in the period it was created in;
its first response is the first answer recorded on it (through chat or directly on X).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bridge.config import Config
from bridge.domain.models import Thread
from bridge.store.store import Store
from bridge.text import messages


@dataclass(frozen=True)
class ThreadFacts:
    """What a report needs of one thread."""

    account: str
    route: str
    created_at: datetime
    mentions: int
    first_response: timedelta | None
    answered_by: str | None
    answered_as_institution: bool | None
    breached: bool
    # Some of its mentions came in a burst and were folded into digests.
    folded: bool = False


@dataclass
class Group:
    """Figures for one slice (everything, an account, a route, a person)."""

    threads: int = 0
    mentions: int = 0
    answered: int = 0
    breaches: int = 0
    folded: int = 0
    responses: list[float] = field(default_factory=list)

    def add(self, facts: ThreadFacts) -> None:
        self.threads += 1
        self.mentions += facts.mentions
        self.breaches += facts.breached
        self.folded += facts.folded
        if facts.first_response is not None:
            self.answered += 1
            self.responses.append(facts.first_response.total_seconds())

    @property
    def answered_share(self) -> float:
        return self.answered / self.threads if self.threads else 0.0

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.responses) if self.responses else None

    @property
    def p90_s(self) -> float | None:
        return percentile(self.responses, 90)


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``pct``% of values at or
    below it (what a person computing it by hand gets)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def facts_of(thread: Thread, mentions: int, config: Config, now: datetime) -> ThreadFacts:
    first = thread.first_response_at
    handle = next((a.handle for a in config.accounts if a.key == thread.account), None)
    deadline = thread.sla_deadline
    breached = deadline is not None and (first or now) > deadline
    return ThreadFacts(
        account=thread.account,
        route=thread.route,
        created_at=thread.created_at,
        mentions=mentions,
        first_response=(first - thread.created_at) if first else None,
        answered_by=(thread.first_response_by or "") if first is not None else None,
        answered_as_institution=(thread.first_response_as == handle)
        if thread.first_response_as
        else None,
        breached=breached,
        folded=thread.folded > 0,
    )


async def collect(
    store: Store, config: Config, *, since: datetime, until: datetime
) -> list[ThreadFacts]:
    ids = await store.redis.zrangebyscore(
        store.keys.threads_by_time, since.timestamp(), until.timestamp()
    )
    found = []
    for thread_id in ids:
        thread = await store.thread(str(thread_id))
        if thread is not None:
            count = int(await store.redis.hlen(store.keys.thread_mentions(thread.id)))
            found.append(facts_of(thread, count, config, until))
    return found


@dataclass
class Report:
    since: datetime
    until: datetime
    total: Group
    by_account: dict[str, Group]
    by_route: dict[str, Group]
    by_person: dict[str, Group]
    identities: Counter[str]
    per_day: dict[date, Group]


def build(facts: list[ThreadFacts], *, since: datetime, until: datetime, zone: ZoneInfo) -> Report:
    total = Group()
    by_account: dict[str, Group] = defaultdict(Group)
    by_route: dict[str, Group] = defaultdict(Group)
    by_person: dict[str, Group] = defaultdict(Group)
    per_day: dict[date, Group] = defaultdict(Group)
    identities: Counter[str] = Counter()
    for item in facts:
        total.add(item)
        by_account[item.account].add(item)
        by_route[item.route].add(item)
        per_day[item.created_at.astimezone(zone).date()].add(item)
        if item.answered_by is not None:
            by_person[item.answered_by].add(item)
        if item.answered_as_institution is not None:
            identities["institution" if item.answered_as_institution else "personal"] += 1
    return Report(
        since,
        until,
        total,
        dict(by_account),
        dict(by_route),
        dict(by_person),
        identities,
        dict(sorted(per_day.items())),
    )


def _duration(seconds: float | None) -> str:
    return (
        "-" if seconds is None else messages.human_duration(timedelta(seconds=seconds), short=True)
    )


def render(report: Report, *, names: dict[str, str], networks: str, zone: ZoneInfo) -> str:
    """The report as it reads: ``names`` of people by key, ``networks`` as people call them
    (where a thread answered directly, not through Reachable, was answered)."""
    exact = report.since.second or report.until.second  # a period not on whole minutes
    clock = "%Y-%m-%d %H:%M:%S" if exact else "%Y-%m-%d %H:%M"
    start = report.since.astimezone(zone).strftime(clock)
    end = report.until.astimezone(zone).strftime(f"{clock} %Z")
    total = report.total
    lines = [
        messages.report_title(start=start, end=end),
        "",
        messages.report_mentions(mentions=total.mentions, threads=total.threads),
        messages.report_answered(
            answered=total.answered, threads=total.threads, share=total.answered_share
        ),
        messages.report_first_response(
            median=_duration(total.median_s), p90=_duration(total.p90_s)
        ),
        messages.report_breaches(total.breaches),
        *([messages.report_folded(total.folded)] if total.folded else []),
        messages.report_identities(dict(sorted(report.identities.items()))),
    ]

    def named(key: str) -> str:
        return names.get(key, key) or messages.report_directly_on(network=networks)

    sections: list[tuple[str, dict[str, Group], Callable[[str], str]]] = [
        (messages.report_by_account(), report.by_account, str),
        (messages.report_by_route(), report.by_route, str),
        (messages.report_by_person(), report.by_person, named),
    ]
    columns = messages.report_columns()
    for title, groups, label in sections:
        if not groups:
            continue
        rows = [
            [
                label(key),
                str(group.threads),
                messages.percent(group.answered_share),
                _duration(group.median_s),
                _duration(group.p90_s),
                str(group.breaches),
            ]
            for key, group in sorted(groups.items(), key=lambda kv: -kv[1].threads)
        ]
        lines += ["", title, *_table(["", *columns], rows)]
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns as wide as their longest cell (translations differ in length); names left,
    numbers right."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.ljust(width) if i in (0, 3, 4) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(padded).rstrip()

    return [line(header), *(line(row) for row in rows)]


async def report_text(
    store: Store, config: Config, *, since: datetime, until: datetime, zone: ZoneInfo
) -> tuple[Report, str]:
    """The report of a period, and how it reads."""
    facts = await collect(store, config, since=since, until=until)
    built = build(facts, since=since, until=until, zone=zone)
    names = {p.key: p.name or p.key for p in config.people}
    networks = " / ".join(sorted({config.network_label(a.network) for a in config.accounts}))
    return built, render(built, names=names, networks=networks, zone=zone)
