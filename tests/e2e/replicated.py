"""A Redis primary, its replica and the sentinels watching them, all started by the test on free
ports, fast to fail over (a primary silent for 2 s is down), and all stopped at the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import redis

from cli.redisproc import RedisProcess, SentinelProcess
from tests.e2e.conftest import wait_for

MASTER = "mymaster"


class ReplicatedRedis:
    """``min_replicas_to_write`` 1: a primary cut off from its replica (an old primary, the
    moment the replica is promoted) refuses writes rather than take writes that will be lost;
    0, Redis's default, keeps taking them."""

    def __init__(
        self, directory: Path, *, sentinels: int = 1, min_replicas_to_write: int = 0
    ) -> None:
        for folder in ("a", "b"):
            (directory / folder).mkdir(parents=True, exist_ok=True)
        self.nodes: list[RedisProcess] = []
        self.sentinels: list[SentinelProcess] = []
        try:
            # Each node in a directory of its own: their AOF files have the same names.
            first = RedisProcess(
                directory=directory / "a",
                appendonly=True,
                min_replicas_to_write=min_replicas_to_write,
            ).start()
            self.nodes.append(first)
            second = RedisProcess(
                directory=directory / "b",
                appendonly=True,
                min_replicas_to_write=min_replicas_to_write,
                replica_of=first.port,
            )
            self.nodes.append(second.start())
            # Started once the replica is in sync: their first look then finds it.
            wait_for(lambda: self._in_sync(second), timeout=20, what="the replica in sync")
            for _ in range(sentinels):
                sentinel = SentinelProcess(
                    primary_port=first.port,
                    directory=directory,
                    master=MASTER,
                    quorum=sentinels // 2 + 1,
                )
                self.sentinels.append(sentinel.start())
            wait_for(self._watched, timeout=30, what="the sentinels watching primary and replica")
        except BaseException:
            self.cleanup()
            raise

    @property
    def addresses(self) -> str:
        """The sentinels, as REACHABLE_REDIS_SENTINELS takes them."""
        return ",".join(s.address for s in self.sentinels)

    def primary(self) -> RedisProcess:
        """The node the sentinels call the primary now."""
        with redis.Redis(port=self.sentinels[0].port, decode_responses=True) as sentinel:
            _, port = sentinel.sentinel_get_master_addr_by_name(MASTER)
        return next(node for node in self.nodes if node.port == int(port))

    def replica(self) -> RedisProcess:
        primary = self.primary()
        return next(node for node in self.nodes if node is not primary)

    def fail_over(self) -> RedisProcess:
        """Kill the primary; once the sentinels have promoted the replica, start the old primary
        again as a replica of the new one. Returns the new primary."""
        self._wait_promotable()
        old = self.primary()
        old.kill()
        new = wait_for(self._promoted_other_than(old), timeout=30, what="the replica promoted")
        old.replica_of = new.port
        old.start()
        wait_for(lambda: self._in_sync(old), timeout=30, what="the old primary back as a replica")
        return new

    def switch_over(self) -> RedisProcess:
        """Ask the sentinels to fail the primary over while it runs (``SENTINEL FAILOVER``):
        the replica is promoted; the old primary, which keeps running and accepting writes
        until the sentinels get round to it, becomes its replica. Returns the new primary."""
        old = self.start_switchover()
        new = self.wait_promoted(old)
        self.wait_rejoined(old)
        return new

    def start_switchover(self) -> RedisProcess:
        """``SENTINEL FAILOVER``, without waiting for it; returns the primary being replaced."""
        self._wait_promotable()
        old = self.primary()
        with redis.Redis(port=self.sentinels[0].port) as sentinel:
            sentinel.execute_command("SENTINEL FAILOVER", MASTER)
        return old

    def wait_promoted(self, old: RedisProcess) -> RedisProcess:
        return wait_for(self._promoted_other_than(old), timeout=30, what="the replica promoted")

    def wait_rejoined(self, old: RedisProcess) -> None:
        """Until the old primary replicates the new one (the sentinels demote a running old
        primary when they next look at it, up to ten seconds later)."""
        wait_for(lambda: self._in_sync(old), timeout=30, what="the old primary now a replica")

    def _promoted_other_than(self, old: RedisProcess) -> Callable[[], RedisProcess | None]:
        def promoted() -> RedisProcess | None:
            try:
                current = self.primary()
            except (redis.RedisError, StopIteration):
                return None
            if current is old or _role(current) != "master":
                return None
            return current

        return promoted

    def _wait_promotable(self) -> None:
        """Until every sentinel sees a replica it would promote (one just back from a failover
        is doubted for a moment): as an operator waits before failing over again."""

        def promotable() -> bool:
            for sentinel in self.sentinels:
                with redis.Redis(port=sentinel.port, decode_responses=True) as client:
                    replicas = client.sentinel_slaves(MASTER)
                if not any(_healthy(replica) for replica in replicas):
                    return False
            return True

        wait_for(promotable, timeout=30, what="a replica the sentinels would promote")

    def _in_sync(self, node: RedisProcess) -> bool:
        try:
            with redis.Redis(port=node.port, decode_responses=True) as client:
                info = client.info("replication")
        except redis.RedisError:
            return False
        return info.get("role") == "slave" and info.get("master_link_status") == "up"

    def _watched(self) -> bool:
        for sentinel in self.sentinels:
            with redis.Redis(port=sentinel.port, decode_responses=True) as client:
                state = client.sentinel_master(MASTER)
                replicas = client.sentinel_slaves(MASTER)
            if not replicas or int(state["num-other-sentinels"]) != len(self.sentinels) - 1:
                return False
        return True

    def cleanup(self) -> None:
        for process in [*self.sentinels, *self.nodes]:
            process.cleanup()


def _role(node: RedisProcess) -> str:
    try:
        with redis.Redis(port=node.port, decode_responses=True) as client:
            return str(client.info("replication").get("role"))
    except redis.RedisError:
        return "down"


def _healthy(replica: dict[str, object]) -> bool:
    down = ("is_sdown", "is_odown", "is_disconnected")
    return not any(replica.get(flag) for flag in down) and replica.get("master-link-status") == "ok"
