"""The bridge's web app: chat platforms' callbacks and health checks, one ASGI app per process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge.store import Store

MAX_BODY_BYTES = 1_000_000


def limit_body_size(app: ASGIApp, limit: int = MAX_BODY_BYTES) -> ASGIApp:
    """Refuse oversized request bodies with 413 before any handler reads them."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await JSONResponse({"error": "request body too large"}, status_code=413)(
                scope, receive, send
            )
            return
        seen = 0

        async def counting_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise ValueError("request body too large")
            return message

        await app(scope, counting_receive, send)

    return guarded


def create_web_app(store: Store, *, routes: Sequence[BaseRoute]) -> ASGIApp:
    async def healthz(request: Request) -> Response:
        try:
            await store.redis.ping()
        except (RedisError, OSError) as exc:
            return JSONResponse({"status": "unhealthy", "redis": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/healthz", healthz, methods=["GET"]), *routes])
    return limit_body_size(app)
