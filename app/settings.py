"""Every setting of the bridge, composed from the core's and each platform's own (a new
platform adds its settings class here, beside its rows in ``registry.py``). Only the settings
modules are imported, so a command that reads the settings loads no platform library."""

from __future__ import annotations

from adapters.slack.settings import SlackSettings
from adapters.telegram.settings import TelegramSettings
from adapters.x.settings import XSettings
from bridge.settings import Settings


class AppSettings(XSettings, SlackSettings, TelegramSettings, Settings):
    """Every setting of the bridge: the core's and each platform's, read together from the
    ``REACHABLE_*`` variables and ``.env`` (the core sees a ``Settings``, each adapter its own
    part)."""
