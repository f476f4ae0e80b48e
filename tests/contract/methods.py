"""Which platform API methods the production adapters call, read from their source code.

The adapters call the platforms through tweepy's ``AsyncClient``, slack_sdk's ``AsyncWebClient``
and python-telegram-bot's ``Bot`` (and its shortcuts on ``Message`` and ``CallbackQuery``), plus a
few raw HTTP requests for X's account linking. An AST walk over ``adapters/{x,slack,telegram}``
(the emulators left out) finds every attribute call whose name belongs to one of those libraries
and maps it to the platform's method:

- slack_sdk: the method name the library itself passes to ``api_call`` (read from its source);
- python-telegram-bot: the Bot API name the library aliases the method to (``sendMessage =
  send_message``), or for a shortcut the ``Bot`` method it calls (a small table, checked against
  the library's source);
- tweepy: a small table of method to route, checked against the library's source;
- raw requests: string pieces that start like an X API path, through a small table.

A call the tables do not know is an error, never skipped: :func:`called_methods` raises
:class:`UnknownCall` naming it, so a new call cannot slip past the contract tests.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# tweepy AsyncClient method -> (HTTP method, path as the X OpenAPI spec writes it, a piece of the
# route that must appear in tweepy's source for the entry to be right).
TWEEPY_ROUTES: dict[str, tuple[str, str, str]] = {
    "get_user": ("GET", "/2/users/by/username/{username}", "/by/username/"),
    "get_users_mentions": ("GET", "/2/users/{id}/mentions", "/2/users/{id}/mentions"),
    "get_users_tweets": ("GET", "/2/users/{id}/tweets", "/2/users/{id}/tweets"),
    "get_me": ("GET", "/2/users/me", "/2/users/me"),
    "create_tweet": ("POST", "/2/tweets", '"/2/tweets"'),
}
# Raw requests of the linking flow (adapters/x/oauth.py). None: a page a person's browser opens,
# not a call Reachable makes.
X_RAW_PATHS: dict[str, str | None] = {
    "/2/oauth2/token": "POST /2/oauth2/token",
    "/oauth/request_token": "POST /oauth/request_token",
    "/oauth/access_token": "POST /oauth/access_token",
    "/i/oauth2/authorize": None,
    "/oauth/authorize": None,
}
X_PATH_PIECE = re.compile(r"^/(?:2|oauth|i|1\.1)/[\w/.{}]*")
# python-telegram-bot methods with no Bot API alias: what they send, if anything. ``to_dict`` is
# every Telegram object's (a keyboard or an update kept as JSON), the Bot's included.
TELEGRAM_LIFECYCLE: dict[str, str | None] = {
    "initialize": "getMe",
    "shutdown": None,
    "to_dict": None,
}
# Shortcuts on python-telegram-bot's objects -> the Bot method each calls. Message.delete calls
# deleteBusinessMessages only for business messages, which this bot never receives.
TELEGRAM_SHORTCUTS: dict[str, tuple[str, str]] = {
    "reply_text": ("Message", "send_message"),
    "edit_text": ("Message", "edit_message_text"),
    "delete": ("Message", "delete_message"),
    "answer": ("CallbackQuery", "answer_callback_query"),
}


class UnknownCall(AssertionError):
    """A call into a platform library that the tables above cannot map to a platform method."""


@dataclass(frozen=True)
class Call:
    platform: str
    method: str
    where: str


def _library_methods(cls: type) -> dict[str, Callable[..., object]]:
    return {k: v for k, v in vars(cls).items() if not k.startswith("_") and callable(v)}


def _source_files(root: Path, platform: str) -> Iterator[Path]:
    for path in sorted((root / "adapters" / platform).glob("*.py")):
        if not path.name.startswith("emulator"):
            yield path


def _attribute_calls(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node.func.attr, node.lineno


def _where(path: Path, line: int) -> str:
    return f"adapters/{path.parent.name}/{path.name}:{line}"


def _x_calls(root: Path) -> Iterator[Call]:
    from tweepy.asynchronous import AsyncClient

    library = _library_methods(AsyncClient)
    for name, (_verb, _path, piece) in TWEEPY_ROUTES.items():
        if piece not in inspect.getsource(library[name]):
            raise UnknownCall(f"tweepy's {name} no longer requests {piece}: update TWEEPY_ROUTES")
    for path in _source_files(root, "x"):
        for name, line in _attribute_calls(path):
            if name not in library:
                continue
            if name not in TWEEPY_ROUTES:
                raise UnknownCall(f"{_where(path, line)}: tweepy's {name} is not in TWEEPY_ROUTES")
            verb, route, _ = TWEEPY_ROUTES[name]
            yield Call("x", f"{verb} {route}", _where(path, line))
        for piece, line in _string_pieces(path):
            found = X_PATH_PIECE.match(piece)
            if found is None:
                continue
            if found.group(0) not in X_RAW_PATHS:
                raise UnknownCall(f"{_where(path, line)}: X path {found.group(0)} is unknown")
            method = X_RAW_PATHS[found.group(0)]
            if method is not None:
                yield Call("x", method, _where(path, line))


def _string_pieces(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno


def _slack_calls(root: Path) -> Iterator[Call]:
    from slack_sdk.web.async_client import AsyncWebClient

    library = _library_methods(AsyncWebClient)
    for path in _source_files(root, "slack"):
        for name, line in _attribute_calls(path):
            if name not in library:
                continue
            named = re.findall(r'api_call\(\s*"([\w.]+)"', inspect.getsource(library[name]))
            if len(set(named)) != 1:
                raise UnknownCall(f"{_where(path, line)}: slack_sdk's {name} calls {named}")
            yield Call("slack", named[0], _where(path, line))


def _telegram_calls(root: Path) -> Iterator[Call]:
    import telegram

    bot = _library_methods(telegram.Bot)
    api_names = {fn: alias for alias, fn in bot.items() if re.match(r"^[a-z]+[A-Z]", alias)}
    for name, (owner, target) in TELEGRAM_SHORTCUTS.items():
        source = inspect.getsource(getattr(getattr(telegram, owner), name))
        if f"get_bot().{target}(" not in source:
            raise UnknownCall(f"{owner}.{name} no longer calls Bot.{target}")
    shortcuts = _telegram_shortcut_names()
    for path in _source_files(root, "telegram"):
        for name, line in _attribute_calls(path):
            where = _where(path, line)
            if name in shortcuts and name not in TELEGRAM_SHORTCUTS and name not in bot:
                raise UnknownCall(f"{where}: python-telegram-bot's shortcut {name} is not mapped")
            if name in TELEGRAM_SHORTCUTS:
                yield Call("telegram", api_names[bot[TELEGRAM_SHORTCUTS[name][1]]], where)
            elif name in bot and bot[name] in api_names:
                yield Call("telegram", api_names[bot[name]], where)
            elif name in bot and name in TELEGRAM_LIFECYCLE:
                if (method := TELEGRAM_LIFECYCLE[name]) is not None:
                    yield Call("telegram", method, where)
            elif name in bot:
                raise UnknownCall(f"{where}: python-telegram-bot's Bot.{name} is not mapped")


@cache
def _telegram_shortcut_names() -> frozenset[str]:
    """Methods of python-telegram-bot's objects that call the Bot API through ``get_bot()``."""
    import telegram

    return frozenset(
        name
        for owner in (telegram.Message, telegram.CallbackQuery, telegram.Chat, telegram.User)
        for name, fn in _library_methods(owner).items()
        if "get_bot()" in _source_or_empty(fn)
    )


def _source_or_empty(fn: Callable[..., object]) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def called_methods(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(platform, method) -> where in the adapters (under ``root``) it is called; raises
    :class:`UnknownCall` for a call the tables cannot map."""
    return {key: list(where) for key, where in _scan(root).items()}


@cache
def _scan(root: Path) -> dict[tuple[str, str], tuple[str, ...]]:
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for call in [*_x_calls(root), *_slack_calls(root), *_telegram_calls(root)]:
        key = (call.platform, call.method)
        found[key] = (*found.get(key, ()), call.where)
    return found
