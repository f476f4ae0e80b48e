"""The benchmarks still run (with small numbers, so the suite stays fast) and judge their targets.

The figures themselves come from `make bench`; a timed test would only measure this machine."""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench import catch_up, verdicts
from benchmarks.footprint import footprint


def test_a_small_catch_up_runs_and_is_judged(tmp_path: Path) -> None:
    result = catch_up(tmp_path, count=30)
    assert result["mentions"] == 30 and result["x_read_calls"] == 1
    assert result["mirrored_per_s"] > 0 and result["redis_commands_per_mention"] > 0
    # Pipelines: fewer round trips than commands, compared before the idle processes' share
    # is taken off (estimated from a later quiet spell, it is the less steady figure).
    raw_trips, raw_commands = (
        result["redis_round_trips_per_mention_raw"],
        result["redis_commands_per_mention_raw"],
    )
    assert 0 < raw_trips < raw_commands
    assert 0 < result["redis_round_trips_per_mention"] <= raw_trips
    judged = {target: met for target, _, _, met in verdicts({"catch_up": result})}
    assert set(judged) == {
        "Redis round trips per mirrored mention",
        "Redis commands per mirrored mention",
        "mentions per X read, catching up",
    }


def test_latency_is_judged_alone_and_under_load() -> None:
    judged = verdicts(
        {
            "quiet_latency": {"overhead_ms_p99": 6.0, "mentions_per_poll": 1},
            "latency": {"overhead_ms_p99": 130.9, "mentions_per_poll": 33.3},
        }
    )
    assert [(target, met) for target, _, _, met in judged] == [
        ("p99 overhead, one mention a poll", True),
        ("p99 overhead, 33 mentions a poll", False),
    ]


def test_a_mentions_footprint_is_measured_and_nothing_it_leaves_lasts_forever(
    tmp_path: Path,
) -> None:
    result = footprint(tmp_path, mentions=1)
    kinds = result["by_kind"]
    assert result["keys_without_ttl_per_mention"] == 0, kinds
    assert kinds["thread:{…}"]["lifetime"] == "180d"
    assert kinds["mirror-msg:telegram:…"]["lifetime"] == "180d"
    assert kinds["effect:reply:…"]["lifetime"] == "7d"
    assert kinds["stream:outbox"]["entries"] == 6  # posted twice, redrawn twice, two notices
    judged = verdicts({"footprint": result})
    assert [(target, met) for target, _, _, met in judged] == [
        ("keys with no expiry per answered mention", True)
    ]


def test_memory_under_a_steady_flow_is_flat_only_when_it_stops_growing() -> None:
    def judged(full: float) -> bool:
        rows = verdicts(
            {"retention": {"growth_full_kb_per_min": full, "growth_filling_kb_per_min": 836.7}}
        )
        return rows[0][3]

    assert judged(-10.0) and judged(40.0)
    assert not judged(120.0)
