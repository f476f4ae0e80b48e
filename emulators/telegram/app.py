"""The Telegram emulator assembled: :class:`TelegramEmulator` is the bot's world with its Bot
API and control API, served as one Starlette app (``/bot<token>/<method>`` and
``/_emulator/*``) wrapped with the shared call log and faults.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from emulators.core import CONTROL_PREFIX, read_json_object
from emulators.telegram.api import TelegramBotApi
from emulators.telegram.control import TelegramControl
from emulators.telegram.model import ControlError, JSONDict


class TelegramEmulator(TelegramControl, TelegramBotApi):
    """One bot, the chats it is a member of, and the people who write in them: the state
    (:class:`~emulators.telegram.state.TelegramState`), the Bot API, the control API and the
    app serving them."""

    @cached_property
    def app(self) -> ASGIApp:
        return create_app(self)


async def _control_body(request: Request) -> JSONDict:
    try:
        return await read_json_object(request)
    except ValueError as exc:
        raise ControlError(str(exc)) from None


def _control(action: Callable[[JSONDict], JSONDict]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(action(await _control_body(request)))
        except ControlError as exc:
            return exc.response()

    return endpoint


def create_app(emulator: TelegramEmulator) -> ASGIApp:
    """The emulator's ASGI app: ``/bot<token>/<method>`` plus the control API, wrapped."""
    control = CONTROL_PREFIX

    async def get_messages(request: Request) -> Response:
        try:
            raw = request.query_params.get("chat_id", "")
            try:
                chat_id = int(raw)
            except ValueError:
                raise ControlError("chat_id must be an integer") from None
            return JSONResponse({"messages": emulator.messages(chat_id)})
        except ControlError as exc:
            return exc.response()

    async def get_answers(request: Request) -> Response:
        try:
            return JSONResponse(emulator.answers(request.query_params.get("callback_query_id")))
        except ControlError as exc:
            return exc.response()

    async def get_update(request: Request) -> Response:
        try:
            raw = request.query_params.get("update_id", "")
            try:
                update_id = int(raw)
            except ValueError:
                raise ControlError("update_id must be an integer") from None
            return JSONResponse(emulator.update(update_id))
        except ControlError as exc:
            return exc.response()

    async def get_commands(request: Request) -> Response:
        return JSONResponse(emulator.commands())

    routes = [
        Route("/bot{token}/{method}", emulator.api, methods=["GET", "POST"]),
        *emulator.core.control_routes(),
        Route(f"{control}/messages", get_messages, methods=["GET"]),
        Route(f"{control}/answers", get_answers, methods=["GET"]),
        Route(f"{control}/updates", get_update, methods=["GET"]),
        Route(f"{control}/commands", get_commands, methods=["GET"]),
        Route(f"{control}/send", _control(emulator.send), methods=["POST"]),
        Route(f"{control}/press", _control(emulator.press), methods=["POST"]),
        Route(f"{control}/redeliver", _control(emulator.redeliver), methods=["POST"]),
        Route(f"{control}/kick", _control(emulator.kick), methods=["POST"]),
        Route(f"{control}/migrate", _control(emulator.migrate), methods=["POST"]),
        Route(f"{control}/topics", _control(emulator.open_topic), methods=["POST"]),
    ]
    return emulator.core.wrap(Starlette(routes=routes))
