"""The house's floors, as imports: the core at the bottom, adapters on it, the composition root
and the CLI on top; the emulators beside the house, importing none of it. No circle anywhere."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bridge", "adapters", "emulators", "cli", "app")
PLATFORM_MODULES = ("tweepy", "slack_bolt", "slack_sdk", "telegram")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else ()


def _imported_names(path: Path) -> Iterator[str]:
    """Every module name ``path`` imports, at the top or inside a function; for ``from a import
    b`` both ``a`` and ``a.b`` (``b`` may be a module)."""
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _top(name: str) -> str:
    return name.split(".")[0]


def test_importing_every_core_module_loads_no_platform_library() -> None:
    modules = sorted(_module_name(p) for p in _sources("bridge") if p.name != "__main__.py")
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print([m for m in sys.modules if m.split('.')[0] in {PLATFORM_MODULES!r}])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_core_imports_no_adapter_emulator_cli_or_app() -> None:
    """The core owns its ports (``bridge/ports.py``); everything else builds on it. Not even by
    name: no string in the core names a module above it for importlib."""
    above = {"adapters", "emulators", "cli", "app"}
    for source in _sources("bridge"):
        for name in _imported_names(source):
            assert _top(name) not in above, (source.name, name)
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not any(node.value.startswith(f"{top}.") for top in above), (
                    source.name,
                    node.value,
                )


def test_the_composition_root_imports_no_cli_or_emulator() -> None:
    for source in _sources("app"):
        for name in _imported_names(source):
            assert _top(name) not in ("cli", "emulators"), (source, name)


def test_adapters_import_no_emulator_and_not_each_other() -> None:
    for folder in (ROOT / "adapters").iterdir():
        if not folder.is_dir() or folder.name.startswith("__"):
            continue
        for source in folder.rglob("*.py"):
            for name in _imported_names(source):
                assert _top(name) not in ("emulators", "cli", "app"), (source, name)
                parts = name.split(".")
                if parts[0] == "adapters" and len(parts) > 1:
                    assert parts[1] == folder.name, (source, name)


def test_the_emulators_import_nothing_of_reachable() -> None:
    """They stand for the platforms: sharing the bridge's code would hide its mistakes."""
    for source in _sources("emulators"):
        for name in _imported_names(source):
            assert _top(name) not in ("bridge", "adapters", "cli", "app"), (source, name)


def _import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for package in PACKAGES for p in _sources(package)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imported_names(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [{"a", "b", "c"}]


def test_no_circle_of_imports_anywhere() -> None:
    assert _circles(_import_graph()) == []


def test_the_core_settings_name_no_platform() -> None:
    """Each platform's settings are its adapter's (``adapters/*/settings.py``); the core's hold
    none of them, and ``app/settings.py`` composes them all."""
    from bridge.settings import Settings

    platform_fields = [
        name for name in Settings.model_fields if name.startswith(("x_", "slack_", "telegram_"))
    ]
    assert platform_fields == []


def test_reading_the_settings_loads_no_platform_library() -> None:
    """Every command reads the composed settings first (the health check too): quickly."""
    code = (
        "import sys\nimport app.settings\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {PLATFORM_MODULES!r}])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module and of its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _code_strings(tree: ast.AST) -> list[str]:
    """The string constants of the code, docstrings left out."""
    docstrings = _docstrings(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def test_the_core_names_no_chat_and_no_network() -> None:
    """A platform describes itself to the core (``adapters/<platform>/config.py``): a chat its
    destinations, its people's user ids, its commands and help (a ``ChatPlatform``); a network
    its name as people call it, its handles and settings (a ``NetworkPlatform``), and speaks
    its own refusals. No string of the core's code names one, so a new platform needs no change
    here. Docstrings and comments may use them as examples."""
    chats = re.compile(r"\b(slack|telegram|twitter|tweets?)\b", re.IGNORECASE)
    networks = re.compile(r"\bX\b")
    for source in _sources("bridge"):
        for text in _code_strings(ast.parse(source.read_text())):
            assert not chats.search(text), (str(source), text)
            assert not networks.search(text), (str(source), text)


def test_code_strings_leave_docstrings_out() -> None:
    tree = ast.parse('"""Slack, as an example."""\nCHAT = "telegram"\n')
    assert _code_strings(tree) == ["telegram"]


def test_reading_the_config_loads_no_platform_library() -> None:
    """``reachable config check`` reads the config with every chat's description: quickly."""
    code = (
        "import sys\nfrom app.config import load_config\n"
        "load_config('config/reachable.example.yaml')\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {PLATFORM_MODULES!r}])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"
