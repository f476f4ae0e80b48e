"""Telegram Bot API emulator: messages, HTML entities, flood control, updates and webhooks.

A local Telegram: the Bot API subset a bridge bot uses, and a control API that plays the humans.

The real python-telegram-bot client talks to it over HTTP (``base_url=<url>/bot``), so replies
follow the Bot API exactly: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "...", "parameters": {...}}`` with HTTP status N, Telegram's own error wording
(python-telegram-bot maps it to ``BadRequest``, ``Forbidden``, ``ChatMigrated``, ``RetryAfter``),
texts parsed into plain text plus UTF-16 entities, per-chat message ids and sequential update ids.

Updates reach the bot the two ways Telegram offers: ``getUpdates`` long polling (an update stays
until a later call passes a higher ``offset``) or a webhook set with ``setWebhook`` (POSTed one at
a time, in order, with ``X-Telegram-Bot-Api-Secret-Token``, retried until the receiver answers
2xx). The control API (``/_emulator/*``) does what people do in a Telegram client: write, reply,
press a button, open a forum topic, remove the bot, upgrade a group.

State lives in one :class:`TelegramEmulator` guarded by a lock: uvicorn serves it from its own
thread while tests read it from theirs.

The modules: ``model`` (the Bot API's numbers, errors, arguments and records), ``state`` (the
bot, its chats and messages), ``updates`` (getUpdates and the webhook), ``api`` (the Bot API's
other methods), ``control`` (the control API), ``text`` (entities, detection, trimming, HTML
rendering), ``parse_modes`` (HTML, MarkdownV2 and Markdown parsing) and ``app``
(:class:`TelegramEmulator`, all of it served).
"""

from emulators.telegram.app import TelegramEmulator, create_app

__all__ = ["TelegramEmulator", "create_app"]
