"""`reachable doctor` for X: the app's bearer token, each account's identity, its posting keys
and how much of the mentions rate limit is left."""

from __future__ import annotations

from adapters.x.client import XClient
from bridge.config import AccountConfig
from bridge.doctor import DoctorContext, Finding, fail, ok, warn
from bridge.errors import CredentialsRejected, PlatformError, RateLimited

HEADROOM_WARN = 0.1
# X's smallest page; the check reads at most this many posts.
SAMPLE_POSTS = 5


async def examine_x(context: DoctorContext) -> list[Finding]:
    settings = context.settings
    if settings.x_bearer_token is None:
        return [
            fail(
                "X",
                "bearer token",
                "REACHABLE_X_BEARER_TOKEN is not set: mentions cannot be read",
                "copy the app's Bearer Token from the X developer portal (Keys and tokens)",
            )
        ]
    findings: list[Finding] = []
    async with XClient(
        bearer_token=settings.x_bearer_token.get_secret_value(), api_url=settings.x_api_url
    ) as reader:
        for account in [a for a in context.config.accounts if a.network == "x"]:
            findings += await _account(context, reader, account)
    return findings


async def _account(
    context: DoctorContext, reader: XClient, account: AccountConfig
) -> list[Finding]:
    area = f"X @{account.handle}"
    try:
        user_id = await reader.user_id_for(account.handle)
    except CredentialsRejected as exc:
        return [
            fail(
                area,
                "credentials",
                f"X refused the bearer token ({exc.detail})",
                "set REACHABLE_X_BEARER_TOKEN to the app's current Bearer Token",
            )
        ]
    except PlatformError as exc:
        return [fail(area, "credentials", exc.detail, "check the handle in the config file")]
    findings = [ok(area, "credentials", f"the bearer token reads @{account.handle}")]
    findings.append(await _identity(context, area, account, user_id))
    findings.append(await _posting(context, area, account))
    findings.append(await _headroom(reader, area, account, user_id))
    return findings


async def _identity(
    context: DoctorContext, area: str, account: AccountConfig, user_id: str
) -> Finding:
    if account.user_id and account.user_id != user_id:
        return fail(
            area,
            "account id",
            f"the config pins user_id {account.user_id}, but @{account.handle} is user {user_id}",
            "if the institution renamed its account, put its new handle in the config; "
            "otherwise correct user_id",
        )
    known = await context.store.platform_user_id("x", account.key) if context.store else None
    if known and known != user_id:
        return warn(
            area,
            "account id",
            f"Reachable has been reading user {known}, but @{account.handle} is now user "
            f"{user_id}: the handle moved to another account",
            "put the account's current handle in the config, or pin user_id",
        )
    return ok(area, "account id", f"@{account.handle} is user {user_id}")


async def _posting(context: DoctorContext, area: str, account: AccountConfig) -> Finding:
    settings = context.settings
    keys = settings.x_account_tokens.get(account.key)
    if keys is None or settings.x_consumer_key is None or settings.x_consumer_secret is None:
        return warn(
            area,
            "posting",
            f"no keys to post as @{account.handle}: staff can answer only as themselves",
            f'set REACHABLE_X_CONSUMER_KEY/SECRET and REACHABLE_X_ACCOUNT_TOKENS={{"{account.key}"'
            ': {"access_token": ..., "access_token_secret": ...}}',
        )
    bearer = settings.x_bearer_token
    async with XClient(
        bearer_token=bearer.get_secret_value() if bearer else "",
        api_url=settings.x_api_url,
        consumer_key=settings.x_consumer_key.get_secret_value(),
        consumer_secret=settings.x_consumer_secret.get_secret_value(),
        access_token=keys.access_token.get_secret_value(),
        access_token_secret=keys.access_token_secret.get_secret_value(),
    ) as poster:
        try:
            handle, _ = await poster.me()
        except PlatformError as exc:
            return fail(
                area,
                "posting",
                f"X refused the posting keys ({exc.detail})",
                f"renew the access token and secret of @{account.handle} "
                "(REACHABLE_X_ACCOUNT_TOKENS) and check the consumer keys",
            )
    if handle.lower() != account.handle.lower():
        return fail(
            area,
            "posting",
            f"the posting keys act as @{handle}, not @{account.handle}",
            f"use the access token and secret issued to @{account.handle}",
        )
    return ok(area, "posting", f"the posting keys act as @{handle}")


async def _headroom(reader: XClient, area: str, account: AccountConfig, user_id: str) -> Finding:
    try:
        page = await reader.mentions_page(
            user_id=user_id, account_key=account.key, since_id=None, max_results=SAMPLE_POSTS
        )
    except RateLimited as exc:
        return fail(
            area,
            "rate limit",
            f"the mentions rate limit is spent for {exc.retry_after:.0f} s",
            "wait for the reset, or stop other tools reading the same app's mentions",
        )
    except PlatformError as exc:
        return fail(area, "rate limit", f"reading mentions failed: {exc.detail}", "see the detail")
    limit, remaining = page.budget.limit, page.budget.remaining
    if limit is None or remaining is None:
        return ok(area, "rate limit", "X sent no rate-limit headers")
    said = f"{remaining} of {limit} mention reads left in this window"
    if remaining < limit * HEADROOM_WARN:
        return warn(
            area,
            "rate limit",
            said,
            "another tool may be reading with the same app; poll less often (poll_every)",
        )
    return ok(area, "rate limit", said)
