"""python-escpos's printer database is parsed once per machine (drivers/printer/escpos_cache.py):
processes started together each load a whole pickle and leave no copy of it behind; a stale pickle
is made again; a cache directory someone else could write is not used. Each case runs in fresh
Python processes with ``TMPDIR`` of its own, as hwd's processes import python-escpos."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from drivers.printer import escpos_cache

PROBE = """
import os, sys
from drivers.printer import escpos_cache
escpos_cache.prepare()
from escpos.capabilities import get_profile
import escpos.capabilities as caps
assert get_profile("default").profile_data["name"], "the database loaded"
print(os.environ.get(escpos_cache.ENV), caps.full_load)
"""


def probe(tmp: Path, n: int = 1) -> list[tuple[str, bool]]:
    env = {k: v for k, v in os.environ.items() if k != escpos_cache.ENV}
    env["TMPDIR"] = str(tmp)
    procs = [subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(n)]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        where, parsed = stdout.split()
        out.append((where, parsed == "True"))
    return out


def test_processes_started_together_share_one_whole_pickle_and_leave_no_copy_behind(tmp_path):
    first = probe(tmp_path, n=4)
    shared = str(tmp_path / f"hwd-escpos-{os.getuid()}")
    assert all(where == shared for where, _ in first)
    assert sorted(p.name for p in Path(shared).iterdir()) == [p.name for p in Path(shared).glob("*.capabilities.pickle")]
    assert len(list(Path(shared).iterdir())) == 1, "one pickle, no private directory left"
    pickles = list(tmp_path.rglob("*.pickle"))
    assert pickles == list(Path(shared).iterdir()), "no pickle in python-escpos's own temporary directories"
    assert probe(tmp_path) == [(shared, False)], "the next process loads the pickle, it does not parse"


def test_a_pickle_older_than_the_database_is_made_again(tmp_path):
    probe(tmp_path)
    pickle = next((tmp_path / f"hwd-escpos-{os.getuid()}").glob("*.pickle"))
    os.utime(pickle, (1, 1))
    assert probe(tmp_path)[0][1] is True, "parsed again"
    assert pickle.stat().st_mtime > 1
    assert probe(tmp_path)[0][1] is False


def test_a_cache_directory_others_may_write_is_not_used(tmp_path):
    shared = tmp_path / f"hwd-escpos-{os.getuid()}"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    (where, parsed), = probe(tmp_path)
    assert where == "None" and parsed, "python-escpos's own private temporary directory instead"
    assert list(shared.iterdir()) == []
