"""A person's web browser, as the linking pages meet it: its own cookie jar, forms sent with
the ``Origin`` header browsers add, redirects followed one at a time so a test sees each hop."""

from __future__ import annotations

import html
import re

import httpx

HIDDEN_FIELD = re.compile(r'type="hidden" name="([^"]*)" value="([^"]*)"')
FORM_ACTION = re.compile(r'<form method="post"(?: action="([^"]*)")?')


class Browser:
    def __init__(self) -> None:
        self.http = httpx.Client(timeout=15)

    def open(self, url: str) -> httpx.Response:
        return self.http.get(url)

    def submit(self, page: httpx.Response, fields: dict[str, str]) -> httpx.Response:
        """Send the page's form (its hidden fields plus ``fields``), as pressing its button."""
        found = FORM_ACTION.search(page.text)
        assert found is not None, f"no form on {page.url}: {page.text}"
        target = page.url.join(html.unescape(found[1])) if found[1] else page.url
        hidden = {html.unescape(n): html.unescape(v) for n, v in HIDDEN_FIELD.findall(page.text)}
        origin = f"{page.url.scheme}://{page.url.netloc.decode()}"
        if page.headers.get("referrer-policy") == "no-referrer":
            origin = "null"  # what browsers send from such a page (the Fetch standard)
        return self.http.post(target, data={**hidden, **fields}, headers={"Origin": origin})

    def press_continue(self, start_url: str) -> httpx.Response:
        """Open the bridge's start page and press "Continue"."""
        page = self.open(start_url)
        assert page.status_code == 200, page.text
        return self.submit(page, {})

    def press_continue_again(self, start_url: str) -> httpx.Response:
        """ "Continue" on a start page already shown (the page kept open in a tab)."""
        origin = f"{httpx.URL(start_url).scheme}://{httpx.URL(start_url).netloc.decode()}"
        return self.http.post(start_url, headers={"Origin": origin})

    def continue_to_x(self, start_url: str) -> str:
        """The X consent URL that "Continue" on the start page leads to."""
        sent = self.press_continue(start_url)
        assert sent.status_code == 303, sent.text
        return sent.headers["location"]

    def approve_on_x(self, consent_url: str, username: str) -> str:
        """Approve Reachable on X's consent page as ``username``: where X sends the browser."""
        page = self.open(consent_url)
        assert page.status_code == 200, page.text
        sent = self.submit(page, {"username": username, "decision": "authorize"})
        assert sent.status_code == 302, sent.text
        return sent.headers["location"]

    def link_cookies(self) -> list[str]:
        return [cookie.name for cookie in self.http.cookies.jar if cookie.path == "/link/"]

    def close(self) -> None:
        self.http.close()
