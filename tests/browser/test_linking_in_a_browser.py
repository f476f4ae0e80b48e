"""Rina links her X account in a real browser: the start page names her, the cookie that ties
the attempt to this browser cannot be read by scripts, and X's way back links the account."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import Deployment, wait_for
from tests.e2e.test_personal_replies import link_offer_in_slack, slack_ephemerals, start_url_in


def test_a_link_in_a_real_browser_names_the_person_and_keeps_its_cookie_from_scripts(
    deployment: Deployment, chromium: webdriver.Chrome
) -> None:
    emulators = deployment.emulators
    deployment.start()
    start_url = start_url_in(link_offer_in_slack(emulators, "U0RINA"))

    chromium.get(start_url)
    page = chromium.find_element(By.TAG_NAME, "body").text
    assert chromium.title == "Link an account on X to Reachable"
    assert "You are linking an account on X to rina (Slack U0RINA)." in page
    assert "If you are not rina, or someone sent you this link, close this page." in page

    chromium.find_element(By.ID, "continue").click()
    WebDriverWait(chromium, 20).until(lambda b: "/i/oauth2/authorize" in b.current_url)
    cookies = chromium.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    link_cookies = [c for c in cookies if c["name"] == "reachable_link"]
    assert len(link_cookies) == 1, cookies
    cookie = link_cookies[0]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/link/" and cookie["secure"] is False  # a plain-http bridge here

    chromium.find_element(By.NAME, "username").send_keys("rina_personal")
    chromium.find_element(By.CSS_SELECTOR, 'button[value="authorize"]').click()
    WebDriverWait(chromium, 20).until(lambda b: "/link/x/callback" in b.current_url)
    assert chromium.title == "Account linked"
    assert "@rina_personal is linked" in chromium.find_element(By.TAG_NAME, "body").text
    # Scripts on the bridge's pages never saw the cookie, and it is gone once used.
    assert "reachable_link" not in chromium.execute_script("return document.cookie")
    cookies = chromium.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    assert not [c for c in cookies if c["name"] == "reachable_link"]
    wait_for(
        lambda: [t for t in slack_ephemerals(emulators, "U0RINA") if "now linked to you" in t],
        what="Rina told in Slack",
    )
