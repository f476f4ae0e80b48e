"""One module writes each Redis stream: every XADD (a client call or inside a Lua script) in
the sources is in its stream's owner, so an entry's fields are laid out in one place, next to
the function that reads them back."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bridge", "adapters", "app", "cli")

# The owner module of each stream (Keys attribute -> path), and what else it may write.
OWNERS = {
    "outbox_stream": "bridge/store/outbox.py",
    "mentions_stream": "bridge/store/mentions.py",
    "actions_stream": "bridge/store/actions.py",
    "timers_stream": "bridge/store/timers.py",
    "audit_stream": "bridge/store/audit_log.py",
    "dropped_stream": "bridge/store/audit_log.py",
    "inbound_stream": "bridge/pipeline/inbound.py",
    "dead_letters": "bridge/pipeline/runner.py",
}

# A call of the client's xadd, or the command in a Lua script ('XADD' / "XADD").
XADD = re.compile(r"\.xadd\(|['\"]XADD['\"]", re.IGNORECASE)


def _writers() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = path.read_text().splitlines()
            hits = [n for n, line in enumerate(lines, 1) if XADD.search(line)]
            if hits:
                found[str(path.relative_to(ROOT))] = hits
    return found


def test_only_the_owners_add_to_streams() -> None:
    writers = _writers()
    strays = {path: lines for path, lines in writers.items() if path not in OWNERS.values()}
    assert strays == {}, f"XADD outside the streams' owners (call the owner instead): {strays}"


def test_every_owner_writes_its_stream() -> None:
    writers = _writers()
    assert set(OWNERS.values()) <= set(writers)
    for attribute, path in OWNERS.items():
        assert attribute in (ROOT / path).read_text(), f"{path} does not name {attribute}"


def test_outbox_entries_are_added_by_the_outbox_alone() -> None:
    writers = _writers()
    naming_outbox = {
        path for path in writers if re.search(r"outbox_stream|outbox", (ROOT / path).read_text())
    }
    assert naming_outbox == {"bridge/store/outbox.py"}


def test_the_scripts_that_queue_atomically_take_their_xadd_from_the_outbox() -> None:
    for path in ("bridge/store/joining.py", "bridge/store/mirroring.py"):
        text = (ROOT / path).read_text()
        assert "XADD" not in text
        assert "from bridge.store.outbox import LUA_QUEUE_" in text
