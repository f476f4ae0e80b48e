"""What admins read: destinations that fail, missed mentions, config refusals, their commands."""

from __future__ import annotations

from datetime import datetime

from bridge.text.i18n import _, moment, ngettext


def destination_unavailable(*, name: str, where: str, detail: str) -> str:
    """``detail`` is a reason marked with ``N_`` where the problem was found, or the platform's
    own words (which stay as they are)."""
    detail = _(detail)
    return _(
        "⚠️ Reachable cannot post to {where} (destination '{name}'): {detail}. Mentions routed "
        "there are not delivered until this is fixed; they still reach the other destinations. "
        "Add the bot back to the chat, or change the destination in the config.",
        where=where,
        name=name,
        detail=detail,
    )


def mentions_maybe_missed(*, network: str, handle: str, count: int, since: datetime | None) -> str:
    """A backlog larger than the network lets the bridge read (X's timeline reaches back 800
    posts)."""
    oldest = moment(since) if since else "?"
    return ngettext(
        "⚠️ @{handle} received more mentions since the last poll than {network} lets Reachable "
        "read back: {count} were mirrored, the oldest from {oldest}; older ones may be missing. "
        "Search {network} for @{handle} to find them.",
        "⚠️ @{handle} received more mentions since the last poll than {network} lets Reachable "
        "read back: {count} were mirrored, the oldest from {oldest}; older ones may be missing. "
        "Search {network} for @{handle} to find them.",
        count,
        network=network,
        handle=handle,
        oldest=oldest,
    )


def config_refused(*, path: str, problems: list[str]) -> str:
    shown = problems[:10]
    text = ngettext(
        "⚠️ The new config {path} has {count} problem, so the previous rules stay live. Fix "
        "the file (check it with `reachable config check`); it is reloaded when it changes.",
        "⚠️ The new config {path} has {count} problems, so the previous rules stay live. Fix "
        "the file (check it with `reachable config check`); it is reloaded when it changes.",
        len(problems),
        path=path,
    )
    text += "\n" + "\n".join(f"• {p}" for p in shown)
    if len(problems) > len(shown):
        text += "\n" + _("…and {more} more", more=len(problems) - len(shown))
    return text


def admin_only(verb: str) -> str:
    return _(
        "Sorry, only Reachable's admins may use {verb}. Ask one of them, or an admin can add "
        "`admin` to your roles in the config.",
        verb=verb,
    )


def admin_route_usage(command: str) -> str:
    """``command``: the route command as the chat writes it (``/reachable route``)."""
    return _(
        "Write the text to test after the command, like: {command} @humas_demo jalan rusak",
        command=command,
    )


def admin_reload_unavailable() -> str:
    return _(
        "This bridge was started without a config file to reload; restart it with --config "
        "(or REACHABLE_CONFIG) to reload from chat."
    )


def admin_reloaded(*, changed: bool, needs_restart: list[str]) -> str:
    if not changed:
        return _("The config file is unchanged; the rules that are live stay as they are.")
    text = _("✅ The new config is live in every process.")
    if needs_restart:
        text += " " + _("Not yet: {what}.", what="; ".join(needs_restart))
    return text
