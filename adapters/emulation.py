"""What every platform emulator shares: the call log, fault injection and the control API.

Each emulator is a Starlette app; wrapping it with :class:`EmulatorCore` adds
``POST /_emulator/reset``, ``POST|GET|DELETE /_emulator/faults`` and ``GET /_emulator/calls``,
and makes the next matching calls fail the way the platform fails.
"""

from __future__ import annotations

import asyncio
import fnmatch
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_emulator"
MAX_BODY_BYTES = 1_000_000


@dataclass
class Fault:
    """The next ``times`` calls matching ``method`` and ``path`` (a glob) fail with ``status``.

    ``status`` 0 with ``delay_s`` only slows matching calls down.
    """

    method: str
    path: str
    status: int
    times: int = 1
    retry_after: float | None = None
    delay_s: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)


FaultResponder = Callable[[Fault], Response]


def bad_request(detail: str) -> JSONResponse:
    return JSONResponse({"error": detail}, status_code=400)


async def read_json_object(request: Request) -> dict[str, Any]:
    """Parse a control-API body; anything but a JSON object raises ``ValueError``."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ValueError("body too large")
    try:
        import json

        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


class EmulatorCore:
    """Call log, faults and control routes for one emulator."""

    def __init__(self, platform: str, fault_response: FaultResponder) -> None:
        self.platform = platform
        self._fault_response = fault_response
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self._reset_hooks: list[Callable[[], None]] = []

    def on_reset(self, hook: Callable[[], None]) -> None:
        self._reset_hooks.append(hook)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults.clear()
        for hook in self._reset_hooks:
            hook()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def record(self, method: str, path: str, status: int, query: str = "") -> None:
        with self._lock:
            self.calls.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "status": status,
                    "time": time.time(),
                }
            )

    def calls_snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.calls)

    # -- control API ---------------------------------------------------------------------------

    def control_routes(self) -> list[Route]:
        return [
            Route(f"{CONTROL_PREFIX}/reset", self._reset_endpoint, methods=["POST"]),
            Route(
                f"{CONTROL_PREFIX}/faults", self._faults_endpoint, methods=["GET", "POST", "DELETE"]
            ),
            Route(f"{CONTROL_PREFIX}/calls", self._calls_endpoint, methods=["GET"]),
        ]

    async def _reset_endpoint(self, request: Request) -> Response:
        self.reset()
        return JSONResponse({"ok": True})

    async def _faults_endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            with self._lock:
                return JSONResponse({"faults": [asdict(f) for f in self.faults]})
        if request.method == "DELETE":
            with self._lock:
                self.faults.clear()
            return JSONResponse({"ok": True})
        try:
            data = await read_json_object(request)
            fault = Fault(
                method=str(data.get("method", "*")).upper(),
                path=str(data["path"]),
                status=int(data.get("status", 0)),
                times=int(data.get("times", 1)),
                retry_after=None if data.get("retry_after") is None else float(data["retry_after"]),
                delay_s=float(data.get("delay_s", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            return bad_request(f"bad fault: {exc}")
        if fault.times < 1 or not (fault.status == 0 or 400 <= fault.status <= 599):
            return bad_request("bad fault: times must be >= 1 and status 0 or 400..599")
        self.add_fault(fault)
        return JSONResponse({"ok": True, "fault": asdict(fault)})

    async def _calls_endpoint(self, request: Request) -> Response:
        calls = self.calls_snapshot()
        path = request.query_params.get("path")
        if path:
            calls = [c for c in calls if fnmatch.fnmatchcase(c["path"], path)]
        return JSONResponse({"calls": calls})

    # -- ASGI wrapper ----------------------------------------------------------------------------

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """Log every platform call and apply injected faults; control calls pass untouched."""

        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
                await app(scope, receive, send)
                return
            method, path = scope["method"], scope["path"]
            query = scope.get("query_string", b"").decode("latin-1")
            fault = self.take_fault(method, path)
            if fault is not None:
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                if fault.status:
                    response = self._fault_response(fault)
                    self.record(method, path, response.status_code, query)
                    await response(scope, receive, send)
                    return
            recorded = False

            async def send_and_note(message: Message) -> None:
                # Noted before the client can see the answer: a test that reads the log (or
                # resets it) right after its call finds the call there (or gone).
                nonlocal recorded
                if message["type"] == "http.response.start" and not recorded:
                    self.record(method, path, int(message["status"]), query)
                    recorded = True
                await send(message)

            try:
                await app(scope, receive, send_and_note)
            finally:
                if not recorded:
                    self.record(method, path, 500, query)

        return wrapped


def json_endpoint(
    handler: Callable[[dict[str, Any]], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Adapt a handler of a JSON object body into a Starlette endpoint with a clear 400."""

    async def endpoint(request: Request) -> Response:
        try:
            data = await read_json_object(request)
        except ValueError as exc:
            return bad_request(str(exc))
        return await handler(data)

    return endpoint
