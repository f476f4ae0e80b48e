"""No secret reaches a log line or the terminal, whatever prints it.

Libraries log more than they should at DEBUG (python-telegram-bot prints its API URL, which holds
the bot token), and not everything goes through the root logger's handlers: Python prints an
uncaught exception's traceback straight to stderr, uvicorn has loggers of its own. So the
process's stdout and stderr themselves are wrapped: every line is written with each secret
(as set, trimmed, and URL-encoded, the forms libraries print it in) replaced by ``[redacted]``.
The root logger's handlers get the same filter, for handlers that write elsewhere.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import quote, quote_plus, urlsplit

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings

from bridge.settings import Settings

REDACTED = "[redacted]"
# Shorter values are not secrets worth the false positives (and could be common words).
MIN_SECRET_LENGTH = 6


def secret_values(settings: Settings) -> list[str]:
    """Every secret in the settings, in each form it may be printed in, longest first (so a
    secret inside another goes too)."""
    found: set[str] = set()
    for value in settings.model_dump().values():
        found.update(_secrets_in(value))
    password = urlsplit(settings.redis_url).password
    if password:
        found.add(password)
    return _printed_forms(found)


def secret_values_in_environment(
    environ: Mapping[str, str], settings_class: type[BaseSettings]
) -> list[str]:
    """The values of the secret settings as the environment gives them, before the settings
    are parsed: a process that fails to start (settings it cannot parse, a token refused at
    once) prints its error before any settings object exists. ``settings_class``: the settings
    the process will read (the composed ones hold every platform's secrets too)."""
    secret_fields: set[str] = set()
    holding_secrets: set[str] = set()
    for name, field in settings_class.model_fields.items():
        variable = f"REACHABLE_{name}".upper()
        if _is_secret(field.annotation):
            secret_fields.add(variable)
        elif _holds_secrets(field.annotation):
            holding_secrets.add(variable)
    found = {value for name, value in environ.items() if name.upper() in secret_fields}
    for name in ("REACHABLE_REDIS_URL",):
        password = urlsplit(environ.get(name, "")).password
        if password:
            found.add(password)
    for name, value in environ.items():
        if name.upper() in holding_secrets and value:
            # Any string inside the JSON may be a secret; the keys are names, not secrets.
            found.update(_strings_in_json(value))
    return _printed_forms(found)


def _is_secret(annotation: Any) -> bool:
    """A secret itself (``SecretStr``, optional or not)."""
    return annotation is SecretStr or (
        typing.get_origin(annotation) in (typing.Union, types.UnionType)
        and SecretStr in typing.get_args(annotation)
    )


def _holds_secrets(annotation: Any) -> bool:
    """A value with secrets inside it (a model or a mapping of them), given as JSON."""
    if annotation is SecretStr:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return any(_holds_secrets(f.annotation) for f in annotation.model_fields.values())
    return any(_holds_secrets(arg) for arg in typing.get_args(annotation))


def _strings_in_json(raw: str) -> Iterable[str]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        yield raw
        return
    stack = [parsed]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            yield item


def _printed_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as set, trimmed (libraries strip a stray space), and URL-encoded (a token
    inside a URL, as Telegram's is)."""
    forms: set[str] = set()
    for secret in secrets:
        for variant in (secret, secret.strip()):
            forms.update((variant, quote(variant, safe=":"), quote_plus(variant, safe=":")))
    return sorted((s for s in forms if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _secrets_in(value: object) -> Iterable[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secrets_in(item)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message, self.secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


class RedactingStream(io.TextIOBase):
    """A text stream that writes whole lines to ``target`` with the secrets replaced. A secret
    printed in pieces by several writes is still caught, since nothing is written before its
    line ends (or the stream is flushed)."""

    def __init__(self, target: TextIO, secrets: list[str]) -> None:
        super().__init__()
        self.target = target
        self.secrets = secrets
        self._pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.target.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.target.errors

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self.target.write(redact(complete + "\n", self.secrets))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.target.write(redact(self._pending, self.secrets))
            self._pending = ""
        self.target.flush()


def redact_process_output(secrets: list[str]) -> None:
    """Wrap this process's stdout and stderr (once) so that nothing printed carries a secret:
    call it before any handler or library takes a reference to them."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, RedactingStream):
            stream.secrets = sorted(set(stream.secrets) | set(secrets), key=len, reverse=True)
        elif stream is not None:
            setattr(sys, name, RedactingStream(stream, secrets))


def redact_from_the_environment(settings_class: type[BaseSettings]) -> None:
    """The process's output, redacted of the secrets the environment holds for
    ``settings_class`` (the settings are read from it and from .env later;
    ``redact_secrets_in_logs`` adds theirs)."""
    redact_process_output(secret_values_in_environment(os.environ, settings_class))


def redact_secrets_in_logs(settings: Settings) -> None:
    """Attach the filter to every handler of the root logger (call after configuring them), and
    redact the process's output of every secret the settings hold."""
    secrets = secret_values(settings)
    redact_process_output(secrets)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets(secrets))
