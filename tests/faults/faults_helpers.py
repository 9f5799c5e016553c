"""Helpers shared by the fault suite: a hall config with emulated devices, bounded polling, the
resident memory of a process, a small tmpfs, and RPC client threads that survive a dead daemon."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterator

from hwd.client import RpcError
from support.waits import wait_for as _wait_for
import functools

PRINTER = '''
[[device]]
id = "{id}"
kind = "printer"
driver = "escpos"
url = "sim://{id}"
status_interval = 0.2
timeout_s = 1.0
'''


def hall(services: int = 2, windows: int = 2, kiosks: int = 0, extra: str = "", window_extra: Callable[[int], str] | None = None,
         kiosk_extra: Callable[[int], str] | None = None, hall_extra: str = "") -> str:
    """A hall section: services s0.. (prefixes A.., no quota), windows w1.. serving every service,
    kiosks k1..; ``window_extra(i)`` / ``kiosk_extra(i)`` add lines to each table."""
    text = f'{extra}\n[hall]\nname = "故障测试政务服务中心"\nrating_timeout_s = 600\n{hall_extra}\n[hall.hours]\nalways_open = true\n'
    ids = [f"s{i}" for i in range(services)]
    for i, sid in enumerate(ids):
        prefix = chr(ord("A") + i % 26) + (chr(ord("A") + i // 26) if i >= 26 else "")
        text += f'[[hall.service]]\nid = "{sid}"\nname = "业务{i}"\nprefix = "{prefix}"\n'
    for i in range(1, windows + 1):
        text += (f'[[hall.window]]\nid = "w{i}"\nname = "{i}号窗口"\nservices = {ids!r}\n'.replace("'", '"')
                 + (window_extra(i) if window_extra else ""))
    for i in range(1, kiosks + 1):
        text += f'[[hall.kiosk]]\nid = "k{i}"\n' + (kiosk_extra(i) if kiosk_extra else "")
    return text


wait_for = functools.partial(_wait_for, timeout=15.0, tolerate=(RpcError,))


def rss_kib(pid: int) -> int:
    """Resident memory of a process, in KiB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "2m") -> Iterator[Path]:
    """Mount a small tmpfs at ``path`` (needs root); yields the path, unmounts on exit."""
    path.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise OSError(f"cannot mount a tmpfs: {out.stderr.strip() or out.returncode}")
    try:
        yield path
    finally:
        for _ in range(50):
            if subprocess.run(["umount", str(path)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)


def can_mount() -> str | None:
    """None when a tmpfs can be mounted here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    if not Path("/proc/filesystems").exists() or "tmpfs" not in Path("/proc/filesystems").read_text():
        return "the kernel has no tmpfs"
    return None

