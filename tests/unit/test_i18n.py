"""The catalogues are complete and in step with the code, and sentences are built only there.

Fails when a message exists in one language and not another, when a translation loses a
placeholder, when the template is older than the code (run `make messages`), or when a module
that talks to people builds an English sentence outside the catalogue.
"""

from __future__ import annotations

import ast
import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bridge.text import i18n, messages
from bridge.text.i18n import _, speaking
from cli import demo

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "bridge" / "text" / "locale" / "reachable.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
# Calls whose text goes to the operators' log, like log.warning(...).
FOR_OPERATORS = {"note_refused"}
PLACEHOLDER = re.compile(r"\{\w+\}")
OTHER_LOCALES = [locale for locale in i18n.available_locales() if locale != i18n.SOURCE_LOCALE]

# The modules whose text people read, in chat or in a terminal. Their sentences must come from
# the catalogue.
SPEAKING_MODULES = [
    "adapters/slack/chat.py",
    "adapters/slack/doctor.py",
    "adapters/slack/render.py",
    "adapters/telegram/chat.py",
    "adapters/telegram/doctor.py",
    "adapters/telegram/staff.py",
    "adapters/telegram/render.py",
    "adapters/x/doctor.py",
    "bridge/desks/admin.py",
    "bridge/desks/alerts.py",
    "bridge/desks/audit.py",
    "cli/main.py",
    "cli/doctor.py",
    "cli/common.py",
    "cli/rules.py",
    "bridge/config.py",
    "cli/demo.py",
    "cli/demo_linking.py",
    "cli/demo_view.py",
    "bridge/ops/doctor.py",
    "bridge/domain/durations.py",
    "bridge/ops/replay.py",
    "bridge/desks/report.py",
    "bridge/desks/report_chart.py",
    "bridge/desks/claims.py",
    "bridge/desks/replies.py",
    "bridge/domain/routing.py",
    "bridge/domain/rules.py",
    "bridge/text/rules_report.py",
    "bridge/pipeline/route.py",
    "bridge/pipeline/mirror.py",
    "bridge/pipeline/publish.py",
    "bridge/pipeline/supervise.py",
    "bridge/desks/unanswered.py",
]
# Words in those modules that no person reads: Lua, a platform's error text matched against,
# and failure records kept for the logs.
NOT_FOR_PEOPLE = {
    "message is not modified",
    "chat not found",
    "thread or mention missing from the store",
    " is no longer in the config",
    # HTTP answers to a malformed request: read by whoever sent it, not by staff.
    "the request body is not UTF-8",
    "the payload is not JSON",
    "the payload is not a JSON object",
}
# The demo's posts by members of the public: their words, in their language.
NOT_FOR_PEOPLE |= {post["text"] for post in demo.SAMPLE_POSTS} | {demo.NEXT_POST, *demo.BURST_TEXTS}
SENTENCE = re.compile(r"[A-Za-z]{2,}[,:]? [A-Za-z']{2,}[,:]? [A-Za-z']{2,}")


def _ids(entries: object) -> set[str | tuple[str, ...]]:
    return {message.id for message in entries if message.id}  # type: ignore[attr-defined]


def extracted_from_code() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for folder in ("bridge", "adapters", "app", "cli"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            found.add(message)
    return found


def test_the_template_is_in_step_with_the_code() -> None:
    with TEMPLATE.open("rb") as source:
        template = _ids(read_po(source))
    in_code = extracted_from_code()
    assert not in_code - template, (
        f"new messages missing from the template: run make messages: {in_code - template}"
    )
    assert not template - in_code, (
        f"messages no longer used: run make messages: {template - in_code}"
    )


@pytest.mark.parametrize("locale", OTHER_LOCALES)
def test_every_language_has_every_message_and_keeps_the_placeholders(locale: str) -> None:
    with TEMPLATE.open("rb") as source:
        template = _ids(read_po(source))
    with i18n.catalogue_path(locale).open("rb") as source:
        catalogue = read_po(source, locale=locale)
    assert _ids(catalogue) == template, "run make messages, then translate what is new"
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"not translated: {ids[0]!r}")
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != wanted:
                problems.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
            if ids[0].startswith(" ") != text.startswith(" "):
                problems.append(f"leading space differs: {ids[0]!r}")
    assert not problems, "\n".join(problems)


def test_no_sentence_is_built_outside_the_catalogue() -> None:
    problems = []
    for module in SPEAKING_MODULES:
        problems += [f"{module}:{line}: {text!r}" for line, text in _sentences(ROOT / module)]
    assert not problems, "put these in bridge/text/messages/, through _():\n" + "\n".join(problems)


def _sentences(path: Path) -> list[tuple[int, str]]:
    """String literals that read like English sentences, outside docstrings, log calls,
    exceptions (for operators and logs) and the catalogue's own functions. Command-line help is
    ``help=N_(...)``; a command's docstring is not its help (tests/unit/test_cli_locale.py
    checks that every help text of the CLI is in the catalogue)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        inside: ast.AST | None = None
        if isinstance(node, ast.Raise):
            inside = node.exc
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
            if owner == "log" or name in KEYWORDS or name in FOR_OPERATORS:
                inside = node
        if inside is not None:
            skip.update(id(sub) for sub in ast.walk(inside))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and SENTENCE.search(node.value)
            and node.value not in NOT_FOR_PEOPLE
            and "redis.call" not in node.value
        ):
            found.append((node.lineno, node.value[:80]))
    return found


def test_the_checker_finds_a_sentence_built_in_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstrings are fine."""\n'
        "def answer(name):\n"
        '    log.info("logs are for operators")\n'
        '    ok = _("Claim it now")\n'
        '    return f"{name} claimed this thread"\n'
        'SINCE = option("--since", help=N_("how far back to look"))\n'
        'UNTIL = option("--until", help="how far ahead to look")\n'
    )
    assert [line for line, _text in _sentences(sample)] == [5, 7]


@pytest.mark.skipif("id" not in OTHER_LOCALES, reason="no Indonesian catalogue")
def test_indonesian_words_plurals_numbers_times_and_zones() -> None:
    posted = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)
    with speaking("id", "Asia/Makassar"):
        assert _("Claim") != "Claim"
        assert messages.followers(1234) == messages.followers(1234).replace(",", "")
        assert "1.234" in messages.followers(1234)
        assert i18n.duration(timedelta(hours=2, minutes=5)) == "2 jam 5 menit"
        assert i18n.ago(timedelta(minutes=3)) == "3 menit yang lalu"
        assert i18n.moment(posted) == "29 Nov 13:00 WITA"
    with speaking("id", "Asia/Jayapura"):
        assert i18n.clock(posted).endswith("WIT")
    with speaking("en", "UTC"):
        assert messages.followers(1) == "1 follower"
        assert messages.followers(1234) == "1,234 followers"
        assert i18n.ago(timedelta(minutes=3)) == "3 minutes ago"
        assert i18n.moment(posted) == "29 Nov 05:00 UTC"
    assert i18n.current_locale() == "en", "speaking() restores the reader it replaced"


def test_an_unknown_locale_in_the_config_is_refused_with_the_known_ones() -> None:
    from app.config import parse_config
    from bridge.config import ConfigError

    with pytest.raises(ConfigError) as refused:
        parse_config(
            "locale: fr\n"
            "accounts: [{key: humas, handle: humas_demo}]\n"
            "destinations: {desk: {chat: slack, channel: C0DESK, timezone: Asia/Jakarta}}\n"
            "routes: [{name: all, to: [desk]}]\n",
            source="t.yaml",
        )
    assert "unknown locale 'fr' (known: en" in str(refused.value)


# Words the renderings may keep in any language: names, the network, acronyms, data.
KEPT = {"humas_demo", "warga_budi", "Budi", "Rina", "SLA", "complaints", "https", "com"}
# The public's words, and Slack's date tokens (Slack writes those in each reader's language).
KEPT |= {"jalan", "rusak", "iklan", "date", "date_short_pretty", "time", "UTC", "status"}
# Words both languages use: Indonesian staff say "mention"; "Nov" is both languages' month.
KEPT |= {"mention", "Mention", "Nov", "Spam"}


def _cards() -> list[Any]:
    from bridge.domain.models import ThreadStatus
    from tests.unit.cards import mention_card

    card = mention_card(escalation="⏰")
    later = datetime(2026, 11, 29, 9, 12, tzinfo=UTC)
    return [
        card,
        card.model_copy(
            update={"status": ThreadStatus.CLAIMED, "status_by": "Rina", "status_at": later}
        ),
        card.model_copy(
            update={
                "status": ThreadStatus.ANSWERED,
                "status_by": "Rina",
                "status_at": later,
                "answered_as": "humas_demo",
                "answered_url": "https://x.com/humas_demo/status/1",
            }
        ),
        card.model_copy(
            update={
                "status": ThreadStatus.DISMISSED,
                "status_by": "Rina",
                "status_note": "Spam (iklan)",
            }
        ),
    ]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z_][A-Za-z_']{2,}", text) if w not in KEPT}


def _telegram(card: Any) -> str:
    from adapters.telegram import render

    shown = []
    for message in render.mention_messages(card):
        shown.append(html.unescape(re.sub(r"<[^>]+>", "", message.html)))
        shown += [button["text"] for row in message.keyboard or [] for button in row]
    return "\n".join(shown)


def _slack(card: Any) -> str:
    from adapters.slack import render

    blocks = render.mention_blocks(card)
    texts = re.findall(r"'text': '([^']*)'", str(blocks))
    return "\n".join([render.fallback_text(card), *texts])


@pytest.mark.skipif("id" not in OTHER_LOCALES, reason="no Indonesian catalogue")
@pytest.mark.parametrize("render", [_telegram, _slack], ids=["telegram", "slack"])
def test_a_mirror_in_bahasa_indonesia_keeps_no_english_word(render: Any) -> None:
    for card in _cards():
        with speaking("en", "Asia/Jakarta"):
            english = _words(render(card))
        with speaking("id", "Asia/Jakarta"):
            indonesian = render(card)
        left = sorted(w for w in english if re.search(rf"\b{re.escape(w)}\b", indonesian))
        assert not left, f"English left in the Indonesian mirror ({card.status}): {left}"


@pytest.mark.skipif("id" not in OTHER_LOCALES, reason="no Indonesian catalogue")
async def test_the_linking_page_speaks_the_browsers_language_when_the_link_is_unknown() -> None:
    from types import SimpleNamespace

    import httpx
    from starlette.applications import Starlette

    from app.config import CHATS
    from app.linking_web import link_web_routes
    from bridge.desks.linking import LinkDesk

    nowhere: Any = SimpleNamespace(store=None)
    desk = LinkDesk(nowhere, {}, public_url=None, chats=CHATS)
    app = Starlette(routes=list(link_web_routes(desk)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as browser:
        indonesian = await browser.get(
            "/link/x/callback", headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}
        )
        english = await browser.get("/link/x/callback", headers={"Accept-Language": "fr,en;q=0.5"})
    with speaking("id"):
        expired = html.escape(desk.expired())
    assert indonesian.status_code == 400 and expired in indonesian.text
    assert html.escape(desk.expired()) in english.text
    assert "(/reachable link in Slack, /link in Telegram)" in english.text


@pytest.mark.skipif("id" not in OTHER_LOCALES, reason="no Indonesian catalogue")
def test_a_destination_is_described_in_the_readers_language() -> None:
    from adapters.slack.config import SlackDestination
    from adapters.telegram.config import TelegramDestination

    slack = SlackDestination(chat="slack", channel="C0HUMAS")
    topic = TelegramDestination(chat="telegram", chat_id=-1001, topic=7)
    with speaking("id"):
        assert slack.describe() == "kanal Slack C0HUMAS"
        assert topic.describe() == "obrolan Telegram -1001, topik 7"
    assert slack.describe() == "Slack channel C0HUMAS"
    assert topic.describe() == "Telegram chat -1001, topic 7"
