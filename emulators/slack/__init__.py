"""Slack emulator: the Web API, Block Kit validation, signed events and clicks, Socket Mode.

A local Slack: the Web API subset Reachable uses, and a control API that plays the humans.

The real ``slack_sdk``/``slack_bolt`` clients talk to it over HTTP (``base_url=<url>/api/``), so
the shapes, error codes and status codes follow Slack's, not what would be convenient.
The control API (``/_emulator/*``) does what people do in a Slack client: click a button, type a
message or a slash command, submit a modal. Each of those reaches the bridge as a request signed
exactly as Slack signs it, so the bridge's signature check is exercised too. In Socket Mode
(``socket_mode=True`` or ``POST /_emulator/config {"socket_mode": true}``) the same actions travel
as envelopes over the websocket the bridge opened (see :mod:`emulators.slack.socket`).

State lives in one :class:`SlackEmulator` guarded by a lock: uvicorn serves it from its own
thread while tests read it from theirs.

The modules: ``model`` (Slack's numbers, errors, arguments and records), ``state`` (the
workspace), ``api`` (the Web API), ``control`` (the control API's reading and settings),
``people`` (the control API acting as people), ``blocks`` (Block Kit validation), ``render``
(Block Kit as a client reads it), ``socket`` (Socket Mode) and ``app`` (:class:`SlackEmulator`,
all of it served).
"""

from emulators.slack.app import SlackEmulator, create_app

__all__ = ["SlackEmulator", "create_app"]
