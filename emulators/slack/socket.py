"""Slack's side of Socket Mode, for the emulator.

An app calls ``apps.connections.open`` with its app-level (``xapp-``) token and gets a one-time
``ws://`` URL. On that websocket Slack says ``hello``, then sends envelopes
``{"envelope_id", "type": "events_api" | "interactive" | "slash_commands", "payload"}`` and waits
for ``{"envelope_id", "payload"?}`` back. Like Slack, the hub hands each envelope to one of the
app's open connections, sends an unacknowledged event again (with ``retry_attempt`` raised) once a
connection is there, and does not resend interactions or commands: the person sees an error.

Every method runs on the emulator server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

JSONDict = dict[str, Any]

TICKET_TTL_S = 30.0
ACK_TIMEOUT_S = 3.0  # Slack's own limit for an app to acknowledge
EVENT_ATTEMPTS = 4  # the first delivery and Slack's three retries
SOCKET_PATH = "/link/"


class SocketUnavailable(Exception):
    """No connection took the envelope in time; the text says what a person would see."""


@dataclass
class _Connection:
    number: int
    websocket: WebSocket
    opened_at: float = field(default_factory=time.time)
    pending: dict[str, asyncio.Future[JSONDict]] = field(default_factory=dict)
    envelopes: int = 0
    closed: bool = False


class SocketHub:
    def __init__(self, app_id: str, *, wait_for_connection_s: float = 10.0) -> None:
        self.app_id = app_id
        self.enabled = False
        self.wait_for_connection_s = wait_for_connection_s
        self._tickets: dict[str, float] = {}
        self._connections: dict[int, _Connection] = {}
        self._numbers = itertools.count(1)
        self._connected: asyncio.Event | None = None
        self._rotation = itertools.count()
        self._drop_after_next_send = False
        self.dropped = 0
        self.redelivered = 0

    def reset(self) -> None:
        self._tickets.clear()
        self._drop_after_next_send = False
        self.dropped = 0
        self.redelivered = 0

    # -- the app's side --------------------------------------------------------------------------

    def open_url(self, base_ws_url: str) -> str:
        """What ``apps.connections.open`` answers: a single-use URL valid for 30 seconds."""
        now = time.monotonic()
        self._tickets = {t: at for t, at in self._tickets.items() if now - at < TICKET_TTL_S}
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = now
        return f"{base_ws_url.rstrip('/')}{SOCKET_PATH}?ticket={ticket}&app_id={self.app_id}"

    async def endpoint(self, websocket: WebSocket) -> None:
        ticket = websocket.query_params.get("ticket", "")
        opened = self._tickets.pop(ticket, None)
        if opened is None or time.monotonic() - opened > TICKET_TTL_S:
            await websocket.close(code=4001, reason="invalid or expired ticket")
            return
        await websocket.accept()
        connection = _Connection(next(self._numbers), websocket)
        self._connections[connection.number] = connection
        self._signal_connected()
        try:
            await websocket.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._connections),
                    "debug_info": {"host": "emulator", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
            while True:
                self._take_ack(connection, await websocket.receive_text())
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self._forget(connection)

    def _take_ack(self, connection: _Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        future = connection.pending.pop(str(message.get("envelope_id")), None)
        if future is not None and not future.done():
            future.set_result(message)

    def _forget(self, connection: _Connection) -> None:
        connection.closed = True
        self._connections.pop(connection.number, None)
        for future in connection.pending.values():
            if not future.done():
                future.set_exception(ConnectionResetError("the connection closed before the ack"))
        connection.pending.clear()
        if not self._connections and self._connected is not None:
            self._connected.clear()

    def _signal_connected(self) -> None:
        if self._connected is None:
            self._connected = asyncio.Event()
        self._connected.set()

    # -- Slack's side ----------------------------------------------------------------------------

    async def deliver(self, kind: str, payload: JSONDict) -> tuple[int, str]:
        """Send one envelope and wait for its ack; returns the ack's payload as a response body
        (JSON, or empty), with 200, the way the HTTP mode returns the app's response."""
        envelope_id = str(uuid.uuid4())
        retryable = kind == "events_api"
        attempts = EVENT_ATTEMPTS if retryable else 1
        last_error = "no Socket Mode connection is open"
        for attempt in range(attempts):
            connection = await self._a_connection()
            if connection is None:
                break
            envelope: JSONDict = {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
            }
            if retryable:
                envelope["retry_attempt"] = attempt
                envelope["retry_reason"] = "timeout" if attempt else ""
            try:
                ack = await self._send_and_wait(connection, envelope)
            except (ConnectionResetError, TimeoutError) as exc:
                last_error = str(exc) or "the app did not acknowledge within 3 seconds"
                if attempt + 1 < attempts:
                    self.redelivered += 1
                continue
            reply = ack.get("payload")
            return 200, json.dumps(reply) if reply else ""
        raise SocketUnavailable(last_error)

    async def _a_connection(self) -> _Connection | None:
        """An open connection, waiting a while for the app to (re)connect; Slack spreads
        envelopes over the app's connections."""
        if not self._connections:
            if self._connected is None:
                self._connected = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connected.wait(), self.wait_for_connection_s)
        live = sorted(self._connections.values(), key=lambda c: c.number)
        if not live:
            return None
        return live[next(self._rotation) % len(live)]

    async def _send_and_wait(self, connection: _Connection, envelope: JSONDict) -> JSONDict:
        future: asyncio.Future[JSONDict] = asyncio.get_running_loop().create_future()
        envelope_id = str(envelope["envelope_id"])
        connection.pending[envelope_id] = future
        try:
            await connection.websocket.send_json(envelope)
        except (RuntimeError, OSError, WebSocketDisconnect) as exc:
            connection.pending.pop(envelope_id, None)
            raise ConnectionResetError(f"sending failed: {exc}") from None
        connection.envelopes += 1
        if self._drop_after_next_send:
            self._drop_after_next_send = False
            await self._close(connection)
        try:
            return await asyncio.wait_for(future, ACK_TIMEOUT_S)
        finally:
            connection.pending.pop(envelope_id, None)

    # -- control ---------------------------------------------------------------------------------

    async def drop(self, *, after_next_send: bool = False) -> int:
        """Close every connection now, or the one that carries the next envelope right after
        sending it (before its ack can arrive)."""
        if after_next_send:
            self._drop_after_next_send = True
            return 0
        connections = list(self._connections.values())
        for connection in connections:
            await self._close(connection)
        return len(connections)

    async def _close(self, connection: _Connection) -> None:
        self.dropped += 1
        self._forget(connection)
        with contextlib.suppress(RuntimeError, OSError):
            await connection.websocket.close(code=1001, reason="emulator dropped the connection")

    def status(self) -> JSONDict:
        return {
            "socket_mode": self.enabled,
            "connections": [
                {"number": c.number, "opened_at": c.opened_at, "envelopes": c.envelopes}
                for c in sorted(self._connections.values(), key=lambda c: c.number)
            ],
            "dropped": self.dropped,
            "redelivered": self.redelivered,
        }
