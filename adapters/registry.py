"""The explicit registry of platforms: an unknown name is an error that lists the known ones."""

from __future__ import annotations

from adapters.base import LinkerFactory, PublisherFactory, SinkFactory, SourceFactory
from adapters.slack.chat import SlackChat
from adapters.telegram.chat import TelegramChat
from adapters.x.oauth import XLinker
from adapters.x.publisher import XPublisher
from adapters.x.source import XSource

SOURCES: dict[str, SourceFactory] = {"x": XSource.from_context}
SINKS: dict[str, SinkFactory] = {
    "slack": SlackChat.from_context,
    "telegram": TelegramChat.from_context,
}
PUBLISHERS: dict[str, PublisherFactory] = {"x": XPublisher.from_context}
LINKERS: dict[str, LinkerFactory] = {"x": XLinker}
