"""The config file as this build reads it: the core's format, the chats and networks it runs
(a new one adds its description to ``CHATS`` or ``NETWORKS``, beside its rows in
``registry.py``) and the demo's own section. Like ``settings.py`` it imports only the
platforms' config modules, so checking a config loads no platform library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from adapters.slack.config import SLACK
from adapters.telegram.config import TELEGRAM
from adapters.x.config import X
from bridge import config as core
from bridge.config import Config
from bridge.domain.rules import Key, Strict, unknown

CHATS = (SLACK, TELEGRAM)
NETWORKS = (X,)


class DemoConfig(Strict):
    """Only for `reachable demo`: what the demo sets up on the emulators before it starts."""

    # person key -> the X handle the demo links as that person's own account (by the real
    # PIN flow against the X emulator), so both identities can be tried at once.
    linked_accounts: dict[Key, Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,15}$")]] = Field(
        default_factory=dict
    )


class AppConfig(Config):
    demo: DemoConfig | None = None

    def own_problems(self) -> list[tuple[tuple[int | str, ...], str]]:
        people = [p.key for p in self.people]
        return [
            (("demo", "linked_accounts", linked), unknown("person", linked, people))
            for linked in (self.demo.linked_accounts if self.demo else {})
            if linked not in people
        ]


def parse_config(text: str, *, source: str = "<config>") -> AppConfig:
    """Parse and check a configuration text; raise ConfigError naming every problem."""
    return core.parse_config(text, chats=CHATS, networks=NETWORKS, base=AppConfig, source=source)


def load_config(path: str | Path) -> AppConfig:
    """Read and check a configuration file; raise ConfigError naming every problem."""
    return core.load_config(path, chats=CHATS, networks=NETWORKS, base=AppConfig)
