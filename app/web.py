"""The bridge's web app: chat platforms' callbacks, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.ops.metrics import render as render_metrics
from bridge.ops.refusals import note_refused
from bridge.store.store import Store

MAX_BODY_BYTES = 1_000_000
log = logging.getLogger(__name__)


def _door(path: str) -> str:
    """The door a path belongs to, as the refused-requests metric names it."""
    return path.strip("/").split("/", 1)[0] or "root"


def limit_body_size(app: ASGIApp, store: Store, limit: int = MAX_BODY_BYTES) -> ASGIApp:
    """Refuse oversized request bodies with 413 before any handler sees them, whether the size
    is declared (Content-Length) or not (a chunked body is read up to the limit, then refused)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def refuse() -> None:
            client = scope.get("client")
            await note_refused(
                store,
                door=_door(scope.get("path", "")),
                origin=client[0] if client else None,
                reason=f"request body over {limit} bytes",
            )
            await JSONResponse({"error": "request body too large"}, status_code=413)(
                scope, receive, send
            )

        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse()
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: nothing to hand on
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                await refuse()
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return guarded


Check = Callable[[], Awaitable[None]]


class Readiness:
    """Whether Redis and each platform answer; platform answers are kept a while, so that a
    probe every few seconds does not spend the platforms' rate limits."""

    def __init__(self, store: Store, checks: dict[str, Check], *, keep_s: float = 30.0) -> None:
        self.store = store
        self.checks = checks
        self.keep_s = keep_s
        self._known: dict[str, tuple[float, str]] = {}

    async def report(self) -> dict[str, str]:
        found = {"redis": await self._run(self._redis)}
        now = time.monotonic()
        for name, check in self.checks.items():
            kept = self._known.get(name)
            if kept is None or now - kept[0] > self.keep_s:
                kept = (now, await self._run(check))
                self._known[name] = kept
            found[name] = kept[1]
        return found

    async def _redis(self) -> None:
        await self.store.redis.ping()

    @staticmethod
    async def _run(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout=10)
        except Exception as exc:  # any failure means "not ready", said in its own words
            return f"error: {type(exc).__name__}: {exc}"[:300]
        return "ok"


def create_web_app(
    store: Store, *, routes: Sequence[BaseRoute], checks: dict[str, Check] | None = None
) -> ASGIApp:
    readiness = Readiness(store, checks or {})

    async def healthz(request: Request) -> Response:
        """Alive: the process answers and reaches Redis."""
        try:
            await store.redis.ping()
        except (RedisError, OSError) as exc:
            return JSONResponse({"status": "unhealthy", "redis": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready: Redis and every platform this process talks to answer."""
        found = await readiness.report()
        ready = all(value == "ok" for value in found.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": found},
            status_code=200 if ready else 503,
        )

    async def metrics(request: Request) -> Response:
        try:
            body = await render_metrics(store)
        except (RedisError, OSError) as exc:
            return PlainTextResponse(f"# Redis unavailable: {exc}\n", status_code=503)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            *routes,
        ]
    )
    return limit_body_size(app, store)
