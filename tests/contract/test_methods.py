"""The contract suite covers every platform method the adapters call, found in their code."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.contract.contracts import COVERED, from_docs, spec
from tests.contract.methods import UnknownCall, called_methods

CONTRACT_MODULES = ("test_x", "test_slack", "test_telegram")


def documented(platform: str, method: str) -> bool:
    extracted = spec(platform)
    listed = extracted.get("operations") or extracted.get("methods") or {}
    return method in listed or method in from_docs(platform)


def test_every_method_the_adapters_call_has_a_contract_test() -> None:
    for name in CONTRACT_MODULES:
        importlib.import_module(f"tests.contract.{name}")
    missing = [
        f"{platform} {method} (called at {', '.join(where)})"
        for (platform, method), where in sorted(called_methods().items())
        if (platform, method) not in COVERED
    ]
    assert not missing, "methods with no contract test:\n" + "\n".join(missing)


def test_every_method_the_adapters_call_is_in_a_spec_or_the_platform_docs() -> None:
    missing = [
        f"{platform} {method}"
        for platform, method in sorted(called_methods())
        if not documented(platform, method)
    ]
    assert not missing, (
        "run tests/contract/extract_specs.py, or add the method with its source to "
        "specs/from_docs.json:\n" + "\n".join(missing)
    )


def test_the_scan_finds_the_calls_of_every_adapter() -> None:
    platforms = {platform for platform, _ in called_methods()}

    assert platforms == {"x", "slack", "telegram"}
    assert ("telegram", "answerCallbackQuery") in called_methods()  # through a shortcut
    assert ("x", "POST /oauth/request_token") in called_methods()  # a raw request


@pytest.mark.parametrize(
    ("platform", "code", "unknown"),
    [
        ("x", "await self._client.get_liking_users(1)", "get_liking_users"),
        ("x", 'url = f"{base}/2/dm_events"', "/2/dm_events"),
        ("telegram", "await message.reply_html('hi')", "reply_html"),
        ("telegram", "await bot.initialize_webhook_secret()", None),
    ],
)
def test_a_call_the_tables_cannot_map_fails_the_scan(
    tmp_path: Path, platform: str, code: str, unknown: str | None
) -> None:
    folder = tmp_path / "adapters" / platform
    folder.mkdir(parents=True)
    (folder / "client.py").write_text(f"async def call(self, bot, message, base):\n    {code}\n")
    if unknown is None:  # not a python-telegram-bot name: no platform call at all
        assert called_methods(tmp_path) == {}
        return
    with pytest.raises(UnknownCall, match=unknown):
        called_methods(tmp_path)
