"""Telegram: the python-telegram-bot chat sink, HTML rendering and staff commands. Its
emulator is ``emulators/telegram``."""
