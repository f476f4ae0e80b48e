"""What a staff member reads when they act: claims, dismissals, replies, forms, drafts, help."""

from __future__ import annotations

from bridge.text.i18n import _
from bridge.text.messages.cards import dismissal_note


def claim_done() -> str:
    return _("It is yours: the team sees you are on it. Release it if you cannot answer.")


def claim_yours_already() -> str:
    return _("You hold this thread already; nothing changed.")


def claim_held(*, holder: str, since: str) -> str:
    return _(
        "{holder} claimed this {since}. To take it over, press Claim again within a minute "
        "(let {holder} know).",
        holder=holder,
        since=since,
    )


def claim_taken_over(*, holder: str) -> str:
    return _("You took this over from {holder}; it is yours now.", holder=holder)


def dismiss_not_yours(*, holder: str) -> str:
    return _(
        "{holder} has claimed this; only they or a supervisor can dismiss it. Nothing changed.",
        holder=holder,
    )


def release_done() -> str:
    return _("Released: the thread is open for anyone again.")


def release_not_claimed() -> str:
    return _("Nobody has claimed this thread, so there is nothing to release.")


def release_not_yours(*, holder: str) -> str:
    return _("{holder} has claimed this; only they or a supervisor can release it.", holder=holder)


def dismiss_done(*, reason: str) -> str:
    return _(
        "Dismissed ({reason}). A new mention in the conversation opens it again.", reason=reason
    )


def dismiss_reason_unknown(reasons: list[str]) -> str:
    return _("Pick a reason to dismiss: {reasons}.", reasons=", ".join(reasons))


def dismiss_question() -> str:
    return _("Why dismiss this mention? It stays listed, and a new mention reopens it.")


def dismiss_reason_label(reason: str) -> str:
    return {
        "spam": _("Spam"),
        "not_for_us": _("Not for us"),
        "duplicate": _("Duplicate"),
        "other": _("Other"),
    }.get(reason, reason)


def dismiss_modal_title() -> str:
    return _("Dismiss mention")


def dismiss_modal_note() -> str:
    return _("Note for the team (optional)")


def thread_dismissed_already(*, by: str, reason: str) -> str:
    if reason:
        return _("{by} dismissed this thread ({reason}).", by=by, reason=dismissal_note(reason))
    return _("{by} dismissed this thread.", by=by)


def reply_thread_gone() -> str:
    return _("This mention is no longer tracked by Reachable; nothing was posted.")


def reply_already_queued() -> str:
    return _("This reply was already sent on its way; it goes out once. You can close this form.")


def reply_already_answered(*, by: str | None) -> str:
    if by:
        return _("{person} already answered this thread; nothing was posted.", person=by)
    return _("Someone already answered this thread; nothing was posted.")


def reply_not_allowed(*, handle: str) -> str:
    return _(
        "You may not reply as @{handle}. Ask an admin to add it to your `speaks_for` in the "
        "config, or reply as yourself.",
        handle=handle,
    )


def reply_personal_not_linked(*, network: str, link_command: str) -> str:
    return _(
        "Your personal {network} account is not linked to Reachable yet, so you cannot reply as "
        "yourself. Link it with {link_command} (it takes a minute), then reply again.",
        network=network,
        link_command=link_command,
    )


def reply_no_credentials(*, handle: str, setting: str) -> str:
    """``setting``: where an admin gives the network's posting credentials."""
    return _(
        "Reachable has no posting credentials for @{handle}; an admin must set them "
        "({setting}). Nothing was posted.",
        handle=handle,
        setting=setting,
    )


def reply_empty() -> str:
    return _("Write the reply first: it is empty.")


def reply_unpostable_characters() -> str:
    return _(
        "The reply holds characters that cannot be posted (broken Unicode, often from a bad "
        "copy and paste): type it again, or paste it as plain text."
    )


def reply_failed(*, person: str, as_whom: str, error: str) -> str:
    return _(
        "⚠️ The reply {person} asked to post as {as_whom} could not be posted: {error}. Nothing "
        "went out; the mention is still open.",
        person=person,
        as_whom=as_whom,
        error=error,
    )


def their_own_account() -> str:
    return _("their own account")


def reply_posted(*, person: str, handle: str, text: str) -> str:
    return _("↪️ {person} replied as @{handle}:", person=person, handle=handle) + f"\n{text}"


def reply_duplicate(*, network: str) -> str:
    return _(
        "{network} refused the reply as a duplicate of an earlier post, and it could not be found.",
        network=network,
    )


def reply_modal_title(*, handle: str | None) -> str:
    if handle:
        return _("Reply as @{handle}", handle=handle)
    return _("Reply as myself")


def reply_modal_short_title() -> str:
    """The form's title where the one naming the handle is too long for the chat."""
    return _("Reply")


def reply_again_title() -> str:
    return _("Reply again")


def form_cancel() -> str:
    return _("Cancel")


def dismiss_modal_submit() -> str:
    return _("Dismiss")


def reply_modal_label(*, network: str) -> str:
    return _("Your reply (public, on {network})", network=network)


def reply_modal_submit() -> str:
    return _("Post reply")


def reply_modal_identity_label() -> str:
    return _("Post as")


def identity_choice(identity: str, *, handle: str) -> str:
    if identity == "institution":
        return _("@{handle} (the institution)", handle=handle)
    return _("@{handle} (yourself)", handle=handle)


def reply_modal_note(*, network: str, handle: str | None, identity: str, link_command: str) -> str:
    if handle is None:
        return _(
            "Your personal {network} account is not linked yet. Link it with {link_command}, "
            "then reply again.",
            network=network,
            link_command=link_command,
        )
    if identity == "institution":
        return _(
            "The reply is posted publicly on {network} as @{handle}, under the post above.",
            network=network,
            handle=handle,
        )
    return _(
        "The reply is posted publicly on {network} from your own account @{handle}.",
        network=network,
        handle=handle,
    )


def reply_no_identity(*, network: str, handle: str, link_command: str) -> str:
    return _(
        "You may not reply as @{handle}, and no {network} account of yours is linked. Link "
        "yours with {link_command} to reply as yourself.",
        network=network,
        handle=handle,
        link_command=link_command,
    )


def reply_queued(*, handle: str | None) -> str:
    if handle is None:
        return _("Posting your reply. The mirrors will show it once it is out.")
    return _(
        "Posting your reply as @{handle}. The mirrors will show it once it is out.", handle=handle
    )


def show_usage(*, command: str) -> str:
    return _(
        "Write the thread's reference after the command, like {command} 3f2a9c (the unanswered "
        "list and burst digests show it in brackets).",
        command=command,
    )


def show_no_thread(reference: str) -> str:
    return _(
        "No open thread has the reference {reference}. The unanswered list shows the open ones.",
        reference=reference,
    )


def show_not_a_destination() -> str:
    return _("This chat is not one of Reachable's destinations, so nothing can be shown here.")


def show_queued(*, author: str) -> str:
    return _("The mention of @{author} is on its way here, with its buttons.", author=author)


def show_on_its_way() -> str:
    return _("That thread's message is already on its way to this chat.")


def show_already_here(*, link: str | None) -> str:
    if link:
        return _("That thread is already shown in this chat: {link}", link=link)
    return _("That thread is already shown in this chat.")


def unlinked(*, network: str, handle: str) -> str:
    return _(
        "Your {network} account @{handle} is unlinked; its tokens are deleted from Reachable. "
        "You can also remove Reachable under Connected apps in your {network} settings.",
        network=network,
        handle=handle,
    )


def nothing_to_unlink(*, network: str) -> str:
    return _(
        "No {network} account of yours is linked, so there is nothing to unlink.", network=network
    )
