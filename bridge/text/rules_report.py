"""The rules as an admin reads them: the rule table, and why one mention went where it went."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bridge.config import Config, RouteConfig
from bridge.domain.durations import format_duration
from bridge.domain.models import Mention
from bridge.domain.routing import Decision, describe
from bridge.domain.rules import DEFAULT_SLA, Calendar
from bridge.text.i18n import _, ngettext, stamp
from bridge.text.messages import followers, priority_name

HELD, FAILED = "✓", "✗"


def outcome(rule: RouteConfig) -> str:
    """What a rule does, on one line."""
    if rule.drop:
        return _("drop (not mirrored; counted and kept)")
    parts = ["→ " + ", ".join(rule.to)]
    if rule.priority:
        parts.append(_("priority {priority}", priority=priority_name(rule.priority)))
    if rule.sla:
        parts.append(_("SLA {sla}", sla=format_duration(rule.sla)))
    if rule.tags:
        parts.append(" ".join(f"#{t}" for t in rule.tags))
    if rule.continue_:
        parts.append(_("then continue"))
    return " · ".join(parts)


def conditions(rule: RouteConfig) -> list[str]:
    found = [describe(field, value) for field, value in rule.match if value is not None]
    return found or [_("always (catch-all)")]


def found_any(rule: RouteConfig) -> bool:
    return not rule.match.is_empty()


def explain(config: Config) -> str:
    """The rule table, top to bottom, with the lists and calendars it uses."""
    width = max(len(rule.name) for rule in config.routes)
    lines = [_("Rules, tried top to bottom; the first that matches wins unless it continues:"), ""]
    for number, rule in enumerate(config.routes, start=1):
        lead = f"{number:>2}. {rule.name:<{width}}  "
        pad = " " * len(lead)
        for index, condition in enumerate(conditions(rule)):
            if index == 0:
                said = _("when {condition}", condition=condition) if found_any(rule) else condition
                lines.append(lead + said)
            else:
                lines.append(pad + _(" and {condition}", condition=condition))
        lines.append(pad + outcome(rule))
    lines.append("")
    lines.append(
        _(
            "Without an SLA from a matching rule, a thread gets {sla}.",
            sla=format_duration(DEFAULT_SLA),
        )
    )
    if config.lists:
        lines.append(_("Lists:"))
        lines += [
            f"  {name}: " + ", ".join(f"@{h.lstrip('@')}" for h in handles)
            for name, handles in config.lists.items()
        ]
    if config.calendars:
        lines.append(_("Calendars:"))
        lines += [f"  {name}: {calendar_text(c)}" for name, c in config.calendars.items()]
    return "\n".join(lines)


def calendar_text(calendar: Calendar) -> str:
    said = f"{', '.join(calendar.days)} {calendar.hours} ({calendar.timezone})"
    if not calendar.holidays:
        return said
    return ngettext(
        "{calendar}, except {count} holiday",
        "{calendar}, except {count} holidays",
        len(calendar.holidays),
        calendar=said,
    )


def mention_text(mention: Mention, *, zone: ZoneInfo) -> str:
    when = (mention.created_at or datetime.now(zone)).astimezone(zone)
    if mention.conversation_id != mention.id:
        kind = _("a reply in a conversation")
    else:
        kind = _("a new post")
    if mention.media:
        kind = _("{kind}, with media", kind=kind)
    return (
        _(
            "Mention of {account} by {author}, {kind}, language {language}, at {when}:",
            account=mention.account,
            author=_author(mention),
            kind=kind,
            language=mention.lang or _("not given"),
            when=stamp(when),
        )
        + f"\n  {mention.text!r}"
    )


def _author(mention: Mention) -> str:
    author = mention.author
    if author is None:
        return _("an unknown author")
    verified = _("verified") if author.verified else _("not verified")
    said = [followers(author.followers), verified] if author.followers is not None else [verified]
    return f"@{author.handle} ({', '.join(said)})"


def trace_report(decision: Decision, mention: Mention, *, zone: ZoneInfo, total_rules: int) -> str:
    """Each rule tried, each of its conditions with what the mention had, and the outcome."""
    lines = [mention_text(mention, zone=zone), ""]
    for rule_trace in decision.trace:
        rule = rule_trace.rule
        mark = HELD if rule_trace.matched else FAILED
        lines.append(f"{mark} {rule.name}")
        if not rule_trace.checks:
            lines.append("    " + _("always (catch-all)"))
        for check in rule_trace.checks:
            lines.append(f"    {HELD if check.held else FAILED} {check.condition}: {check.found}")
        if rule_trace.matched:
            lines.append(f"    {outcome(rule)}")
    lines += ["", result(decision)]
    untried = total_rules - len(decision.trace)
    if untried:
        lines.append(
            ngettext(
                "({count} rule below {route} was not tried.)",
                "({count} rules below {route} were not tried.)",
                untried,
                route=decision.route,
            )
        )
    return "\n".join(lines)


def result(decision: Decision) -> str:
    """Where the mention goes in the end, with the priority, SLA and tags it gets."""
    if decision.dropped:
        return _("Result: dropped by {route}.", route=decision.route)
    return _(
        "Result: route {route} → {destinations} · priority {priority} · SLA {sla}",
        route=decision.route,
        destinations=", ".join(decision.destinations),
        priority=priority_name(decision.priority),
        sla=format_duration(decision.sla),
    ) + "".join(f" #{t}" for t in decision.tags)
