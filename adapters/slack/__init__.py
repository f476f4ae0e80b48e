"""Slack: the Web API client wrapper, Block Kit converters and a local emulator of Slack."""
