"""Slack emulator: the Web API, Block Kit validation, signed events and clicks, Socket Mode."""
