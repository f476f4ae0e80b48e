"""docs/architecture.md shows the imports as they are: its table of which folder imports which is
made from the code, and this test fails when the two part. After a change of imports, print the
table afresh with ``python -m tests.unit.test_architecture`` and paste it between the markers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
OPENING = "<!-- folder imports: made by python -m tests.unit.test_architecture -->"
CLOSING = "<!-- end of the folder imports -->"
PACKAGES = ("bridge", "adapters", "app", "cli", "emulators")


def folder_of(path: Path) -> str:
    """The folder a module belongs to as the page names it: ``bridge/store/``, ``adapters/x/``,
    ``app/``; the core's own top-level modules (ports, config, settings, errors) are
    ``bridge/*.py``."""
    parts = path.relative_to(ROOT).parts
    if parts[0] in ("bridge", "adapters", "emulators") and len(parts) > 2:
        return f"{parts[0]}/{parts[1]}/"
    if parts[0] == "bridge":
        return "bridge/*.py"
    if parts[0] in ("adapters", "emulators"):
        return f"{parts[0]}/*.py"
    return f"{parts[0]}/"


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def folder_imports() -> dict[str, set[str]]:
    modules = _modules()
    imports: dict[str, set[str]] = {folder_of(path): set() for path in modules.values()}
    for path in modules.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and folder_of(modules[name]) != folder_of(path):
                    imports[folder_of(path)].add(folder_of(modules[name]))
    return imports


def table() -> str:
    rows = ["| folder | imports |", "| --- | --- |"]
    for folder, imported in sorted(folder_imports().items()):
        if folder == "adapters/*.py":
            continue  # the package's docstring only
        shown = ", ".join(f"`{name}`" for name in sorted(imported)) or "nothing of Reachable"
        rows.append(f"| `{folder}` | {shown} |")
    return "\n".join(rows)


def test_the_page_shows_the_imports_as_they_are() -> None:
    text = PAGE.read_text()
    start = text.index(OPENING) + len(OPENING)
    shown = text[start : text.index(CLOSING, start)].strip()
    assert shown == table(), (
        "docs/architecture.md's folder imports differ from the code: "
        "print them with python -m tests.unit.test_architecture"
    )


if __name__ == "__main__":
    print(table())
