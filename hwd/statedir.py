"""Permissions of hwd's state directory and the files in it: never world-readable.

The hall database holds appointment keys, ratings and staff actions; the key files hold the
hall's secrets. ``prepare`` creates the directory 0750 (group ``hwd`` may read, as the pages do)
and takes the world bits off anything already there; ``restrict`` does the same for one file
(SQLite creates its ``-wal`` and ``-shm`` files with the umask, which the daemon sets to 027).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

UMASK = 0o027


def prepare(path: Path) -> None:
    """Create the state directory (0750) and take world access off it and its direct files."""
    os.umask(UMASK)
    path.mkdir(parents=True, exist_ok=True)
    _drop_world(path)
    with contextlib.suppress(OSError):
        for child in path.iterdir():
            if child.is_file() and not child.is_symlink():
                _drop_world(child)


def restrict(path: Path) -> None:
    """Take world access off ``path`` and its SQLite companions (-wal, -shm, -journal)."""
    for candidate in (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))):
        if candidate.exists():
            _drop_world(candidate)


def _drop_world(path: Path) -> None:
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o007:
            os.chmod(path, mode & ~0o007)
