"""What X's own rules and refusals make staff read: a reply over X's length, credentials or a
link X no longer accepts."""

from __future__ import annotations

from bridge.text.i18n import _, ngettext


def reply_institution_rejected(*, handle: str, detail: str) -> str:
    return _(
        "X no longer accepts Reachable's credentials for @{handle} ({detail}); an admin must "
        "renew them (REACHABLE_X_ACCOUNT_TOKENS)",
        handle=handle,
        detail=detail,
    )


def reply_personal_rejected(*, handle: str) -> str:
    return _(
        "X no longer accepts the link to your account @{handle} (access revoked or expired). "
        "Link it again, then send the reply again",
        handle=handle,
    )


def reply_personal_unlinked_since() -> str:
    return _("your personal X account was unlinked before the reply could go out")


def reply_too_long(*, length: int, limit: int) -> str:
    return ngettext(
        "{count} character too long for X ({length} of {limit}; links count 23, CJK characters "
        "and emoji 2).",
        "{count} characters too long for X ({length} of {limit}; links count 23, CJK characters "
        "and emoji 2).",
        length - limit,
        length=length,
        limit=limit,
    )
