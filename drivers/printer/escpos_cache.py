"""python-escpos's printer database, parsed once per machine instead of once per process.

On its first import python-escpos reads its printer database (``capabilities.json``, 400 KB) with
pure-Python YAML, 0.2 s of CPU, and keeps the result as a pickle in
``$ESCPOS_CAPABILITIES_PICKLE_DIR``, by default a new temporary directory each time: every start of
hwd parsed the database again and left the pickle behind in /tmp (python-escpos still makes an
empty temporary directory: its default is made even when the environment names one).

``prepare()`` points it at one directory of this user's instead. A pickle is only ever renamed
into place whole (it is written in a private directory first), so a process starting beside
another never reads half a file; and since loading a pickle runs code, a directory that is not
this user's own with mode 0700 is never used.
"""

from __future__ import annotations

import os
import platform
import shutil
import stat
import sys
import tempfile
import threading
from importlib import resources
from pathlib import Path

ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"
_lock = threading.Lock()  # two printers' workers may open at once


def cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"hwd-escpos-{os.getuid()}"


def _own(path: Path) -> bool:
    st = path.lstat()
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def _fresh(pickle: Path) -> bool:
    """There, and newer than the database (python-escpos parses again otherwise)."""
    try:
        database = resources.files("escpos") / "capabilities.json"
        return pickle.stat().st_mtime >= os.stat(str(database)).st_mtime
    except OSError:
        return False


def prepare() -> None:
    """Call before the first ``import escpos.…`` of this process; does nothing once it ran, when the
    environment already names a directory, or when the cache directory cannot be made safely."""
    with _lock:
        _prepare()


def _prepare() -> None:
    if ENV in os.environ or "escpos.capabilities" in sys.modules:
        return
    shared = cache_dir()
    try:
        shared.mkdir(mode=0o700, exist_ok=True)
        if not _own(shared):
            return
    except OSError:
        return
    pickle = shared / f"{platform.python_version()}.capabilities.pickle"
    if _fresh(pickle):
        os.environ[ENV] = str(shared)
        return
    private = tempfile.mkdtemp(dir=shared)
    os.environ[ENV] = private
    try:
        import escpos.capabilities  # noqa: F401 - parses the database and writes the pickle in private

        os.replace(Path(private) / pickle.name, pickle)
    except OSError:
        pass
    finally:
        shutil.rmtree(private, ignore_errors=True)
        os.environ[ENV] = str(shared)
