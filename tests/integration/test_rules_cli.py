"""`reachable rules test` and `explain` against the documented example config."""

from __future__ import annotations

from click.testing import CliRunner

from bridge.domain.routing import CONDITIONS
from bridge.domain.rules import RouteMatch
from cli.main import cli

EXAMPLE = "config/reachable.example.yaml"
# The terminal's language would otherwise choose the output's.
ENGLISH = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8", "REACHABLE_LOCALE": None}


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["rules", *args, "--config", EXAMPLE], env=ENGLISH)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_condition_can_be_evaluated_and_explained() -> None:
    assert set(RouteMatch.model_fields) == set(CONDITIONS)


def test_explain_prints_every_rule_with_its_conditions_and_outcome() -> None:
    out = run("explain")
    assert " 1. vip" in out and "when author in list vip" in out
    assert "→ supervisors · priority urgent · SLA 15m · #vip · then continue" in out
    assert "drop (not mirrored; counted and kept)" in out
    assert "and any of the words lapor, keluhan, rusak" in out
    assert "office: mon, tue, wed, thu, fri 08:00-16:00 (Asia/Jakarta), except 2 holidays" in out


def test_a_complaint_in_office_hours_shows_each_condition() -> None:
    out = run(
        "test",
        "@humas_demo Jalan rusak di depan pasar, kapan diperbaiki?",
        "--author",
        "warga_budi",
        "--at",
        "2026-12-01 10:00",
    )
    assert "at Tue 2026-12-01 10:00 WIB" in out
    assert "✗ vip\n    ✗ author in list vip: @warga_budi" in out
    assert "    ✓ any of the words lapor, keluhan, rusak: rusak" in out
    assert "    ✓ language is id: id (detected)" in out
    assert "Result: route complaints → humas-slack, humas-telegram · priority high · SLA 30m" in out
    assert "(2 rules below complaints were not tried.)" in out


def test_a_vip_at_night_continues_and_takes_the_strictest_sla() -> None:
    out = run(
        "test",
        "Good evening, a question about the toll road",
        "--author",
        "@Menteri_PUPR",
        "--lang",
        "en",
        "--verified",
        "--at",
        "2026-12-01 20:00",
    )
    assert "✓ vip" in out and "✓ after-hours\n    ✓ outside office: Tue 2026-12-01 20:00 WIB" in out
    assert (
        "Result: route after-hours → supervisors, humas-telegram · priority urgent · SLA 15m" in out
    )


def test_bad_input_is_a_clear_error() -> None:
    result = CliRunner().invoke(
        cli, ["rules", "test", "halo", "--account", "nope", "--config", EXAMPLE]
    )
    assert result.exit_code == 2 and "unknown account 'nope' (known: humas)" in result.output
    result = CliRunner().invoke(
        cli, ["rules", "test", "halo", "--at", "tomorrow", "--config", EXAMPLE]
    )
    assert result.exit_code == 2 and "is not a time like 2026-12-01 20:00" in result.output


def test_the_trace_and_the_table_in_bahasa_indonesia() -> None:
    out = run(
        "test",
        "@humas_demo Jalan rusak di depan pasar, kapan diperbaiki?",
        "--author",
        "warga_budi",
        "--at",
        "2026-12-01 10:00",
        "--locale",
        "id",
    )
    assert (
        "Mention untuk humas oleh @warga_budi (0 pengikut, tidak terverifikasi), unggahan baru, "
        "bahasa tidak disebutkan, pada Sel 2026-12-01 10:00 WIB:"
    ) in out
    assert "✗ vip\n    ✗ penulis ada di daftar vip: @warga_budi" in out
    assert "    ✓ salah satu kata lapor, keluhan, rusak: rusak" in out
    assert "    ✓ bahasa adalah id: id (terdeteksi)" in out
    assert (
        "Hasil: rute complaints → humas-slack, humas-telegram · prioritas tinggi · SLA 30m" in out
    )
    assert "(2 aturan di bawah complaints tidak dicoba.)" in out
    table = run("explain", "--locale", "id")
    assert "Aturan, dicoba dari atas ke bawah;" in table
    assert " 1. vip              jika penulis ada di daftar vip" in table
    assert "→ supervisors · prioritas mendesak · SLA 15m · #vip · lalu lanjutkan" in table
    assert "buang (tidak diteruskan; tetap dihitung dan disimpan)" in table
    assert "kecuali 2 hari libur" in table
