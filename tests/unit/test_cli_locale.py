"""Which language the CLI speaks: --locale, else REACHABLE_LOCALE, else the terminal's language
when Reachable speaks it, else the config's, else English; an unknown one asked for is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.i18n import cli_locale, terminal_locale

EXAMPLE = "config/reachable.example.yaml"
# No terminal setting at all, whatever the machine running the tests has.
BARE = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": None, "REACHABLE_LOCALE": None}


@pytest.mark.parametrize(
    ("option", "environ", "configured", "expected"),
    [
        ("en", {"REACHABLE_LOCALE": "id", "LANG": "id_ID.UTF-8"}, "id", "en"),
        (None, {"REACHABLE_LOCALE": "id", "LANG": "en_US.UTF-8"}, "en", "id"),
        (None, {"LANG": "id_ID.UTF-8"}, "en", "id"),
        (None, {"LC_MESSAGES": "id_ID", "LANG": "en_GB.UTF-8"}, "en", "id"),
        (None, {"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "id_ID"}, "id", "en"),
        (None, {"LANG": "C.UTF-8"}, "id", "id"),
        (None, {"LC_ALL": "POSIX", "LANG": "id_ID.UTF-8"}, "en", "en"),
        (None, {"LANG": "fr_FR.UTF-8"}, "id", "id"),
        (None, {"REACHABLE_LOCALE": ""}, None, "en"),
        (None, {}, None, "en"),
    ],
    ids=[
        "option-first",
        "variable-next",
        "terminal-lang",
        "lc-messages-before-lang",
        "lc-all-before-all",
        "c-names-no-language",
        "posix-in-lc-all-hides-lang",
        "terminal-language-not-spoken",
        "empty-variable-ignored",
        "english-last",
    ],
)
def test_the_cli_language_is_chosen_in_order(
    option: str | None, environ: dict[str, str], configured: str | None, expected: str
) -> None:
    assert cli_locale(option, environ, configured) == expected


def test_terminal_settings_name_a_language_by_its_first_part() -> None:
    assert terminal_locale({"LANG": "id_ID.UTF-8@euro"}) == "id"
    assert terminal_locale({"LANG": "id"}) == "id"
    assert terminal_locale({"LANG": "C"}) is None
    assert terminal_locale({}) is None


@pytest.mark.parametrize("environ", [{}, {"LANG": "id_ID.UTF-8"}])
def test_a_locale_asked_for_by_name_must_exist(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"unknown locale 'fr' \(known: en, id"):
        cli_locale("fr", environ, "id")
    with pytest.raises(ValueError, match="unknown locale 'xx'"):
        cli_locale(None, {**environ, "REACHABLE_LOCALE": "xx"}, "id")


def test_an_unknown_locale_is_a_usage_error_and_nothing_is_done() -> None:
    runner = CliRunner()
    refused = runner.invoke(cli, ["config", "check", EXAMPLE, "--locale", "fr"], env=BARE)
    assert refused.exit_code == 2
    assert "Invalid value for --locale: unknown locale 'fr' (known: en, id)" in refused.output
    assert ": OK" not in refused.output
    refused = runner.invoke(
        cli, ["config", "check", EXAMPLE], env={**BARE, "REACHABLE_LOCALE": "fr"}
    )
    assert refused.exit_code == 2
    assert "Invalid value for REACHABLE_LOCALE: unknown locale 'fr'" in refused.output


def test_the_terminal_language_applies_and_the_option_overrides_it() -> None:
    runner = CliRunner()
    indonesian = runner.invoke(
        cli, ["config", "check", EXAMPLE], env={**BARE, "LANG": "id_ID.UTF-8"}
    )
    assert indonesian.exit_code == 0, indonesian.output
    assert "1 akun:" in indonesian.output
    english = runner.invoke(
        cli, ["config", "check", EXAMPLE, "--locale", "en"], env={**BARE, "LANG": "id_ID.UTF-8"}
    )
    assert "1 account:" in english.output


def test_without_any_choice_the_cli_speaks_the_configs_language(tmp_path: Path) -> None:
    config = tmp_path / "id.yaml"
    config.write_text(Path(EXAMPLE).read_text().replace("\nlocale: en\n", "\nlocale: id\n"))
    result = CliRunner().invoke(cli, ["rules", "explain", "--config", str(config)], env=BARE)
    assert result.exit_code == 0, result.output
    assert "Aturan, dicoba dari atas ke bawah" in result.output
