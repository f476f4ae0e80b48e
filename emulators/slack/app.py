"""The Slack emulator assembled: :class:`SlackEmulator` is the workspace with its Web API and
control API, served as one Starlette app (``/api/<method>``, ``/_emulator/*`` and the Socket
Mode websocket) wrapped with the shared call log and faults.
"""

from __future__ import annotations

from functools import cached_property

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp

from emulators.core import CONTROL_PREFIX, json_endpoint
from emulators.slack.api import SlackWebApi
from emulators.slack.people import SlackPeople
from emulators.slack.socket import SOCKET_PATH


class SlackEmulator(SlackPeople, SlackWebApi):
    """One Slack workspace with one installed app (the bot), its channels and its people: the
    state (:class:`~emulators.slack.state.SlackState`), the Web API, the control API and the
    app serving them."""

    @cached_property
    def app(self) -> ASGIApp:
        return create_app(self)


def create_app(emulator: SlackEmulator) -> ASGIApp:
    """The emulator's ASGI app: ``/api/<method>`` plus the control API, wrapped by the core."""
    control = CONTROL_PREFIX
    routes = [
        Route("/api/{method}", emulator.api, methods=["GET", "POST"]),
        *emulator.core.control_routes(),
        Route(f"{control}/config", json_endpoint(emulator._config), methods=["POST"]),
        Route(f"{control}/messages", emulator._get_messages, methods=["GET"]),
        Route(f"{control}/ephemerals", emulator._get_ephemerals, methods=["GET"]),
        Route(f"{control}/views", emulator._get_views, methods=["GET"]),
        Route(f"{control}/click", emulator._click, methods=["POST"]),
        Route(f"{control}/message", emulator._message_event, methods=["POST"]),
        Route(f"{control}/redeliver", emulator._redeliver, methods=["POST"]),
        Route(f"{control}/replay", emulator._replay, methods=["POST"]),
        Route(f"{control}/command", emulator._command, methods=["POST"]),
        Route(f"{control}/submit", emulator._submit, methods=["POST"]),
        Route(f"{control}/response/{{rid}}", emulator._response_url, methods=["POST"]),
        Route(f"{control}/remove_bot", json_endpoint(emulator._remove_bot), methods=["POST"]),
        Route(f"{control}/socket", emulator._socket_status, methods=["GET"]),
        Route(f"{control}/socket/drop", json_endpoint(emulator._socket_drop), methods=["POST"]),
        WebSocketRoute(SOCKET_PATH, emulator.socket.endpoint),
    ]
    return emulator.core.wrap(Starlette(routes=routes))
