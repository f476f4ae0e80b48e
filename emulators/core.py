"""What every platform emulator shares: the call log, fault injection and the control API.

Each emulator is a Starlette app; wrapping it with :class:`EmulatorCore` adds
``POST /_emulator/reset``, ``POST|GET|DELETE /_emulator/faults``, ``GET /_emulator/calls`` and
``GET|POST /_emulator/clock`` (how fast rate windows run), and makes the next matching calls
fail the way the platform fails. The call log keeps each call's parameters (query and form or
JSON body, credentials redacted) so that contract tests can hold what the real client libraries
send to the platforms' published specs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulators.clock import RateClock, RateLimits, check_scale

CONTROL_PREFIX = "/_emulator"
MAX_BODY_BYTES = 1_000_000
# Parameters whose values are credentials: the call log keeps their names, never their values.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "client_secret",
        "code",
        "code_verifier",
        "oauth_token",
        "oauth_token_secret",
        "oauth_verifier",
        "password",
        "refresh_token",
        "secret_token",
        "token",
    }
)
REDACTED = "[redacted]"
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass
class Fault:
    """The next ``times`` calls matching ``method`` and ``path`` (a glob) fail with ``status``,
    once ``after`` matching calls have passed (a fault on the third message of a series).

    ``status`` 0 with ``delay_s`` only slows matching calls down. ``error`` is the error code
    of the answer, for a platform that names its failures in the body (Slack: HTTP 200
    ``{"ok": false, "error": "rate_limited"}``).
    """

    method: str
    path: str
    status: int
    times: int = 1
    retry_after: float | None = None
    delay_s: float = 0.0
    after: int = 0
    error: str | None = None

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
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


class EmulatorCore:
    """Call log, faults and control routes for one emulator."""

    def __init__(
        self,
        platform: str,
        fault_response: FaultResponder,
        *,
        error_codes: bool = False,
        time_scale: float = 1.0,
    ) -> None:
        self.platform = platform
        self._fault_response = fault_response
        # Whether faults may name the error code of the answer (and so answer HTTP 200).
        self.error_codes = error_codes
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self._reset_hooks: list[Callable[[], None]] = []
        self.clock = RateClock(time_scale)
        self.limits = RateLimits(self.clock)

    def on_reset(self, hook: Callable[[], None]) -> None:
        self._reset_hooks.append(hook)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults.clear()
        self.clock.restore()
        self.limits.clear()
        for hook in self._reset_hooks:
            hook()

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The fault this call meets: the first matching one done waiting. Every matching fault
        still waiting counts the call, whether another fault takes it or not."""
        with self._lock:
            taken = None
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                elif taken is None and fault.times > 0:
                    taken = fault
            if taken is not None:
                taken.times -= 1
                if taken.times == 0:
                    self.faults.remove(taken)
        return taken

    def record(
        self,
        method: str,
        path: str,
        status: int,
        query: str = "",
        request: RequestParams | None = None,
    ) -> None:
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "time": time.time(),
        }
        if request is not None:
            entry["params"], entry["body_format"] = request.logged()
        with self._lock:
            self.calls.append(entry)

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
            Route(f"{CONTROL_PREFIX}/clock", self._clock_endpoint, methods=["GET", "POST"]),
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
            error = data.get("error")
            fault = Fault(
                method=str(data.get("method", "*")).upper(),
                path=str(data["path"]),
                status=int(data.get("status", 200 if error is not None else 0)),
                times=int(data.get("times", 1)),
                retry_after=None if data.get("retry_after") is None else float(data["retry_after"]),
                delay_s=float(data.get("delay_s", 0.0)),
                after=_count(data.get("after", 0), "after"),
                error=None if error is None else str(error),
            )
        except (KeyError, TypeError, ValueError) as exc:
            return bad_request(f"bad fault: {exc}")
        problem = self._fault_problem(fault)
        if problem:
            return bad_request(f"bad fault: {problem}")
        self.add_fault(fault)
        return JSONResponse({"ok": True, "fault": asdict(fault)})

    def _fault_problem(self, fault: Fault) -> str | None:
        if fault.times < 1:
            return "times must be >= 1"
        if fault.error is None:
            if fault.status == 0 or 400 <= fault.status <= 599:
                return None
            return "status must be 0 (a delay only) or 400..599; 200 needs an error code"
        if not self.error_codes:
            return f"the {self.platform} emulator's failures have no error code; give a status"
        if not _ERROR_CODE.match(fault.error):
            return f"error must be a code such as rate_limited, not {fault.error!r}"
        if fault.status != 200 and not 400 <= fault.status <= 499:
            return "an error code goes with status 200 or 400..499 (5xx answers are plain text)"
        return None

    async def _clock_endpoint(self, request: Request) -> Response:
        """How fast rate windows run: ``{"scale": 10}`` makes a minute of them last 6 s."""
        if request.method == "POST":
            try:
                data = await read_json_object(request)
                if set(data) != {"scale"}:
                    raise ValueError('the body must be {"scale": <number > 0>}')
                scale = check_scale(data["scale"])
            except ValueError as exc:
                return bad_request(f"bad clock: {exc}")
            self.clock.set_scale(scale)
        return JSONResponse({"scale": self.clock.scale, "rate_time_s": round(self.clock.now(), 3)})

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
            request = RequestParams(scope)
            fault = self.take_fault(method, path)
            if fault is not None:
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                if fault.status:
                    response = self._fault_response(fault)
                    await request.read_all(receive)
                    self.record(method, path, response.status_code, query, request)
                    await response(scope, request.replay, send)
                    return
            recorded = False

            async def send_and_note(message: Message) -> None:
                # Noted before the client can see the answer: a test that reads the log (or
                # resets it) right after its call finds the call there (or gone).
                nonlocal recorded
                if message["type"] == "http.response.start" and not recorded:
                    self.record(method, path, int(message["status"]), query, request)
                    recorded = True
                await send(message)

            try:
                # A caller that hangs up mid-request (a killed process) has no one to answer.
                with contextlib.suppress(ClientDisconnect):
                    await app(scope, request.reading(receive), send_and_note)
            finally:
                if not recorded:
                    self.record(method, path, 500, query, request)

        return wrapped


class RequestParams:
    """A call's parameters as the platform reads them: the query string and a form or JSON body.

    The body is seen as the app reads it (or read whole for an injected fault), so logging
    costs no second read. Values of :data:`SECRET_PARAMS` are replaced by ``[redacted]``.
    """

    def __init__(self, scope: Scope) -> None:
        headers = dict(scope.get("headers") or [])
        self._content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        self._query = scope.get("query_string", b"").decode("latin-1")
        self._body = bytearray()
        self._chunks: list[Message] = []

    def reading(self, receive: Receive) -> Receive:
        async def noted() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(self._body) <= MAX_BODY_BYTES:
                self._body += message.get("body", b"")
            return message

        return noted

    async def read_all(self, receive: Receive) -> None:
        more = True
        while more:
            message = await receive()
            self._chunks.append(message)
            self._body += message.get("body", b"")
            more = message["type"] == "http.request" and message.get("more_body", False)

    async def replay(self) -> Message:
        return self._chunks.pop(0) if self._chunks else {"type": "http.disconnect"}

    def logged(self) -> tuple[dict[str, Any], str]:
        params: dict[str, Any] = dict(parse_qsl(self._query, keep_blank_values=True))
        body_format = "none"
        if self._body and len(self._body) <= MAX_BODY_BYTES:
            body_format, values = _body_params(bytes(self._body), self._content_type)
            params.update(values)
        return {k: REDACTED if k in SECRET_PARAMS else v for k, v in params.items()}, body_format


def _body_params(body: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    if "json" in content_type:
        try:
            value = json.loads(body)
        except ValueError:
            return "json", {}
        return "json", value if isinstance(value, dict) else {}
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return "form", dict(pairs)
    return content_type.split(";")[0] or "other", {}


def _count(value: object, name: str) -> int:
    """A whole number of calls, 0 or more; anything else is refused rather than rounded."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0")
    return value


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
