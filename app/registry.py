"""The explicit registry of platforms: an unknown name is an error that lists the known ones."""

from __future__ import annotations

from adapters.slack.chat import SlackChat
from adapters.slack.doctor import examine_slack
from adapters.slack.settings import SLACK_HOSTS
from adapters.telegram.chat import TelegramChat
from adapters.telegram.doctor import examine_telegram
from adapters.telegram.settings import TELEGRAM_HOSTS
from adapters.x.doctor import examine_x
from adapters.x.oauth import XLinker
from adapters.x.publisher import XPublisher
from adapters.x.settings import X_HOSTS
from adapters.x.source import XSource
from app.settings import AppSettings
from bridge.ops.doctor import PlatformAddress
from bridge.ops.findings import PlatformDoctor
from bridge.ports import LinkerFactory, PublisherFactory, SinkFactory, SourceFactory

SOURCES: dict[str, SourceFactory] = {"x": XSource.from_context}
SINKS: dict[str, SinkFactory] = {
    "slack": SlackChat.from_context,
    "telegram": TelegramChat.from_context,
}
PUBLISHERS: dict[str, PublisherFactory] = {"x": XPublisher.from_context}
LINKERS: dict[str, LinkerFactory] = {"x": XLinker.from_settings}
DOCTORS: dict[str, PlatformDoctor] = {
    "x": examine_x,
    "slack": examine_slack,
    "telegram": examine_telegram,
}
# Each platform's API address, where the doctor reads its clock, and its real hosts.
API_URLS: dict[str, PlatformAddress[AppSettings]] = {
    "x": PlatformAddress(lambda settings: settings.x_api_url, X_HOSTS),
    "slack": PlatformAddress(lambda settings: settings.slack_api_url, SLACK_HOSTS),
    "telegram": PlatformAddress(lambda settings: settings.telegram_api_url, TELEGRAM_HOSTS),
}
