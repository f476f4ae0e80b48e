"""The composition root: settings, config and Redis wired to the adapters (registry.py) into
running roles, and the web app that serves the chats' callbacks, linking, health and metrics."""
