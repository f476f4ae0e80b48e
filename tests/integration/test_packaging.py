"""What a runtime install gets: the bridge and its adapters, no emulator and no websockets.

Both wheels are built from a copy of the tracked files, as a release would be (pip fetches the
build backend named in pyproject.toml).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tracked_copy(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def _wheel(source: Path, out: Path) -> zipfile.ZipFile:
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    command += ["--wheel-dir", str(out), str(source)]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    [wheel] = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / ".git").exists():
        pytest.fail("the packaging test builds from the tracked files: run it in a git clone")
    return _tracked_copy(tmp_path_factory.mktemp("source"))


def _metadata(wheel: zipfile.ZipFile) -> str:
    [name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return wheel.read(name).decode()


def test_the_runtime_wheel_holds_no_emulator(source: Path, tmp_path: Path) -> None:
    wheel = _wheel(source, tmp_path)
    modules = [n for n in wheel.namelist() if n.endswith(".py")]
    assert {n.split("/")[0] for n in modules} == {"bridge", "adapters", "app", "cli"}
    assert [n for n in modules if "emulat" in n] == []
    assert "bridge/text/locale/id/LC_MESSAGES/reachable.po" in wheel.namelist()
    requires = [line for line in _metadata(wheel).splitlines() if line.startswith("Requires-Dist")]
    assert any("slack-bolt" in line for line in requires)
    assert not any("websockets" in line for line in requires)


def test_the_emulators_are_their_own_wheel(source: Path, tmp_path: Path) -> None:
    wheel = _wheel(source / "emulators", tmp_path)
    modules = [n for n in wheel.namelist() if n.endswith(".py")]
    assert {n.split("/")[0] for n in modules} == {"emulators"}
    for emulator in ("x", "slack", "telegram"):
        assert f"emulators/{emulator}/api.py" in modules
    assert "Requires-Dist: websockets" in _metadata(wheel)
