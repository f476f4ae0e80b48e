"""The score of the last `make mutate` run, per module, and every mutant that no test noticed.

mutmut keeps one result per mutant in ``mutants/<module>.meta``; this reads them, leaves out the
mutants listed in ``equivalent.toml`` (no test can notice them: the behaviour is the same), and
prints for each module mutated how many mutants the tests killed, with the diff of each survivor.
A mutant that timed out counts as killed (it made the tests hang), one that no test ran as
surviving.

Run from the repository root after ``mutmut run``: ``python tests/mutation/report.py``.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

HERE = Path(__file__).resolve().parent
TARGET = 90.0
KILLED = {"killed", "timeout", "caught by type check"}


@dataclass(frozen=True)
class Survivor:
    name: str
    status: str
    removed: tuple[str, ...]
    added: tuple[str, ...]

    @property
    def function(self) -> str:
        """``decide`` or ``Calendar.contains``: mutmut's key without module, prefix and number."""
        key = self.name.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]
        return key.removeprefix("x_").removeprefix("xǁ").replace("ǁ", ".")


def equivalents() -> list[dict[str, str]]:
    return list(tomllib.loads((HERE / "equivalent.toml").read_text("utf-8"))["equivalent"])


def equivalent_entry(module: str, survivor: Survivor, known: list[dict[str, str]]) -> int | None:
    """The index of the entry of ``equivalent.toml`` that explains ``survivor``, if one does."""
    for index, entry in enumerate(known):
        if (
            entry["module"] == module
            and entry["function"] == survivor.function
            and (entry["from"],) == survivor.removed
            and (entry["to"],) == survivor.added
        ):
            return index
    return None


def survivor(module: str, name: str, status: str) -> Survivor:
    diff = get_diff_for_mutant(name, path=module).splitlines()[2:]
    removed = tuple(line[1:].strip() for line in diff if line.startswith("-"))
    added = tuple(line[1:].strip() for line in diff if line.startswith("+"))
    return Survivor(name, status, removed, added)


def _number_order(name: str) -> tuple[str, int]:
    function, _, number = name.rpartition("__mutmut_")
    return function, int(number)


def main() -> int:
    modules = tomllib.loads(Path("pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    known = equivalents()
    seen: set[int] = set()
    at_target = 0
    for module in modules["only_mutate"]:
        meta = Path("mutants") / f"{module}.meta"
        if not meta.exists():
            print(f"{module}: not mutated (run `make mutate`)")
            continue
        codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        statuses = {name: status_by_exit_code[code] for name, code in codes.items()}
        alive = [
            survivor(module, name, status)
            for name, status in sorted(statuses.items(), key=lambda item: _number_order(item[0]))
            if status not in KILLED
        ]
        entries = {s: equivalent_entry(module, s, known) for s in alive}
        equivalent = [s for s, entry in entries.items() if entry is not None]
        seen.update(entry for entry in entries.values() if entry is not None)
        left = [s for s in alive if s not in equivalent]
        counted = len(statuses) - len(equivalent)
        killed = counted - len(left)
        score = 100.0 * killed / counted if counted else 100.0
        at_target += score >= TARGET
        tally = Counter(s.status for s in left)
        print(
            f"{module}: {score:.1f} % killed ({killed} of {counted};"
            f" {len(equivalent)} equivalent left out)"
            + "".join(f", {count} {status}" for status, count in sorted(tally.items()))
            + ("" if score >= TARGET else f"  BELOW {TARGET:.0f} %")
        )
        for s in left:
            print(f"    {s.status}: {s.name}")
            for line in s.removed:
                print(f"        - {line}")
            for line in s.added:
                print(f"        + {line}")
    print(
        f"{at_target} of {len(modules['only_mutate'])} modules at {TARGET:.0f} % or more;"
        f" {len(seen)} of {len(known)} listed equivalent mutants seen"
    )
    if len(seen) < len(known):
        print("Some entries of tests/mutation/equivalent.toml matched no mutant: update them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
