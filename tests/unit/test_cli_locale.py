"""Which language the CLI speaks: --locale, else REACHABLE_LOCALE, else the terminal's language
when Reachable speaks it, else the config's, else English; an unknown one asked for is refused.
And --help, in that language (without the config): every command's and option's help text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from bridge.text.i18n import cli_locale, terminal_locale, translations
from cli.main import cli

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


# --help in the CLI's language: every command's description and every option's help.

TEMPLATE = Path(__file__).resolve().parents[2] / "bridge" / "text" / "locale" / "reachable.pot"


def every_command(
    command: click.Command = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """The CLI's commands and groups, with the words that name each one."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from every_command(sub, (*path, name))


def help_texts(command: click.Command) -> Iterator[tuple[str, str, dict[str, object]]]:
    """Where each help text of ``command`` is shown, its English text, and the values of its
    placeholders: the command's own, then each option's (click's --help among them)."""
    yield "the description", english(command), {}
    ctx = click.Context(command, help_option_names=["-h", "--help"])
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            yield param.opts[-1], english(param), getattr(param, "help_values", {})


def english(item: click.Command | click.Parameter) -> str:
    return str(getattr(item, "english_help", None) or getattr(item, "help", None) or "")


def shown(text: str) -> str:
    """Text without its spaces and line breaks, as click wraps it to the terminal's width."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def template() -> set[str]:
    with TEMPLATE.open("rb") as source:
        return {message.id for message in read_po(source) if isinstance(message.id, str)}


COMMANDS = list(every_command())
NAMES = [" ".join(path) or "reachable" for path, _command in COMMANDS]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=NAMES)
def test_every_help_text_of_the_cli_is_in_the_catalogue(
    path: tuple[str, ...], command: click.Command, template: set[str]
) -> None:
    missing = [where for where, text, _values in help_texts(command) if text not in template]
    assert not missing, (
        f"help without a message in the catalogue in 'reachable {' '.join(path)}': {missing}; "
        'give it as help=N_("...") (options: cli_common.option) and run make messages'
    )


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=NAMES)
def test_every_help_page_is_in_the_terminals_language(
    path: tuple[str, ...], command: click.Command
) -> None:
    page = CliRunner().invoke(cli, [*path, "--help"], env={**BARE, "LANG": "id_ID.UTF-8"})
    assert page.exit_code == 0, page.output
    indonesian = translations("id")
    for where, text, values in help_texts(command):
        translated = indonesian.gettext(text).format(**values)
        assert shown(translated) in shown(page.output), f"{where} not in Indonesian"
        if translated != text:
            assert shown(text.format(**values)) not in shown(page.output), where


def test_a_group_lists_its_commands_in_the_terminals_language() -> None:
    page = CliRunner().invoke(cli, ["--help"], env={**BARE, "LANG": "id_ID.UTF-8"})
    assert "config       Memeriksa berkas konfigurasi." in page.output
    assert "rules        Membaca, menguji, dan memutar ulang aturan rute." in page.output
    assert "doctor       Memeriksa instalasi sebelum mulai beroperasi" in page.output
    english = CliRunner().invoke(cli, ["rules", "--help"], env={**BARE, "LANG": "C.UTF-8"})
    assert "explain  Print the rule table readably" in english.output


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        (["doctor", "--locale", "id", "--help"], {}, "Memeriksa instalasi"),
        (["doctor", "--locale", "en", "--help"], {"LANG": "id_ID.UTF-8"}, "Check a deployment"),
        (["demo", "--locale", "id", "post", "--help"], {}, "Mengunggah TEXT ke emulator X"),
        (["doctor", "--help"], {"REACHABLE_LOCALE": "id"}, "Memeriksa instalasi"),
        (["doctor", "--help"], {"REACHABLE_LOCALE": "en", "LANG": "id_ID"}, "Check a deploy"),
        (["doctor", "--help"], {"REACHABLE_LOCALE": "fr"}, "Check a deployment"),
        (["doctor", "--help", "--locale", "id"], {}, "Check a deployment"),
    ],
    ids=[
        "locale-before-help",
        "locale-before-help-over-terminal",
        "locale-of-the-group",
        "variable",
        "variable-over-terminal",
        "unknown-variable-leaves-english",
        "locale-after-help-comes-too-late",
    ],
)
def test_the_help_language_is_chosen_like_the_clis(
    args: list[str], environ: dict[str, str], expected: str
) -> None:
    page = CliRunner().invoke(cli, args, env={**BARE, **environ})
    assert page.exit_code == 0, page.output
    assert expected in page.output
