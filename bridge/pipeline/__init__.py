"""The stages a mention passes through, one a module: poll, route and mirror, publish, answer,
supervise; each reads its Redis stream with a consumer group (runner.py)."""
