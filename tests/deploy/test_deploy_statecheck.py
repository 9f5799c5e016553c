"""scripts/statecheck.py, which make install runs before it changes anything: a hall database
newer than the tree's hwd reads is refused (a rollback would stop the hall) and left as it was;
otherwise a consistent copy is made for going back, the newest three kept. The whole path on a
booted system is tests/deploy/test_booted_install.py."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from hwd.hall.store import MIGRATIONS, Store

REPO = Path(__file__).resolve().parents[2]


def statecheck(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    config = tmp_path / "hwd.toml"
    config.write_text(f'[daemon]\nstate_dir = "{tmp_path / "state"}"\n')
    # -S: no site-packages, as the system's Python before the venv exists
    return subprocess.run([sys.executable, "-S", str(REPO / "scripts" / "statecheck.py"), "--config", str(config),
                           "--backup-dir", str(tmp_path / "backups"), *extra],
                          capture_output=True, text=True, timeout=60)


def hall(tmp_path: Path, schema_bump: int = 0) -> Path:
    path = tmp_path / "state" / "hall.sqlite3"
    store = Store(path)
    with store.tx():
        store.set_meta("probe", "kept")
    store.close()
    if schema_bump:
        db = sqlite3.connect(path)
        db.execute("UPDATE meta SET value = '9.1.0' WHERE key = 'hwd_version'")
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + schema_bump}")
        db.commit()
        db.close()
    return path


def test_no_database_yet(tmp_path):
    done = statecheck(tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "backups").exists()


def test_a_copy_before_each_install_the_newest_three_kept(tmp_path):
    hall(tmp_path)
    made = []
    for _ in range(5):
        done = statecheck(tmp_path)
        assert done.returncode == 0, done.stderr
        made.append(done.stdout.split(" to ")[-1].strip())
    kept = sorted((tmp_path / "backups").glob("hall-before-install-*.sqlite3"))
    assert [str(p) for p in kept] == made[-3:]
    assert kept[-1].name.endswith(f"-schema{len(MIGRATIONS)}.sqlite3")
    assert kept[-1].stat().st_mode & 0o777 == 0o640
    copy = sqlite3.connect(kept[-1])
    assert copy.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone() == ("kept",)
    copy.close()


def test_a_newer_database_is_refused_and_untouched(tmp_path):
    path = hall(tmp_path, schema_bump=1)
    before = path.read_bytes()
    done = statecheck(tmp_path)
    assert done.returncode == 1
    assert f"schema {len(MIGRATIONS) + 1}, last opened by hwd 9.1.0" in done.stderr
    assert f"(schema {len(MIGRATIONS)} at most)" in done.stderr
    assert "nothing was changed" in done.stderr and "Rolling back" in done.stderr
    assert path.read_bytes() == before
    assert not (tmp_path / "backups").exists()
