"""Reachable's state in Redis: every key (keys.py), the Store, thread state, the vault of
linked accounts, retention, and the connection that waits out outages."""
