"""Secrets and environment, from ``REACHABLE_*`` variables or a ``.env`` file.

Everything that is not a secret or a property of the machine lives in the YAML file instead.
These are the core's; each platform's own (its credentials, API address and limits) are in its
adapter (``adapters/*/settings.py``), and ``app/settings.py`` composes them all into one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge.domain.platform_time import PlatformTime

Part = TypeVar("Part", bound=BaseSettings)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REACHABLE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    config: Path = Path("config/reachable.yaml")
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Redis Sentinel, for a primary with replicas that fails over: the sentinels as
    # host:port,host:port. With them, every process asks the sentinels where the primary is, and
    # asks again after a failover; redis_url then gives only the database, user and password.
    redis_sentinels: str = ""
    # The name the sentinels know the primary by (`sentinel monitor <name> ...`).
    redis_sentinel_master: str = Field("mymaster", min_length=1)
    # The sentinels' own password, when they ask for one (their `requirepass`).
    redis_sentinel_password: SecretStr | None = None
    # How long a starting process waits for Redis to answer before it gives up, so a Redis
    # restarting alongside the bridge (containers starting together) does not stop it.
    redis_start_wait_s: float = Field(30.0, ge=0)
    key_prefix: str = Field("reachable", pattern=r"^[A-Za-z0-9_.-]{1,40}$")

    web_host: str = "127.0.0.1"
    web_port: int = 8700
    # Processes without the web role serve /healthz, /readyz and /metrics on this port when it
    # is set (the container image sets it, so one HEALTHCHECK fits every role).
    health_port: int | None = None

    # Personal accounts: staff link their own X account to reply as themselves. Their tokens are
    # sealed with this Fernet key (`reachable keygen` makes one); required while enabled.
    personal_accounts: bool = True
    token_key: SecretStr | None = None
    # The address people's browsers reach this bridge's web app at (https://reachable.example.org).
    # With an X OAuth 2.0 client it enables one-click linking at <public_url>/link/x/callback;
    # without it, people link with a PIN instead (needs X's consumer keys).
    public_url: str | None = None
    # How often linked personal accounts' own replies are read, to count answers staff post
    # directly on X (one read call per linked person each time).
    linked_poll_s: float = 300.0

    # A stage entry idle this long belongs to a crashed worker and is taken over (XAUTOCLAIM).
    # Keep it above the slowest legitimate handling of one entry.
    # A stage gives up on an entry (leaving it pending) after half of this, so that a live worker
    # never races the one taking over.
    claim_idle_s: float = 120.0
    # Emulators only: how many times faster than real time the platforms' rate windows run (the
    # emulators' time_scale). The bridge divides its pacing and the platforms' stated waits by
    # it; against the real platforms it must be 1 (`reachable doctor` says so).
    platform_time_scale: float = Field(1.0, gt=0, allow_inf_nan=False)
    # Every period under `retention:` in the config is multiplied by this, for benchmarks and
    # tests that watch retention work in minutes (1/86400: a day lasts a second). Leave it at 1.
    retention_scale: float = Field(1.0, gt=0, le=1)
    # How often each process looks at the config file for changes (it reloads when it changed).
    config_watch_s: float = 2.0
    log_level: str = "INFO"

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_are_addresses(cls, value: str) -> str:
        for address in _listed(value):
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{address!r} is not host:port (as in 10.0.0.5:26379)")
        return value

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        """The sentinels to ask where the Redis primary is; none without Sentinel."""
        return [
            (host, int(port))
            for host, _, port in (a.rpartition(":") for a in _listed(self.redis_sentinels))
        ]

    @property
    def platform_time(self) -> PlatformTime:
        return PlatformTime(self.platform_time_scale)


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def platform_part(settings: object, part: type[Part], platform: str) -> Part:
    """A platform's part of the settings the bridge was given: the composed settings
    (``app.settings.AppSettings``) are every platform's at once; the core's alone are none."""
    if not isinstance(settings, part):
        raise TypeError(
            f"{platform} needs its settings, but was given {type(settings).__name__}: build the "
            "composed settings (app.settings.AppSettings), not the core's alone"
        )
    return settings
