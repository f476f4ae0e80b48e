"""X API v2 emulator: posts, mentions, users, rate limits, OAuth 1.0a and 2.0 flows."""
