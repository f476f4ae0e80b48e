"""What only Slack's staff read: the help of the slash command, a form Slack did not open."""

from __future__ import annotations

from bridge.text.i18n import _, ngettext


def link_command() -> str:
    return "`/reachable link`"


def unlink_command() -> str:
    return "`/reachable unlink`"


def help_text(command: str) -> str:
    return _(
        "*Reachable* mirrors public mentions of your institution into this chat.\n"
        "• `{command} link`: connect your own X account, to reply as yourself\n"
        "• `{command} pin 1234567`: finish linking with the PIN X shows you\n"
        "• `{command} unlink`: disconnect it\n"
        "• `{command} unanswered [page]`: open threads, oldest first\n"
        "• `{command} show <ref>`: post a thread here with its buttons (one folded into a burst "
        "digest, say)\n"
        "• `{command} assign <ref> <person>`: for supervisors, hand a thread to someone\n"
        "• `{command} rules`, `{command} route <text>`, `{command} reload`: for admins, the "
        "routing rules, where a text would go, and reloading the config\n"
        "• `{command} help`: this help\n"
        "Buttons on each mirrored mention: reply as the institution or as yourself, claim (or "
        "take over), release, dismiss.",
        command=command,
    )


def form_busy(*, seconds: int) -> str:
    """A button's form did not open because Slack asked us to slow down."""
    return ngettext(
        "Slack is busy right now and did not open the form. Press the button again in "
        "{count} second.",
        "Slack is busy right now and did not open the form. Press the button again in "
        "{count} seconds.",
        seconds,
    )


def form_not_opened() -> str:
    """A button's form did not open because Slack did not answer in time."""
    return _("Slack did not answer in time and the form did not open. Press the button again.")
