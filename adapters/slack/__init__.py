"""Slack: the Web API client wrapper, Block Kit converters and interactivity. Its emulator is
``emulators/slack``."""
