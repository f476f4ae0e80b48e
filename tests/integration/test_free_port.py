"""Ports for servers started soon after: never one this process handed out lately."""

from __future__ import annotations

import collections

import pytest

from app import httpserver
from app.httpserver import free_port


def test_a_port_is_not_handed_out_twice_before_its_server_binds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(httpserver, "_HANDED_OUT", collections.deque(maxlen=500))
    monkeypatch.setenv("REACHABLE_FREE_PORTS", "19990-19993")  # the upper bound left out
    ports = [free_port() for _ in range(3)]
    assert sorted(ports) == [19990, 19991, 19992]
