"""Start and stop a private ``redis-server``: for the demo when no Redis answers, and for tests."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from app.httpserver import free_port


class RedisProcess:
    def __init__(
        self,
        *,
        port: int | None = None,
        directory: Path | None = None,
        appendonly: bool = False,
        replica_of: int | None = None,
        min_replicas_to_write: int = 0,
        maxmemory: str | None = None,
    ) -> None:
        """``maxmemory``: Redis's limit (``256mb``), as an operator sets it; none by default."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed")
        self.binary = binary
        # The port of the primary on this machine that this server starts as a replica of.
        self.replica_of = replica_of
        # As a primary, refuse writes (NOREPLICAS) with fewer replicas than this connected.
        self.min_replicas_to_write = min_replicas_to_write
        self.port = port or free_port()
        # A port picked here may be taken by another process before redis-server binds it;
        # until this server first answers, it may move to another one.
        self._may_move = port is None
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="reachable-redis-")
        self.directory = directory or Path(self._tmp.name)  # type: ignore[union-attr]
        self.appendonly = appendonly
        self.maxmemory = maxmemory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.directory / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _arguments(self) -> list[str]:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--daemonize",
            "no",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--loglevel",
            "warning",
            "--logfile",
            str(self.log),
        ]
        if self.appendonly:
            args += ["--appendfsync", "always"]
        if self.replica_of is not None:
            args += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        if self.min_replicas_to_write:
            args += ["--min-replicas-to-write", str(self.min_replicas_to_write)]
        if self.maxmemory:
            args += ["--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction"]
        # A replica that connects is sent the data at once, not after five seconds of waiting
        # for others that might want it too.
        return [*args, "--repl-diskless-sync-delay", "0"]

    def start(self, timeout_s: float = 10.0) -> RedisProcess:
        args = self._arguments()
        self.log.unlink(missing_ok=True)
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    # Ours, not another server that took the port first.
                    if client.info("server")["process_id"] == self.process.pid:
                        self._may_move = False
                        return self
                except (redis.RedisError, KeyError):
                    pass
                if self.process.poll() is not None:
                    err = self.log.read_text() if self.log.exists() else ""
                    if self._may_move and "in use" in err:
                        self._signal(signal.SIGKILL)
                        self.port = free_port()
                        return self.start(timeout_s)
                    raise RuntimeError(f"{self.binary} exited at start: {err.strip()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.binary} did not answer on port {self.port}")
                time.sleep(0.05)
        finally:
            client.close()

    def demote(self) -> None:
        """Become a replica, as a primary is demoted in a failover, of a primary that never
        answers: the data stays, reads are served, writes are refused with READONLY and
        blocked reads are cut short with UNBLOCKED, until :meth:`promote`."""
        self._command("REPLICAOF", "127.0.0.1", str(free_port()))

    def promote(self) -> None:
        """Become a primary again (``REPLICAOF NO ONE``), keeping the data."""
        self._command("REPLICAOF", "NO", "ONE")

    def _command(self, *args: str) -> object:
        with redis.Redis(port=self.port, socket_timeout=5) as client:
            return client.execute_command(*args)

    def kill(self) -> None:
        """Die like a crash: SIGKILL, no chance to save."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


class SentinelProcess(RedisProcess):
    """A Redis Sentinel watching the primary ``master`` on this machine's ``primary_port``, as
    fast to fail it over as tests want (``down_after_ms``); ``redis-sentinel``, or
    ``redis-server --sentinel`` where that binary is missing."""

    def __init__(
        self,
        *,
        primary_port: int,
        directory: Path,
        master: str = "mymaster",
        quorum: int = 1,
        down_after_ms: int = 2000,
        failover_timeout_ms: int = 3000,
    ) -> None:
        super().__init__(directory=directory)
        self.sentinel_binary = shutil.which("redis-sentinel")
        self.primary_port = primary_port
        self.master = master
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _arguments(self) -> list[str]:
        # Sentinel rewrites its file as it learns (replicas, other sentinels, a new primary).
        config = self.directory / f"sentinel-{self.port}.conf"
        if not config.exists():
            config.write_text(
                f"port {self.port}\n"
                "bind 127.0.0.1\n"
                "daemonize no\n"
                f"dir {self.directory}\n"
                f"logfile {self.log}\n"
                "loglevel warning\n"
                f"sentinel monitor {self.master} 127.0.0.1 {self.primary_port} {self.quorum}\n"
                f"sentinel down-after-milliseconds {self.master} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.master} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {self.master} 1\n"
            )
        if self.sentinel_binary is not None:
            return [self.sentinel_binary, str(config)]
        return [self.binary, str(config), "--sentinel"]
