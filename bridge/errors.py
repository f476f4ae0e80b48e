"""One error root with specific subclasses that carry their context."""

from __future__ import annotations


class ReachableError(Exception):
    """Root of every error Reachable raises on purpose."""


class ConfigError(ReachableError):
    """The configuration file is unusable; ``problems`` lists every ``(path, detail)`` found."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [
            f"{source}: {path}: {detail}" if path else f"{source}: {detail}"
            for path, detail in problems
        ]
        super().__init__("\n".join(lines))


class PlatformError(ReachableError):
    """A call to a platform failed; adapters wrap their library's exceptions in a subclass."""

    def __init__(self, platform: str, detail: str) -> None:
        self.platform = platform
        self.detail = detail
        super().__init__(f"{platform}: {detail}")


class RateLimited(PlatformError):
    """The platform asked us to wait ``retry_after`` seconds before calling this target again:
    its seconds, as it stated them (``PlatformTime.seconds`` makes them this machine's)."""

    def __init__(self, platform: str, detail: str, *, retry_after: float) -> None:
        super().__init__(platform, detail)
        self.retry_after = retry_after


class TransientError(PlatformError):
    """Worth retrying later: a 5xx, a timeout, a dropped connection."""


class PermanentError(PlatformError):
    """Retrying will not help: bad credentials, unknown channel, a rejected payload."""


class DestinationUnavailable(PermanentError):
    """The chat itself cannot be posted to (bot removed, channel archived or unknown): the
    admins must act, so they are told, once, instead of every mention failing silently."""


class CredentialsRejected(PermanentError):
    """The platform no longer accepts the credentials used (HTTP 401): revoked or expired."""


class Deferred(Exception):
    """A stage's entry cannot be handled yet (it waits for another one, a paced channel or a
    platform that is down); the stage runner leaves it pending. Not a failure."""
