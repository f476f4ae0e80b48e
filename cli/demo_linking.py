"""The demo's pre-linked personal accounts, linked the way a person links one.

For each ``demo.linked_accounts`` entry the demo asks for a link as that person, approves
Reachable on the X emulator's PIN page as the given handle, and hands the PIN back, so the
tokens are real emulator tokens, sealed in the vault like any other.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx

from app import registry
from app.config import AppConfig
from bridge.desks.linking import ChatUser, LinkDesk
from bridge.errors import ReachableError
from bridge.settings import Settings
from bridge.store.store import Store
from bridge.store.vault import Sealer, TokenVault

PIN_ON_PAGE = re.compile(r'<code id="pin">(\d+)</code>')


async def link_demo_accounts(settings: Settings, config: AppConfig, store: Store) -> list[str]:
    """Link every pre-linked account; returns "person → @handle" lines to show."""
    wanted = config.demo.linked_accounts if config.demo else {}
    if not wanted:
        return []
    linker = registry.LINKERS["x"](settings)
    vault = TokenVault(store, Sealer(settings.token_key))
    desk = LinkDesk(vault, {"x": linker}, public_url=None, networks=config.network_platforms)
    people = {p.key: p for p in config.people}
    done = []
    async with httpx.AsyncClient(timeout=10) as http:
        for person_key, handle in wanted.items():
            person = people[person_key]
            offer = await desk.offer(
                person, asker=ChatUser(chat="demo", user_id=person.key, where="demo")
            )
            if offer.pin_url is None:
                raise ReachableError("the demo links accounts with a PIN, but none was offered")
            token = parse_qs(urlsplit(offer.pin_url).query)["oauth_token"][0]
            page = await http.post(
                offer.pin_url.split("?", 1)[0], data={"oauth_token": token, "username": handle}
            )
            found = PIN_ON_PAGE.search(page.text)
            if found is None:
                raise ReachableError(f"the X emulator showed no PIN for @{handle}: {page.text}")
            account = await desk.finish_with_pin(person, found.group(1), chat="demo")
            done.append(f"{person.name or person.key} → @{account.handle}")
    return done
