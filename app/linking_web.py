"""The linking pages on the bridge's web app: the start page and X's way back.

The start page (``/link/start/<token>``) is what the bot sends privately. Opening it only shows
whom an account is about to be linked to; "Continue" spends the token, sets a cookie bound to the
attempt's ``state`` and sends the browser to X. The callback links only for the browser that
shows that cookie, so an X consent URL forwarded to someone else links nothing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from urllib.parse import urlsplit

from babel import negotiate_locale
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.desks.linking import WEB_ATTEMPT_TTL_S, LinkDesk, LinkFailed, StartPage
from bridge.text import i18n, messages

BROWSER_COOKIE = "reachable_link"
COOKIE_PATH = "/link/"
# The pages hold one-time tokens: never cached, never framed (no clickjacking of "Continue"),
# and the start link is not passed on to X in a Referer header. "same-origin", not
# "no-referrer": under no-referrer browsers send "Origin: null" with the page's own form, and
# "Continue" could not be told from another site's.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    # No form-action: browsers apply it to the redirect to X after "Continue" as well.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


def link_web_routes(desk: LinkDesk) -> Sequence[BaseRoute]:
    async def start_page(request: Request) -> Response:
        shown = await desk.start_page(request.path_params["token"])
        if shown is None:
            with i18n.speaking(_browser_locale(request)):
                return _failed(desk.expired(), status=410)
        with i18n.speaking(shown.locale):
            return _start_page(shown)

    async def start_continue(request: Request) -> Response:
        if not _from_own_page(request, desk.public_url):
            # A form on another site posting here would set our cookie in a victim's browser
            # and carry it to X without the victim ever seeing whom the link is for.
            with i18n.speaking(_browser_locale(request)):
                return _failed(messages.link_start_foreign(), status=403)
        with i18n.speaking(_browser_locale(request)):
            try:
                started = await desk.start_on_web(request.path_params["token"])
            except LinkFailed as failed:
                return _failed(failed.reason, status=410)
        response = RedirectResponse(started.authorize_url, status_code=303, headers=PAGE_HEADERS)
        response.set_cookie(
            BROWSER_COOKIE,
            started.browser_secret,
            max_age=WEB_ATTEMPT_TTL_S,
            path=COOKIE_PATH,
            secure=(desk.public_url or "").startswith("https://"),
            httponly=True,
            # Lax, not Strict: X sends the browser back with a top-level GET from x.com, and a
            # Strict cookie would stay home on that cross-site navigation. Lax still keeps it
            # off cross-site POSTs, frames and fetches.
            samesite="lax",
        )
        return response

    async def callback(request: Request) -> Response:
        network = request.path_params["network"]
        params = request.query_params
        # Until the attempt tells whose it is, the browser's own languages decide.
        with i18n.speaking(_browser_locale(request)):
            try:
                account, locale = await desk.finish_on_web(
                    network,
                    state=params.get("state", ""),
                    code=params.get("code"),
                    error=params.get("error"),
                    browser_secret=request.cookies.get(BROWSER_COOKIE),
                )
            except LinkFailed as failed:
                response = _failed(failed.reason, status=400)
            else:
                with i18n.speaking(locale):
                    done = messages.link_done(network=desk.named(network), handle=account.handle)
                    response = _page(messages.link_page_done_title(), [done])
        response.delete_cookie(BROWSER_COOKIE, path=COOKIE_PATH)
        return response

    return [
        Route("/link/start/{token}", start_page, methods=["GET"]),
        Route("/link/start/{token}", start_continue, methods=["POST"]),
        Route("/link/{network}/callback", callback, methods=["GET"]),
    ]


def _from_own_page(request: Request, public_url: str | None) -> bool:
    """Browsers name the page a form was sent from in ``Origin``; it must be the bridge's."""
    if public_url is None:
        return False
    own = urlsplit(public_url)
    return request.headers.get("origin") == f"{own.scheme}://{own.netloc}"


def _browser_locale(request: Request) -> str | None:
    """The best language Reachable speaks among the browser's Accept-Language ones."""
    wanted = [
        part.split(";")[0].strip().replace("-", "_")
        for part in request.headers.get("accept-language", "").split(",")
        if part.strip()
    ]
    return negotiate_locale(wanted, list(i18n.available_locales()))


def _start_page(shown: StartPage) -> HTMLResponse:
    network = shown.network
    whom = messages.link_start_whom(
        network=network, person=shown.person_name, chat=shown.chat, user_id=shown.user_id
    )
    go = html.escape(messages.link_start_continue(network=network))
    button = f'<form method="post"><button type="submit" id="continue">{go}</button></form>'
    return _page(
        messages.link_start_title(network=network),
        [whom, messages.link_start_warning(network=network, person=shown.person_name)],
        extra=button,
    )


def _failed(reason: str, *, status: int) -> HTMLResponse:
    return _page(messages.link_page_failed_title(), [reason], status=status)


def _page(title: str, paragraphs: list[str], *, extra: str = "", status: int = 200) -> HTMLResponse:
    """A plain page; every text is escaped here, ``extra`` must arrive escaped."""
    text = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs)
    body = (
        f'<!doctype html><html lang="{html.escape(i18n.current_locale())}"><head>'
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em">'
        f"<h1>{html.escape(title)}</h1>{text}{extra}</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)
