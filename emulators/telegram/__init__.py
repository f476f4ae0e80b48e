"""Telegram Bot API emulator: messages, HTML entities, flood control, updates and webhooks."""
