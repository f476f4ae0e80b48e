"""X (Twitter) API v2: a tweepy-based client, converters to domain mentions, and a local emulator.

The emulator exists because there is no internet and newcomers have no API keys; the real
tweepy client talks to it over HTTP, so the adapter code under test is the code that ships.
"""
