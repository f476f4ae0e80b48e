"""Telegram: the python-telegram-bot chat sink, HTML rendering and a local Bot API emulator.

The emulator exists because there is no internet and newcomers have no bot token; the real
python-telegram-bot client talks to it over HTTP, so the adapter code under test is the code
that ships.
"""
