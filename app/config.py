"""The config file as this build reads it: the core's format, with the chats it runs (a new
chat adds its description here, beside its rows in ``registry.py``). Like ``settings.py`` it
imports only the chats' config modules, so checking a config loads no platform library."""

from __future__ import annotations

from pathlib import Path

from adapters.slack.config import SLACK
from adapters.telegram.config import TELEGRAM
from bridge import config as core
from bridge.config import Config

CHATS = (SLACK, TELEGRAM)


def parse_config(text: str, *, source: str = "<config>") -> Config:
    """Parse and check a configuration text; raise ConfigError naming every problem."""
    return core.parse_config(text, chats=CHATS, source=source)


def load_config(path: str | Path) -> Config:
    """Read and check a configuration file; raise ConfigError naming every problem."""
    return core.load_config(path, chats=CHATS)
