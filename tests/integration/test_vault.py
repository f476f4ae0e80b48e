"""Linked accounts' tokens: sealed in Redis, refreshed once across processes, single-use tickets."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import SecretStr

from bridge.errors import ReachableError
from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from bridge.store.vault import (
    AccountTaken,
    Credentials,
    LinkedAccount,
    Sealer,
    TokenVault,
    new_linked_account,
)

KEY = SecretStr(Sealer.new_key())


def oauth2(access: str, refresh: str, *, expires_in: float = 7200) -> Credentials:
    return Credentials(
        method="oauth2",
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh),
        expires_at=time.time() + expires_in,
    )


async def link(vault: TokenVault, credentials: Credentials) -> None:
    account = new_linked_account(
        person="rina", network="x", handle="rina_personal", user_id="42", method="oauth2"
    )
    await vault.save(account, credentials)


async def all_redis_values(store: Store) -> str:
    """Every key and value in the database, as text: what a stolen backup would show."""
    dump = []
    async for key in store.redis.scan_iter(match="*"):
        kind = await store.redis.type(key)
        if kind == "string":
            dump.append(f"{key}={await store.redis.get(key)}")
        elif kind == "hash":
            dump.append(f"{key}={await store.redis.hgetall(key)}")
    return "\n".join(dump)


def test_a_missing_or_malformed_key_is_a_clear_error() -> None:
    with pytest.raises(ReachableError, match=r"REACHABLE_TOKEN_KEY is not set.*reachable keygen"):
        Sealer(None)
    with pytest.raises(ReachableError, match="not a valid key"):
        Sealer(SecretStr("short"))


async def test_tokens_are_sealed_at_rest_and_read_back(store: Store) -> None:
    vault = TokenVault(store, Sealer(KEY))
    await link(vault, oauth2("access-secret-AAA", "refresh-secret-BBB"))
    await vault.begin("web:x:state1", {"verifier": "verifier-secret-CCC"}, ttl_s=60)

    dump = await all_redis_values(store)
    assert "rina_personal" in dump
    for secret in ("access-secret-AAA", "refresh-secret-BBB", "verifier-secret-CCC"):
        assert secret not in dump
    credentials = await vault.credentials("rina", "x")
    assert credentials is not None
    assert credentials.access_token.get_secret_value() == "access-secret-AAA"
    assert "access-secret-AAA" not in repr(credentials)


async def test_a_different_key_cannot_open_the_tokens(store: Store) -> None:
    await link(TokenVault(store, Sealer(KEY)), oauth2("a", "r"))
    other = TokenVault(store, Sealer(SecretStr(Sealer.new_key())))
    with pytest.raises(ReachableError, match="key changed"):
        await other.credentials("rina", "x")


async def test_a_ticket_works_once(store: Store) -> None:
    vault = TokenVault(store, Sealer(KEY))
    await vault.begin("web:x:s", {"person": "rina"}, ttl_s=60)
    assert await vault.take("web:x:s") == {"person": "rina"}
    assert await vault.take("web:x:s") is None


async def test_concurrent_processes_refresh_a_rotating_token_once(redis_url: str) -> None:
    """Ten 'processes' (own connections) find the token about to expire at the same moment."""
    clients = [connect(redis_url) for _ in range(10)]
    vaults = [TokenVault(Store(c, Keys("test")), Sealer(KEY)) for c in clients]
    await link(vaults[0], oauth2("old-access", "refresh-1", expires_in=10))
    refreshes: list[str] = []

    async def refresh(current: Credentials) -> Credentials:
        assert current.refresh_token is not None
        used = current.refresh_token.get_secret_value()
        refreshes.append(used)
        await asyncio.sleep(0.2)
        return oauth2(f"access-after-{used}", f"{used}-next")

    try:
        results = await asyncio.gather(
            *(v.usable_credentials("rina", "x", refresh) for v in vaults)
        )
    finally:
        for client in clients:
            await client.aclose()
    assert refreshes == ["refresh-1"]
    assert {r.access_token.get_secret_value() for r in results if r} == {"access-after-refresh-1"}


async def test_a_rejected_token_is_refreshed_unless_someone_already_did(store: Store) -> None:
    vault = TokenVault(store, Sealer(KEY))
    stale = oauth2("stale", "r1")
    await link(vault, stale)
    calls = 0

    async def refresh(current: Credentials) -> Credentials:
        nonlocal calls
        calls += 1
        return oauth2("fresh", "r2")

    fresh = await vault.usable_credentials("rina", "x", refresh, rejected=stale)
    assert fresh is not None and fresh.access_token.get_secret_value() == "fresh"
    again = await vault.usable_credentials("rina", "x", refresh, rejected=stale)
    assert again == fresh
    assert calls == 1


async def test_unlinking_during_a_refresh_stays_unlinked(store: Store) -> None:
    vault = TokenVault(store, Sealer(KEY))
    await link(vault, oauth2("a", "r", expires_in=5))

    async def refresh(current: Credentials) -> Credentials:
        await vault.remove("rina", "x")
        return oauth2("b", "r2")

    await vault.usable_credentials("rina", "x", refresh)
    assert await vault.linked("rina", "x") is None
    assert await vault.credentials("rina", "x") is None


def account_of(person: str, *, handle: str, user_id: str) -> LinkedAccount:
    return new_linked_account(
        person=person, network="x", handle=handle, user_id=user_id, method="oauth2"
    )


async def test_one_x_account_is_linked_to_one_person_at_a_time(store: Store) -> None:
    vault = TokenVault(store, Sealer(KEY))
    await vault.save(account_of("rina", handle="rina_personal", user_id="42"), oauth2("a", "b"))

    with pytest.raises(AccountTaken) as taken:
        await vault.save(account_of("eve", handle="rina_personal", user_id="42"), oauth2("c", "d"))
    assert taken.value.owner == "rina"
    assert await vault.linked("eve", "x") is None
    # Rina linking it again, or linking another account of hers, is fine; the one she leaves
    # is free for someone else.
    await vault.save(account_of("rina", handle="rina_personal", user_id="42"), oauth2("e", "f"))
    await vault.save(account_of("rina", handle="rina_work", user_id="43"), oauth2("g", "h"))
    await vault.save(account_of("eve", handle="rina_personal", user_id="42"), oauth2("i", "j"))
    assert [(a.person, a.handle) for a in await vault.all_linked("x")] == [
        ("eve", "rina_personal"),
        ("rina", "rina_work"),
    ]
    # Unlinking frees it too.
    await vault.remove("eve", "x")
    await vault.save(account_of("sari", handle="rina_personal", user_id="42"), oauth2("k", "l"))


async def test_a_link_made_before_owners_were_kept_still_holds_its_account(store: Store) -> None:
    vault = TokenVault(store, Sealer(KEY))
    await vault.save(account_of("rina", handle="rina_personal", user_id="42"), oauth2("a", "b"))
    await store.redis.delete(store.keys.linked_owner("x", "42"))  # as stored by older versions

    with pytest.raises(AccountTaken):
        await vault.save(account_of("eve", handle="rina_personal", user_id="42"), oauth2("c", "d"))
    await vault.save(account_of("rina", handle="rina_personal", user_id="42"), oauth2("e", "f"))
    assert await store.redis.get(store.keys.linked_owner("x", "42")) == "rina"
