"""Every sentence a person reads in chat, in one place, in the reader's language.

One module per reader: ``cards`` (the mirrored mention, as everyone in a chat reads it),
``staff`` (a person acting on it), ``supervisors``, ``admins``, ``reports``, ``linking``, and
``common`` for words several share. Callers write ``messages.claim_done()``: this package
gathers them, so a sentence is found by its name whoever reads it.

Adapters take their labels and replies from here so wording stays consistent across chats. Each
sentence goes through :mod:`bridge.text.i18n`: the English here is the key, the other languages
live in ``bridge/text/locale``. Placeholders are named (``{handle}``) so a translation may
reorder them.
"""

from bridge.text.messages.admins import *
from bridge.text.messages.cards import *
from bridge.text.messages.common import *
from bridge.text.messages.linking import *
from bridge.text.messages.reports import *
from bridge.text.messages.staff import *
from bridge.text.messages.supervisors import *
