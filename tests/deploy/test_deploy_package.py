"""What `make install` puts in /opt/hwd/venv is a regular (non-editable) install of the package:
every data file the code opens at run time (page templates, static files, emulator fixtures)
must be in the wheel, not only in the source tree that the developers' editable install reads."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hwd", "drivers", "kiosk_ui")


def data_files() -> set[str]:
    out = set()
    for top in PACKAGES:
        for path in (REPO / top).rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
                out.add(str(path.relative_to(REPO)))
    return out


def test_wheel_holds_every_data_file(tmp_path):
    src = tmp_path / "src"
    tracked = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard"], capture_output=True,
                             text=True, timeout=60)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    for name in tracked.stdout.splitlines():
        path = REPO / name
        if path.is_file() and not name.startswith((".demo/", ".venv/")):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes(path.read_bytes())
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                           str(src)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no setuptools from the index?): {done.stderr[-300:]}")
    wheel = next((tmp_path / "dist").glob("hwd-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(f for f in data_files() if f in {str(Path(n)) for n in tracked.stdout.splitlines()} and f not in names)
    assert not missing, f"not in the wheel: {missing}"
