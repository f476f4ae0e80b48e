"""X (Twitter) API v2: a tweepy-based client, converters to domain mentions, the publisher and
account linking. Its emulator is ``emulators/x``."""
