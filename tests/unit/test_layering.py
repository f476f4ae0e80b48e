"""The core never imports a platform library; adapters never reach into each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_MODULES = ("tweepy", "slack_bolt", "slack_sdk", "telegram")


def test_importing_every_core_module_loads_no_platform_library() -> None:
    modules = sorted(
        p.stem for p in (ROOT / "bridge").glob("*.py") if p.stem not in ("__init__", "__main__")
    )
    code = (
        "import sys\n"
        + "".join(f"import bridge.{m}\n" for m in modules)
        + f"print([m for m in sys.modules if m.split('.')[0] in {PLATFORM_MODULES!r}])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"


def test_adapters_do_not_import_each_other() -> None:
    for folder in (ROOT / "adapters").iterdir():
        if not folder.is_dir() or folder.name.startswith("__"):
            continue
        for source in folder.rglob("*.py"):
            tree = ast.parse(source.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                    if parts[0] == "adapters" and len(parts) > 1:
                        shared = ("emulation", "emulator_clock")
                        assert parts[1] in (folder.name, *shared), (source, node.module)


# The two places the core still reaches adapters, by name at run time, until the composition
# root and the CLI leave the core: the runtime loads the registry, the demo its emulators.
LOADS_ADAPTERS_BY_NAME = {"runtime.py", "demo.py"}


def test_the_core_imports_no_adapter() -> None:
    """The core owns its ports (``bridge/ports.py``); adapters import the core, never the
    other way round."""
    for source in sorted((ROOT / "bridge").rglob("*.py")):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] != "adapters", (source.name, node.module)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] != "adapters", (source.name, alias.name)
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("adapters.")
            ):
                assert source.name in LOADS_ADAPTERS_BY_NAME, (source.name, node.value)
