"""X in the config: an account is known by its handle."""

from __future__ import annotations

from bridge.networks import NetworkPlatform
from bridge.text.i18n import _

X = NetworkPlatform(
    name="x",
    label="X",
    handle_pattern=r"[A-Za-z0-9_]{1,15}",
    handle_hint=lambda: _("an X handle: letters, digits and '_', at most 15"),
    posting_setting="REACHABLE_X_ACCOUNT_TOKENS",
    linking_setting=lambda: _(
        "REACHABLE_X_OAUTH_CLIENT_ID with REACHABLE_PUBLIC_URL, or the consumer keys"
    ),
)
