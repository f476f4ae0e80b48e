"""The registry's rows and the config's platforms name the same chats and networks: a platform
registered in one place only would start without its config part, or be read and never run."""

from __future__ import annotations

from app import registry
from app.config import CHATS, NETWORKS


def test_every_chat_the_config_reads_has_a_sink_and_checks_and_nothing_else_does() -> None:
    chats = {chat.name for chat in CHATS}
    assert set(registry.SINKS) == chats
    assert chats <= set(registry.DOCTORS) and chats <= set(registry.API_URLS)


def test_every_network_the_config_reads_has_a_source_a_publisher_and_checks() -> None:
    networks = {network.name for network in NETWORKS}
    assert set(registry.SOURCES) == set(registry.PUBLISHERS) == networks
    assert set(registry.LINKERS) <= networks
    assert networks <= set(registry.DOCTORS) and networks <= set(registry.API_URLS)
    assert set(registry.DOCTORS) == set(registry.API_URLS) == networks | {c.name for c in CHATS}
