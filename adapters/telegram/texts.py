"""What only Telegram's staff read: the reply flow in a group, the help, the command menu."""

from __future__ import annotations

from bridge.text.i18n import _


def link_command() -> str:
    return _("/link in a private chat with me")


def unlink_command() -> str:
    return "/unlink"


def link_private_only() -> str:
    return _("Send /link to me in a private chat: links to your account are not for a group.")


def write_reply(*, name: str) -> str:
    return _("{name}, write your reply to this mention as an answer to this message.", name=name)


def preview(
    *,
    text: str,
    length: int,
    limit: int,
    network: str,
    too_long: str | None,
    quote: str | None = None,
) -> str:
    """The draft as it would go out, under its length on the ``network``, or the network's
    words on why it is too long (``too_long``); ``quote`` (what it answers) last."""
    if too_long is not None:
        preview = too_long + " " + _("Shorten it and send it again.") + f"\n\n{text}"
    else:
        heading = _(
            "Preview ({length}/{limit} characters on {network}):",
            length=length,
            limit=limit,
            network=network,
        )
        preview = f"{heading}\n\n{text}"
    return f"{preview}\n\n{quote}" if quote else preview


def send_as(identity: str, *, handle: str) -> str:
    if identity == "institution":
        return _("Send as @{handle}", handle=handle)
    return _("Send as me (@{handle})", handle=handle)


def cancel() -> str:
    return _("Cancel")


def cancelled() -> str:
    return _("Cancelled: nothing was posted.")


def draft_gone() -> str:
    return _("This preview has expired or was already sent; write the reply again.")


def not_your_draft() -> str:
    return _("Only the person who wrote this reply can send or cancel it.")


def help_text() -> str:
    return _(
        "Reachable mirrors public mentions of your institution into this group. Each mirrored "
        "mention has buttons: reply as the institution or as yourself, claim, release, dismiss. "
        "You can also answer a mirrored mention with your text; I show a preview with the send "
        "buttons.\n\n"
        "In a private chat with me:\n"
        "/link: connect your own X account, to reply as yourself\n"
        "/pin 1234567: finish linking with the PIN X shows you\n"
        "/unlink: disconnect it\n\n"
        "/unanswered: open threads, oldest first\n"
        "/show <ref>: post a thread here with its buttons (one folded into a burst digest, say)\n"
        "/assign <ref> <person>: for supervisors, hand a thread to someone (or answer a mirrored "
        "mention with /assign <person>)\n"
        "For admins: /rules (the routing rules), /route <text> (where it would go), /reload "
        "(reload the config)"
    )


def command_descriptions() -> dict[str, str]:
    """What Telegram shows next to each command in the menu."""
    return {
        "help": _("What Reachable does and how to use it"),
        "link": _("Connect your own X account (private chat)"),
        "unlink": _("Disconnect your X account (private chat)"),
        "unanswered": _("Open threads, oldest first"),
        "show": _("Post a thread here by its reference, to answer it"),
        "assign": _("Supervisors: hand a thread to someone"),
        "rules": _("Admins: the routing rules"),
        "route": _("Admins: where a text would be routed"),
        "reload": _("Admins: reload the config file"),
    }
