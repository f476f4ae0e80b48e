"""Modules stay short enough to read in one sitting: none over 600 lines."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MOST_LINES = 600
PACKAGES = ("bridge", "adapters", "app", "cli", "emulators", "benchmarks")


def test_no_module_is_over_600_lines() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert lengths, "no module found"
    long = {name: lines for name, lines in lengths.items() if lines > MOST_LINES}
    assert long == {}, f"split these by concern: {long}"
