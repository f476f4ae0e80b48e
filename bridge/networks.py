"""What the core knows of a network, where mentions come from and replies go: the description
its adapter gives (``adapters/<network>/config.py``), listed by the app (``app/config.py``) and
answered for by the parsed config (:meth:`bridge.config.Config.network_platform`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, eq=False)
class NetworkPlatform:
    # As an account's `network:` names it in the config ("x").
    name: str
    # As people call it ("X").
    label: str
    # The form of an account's handle there (a regular expression it must match whole), and
    # what to tell an admin whose handle does not, in the reader's language.
    handle_pattern: str
    handle_hint: Callable[[], str]
    # The settings an admin gives for Reachable to post as an institutional account there,
    # and for people to link their own account (in the reader's language), as staff are told
    # when they are missing.
    posting_setting: str
    linking_setting: Callable[[], str]
