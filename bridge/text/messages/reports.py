"""The response-time report's sentences and column names."""

from __future__ import annotations

from datetime import timedelta

from babel.numbers import format_percent

from bridge.text.i18n import _, current_locale, duration, ngettext, number


def percent(share: float) -> str:
    return format_percent(share, locale=current_locale())


def report_title(*, start: str, end: str) -> str:
    return _("Reachable report, {start} to {end}", start=start, end=end)


def report_retention_note(*, kept: timedelta, before: str) -> str:
    """A report reaching back past what is kept of closed threads."""
    return _(
        "Threads are kept {kept} after they are answered or dismissed (retention: threads, in "
        "the config): the figures before {before} lack those closed more than {kept} ago.",
        kept=duration(kept),
        before=before,
    )


def report_mentions(*, mentions: int, threads: int) -> str:
    return ngettext(
        "Mentions: {mentions} in {count} thread",
        "Mentions: {mentions} in {count} threads",
        threads,
        mentions=number(mentions),
    )


def report_answered(*, answered: int, threads: int, share: float) -> str:
    return _(
        "Answered: {answered} of {threads} ({share})",
        answered=number(answered),
        threads=number(threads),
        share=percent(share),
    )


def report_first_response(*, median: str, p90: str) -> str:
    return _("Time to first response: median {median}, p90 {p90}", median=median, p90=p90)


def report_breaches(count: int) -> str:
    return _("SLA breaches: {count}", count=number(count))


def report_folded(threads: int) -> str:
    return ngettext(
        "Came in bursts, folded into digests: {count} thread",
        "Came in bursts, folded into digests: {count} threads",
        threads,
    )


def report_identities(counts: dict[str, int]) -> str:
    names = {"institution": _("institution"), "personal": _("personal")}
    shown = ", ".join(f"{names.get(kind, kind)} {number(n)}" for kind, n in counts.items())
    return _("Replies as: {identities}", identities=shown or _("none"))


def report_directly_on(*, network: str) -> str:
    return _("directly on {network}", network=network)


def report_by_account() -> str:
    return _("By account")


def report_by_route() -> str:
    return _("By route")


def report_by_person() -> str:
    return _("By person (first answers)")


def report_columns() -> list[str]:
    return [_("threads"), _("answered"), _("median"), _("p90"), _("breaches")]
