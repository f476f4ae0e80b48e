"""`reachable doctor` for Slack: the bot token and its scopes, the bot in each destination
channel, and the way Slack reaches the bridge (Socket Mode's app token, or HTTP)."""

from __future__ import annotations

import math

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackDestination
from adapters.slack.errors import rate_limit_wait
from adapters.slack.settings import slack_settings
from bridge.ops.findings import DoctorContext, Finding, fail, ok, warn
from bridge.text.i18n import _

# What the bridge calls: chat.postMessage/update/postEphemeral (chat:write), conversations.info
# (channels:read), conversations.history/replies (channels:history), users.info (users:read),
# and the /reachable command (commands). Private channels need the groups: pair as well.
PUBLIC_SCOPES = ("chat:write", "channels:read", "channels:history", "users:read", "commands")
PRIVATE_SCOPES = ("groups:read", "groups:history")
AREA = "Slack"


async def examine_slack(context: DoctorContext) -> list[Finding]:
    settings, check = slack_settings(context.settings), _("bot token")
    if settings.slack_bot_token is None:
        return [
            fail(
                AREA,
                check,
                _("REACHABLE_SLACK_BOT_TOKEN is not set"),
                _("copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"),
            )
        ]
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url.rstrip("/") + "/",
        timeout=15,
    )
    try:
        identity = await client.auth_test()
    except SlackApiError as exc:
        if (wait := rate_limit_wait(exc)) is not None:
            return [_slowed_down(check, wait)]
        return [
            fail(
                AREA,
                check,
                _("Slack refused the bot token ({error})", error=_error(exc)),
                _(
                    "set REACHABLE_SLACK_BOT_TOKEN to the app's current Bot User OAuth Token "
                    "(xoxb-…); reinstall the app if it was revoked"
                ),
            )
        ]
    findings = [_workspace(context, identity.data if isinstance(identity.data, dict) else {})]
    channels = [d for d in context.config.destinations.values() if isinstance(d, SlackDestination)]
    findings.append(_scopes(identity.headers, channels))
    for destination in channels:
        findings.append(await _channel(client, destination))
    findings.append(await _way_in(context, client))
    return findings


def _workspace(context: DoctorContext, data: dict[str, object]) -> Finding:
    team, user = str(data.get("team_id", "")), str(data.get("user", _("the bot")))
    expected, check = slack_settings(context.settings).slack_team_id, _("bot token")
    if expected and team != expected:
        return fail(
            AREA,
            check,
            _(
                "the token belongs to workspace {team}, but REACHABLE_SLACK_TEAM_ID is {expected}",
                team=team,
                expected=expected,
            ),
            _("use the token of the app installed in the right workspace, or fix the team id"),
        )
    said = _(
        "@{user} in {workspace} ({team})", user=user, workspace=data.get("team", team), team=team
    )
    return ok(AREA, check, said)


def _scopes(headers: dict[str, str], channels: list[SlackDestination]) -> Finding:
    granted_header = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    check = _("scopes")
    if granted_header is None:
        return warn(
            AREA,
            check,
            _("Slack did not say which scopes the token has"),
            _("check by hand that the bot has {scopes}", scopes=", ".join(PUBLIC_SCOPES)),
        )
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    needed = list(PUBLIC_SCOPES)
    if any(d.channel.startswith("G") for d in channels):
        needed += PRIVATE_SCOPES
    missing = [scope for scope in needed if scope not in granted]
    if missing:
        return fail(
            AREA,
            check,
            _("the bot token lacks {scopes}", scopes=", ".join(missing)),
            _("add them under OAuth & Permissions → Bot Token Scopes, then reinstall the app"),
        )
    return ok(AREA, check, _("has {scopes}", scopes=", ".join(needed)))


async def _channel(client: AsyncWebClient, destination: SlackDestination) -> Finding:
    check = _("channel {channel}", channel=destination.channel)
    try:
        found = await client.conversations_info(channel=destination.channel)
    except SlackApiError as exc:
        if (wait := rate_limit_wait(exc)) is not None:
            return _slowed_down(check, wait)
        error = _error(exc)
        if error == "channel_not_found":
            return fail(
                AREA,
                check,
                _("no such channel, or a private one the bot was not invited to"),
                _(
                    "check the channel id in the config (channel details → bottom of About); "
                    "for a private channel, /invite the bot there"
                ),
            )
        return fail(AREA, check, _("Slack answered {error}", error=error), _("see the detail"))
    channel = found.get("channel") or {}
    name = f"#{channel.get('name', destination.channel)}"
    if channel.get("is_archived"):
        return fail(
            AREA,
            check,
            _("{channel} is archived", channel=name),
            _("unarchive it or choose another channel"),
        )
    if not channel.get("is_member"):
        return fail(
            AREA,
            check,
            _("the bot is not a member of {channel}: mirrors cannot be posted there", channel=name),
            _(
                "type /invite @{bot} in {channel}",
                bot=await _bot_name(client),
                channel=name,
            ),
        )
    return ok(AREA, check, _("the bot is in {channel}", channel=name))


async def _bot_name(client: AsyncWebClient) -> str:
    try:
        return str((await client.auth_test()).get("user", "reachable"))
    except SlackApiError:
        return "reachable"


async def _way_in(context: DoctorContext, client: AsyncWebClient) -> Finding:
    settings = slack_settings(context.settings)
    if settings.slack_mode == "socket":
        return await _socket_mode(context, client)
    check = _("http mode")
    if settings.slack_signing_secret is None:
        return fail(
            AREA,
            check,
            _("REACHABLE_SLACK_SIGNING_SECRET is not set: every request from Slack is refused"),
            _("copy the Signing Secret from the app's Basic Information page"),
        )
    return ok(
        AREA,
        check,
        _("signing secret set; Slack's Request URLs must point at <this bridge>/slack/events"),
    )


async def _socket_mode(context: DoctorContext, client: AsyncWebClient) -> Finding:
    settings, check = slack_settings(context.settings), _("socket mode")
    if settings.slack_app_token is None:
        return fail(
            AREA,
            check,
            _("REACHABLE_SLACK_MODE is socket, but REACHABLE_SLACK_APP_TOKEN is not set"),
            _(
                "create an app-level token with connections:write (Basic Information → "
                "App-Level Tokens)"
            ),
        )
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        return fail(
            AREA,
            check,
            _(
                "Slack refused to open a connection with the app token ({error})",
                error=_error(exc),
            ),
            _(
                "use an app-level token (xapp-…) with connections:write, and turn Socket Mode "
                "on in the app's settings"
            ),
        )
    return ok(AREA, check, _("the app token opens a Socket Mode connection"))


def _slowed_down(check: str, wait: float) -> Finding:
    """Slack asked for a pause: nothing is known to be wrong, but nothing could be checked."""
    return fail(
        AREA,
        check,
        _(
            "not checked: Slack asked Reachable to wait {seconds} s before calling again",
            seconds=max(1, math.ceil(wait)),
        ),
        _("run `reachable doctor` again after that wait"),
    )


def _error(exc: SlackApiError) -> str:
    data = exc.response.data
    return str(data.get("error", "unknown_error")) if isinstance(data, dict) else "http_error"
