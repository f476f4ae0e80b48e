"""The doctor's verdicts that need no network: clocks, versions, URLs and the table."""

from __future__ import annotations

from bridge.ops.doctor import (
    _version_tuple,
    blocks_go_live,
    check_platform_time,
    clock_finding,
    render_table,
)
from bridge.ops.findings import Finding, Status, fail, ok, warn
from bridge.store.redisconn import redact_url
from bridge.text.i18n import speaking


def test_clock_skew_warns_then_fails_before_signatures_stop_working() -> None:
    assert clock_finding("slack", 3).status is Status.OK
    behind = clock_finding("slack", 45)
    assert behind.status is Status.WARN and "45 s behind" in behind.detail
    ahead = clock_finding("x", -300)
    assert ahead.status is Status.FAIL and "300 s ahead of" in ahead.detail
    assert "NTP" in ahead.fix


def test_a_platform_time_scale_blocks_go_live_against_a_real_platform() -> None:
    assert check_platform_time(1, []) == []
    assert check_platform_time(1, ["slack"]) == []
    (training,) = check_platform_time(20, [])
    assert training.status is Status.OK and "20 times faster" in training.detail
    (live,) = check_platform_time(20, ["telegram"])
    assert live.status is Status.FAIL
    assert "against telegram the bridge would send 20 times faster" in live.detail
    assert "emulators only" in live.fix


def test_redis_versions_compare_as_numbers() -> None:
    assert _version_tuple("7.0.15") == (7, 0)
    assert _version_tuple("6.2.14") >= (6, 2) > _version_tuple("6.0.20")
    assert _version_tuple("7.2-rc1") == (7, 2)


def test_a_redis_password_never_reaches_the_output() -> None:
    assert (
        redact_url("redis://:s3cret@redis.internal:6380/0") == "redis://:***@redis.internal:6380/0"
    )
    assert redact_url("rediss://app:s3cret@host/1") == "rediss://app:***@host/1"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_table_puts_each_fix_under_its_problem_and_counts_what_blocks() -> None:
    findings: list[Finding] = [
        ok("Redis", "reachable", "Redis 7.0.15"),
        fail("Slack", "channel C0X", "the bot is not a member of #x", "/invite @reachable"),
        warn("Clock", "against x", "40 s behind", "use NTP"),
    ]
    table = render_table(findings).splitlines()
    assert table[0].split() == ["AREA", "CHECK", "STATUS", "DETAIL"]
    failing = next(i for i, line in enumerate(table) if "FAIL" in line)
    assert table[failing + 1].strip() == "fix: /invite @reachable"
    assert table[-1] == "3 checks: 1 problem blocks go-live; 1 warning."
    assert blocks_go_live(findings)
    assert not blocks_go_live([findings[0], findings[2]])
    assert render_table([findings[0]]).endswith("1 check: ready to go live.")


def test_the_table_speaks_the_readers_language() -> None:
    with speaking("id"):
        findings = [
            clock_finding("slack", 300),
            fail("Slack", "kanal C0X", "bot bukan anggota #x", "/invite @reachable"),
        ]
        table = render_table(findings).splitlines()
    assert table[0].split() == ["BIDANG", "PEMERIKSAAN", "STATUS", "RINCIAN"]
    assert table[1].split()[:3] == ["Jam", "terhadap", "slack"]
    assert "GAGAL" in table[1] and "jam mesin ini 300 detik lebih lambat" in table[1]
    assert table[2].strip().startswith("perbaikan: sinkronkan jam (NTP")
    assert table[-1] == "2 pemeriksaan: 2 masalah menghalangi pengoperasian."
