"""Before `make install` changes anything: is the hall's database one this tree's hwd can open,
and a copy of it for going back.

    python3 scripts/statecheck.py [--config /etc/hwd/hwd.toml] [--backup-dir /var/backups/hwd]

Exit 1, with what to do, when the database's schema (``PRAGMA user_version``) is newer than this
tree's hwd reads: installing an older hwd over a newer hall would stop the hall (hwd refuses to
open it), so the installer stops first and nothing is changed. Otherwise, with ``--backup-dir``,
an online copy (SQLite's backup API: consistent while hwd runs) goes to
``hall-before-install-<time>-schema<N>.sqlite3``; the newest three are kept. That copy is what a
rollback restores (docs/deploy.md, "Rolling back").

Runs with the system's Python before the venv exists: the standard library only, and this tree's
``hwd.hall.store`` (which imports nothing outside it; tests/deploy/test_deploy_statecheck.py runs
this without site-packages to keep it so).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
import tomllib
from pathlib import Path

SRC = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SRC))  # this tree's hwd, not an installed one

from hwd import __version__  # noqa: E402
from hwd.hall.store import MIGRATIONS  # noqa: E402

KEEP = 3


def tree_schema() -> tuple[int, str]:
    """The schema this tree's hwd writes (the number of its migrations) and its version."""
    return len(MIGRATIONS), __version__


def database(config: Path) -> Path:
    """The hall database the config names (``[hall] database``, else ``state_dir/hall.sqlite3``)."""
    state_dir, db = Path("/var/lib/hwd"), None
    try:
        with open(config, "rb") as fh:
            data = tomllib.load(fh)
        state_dir = Path(data.get("daemon", {}).get("state_dir") or state_dir)
        db = data.get("hall", {}).get("database")
    except (OSError, ValueError, AttributeError):
        pass  # no or bad config: hwd --check says so later; the default place is what hwd would use
    return Path(db) if db else state_dir / "hall.sqlite3"


def found_schema(path: Path) -> tuple[int, str | None]:
    """The database's schema and the hwd version that last opened it (None when not recorded)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        written_by = None
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            row = db.execute("SELECT value FROM meta WHERE key = 'hwd_version'").fetchone()
            written_by = row[0] if row else None
        return version, written_by
    finally:
        db.close()


def backup(path: Path, schema: int, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"
    target = directory / f"hall-before-install-{stamp}-schema{schema}.sqlite3"
    partial = target.with_suffix(".partial")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    os.chmod(partial, 0o640)
    os.replace(partial, target)
    for old in sorted(directory.glob("hall-before-install-*.sqlite3"))[:-KEEP]:
        old.unlink()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path("/etc/hwd/hwd.toml"))
    parser.add_argument("--backup-dir", type=Path)
    args = parser.parse_args(argv)
    path = database(args.config)
    if not path.exists():
        return 0
    ours, version = tree_schema()
    try:
        theirs, written_by = found_schema(path)
    except sqlite3.Error as exc:
        print(f"install: cannot read {path} ({exc}); leaving it as it is: hwd says more when it starts")
        return 0
    if theirs > ours:
        by = f", last opened by hwd {written_by}" if written_by else ""
        print(f"install: {path} is at schema {theirs}{by}: newer than this tree's hwd {version} reads "
              f"(schema {ours} at most).", file=sys.stderr)
        print("install: this version would refuse to open it and the hall would stop: nothing was changed.",
              file=sys.stderr)
        print("install: to go back to this version, restore the copy made before the upgrade "
              "(/var/backups/hwd/hall-before-install-*; docs/deploy.md, \"Rolling back\").", file=sys.stderr)
        return 1
    if args.backup_dir is not None:
        print(f"install: copied {path} (schema {theirs}) to {backup(path, theirs, args.backup_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
