"""Linking a personal account: the offer, the start page, the notices."""

from __future__ import annotations

from collections.abc import Sequence

from bridge.text.i18n import _


def link_offer(
    *,
    network: str,
    start_url: str | None,
    pin_url: str | None,
    pin_command: str,
    current: str | None,
) -> str:
    lines = []
    if current:
        lines.append(
            _(
                "Your {network} account @{handle} is linked now; linking again replaces it.",
                network=network,
                handle=current,
            )
        )
    if start_url:
        lines.append(
            _(
                "Open this link to connect your own {network} account (valid 10 minutes, once). "
                "It is yours alone: do not forward it, whoever finishes it gives you their "
                "account:",
                network=network,
            )
            + f"\n{start_url}"
        )
    if pin_url:
        if start_url:
            lead = _(
                "No access to that page? Or: open this link, approve Reachable, and send me the "
                "PIN {network} shows you as {pin_command} (valid 15 minutes):",
                network=network,
                pin_command=pin_command,
            )
        else:
            lead = _(
                "Open this link, approve Reachable, and send me the PIN {network} shows you as "
                "{pin_command} (valid 15 minutes):",
                network=network,
                pin_command=pin_command,
            )
        lines.append(f"{lead}\n{pin_url}")
    lines.append(
        _(
            "Reachable posts from your account only when you press a reply button, and you can "
            "unlink at any time."
        )
    )
    return "\n\n".join(lines)


def link_start_title(*, network: str) -> str:
    return _("Link an account on {network} to Reachable", network=network)


def link_start_whom(*, network: str, person: str, chat: str, user_id: str) -> str:
    return _(
        "You are linking an account on {network} to {person} ({chat} {user_id}).",
        network=network,
        person=person,
        chat=chat,
        user_id=user_id,
    )


def link_start_warning(*, network: str, person: str) -> str:
    return _(
        "Whichever {network} account approves Reachable on the next page, {person} can then post "
        "from it through Reachable. If you are not {person}, or someone sent you this link, "
        "close this page.",
        network=network,
        person=person,
    )


def link_start_continue(*, network: str) -> str:
    return _("Continue to {network}", network=network)


def link_start_foreign() -> str:
    return _(
        "This request did not come from Reachable's linking page, so nothing was started. Open "
        "the link the bot sent you and press the button there."
    )


def link_other_browser(*, network: str) -> str:
    return _(
        "This link was finished in a different browser from the one it was started in, so "
        "nothing was linked. If you asked for it, ask the bot for a new link and finish it in "
        "one browser. If someone sent it to you, do not use it: it would give them your "
        "{network} account.",
        network=network,
    )


def link_account_taken(*, network: str, handle: str) -> str:
    return _(
        "@{handle} is already linked to another person in Reachable, so nothing was linked. An "
        "account on {network} can be linked to one person only: they must unlink it first.",
        network=network,
        handle=handle,
    )


def link_notice(*, network: str, handle: str, unlink_command: str) -> str:
    return _(
        "🔗 The {network} account @{handle} is now linked to you in Reachable: “Reply as myself” "
        "posts from it. If you did not do this, unlink it at once with {unlink_command} and tell "
        "an admin.",
        network=network,
        handle=handle,
        unlink_command=unlink_command,
    )


def link_working() -> str:
    return _("One moment…")


def link_done(*, network: str, handle: str) -> str:
    return _(
        "Your {network} account @{handle} is linked. You can now reply to mentions as yourself "
        "with the “Reply as myself” buttons. You can close this page.",
        network=network,
        handle=handle,
    )


def link_done_in_chat(*, network: str, handle: str) -> str:
    return _(
        "✅ Your {network} account @{handle} is linked. Use “Reply as myself” on a mention to "
        "answer from it.",
        network=network,
        handle=handle,
    )


def link_not_set_up(*, network: str, setting: str) -> str:
    """``setting``: what an admin gives the network's linking (its settings, by name)."""
    return _(
        "Linking personal accounts is not set up on this Reachable: an admin must give it "
        "{network} app credentials ({setting}).",
        network=network,
        setting=setting,
    )


def link_network_refused(detail: str, *, network: str) -> str:
    return _(
        "{network} did not accept the link ({detail}). Try again in a minute; nothing was changed.",
        network=network,
        detail=detail,
    )


def link_web_expired(*, ways: Sequence[tuple[str, str]] = ()) -> str:
    """``ways``: how to ask the bot again, as (its link command, the chat's name) per chat."""
    if not ways:
        return _("This link has expired or was already used. Ask the bot for a new one.")
    listed = ", ".join(_("{command} in {chat}", command=c, chat=chat) for c, chat in ways)
    return _(
        "This link has expired or was already used. Ask the bot for a new one ({ways}).",
        ways=listed,
    )


def link_web_declined(*, network: str) -> str:
    return _("You did not approve Reachable on {network}, so nothing was linked.", network=network)


def link_pin_malformed(*, network: str) -> str:
    return _("A PIN is the digits {network} showed you, like `/pin 1234567`.", network=network)


def link_pin_expired() -> str:
    return _(
        "I have no link waiting for a PIN from you (it lasts 15 minutes). Ask for a new one with "
        "the link command first."
    )


def link_pin_refused(detail: str, *, network: str) -> str:
    return _(
        "{network} did not accept that PIN ({detail}). Ask for a new link and try again; each "
        "PIN works once.",
        network=network,
        detail=detail,
    )


def link_page_done_title() -> str:
    return _("Account linked")


def link_page_failed_title() -> str:
    return _("Linking did not work")
