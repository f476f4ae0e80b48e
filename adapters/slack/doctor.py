"""`reachable doctor` for Slack: the bot token and its scopes, the bot in each destination
channel, and the way Slack reaches the bridge (Socket Mode's app token, or HTTP)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bridge.config import SlackDestination
from bridge.doctor import DoctorContext, Finding, fail, ok, warn

# What the bridge calls: chat.postMessage/update/postEphemeral (chat:write), conversations.info
# (channels:read), conversations.history/replies (channels:history), users.info (users:read),
# and the /reachable command (commands). Private channels need the groups: pair as well.
PUBLIC_SCOPES = ("chat:write", "channels:read", "channels:history", "users:read", "commands")
PRIVATE_SCOPES = ("groups:read", "groups:history")
AREA = "Slack"


async def examine_slack(context: DoctorContext) -> list[Finding]:
    settings = context.settings
    if settings.slack_bot_token is None:
        return [
            fail(
                AREA,
                "bot token",
                "REACHABLE_SLACK_BOT_TOKEN is not set",
                "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
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
        return [
            fail(
                AREA,
                "bot token",
                f"Slack refused the bot token ({_error(exc)})",
                "set REACHABLE_SLACK_BOT_TOKEN to the app's current Bot User OAuth Token "
                "(xoxb-…); reinstall the app if it was revoked",
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
    team, user = str(data.get("team_id", "")), str(data.get("user", "the bot"))
    expected = context.settings.slack_team_id
    if expected and team != expected:
        return fail(
            AREA,
            "bot token",
            f"the token belongs to workspace {team}, but REACHABLE_SLACK_TEAM_ID is {expected}",
            "use the token of the app installed in the right workspace, or fix the team id",
        )
    return ok(AREA, "bot token", f"@{user} in {data.get('team', team)} ({team})")


def _scopes(headers: dict[str, str], channels: list[SlackDestination]) -> Finding:
    granted_header = next((v for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    if granted_header is None:
        return warn(
            AREA,
            "scopes",
            "Slack did not say which scopes the token has",
            f"check by hand that the bot has {', '.join(PUBLIC_SCOPES)}",
        )
    granted = {s.strip() for s in granted_header.split(",") if s.strip()}
    needed = list(PUBLIC_SCOPES)
    if any(d.channel.startswith("G") for d in channels):
        needed += PRIVATE_SCOPES
    missing = [scope for scope in needed if scope not in granted]
    if missing:
        return fail(
            AREA,
            "scopes",
            f"the bot token lacks {', '.join(missing)}",
            "add them under OAuth & Permissions → Bot Token Scopes, then reinstall the app",
        )
    return ok(AREA, "scopes", f"has {', '.join(needed)}")


async def _channel(client: AsyncWebClient, destination: SlackDestination) -> Finding:
    check = f"channel {destination.channel}"
    try:
        found = await client.conversations_info(channel=destination.channel)
    except SlackApiError as exc:
        error = _error(exc)
        if error == "channel_not_found":
            return fail(
                AREA,
                check,
                "no such channel, or a private one the bot was not invited to",
                "check the channel id in the config (channel details → bottom of About); "
                "for a private channel, /invite the bot there",
            )
        return fail(AREA, check, f"Slack answered {error}", "see the detail")
    channel = found.get("channel") or {}
    name = f"#{channel.get('name', destination.channel)}"
    if channel.get("is_archived"):
        return fail(AREA, check, f"{name} is archived", "unarchive it or choose another channel")
    if not channel.get("is_member"):
        return fail(
            AREA,
            check,
            f"the bot is not a member of {name}: mirrors cannot be posted there",
            f"type /invite @{await _bot_name(client)} in {name}",
        )
    return ok(AREA, check, f"the bot is in {name}")


async def _bot_name(client: AsyncWebClient) -> str:
    try:
        return str((await client.auth_test()).get("user", "reachable"))
    except SlackApiError:
        return "reachable"


async def _way_in(context: DoctorContext, client: AsyncWebClient) -> Finding:
    settings = context.settings
    if settings.slack_mode == "socket":
        if settings.slack_app_token is None:
            return fail(
                AREA,
                "socket mode",
                "REACHABLE_SLACK_MODE is socket, but REACHABLE_SLACK_APP_TOKEN is not set",
                "create an app-level token with connections:write (Basic Information → "
                "App-Level Tokens)",
            )
        try:
            await client.apps_connections_open(
                app_token=settings.slack_app_token.get_secret_value()
            )
        except SlackApiError as exc:
            return fail(
                AREA,
                "socket mode",
                f"Slack refused to open a connection with the app token ({_error(exc)})",
                "use an app-level token (xapp-…) with connections:write, and turn Socket Mode "
                "on in the app's settings",
            )
        return ok(AREA, "socket mode", "the app token opens a Socket Mode connection")
    if settings.slack_signing_secret is None:
        return fail(
            AREA,
            "http mode",
            "REACHABLE_SLACK_SIGNING_SECRET is not set: every request from Slack is refused",
            "copy the Signing Secret from the app's Basic Information page",
        )
    return ok(
        AREA,
        "http mode",
        "signing secret set; Slack's Request URLs must point at <this bridge>/slack/events",
    )


def _error(exc: SlackApiError) -> str:
    data = exc.response.data
    return str(data.get("error", "unknown_error")) if isinstance(data, dict) else "http_error"
