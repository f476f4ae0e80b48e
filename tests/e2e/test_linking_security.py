"""Linking a personal X account cannot be turned against anyone.

The attack this guards against: Eve asks for a link and gets Rina to approve it on X, so that
Rina's account is linked to Eve and Eve's "Reply as myself" posts as @rina_personal. Each person
has a browser of their own (own cookie jar) against the bridge and the X emulator's pages.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import httpx
import redis

from tests.e2e.conftest import CONFIG, Deployment, Emulators, wait_for
from tests.e2e.test_mentions_to_slack import settle
from tests.e2e.test_personal_replies import (
    RINA_TELEGRAM,
    consent,
    link_offer_in_slack,
    link_on_the_web,
    posts_by,
    private_chat,
    say_privately,
    slack_ephemerals,
    start_url_in,
)
from tests.e2e.test_replies import open_reply_form, submit
from tests.e2e.web_browser import Browser

EVE_TELEGRAM = 6666
WITH_EVE = CONFIG.replace(
    "people:\n", "people:\n  - {key: eve, name: Eve, slack: U0EVE, telegram: 6666}\n"
)


def start_with_eve(deployment: Deployment) -> Emulators:
    """Eve is on the staff list too: the attacker is a colleague."""
    deployment.config.write_text(WITH_EVE)
    deployment.start()
    return deployment.emulators


def link_offer_on_telegram(emulators: Emulators, user_id: int) -> str:
    def offers() -> list[str]:
        return [t for t in private_chat(emulators, user_id) if "oauth_token=" in t]

    earlier = len(offers())
    say_privately(emulators, user_id, "/link")
    return str(wait_for(lambda: offers()[earlier:], what="the link offer in private")[-1])


def pin_url_in(offer: str) -> str:
    found = re.search(r"(http://\S+/oauth/authorize\?oauth_token=\S+)", offer)
    assert found is not None, offer
    return found[1]


def pin_for(emulators: Emulators, pin_url: str, username: str) -> str:
    page = consent(emulators, pin_url, username)
    found = re.search(r'<code id="pin">(\d+)</code>', page.text)
    assert found is not None, page.text
    return found[1]


def audit_lines(deployment: Deployment) -> list[str]:
    """``reachable audit`` lines without their time stamp."""
    return [line.split(" | ", 1)[1] for line in deployment.audit().splitlines() if " | " in line]


def web_link_offer_in_slack(emulators: Emulators, user: str) -> str:
    """The bot's private answer to ``/reachable link`` that has a link to open in a browser
    (a start page on the bridge, or, as before it existed, X's consent page)."""

    def offers() -> list[str]:
        return [
            t
            for t in slack_ephemerals(emulators, user)
            if "/link/start/" in t or "/i/oauth2/authorize" in t
        ]

    earlier = len(offers())
    emulators.slash(user, "link")
    return str(wait_for(lambda: offers()[earlier:], what="the link offer")[-1])


def consent_url_from(browser: Browser, offer: str) -> str:
    """Where the link the bot sent leads the browser: X's consent page."""
    web = re.search(r"(http://\S+/i/oauth2/authorize\S+)", offer)
    return web[1] if web else browser.continue_to_x(start_url_in(offer))


def test_a_link_finished_in_someone_elses_browser_links_nothing(
    deployment: Deployment, browsers: Callable[[], Browser]
) -> None:
    emulators = start_with_eve(deployment)
    emulators.post("warga_budi", "@humas_demo jalan rusak di depan pasar")
    message = settle(deployment, 1)[0]
    eve, rina = browsers(), browsers()

    # Eve asks for a link and sends the X page it leads to on to Rina, who approves there.
    consent_url = consent_url_from(eve, web_link_offer_in_slack(emulators, "U0EVE"))
    callback = rina.approve_on_x(consent_url, "rina_personal")
    page = rina.open(callback)
    assert page.status_code == 400, page.text
    assert "finished in a different browser from the one it was started in" in page.text
    # Rina sends the address she landed on back to Eve: it is spent.
    assert eve.open(callback).status_code == 400

    # Eve forwards a start link itself: before anything happens, it says whom it is for.
    forwarded = rina.open(start_url_in(link_offer_in_slack(emulators, "U0EVE")))
    assert "You are linking an account on X to Eve (Slack U0EVE)." in forwarded.text
    assert "If you are not Eve, or someone sent you this link, close this page." in forwarded.text

    # Nothing is linked to Eve: "Reply as myself" tells her to link, and nothing is posted.
    view = open_reply_form(emulators, "U0EVE", message, action="reply_personal")
    assert "not linked yet" in str(view["blocks"])
    assert submit(emulators, "U0EVE", view, "Ini Rina (sebenarnya Eve).")["view"] == "kept_open"
    lines = audit_lines(deployment)
    assert "link-refused | eve via slack | finished in a browser that did not start it" in lines
    assert not [line for line in lines if line.startswith("linked |")]
    assert posts_by(emulators, "rina_personal") == []


def test_the_way_back_from_x_needs_the_cookie_of_the_browser_that_started(
    deployment: Deployment, browsers: Callable[[], Browser]
) -> None:
    emulators = deployment.emulators
    deployment.start()
    rina = browsers()

    started = rina.press_continue(start_url_in(link_offer_in_slack(emulators, "U0RINA")))
    cookie = started.headers["set-cookie"]
    assert cookie.startswith("reachable_link=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/link/" in cookie
    assert "Max-Age=600" in cookie and "Secure" not in cookie  # the bridge here is plain http
    callback = rina.approve_on_x(started.headers["location"], "rina_personal")
    no_cookie = browsers().open(callback)
    assert no_cookie.status_code == 400 and "different browser" in no_cookie.text

    consent_url = rina.continue_to_x(start_url_in(link_offer_in_slack(emulators, "U0RINA")))
    callback = rina.approve_on_x(consent_url, "rina_personal")
    forger = browsers()
    forger.http.cookies.set("reachable_link", "a-guess", domain="127.0.0.1", path="/link/")
    wrong_cookie = forger.open(callback)
    assert wrong_cookie.status_code == 400 and "different browser" in wrong_cookie.text
    refusals = [line for line in audit_lines(deployment) if line.startswith("link-refused")]
    assert len(refusals) == 2

    # In the browser that started it, the same steps link.
    consent_url = rina.continue_to_x(start_url_in(link_offer_in_slack(emulators, "U0RINA")))
    page = rina.open(rina.approve_on_x(consent_url, "rina_personal"))
    assert page.status_code == 200 and "@rina_personal is linked" in page.text
    assert "reachable_link" not in rina.link_cookies(), "the cookie is spent with the link"


def test_a_start_link_works_once_and_only_from_its_own_page(
    deployment: Deployment, redis_url: str, browsers: Callable[[], Browser]
) -> None:
    emulators = deployment.emulators
    deployment.start()
    rina = browsers()
    start_url = start_url_in(link_offer_in_slack(emulators, "U0RINA"))

    # Looking at it (or a chat's link preview doing so) does not spend it.
    assert rina.open(start_url).status_code == 200
    assert rina.open(start_url).status_code == 200
    # A form on another site posting to it starts nothing and spends nothing.
    forged = httpx.post(start_url, headers={"Origin": "https://elsewhere.example"})
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    assert "did not come from Reachable's linking page" in html.unescape(forged.text)

    rina.continue_to_x(start_url)
    for used in (rina.open(start_url), rina.press_continue_again(start_url)):
        assert used.status_code == 410
        assert "This link has expired or was already used." in used.text

    # Ten minutes later, an unused start link is gone too.
    late_url = start_url_in(link_offer_in_slack(emulators, "U0RINA"))
    key = f"e2e:link-attempt:start:{late_url.rsplit('/', 1)[1]}"
    with redis.Redis.from_url(redis_url) as r:
        assert r.ttl(key) in range(590, 601)
        r.pexpire(key, 1)
        wait_for(lambda: not r.exists(key), what="the start link to expire")
    late = rina.open(late_url)
    assert late.status_code == 410 and "expired or was already used" in late.text
    assert "You are linking" not in late.text


def test_an_x_account_linked_to_one_person_cannot_be_linked_to_another(
    deployment: Deployment, browsers: Callable[[], Browser]
) -> None:
    emulators = start_with_eve(deployment)
    link_on_the_web(emulators, "U0RINA", "rina_personal")

    # Eve gets @rina_personal to approve her link (Rina's X session left open, say).
    eve = browsers()
    consent_url = eve.continue_to_x(start_url_in(link_offer_in_slack(emulators, "U0EVE")))
    page = eve.open(eve.approve_on_x(consent_url, "rina_personal"))
    assert page.status_code == 400
    assert "@rina_personal is already linked to another person in Reachable" in page.text
    told = wait_for(
        lambda: [t for t in slack_ephemerals(emulators, "U0EVE") if "already linked" in t],
        what="Eve told in Slack",
    )
    assert "they must unlink it first" in told[0]

    # The PIN way is refused the same way.
    pin = pin_for(
        emulators, pin_url_in(link_offer_on_telegram(emulators, EVE_TELEGRAM)), "rina_personal"
    )
    say_privately(emulators, EVE_TELEGRAM, pin)
    wait_for(
        lambda: any(
            "already linked to another person" in t for t in private_chat(emulators, EVE_TELEGRAM)
        ),
        what="Eve told in Telegram",
    )
    refused = [line for line in audit_lines(deployment) if line.startswith("link-refused | eve")]
    assert refused == [
        "link-refused | eve via slack | @rina_personal is linked to rina",
        "link-refused | eve via telegram | @rina_personal is linked to rina",
    ]

    # Linking one's own account again is fine; once Rina unlinks it, it is free to link.
    link_on_the_web(emulators, "U0RINA", "rina_personal")
    emulators.slash("U0RINA", "unlink")
    wait_for(
        lambda: any("is unlinked" in t for t in slack_ephemerals(emulators, "U0RINA")),
        what="Rina's unlink confirmed",
    )
    link_on_the_web(emulators, "U0EVE", "rina_personal")
    assert "linked | eve via slack | @rina_personal (oauth2)" in audit_lines(deployment)


def test_unlink_from_slack_and_from_telegram(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo lampu jalan mati")
    message = settle(deployment, 1)[0]

    link_on_the_web(emulators, "U0RINA", "rina_personal")
    emulators.slash("U0RINA", "unlink")
    unlinked = wait_for(
        lambda: [t for t in slack_ephemerals(emulators, "U0RINA") if "is unlinked" in t],
        what="the unlink confirmed in Slack",
    )
    assert "Your X account @rina_personal is unlinked" in unlinked[0]
    view = open_reply_form(emulators, "U0RINA", message, action="reply_personal")
    assert "not linked yet" in str(view["blocks"])

    pin = pin_for(
        emulators, pin_url_in(link_offer_on_telegram(emulators, RINA_TELEGRAM)), "rina_personal"
    )
    say_privately(emulators, RINA_TELEGRAM, pin)
    wait_for(
        lambda: any(
            "@rina_personal is linked" in t for t in private_chat(emulators, RINA_TELEGRAM)
        ),
        what="the PIN link confirmed",
    )
    say_privately(emulators, RINA_TELEGRAM, "/unlink")
    wait_for(
        lambda: any("is unlinked" in t for t in private_chat(emulators, RINA_TELEGRAM)),
        what="the unlink confirmed in Telegram",
    )
    say_privately(emulators, RINA_TELEGRAM, "/unlink")
    wait_for(
        lambda: any("nothing to unlink" in t for t in private_chat(emulators, RINA_TELEGRAM)),
        what="a second unlink answered",
    )
    view = open_reply_form(emulators, "U0RINA", message, action="reply_personal")
    assert "not linked yet" in str(view["blocks"])

    lines = audit_lines(deployment)
    expected = [
        "linked | rina via slack | @rina_personal (oauth2)",
        "unlinked | rina via slack | @rina_personal",
        "linked | rina via telegram | @rina_personal (oauth1)",
        "unlinked | rina via telegram | @rina_personal",
    ]
    assert [line for line in lines if line.split(" | ")[0] in ("linked", "unlinked")] == expected


def test_a_link_made_to_your_name_is_told_to_you_privately(
    deployment: Deployment, browsers: Callable[[], Browser]
) -> None:
    emulators = start_with_eve(deployment)

    # Rina's start link ends up in Eve's browser, and Eve finishes it with her own X account.
    eve = browsers()
    start_url = start_url_in(link_offer_in_slack(emulators, "U0RINA"))
    assert "You are linking an account on X to rina (Slack U0RINA)." in eve.open(start_url).text
    page = eve.open(eve.approve_on_x(eve.continue_to_x(start_url), "eve_x"))
    assert page.status_code == 200
    notice = wait_for(
        lambda: [t for t in slack_ephemerals(emulators, "U0RINA") if "now linked to you" in t],
        what="Rina told in Slack",
    )
    assert "The X account @eve_x is now linked to you in Reachable" in notice[0]
    assert "unlink it at once with `/reachable unlink`" in notice[0]

    # Asked from Telegram, the word comes in the private chat with the bot.
    rina = browsers()
    offer = link_offer_on_telegram(emulators, RINA_TELEGRAM)
    rina.open(rina.approve_on_x(rina.continue_to_x(start_url_in(offer)), "rina_personal"))
    told = wait_for(
        lambda: [t for t in private_chat(emulators, RINA_TELEGRAM) if "now linked to you" in t],
        what="Rina told in Telegram",
    )
    assert "@rina_personal" in told[0] and "/unlink" in told[0]
    assert not [t for t in slack_ephemerals(emulators, "U0EVE") if "linked to you" in t]


def test_a_pin_finishes_only_the_link_of_the_person_who_asked(deployment: Deployment) -> None:
    emulators = start_with_eve(deployment)
    rinas_pin = pin_for(
        emulators, pin_url_in(link_offer_on_telegram(emulators, RINA_TELEGRAM)), "rina_personal"
    )

    # Eve, with a link of her own waiting, sends Rina's PIN: X refuses it for Eve's request.
    link_offer_on_telegram(emulators, EVE_TELEGRAM)
    say_privately(emulators, EVE_TELEGRAM, rinas_pin)
    wait_for(
        lambda: any("did not accept that PIN" in t for t in private_chat(emulators, EVE_TELEGRAM)),
        what="Eve's PIN refused",
    )
    # With no link of hers waiting, Eve is told so.
    say_privately(emulators, EVE_TELEGRAM, f"/pin {rinas_pin}")
    wait_for(
        lambda: any("no link waiting" in t for t in private_chat(emulators, EVE_TELEGRAM)),
        what="Eve told nothing waits",
    )
    # Rina's own PIN still finishes her own link.
    say_privately(emulators, RINA_TELEGRAM, rinas_pin)
    wait_for(
        lambda: any(
            "@rina_personal is linked" in t for t in private_chat(emulators, RINA_TELEGRAM)
        ),
        what="Rina's link confirmed",
    )
    lines = audit_lines(deployment)
    assert [line for line in lines if line.startswith("linked |")] == [
        "linked | rina via telegram | @rina_personal (oauth1)"
    ]
    assert any(line.startswith("link-refused | eve via telegram | HTTP 401") for line in lines)
