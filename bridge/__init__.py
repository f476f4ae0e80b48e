"""Reachable's core: the domain, the store, the pipeline's stages, the desks staff actions
call, the texts people read, and the operations around them.

Nothing in this package imports a platform library (tweepy, slack, telegram), an adapter, an
emulator, the composition root (``app``) or the CLI; adapters meet it through the Protocols in
``bridge.ports``, which the core owns.
"""
