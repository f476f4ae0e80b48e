"""What the core knows of a network, where mentions come from and replies go: the description
its adapter gives (``adapters/<network>/config.py``), listed by the app (``app/config.py``) and
answered for by the parsed config (:meth:`bridge.config.Config.network_platform`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bridge.domain.rules import RouteConfig
from bridge.text.i18n import _


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


def handle_problem(handle: str, networks: Sequence[NetworkPlatform]) -> str | None:
    """Why ``handle`` (an author in a routing rule, ``@`` optional) is no handle on any of
    ``networks``; None when it is one."""
    bare = handle.removeprefix("@")
    if any(re.fullmatch(network.handle_pattern, bare) for network in networks):
        return None
    hints = "; ".join(network.handle_hint() for network in networks)
    return _("'{value}' is not valid here ({hint})", value=handle, hint=hints)


def handle_problems(
    lists: Mapping[str, Sequence[str]],
    routes: Sequence[RouteConfig],
    networks: Sequence[NetworkPlatform],
) -> list[tuple[tuple[int | str, ...], str]]:
    """Authors in the config's lists and rules that are no handle on any of ``networks``, with
    their place in the file."""
    written: list[tuple[tuple[int | str, ...], str]] = [
        (("lists", name, j), handle)
        for name, handles in lists.items()
        for j, handle in enumerate(handles)
    ]
    for i, route in enumerate(routes):
        for field in ("author_in", "author_not_in"):
            value = getattr(route.match, field)
            if isinstance(value, list):
                written += [(("routes", i, "match", field, j), h) for j, h in enumerate(value)]
    return [
        (where, problem)
        for where, handle in written
        if (problem := handle_problem(handle, networks)) is not None
    ]
