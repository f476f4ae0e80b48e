"""The X emulator assembled: :class:`XEmulator` is its state served as one Starlette app, the API
v2 endpoints, the linking flows and the control API, wrapped with the shared call log and faults.
"""

from __future__ import annotations

from functools import cached_property

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from emulators.x.api import api_routes
from emulators.x.control import control_routes
from emulators.x.oauth import OAuthEndpoints
from emulators.x.render import json_response, problem
from emulators.x.state import XState


class XEmulator(XState):
    """The emulated platform (see :class:`~emulators.x.state.XState`) and the app serving it."""

    @cached_property
    def app(self) -> ASGIApp:
        return create_app(self)


def create_app(emulator: XState) -> ASGIApp:
    """The Starlette app for ``emulator``, wrapped with the shared call log and faults."""
    linking = OAuthEndpoints(emulator)
    routes = [
        *api_routes(emulator),
        *linking.routes(),
        *control_routes(emulator),
        *linking.control_routes(),
        *emulator.core.control_routes(),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return json_response(
                {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, 404
            )
        return problem(status)

    app = Starlette(
        routes=routes, exception_handlers={HTTPException: http_error, Exception: http_error}
    )
    return emulator.core.wrap(app)
