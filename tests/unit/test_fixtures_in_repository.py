"""A fresh clone runs every test with nothing beside it: recorded payloads live in
``tests/fixtures`` with their sources, and no test reads a path outside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# A path climbing out of the repository: a parent three levels above a test module, or a folder
# that sits beside the repository on a developer's machine.
OUTSIDE = re.compile(r"parents\[(?:[3-9]|\d\d)\]|\.\./shared|[\"'/]shared[\"'/]")


def test_every_recorded_payload_is_json_and_named_in_the_readme_with_its_source() -> None:
    readme = (FIXTURES / "README.md").read_text()
    payloads = sorted(FIXTURES.rglob("*.json"))
    assert payloads, "tests/fixtures holds no recorded payloads"
    for path in payloads:
        json.loads(path.read_text())
        relative = path.relative_to(FIXTURES).as_posix()
        assert relative in readme, f"{relative} is not listed (with its source) in the README"


def test_no_test_reads_outside_the_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, "tests must read only what the repository holds:\n" + "\n".join(offenders)
