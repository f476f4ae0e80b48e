"""Reachable's core: domain, configuration, Redis store, stages and runtime.

Nothing in this package imports a platform library (tweepy, slack, telegram); adapters meet
it through the Protocols in ``bridge.ports``, which the core owns.
"""
