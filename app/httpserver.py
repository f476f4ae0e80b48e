"""Serve an ASGI app on 127.0.0.1 inside a running event loop, or in a thread for tests.

Several servers share one loop in ``reachable demo`` and ``reachable emulate``, so signals are
left to the caller instead of to each uvicorn server.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import socket
import threading
from collections.abc import Generator
from typing import Any

import uvicorn


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


# Below the kernel's ephemeral range (32768-60999 on Linux), which outgoing connections draw
# from: a port picked there could be taken by a connection before its server binds it.
FREE_PORTS = (20000, 32768)


# The ports this process handed out lately: a server may bind its port only seconds later
# (a process still starting), and until then the port looks free to the next caller.
_HANDED_OUT: collections.deque[int] = collections.deque(maxlen=500)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a server started soon after, and none this process
    handed out lately. ``REACHABLE_FREE_PORTS`` ("low-high") narrows the range, so that
    parallel test processes never pick the same one."""
    low, high = _free_port_range()
    for _ in range(100):
        port = random.randrange(low, high)
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            _HANDED_OUT.append(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _free_port_range() -> tuple[int, int]:
    low, _, high = os.environ.get("REACHABLE_FREE_PORTS", "").partition("-")
    if low.isdigit() and high.isdigit() and int(low) < int(high):
        return int(low), int(high)
    return FREE_PORTS


class EmbeddedServer:
    """An ASGI app served by uvicorn as a task of the current event loop."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int, name: str = "") -> None:
        self.host = host
        self.port = port
        self.name = name
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = _QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name=f"http-{self.name}")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"{self.name or 'server'} on port {self.port} did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None


class ThreadedServer:
    """An ASGI app served in a thread with its own loop; what the tests use for emulators."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        # Without a port, the socket is bound here and handed over: a port only picked here
        # could be taken by another process before the server binds it.
        self._socket = None
        if port is None:
            # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on such sockets.
            self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            self._socket.bind((host, 0))
            port = int(self._socket.getsockname()[1])
        self.port = port
        config = uvicorn.Config(
            app, host=host, port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = _QuietServer(config)
        sockets = [self._socket] if self._socket is not None else None
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ThreadedServer:
        self._thread.start()
        deadline = 100
        while not self._server.started and deadline:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} did not start")
            threading.Event().wait(0.05)
            deadline -= 1
        if not self._server.started:
            raise RuntimeError(f"server on port {self.port} did not start in 5 s")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
