"""`reachable doctor` for X: the app's bearer token, each account's identity, its posting keys
and how much of the mentions rate limit is left."""

from __future__ import annotations

from adapters.x.client import XClient
from adapters.x.settings import x_settings
from bridge.config import AccountConfig
from bridge.errors import CredentialsRejected, PlatformError, RateLimited
from bridge.ops.findings import DoctorContext, Finding, fail, ok, warn
from bridge.text.i18n import _

HEADROOM_WARN = 0.1
# X's smallest page; the check reads at most this many posts.
SAMPLE_POSTS = 5


async def examine_x(context: DoctorContext) -> list[Finding]:
    settings = x_settings(context.settings)
    if settings.x_bearer_token is None:
        return [
            fail(
                "X",
                _("bearer token"),
                _("REACHABLE_X_BEARER_TOKEN is not set: mentions cannot be read"),
                _("copy the app's Bearer Token from the X developer portal (Keys and tokens)"),
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
    area, check = f"X @{account.handle}", _("credentials")
    try:
        user_id = await reader.user_id_for(account.handle)
    except CredentialsRejected as exc:
        return [
            fail(
                area,
                check,
                _("X refused the bearer token ({error})", error=exc.detail),
                _("set REACHABLE_X_BEARER_TOKEN to the app's current Bearer Token"),
            )
        ]
    except PlatformError as exc:
        return [fail(area, check, exc.detail, _("check the handle in the config file"))]
    findings = [ok(area, check, _("the bearer token reads @{handle}", handle=account.handle))]
    findings.append(await _identity(context, area, account, user_id))
    findings.append(await _posting(context, area, account))
    findings.append(await _headroom(reader, area, account, user_id))
    return findings


async def _identity(
    context: DoctorContext, area: str, account: AccountConfig, user_id: str
) -> Finding:
    check, handle = _("account id"), account.handle
    if account.user_id and account.user_id != user_id:
        return fail(
            area,
            check,
            _(
                "the config pins user_id {pinned}, but @{handle} is user {user}",
                pinned=account.user_id,
                handle=handle,
                user=user_id,
            ),
            _(
                "if the institution renamed its account, put its new handle in the config; "
                "otherwise correct user_id"
            ),
        )
    known = await context.store.platform_user_id("x", account.key) if context.store else None
    if known and known != user_id:
        return warn(
            area,
            check,
            _(
                "Reachable has been reading user {known}, but @{handle} is now user {user}: "
                "the handle moved to another account",
                known=known,
                handle=handle,
                user=user_id,
            ),
            _("put the account's current handle in the config, or pin user_id"),
        )
    return ok(area, check, _("@{handle} is user {user}", handle=handle, user=user_id))


async def _posting(context: DoctorContext, area: str, account: AccountConfig) -> Finding:
    settings, check = x_settings(context.settings), _("posting")
    keys = settings.x_account_tokens.get(account.key)
    if keys is None or settings.x_consumer_key is None or settings.x_consumer_secret is None:
        tokens = f'{{"{account.key}": {{"access_token": ..., "access_token_secret": ...}}}}'
        return warn(
            area,
            check,
            _(
                "no keys to post as @{handle}: staff can answer only as themselves",
                handle=account.handle,
            ),
            _(
                "set REACHABLE_X_CONSUMER_KEY/SECRET and REACHABLE_X_ACCOUNT_TOKENS={tokens}",
                tokens=tokens,
            ),
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
            handle, _user_id = await poster.me()
        except PlatformError as exc:
            return fail(
                area,
                check,
                _("X refused the posting keys ({error})", error=exc.detail),
                _(
                    "renew the access token and secret of @{handle} (REACHABLE_X_ACCOUNT_TOKENS) "
                    "and check the consumer keys",
                    handle=account.handle,
                ),
            )
    if handle.lower() != account.handle.lower():
        return fail(
            area,
            check,
            _(
                "the posting keys act as @{actual}, not @{handle}",
                actual=handle,
                handle=account.handle,
            ),
            _("use the access token and secret issued to @{handle}", handle=account.handle),
        )
    return ok(area, check, _("the posting keys act as @{handle}", handle=handle))


async def _headroom(reader: XClient, area: str, account: AccountConfig, user_id: str) -> Finding:
    check = _("rate limit")
    try:
        page = await reader.mentions_page(
            user_id=user_id, account_key=account.key, since_id=None, max_results=SAMPLE_POSTS
        )
    except RateLimited as exc:
        seconds = f"{exc.retry_after:.0f}"
        return fail(
            area,
            check,
            _("the mentions rate limit is spent for {seconds} s", seconds=seconds),
            _("wait for the reset, or stop other tools reading the same app's mentions"),
        )
    except PlatformError as exc:
        said = _("reading mentions failed: {error}", error=exc.detail)
        return fail(area, check, said, _("see the detail"))
    limit, remaining = page.budget.limit, page.budget.remaining
    if limit is None or remaining is None:
        return ok(area, check, _("X sent no rate-limit headers"))
    said = _(
        "{remaining} of {limit} mention reads left in this window",
        remaining=remaining,
        limit=limit,
    )
    if remaining < limit * HEADROOM_WARN:
        return warn(
            area,
            check,
            said,
            _("another tool may be reading with the same app; poll less often (poll_every)"),
        )
    return ok(area, check, said)
