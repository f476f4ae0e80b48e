"""X API v2 emulator: posts, mentions, users, rate limits, OAuth 1.0a and 2.0 flows.

A local stand-in for the X API v2 subset Reachable uses, served to the real tweepy client.

Faithfulness matters more than completeness: the JSON shapes, status codes, error bodies and
``x-rate-limit-*`` headers follow X (see ``tests/fixtures/x``), because the adapter's error
handling is only tested as far as the emulator fails the way X fails.

Behaviour worth knowing:

- Ids are time-based snowflakes (above 2**53, strictly increasing) and always JSON strings.
- ``@handles`` become mention entities only for users that exist, as on X. A reply gets the
  replied-to author's ``@handle`` prefixed to its text (unless already there or a self-reply),
  which is how X stores auto-populated reply mentions.
- ``lang``, when not given, comes from a tiny heuristic: ``zxx`` when nothing but handles,
  hashtags and links remain, ``id`` or ``en`` by common-word counts, else ``und``.
- The control API may post duplicate text (it simulates the public); ``POST /2/tweets`` may not.
- A post longer than 280 weighted characters (X Premium's long posts, up to 25,000) comes back
  as X returns it: ``text`` holds its start, cut at a word within 280, and the whole text is in
  ``note_tweet`` only when ``tweet.fields`` asks for ``note_tweet``.
- Attachments are represented as on X: ``attachments.media_keys``, and a ``t.co`` link appended
  to ``text`` with a ``urls`` entity naming the media key; ``display_text_range`` leaves that
  link out, and a reply's leading handles, so a post of only photos displays nothing.
- Linking a person's account (OAuth 2.0 with PKCE, the OAuth 1.0a PIN flow) is in
  :mod:`emulators.x.oauth`; the tokens those flows issue authenticate here like the configured
  ones.

The modules: ``model`` (users, posts, text rules), ``state`` (what the emulator holds),
``grants`` (what the linking flows issued), ``render`` (X's bodies and parameters), ``api`` (the
v2 endpoints), ``oauth`` and ``consent`` (the linking flows), ``control`` (the control API),
``limits`` (rate limits) and ``app`` (:class:`XEmulator`, all of it served).
"""

from emulators.x.app import XEmulator, create_app
from emulators.x.model import PostSpec

__all__ = ["PostSpec", "XEmulator", "create_app"]
