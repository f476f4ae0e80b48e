"""The rules as an admin reads them: the rule table, and why one mention went where it went."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bridge.config import Config, RouteConfig
from bridge.durations import format_duration
from bridge.models import Mention
from bridge.routing import Decision, describe
from bridge.rules import DEFAULT_SLA, Calendar

HELD, FAILED = "✓", "✗"


def outcome(rule: RouteConfig) -> str:
    """What a rule does, on one line."""
    if rule.drop:
        return "drop (not mirrored; counted and kept)"
    parts = ["→ " + ", ".join(rule.to)]
    if rule.priority:
        parts.append(f"priority {rule.priority}")
    if rule.sla:
        parts.append(f"SLA {format_duration(rule.sla)}")
    if rule.tags:
        parts.append(" ".join(f"#{t}" for t in rule.tags))
    if rule.continue_:
        parts.append("then continue")
    return " · ".join(parts)


def conditions(rule: RouteConfig) -> list[str]:
    found = [describe(field, value) for field, value in rule.match if value is not None]
    return found or ["always (catch-all)"]


def found_any(rule: RouteConfig) -> bool:
    return not rule.match.is_empty()


def explain(config: Config) -> str:
    """The rule table, top to bottom, with the lists and calendars it uses."""
    width = max(len(rule.name) for rule in config.routes)
    lines = ["Rules, tried top to bottom; the first that matches wins unless it continues:", ""]
    for number, rule in enumerate(config.routes, start=1):
        lead = f"{number:>2}. {rule.name:<{width}}  "
        pad = " " * len(lead)
        for index, condition in enumerate(conditions(rule)):
            joint = ("when " if found_any(rule) else "") if index == 0 else " and "
            lines.append((lead if index == 0 else pad) + joint + condition)
        lines.append(pad + outcome(rule))
    lines.append("")
    lines.append(
        f"Without an SLA from a matching rule, a thread gets {format_duration(DEFAULT_SLA)}."
    )
    if config.lists:
        lines.append("Lists:")
        lines += [
            f"  {name}: " + ", ".join(f"@{h.lstrip('@')}" for h in handles)
            for name, handles in config.lists.items()
        ]
    if config.calendars:
        lines.append("Calendars:")
        lines += [f"  {name}: {calendar_text(c)}" for name, c in config.calendars.items()]
    return "\n".join(lines)


def calendar_text(calendar: Calendar) -> str:
    days = ", ".join(calendar.days)
    holidays = len(calendar.holidays)
    extra = f", except {holidays} holiday{'s' if holidays != 1 else ''}" if holidays else ""
    return f"{days} {calendar.hours} ({calendar.timezone}){extra}"


def mention_text(mention: Mention, *, zone: ZoneInfo) -> str:
    author = mention.author
    who = "an unknown author"
    if author:
        followers = f"{author.followers} followers" if author.followers is not None else ""
        verified = "verified" if author.verified else "not verified"
        who = f"@{author.handle} ({', '.join(p for p in (followers, verified) if p)})"
    kind = "a reply in a conversation" if mention.conversation_id != mention.id else "a new post"
    media = ", with media" if mention.media else ""
    when = (mention.created_at or datetime.now(zone)).astimezone(zone)
    return (
        f"Mention of {mention.account} by {who}, {kind}{media}, language "
        f"{mention.lang or 'not given'}, at {when:%a %Y-%m-%d %H:%M %Z}:\n  {mention.text!r}"
    )


def trace_report(decision: Decision, mention: Mention, *, zone: ZoneInfo, total_rules: int) -> str:
    """Each rule tried, each of its conditions with what the mention had, and the outcome."""
    lines = [mention_text(mention, zone=zone), ""]
    for rule_trace in decision.trace:
        rule = rule_trace.rule
        mark = HELD if rule_trace.matched else FAILED
        lines.append(f"{mark} {rule.name}")
        if not rule_trace.checks:
            lines.append("    always (catch-all)")
        for check in rule_trace.checks:
            lines.append(f"    {HELD if check.held else FAILED} {check.condition}: {check.found}")
        if rule_trace.matched:
            lines.append(f"    {outcome(rule)}")
    lines.append("")
    if decision.dropped:
        lines.append(f"Result: dropped by {decision.route}.")
    else:
        lines.append(
            f"Result: route {decision.route} → {', '.join(decision.destinations)} · priority "
            f"{decision.priority} · SLA {format_duration(decision.sla)}"
            + ("".join(f" #{t}" for t in decision.tags))
        )
    untried = total_rules - len(decision.trace)
    if untried:
        lines.append(f"({untried} rule(s) below {decision.route} were not tried.)")
    return "\n".join(lines)
