"""Helpers shared by the fault suite: a hall config with emulated devices, bounded polling, the
resident memory of a process, a small tmpfs, and RPC client threads that survive a dead daemon."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from hwd.client import RpcError
from support.halls import numbered_hall
from support.waits import wait_for as _wait_for
import functools

def hall(services: int = 2, windows: int = 2, kiosks: int = 0, devices: str = "",
         window_values: Callable[[int], dict] = lambda i: {}, kiosk_values: Callable[[int], dict] = lambda i: {},
         **values: Any) -> str:
    """The fault tests' hall after ``devices``: services s0.. (prefixes A.., no quota), windows w1..
    serving every service, kiosks k1.. (support.halls.numbered_hall); ``values``: keys of [hall]."""
    return devices + numbered_hall("故障测试政务服务中心", services, windows, kiosks, window_values, kiosk_values,
                                   rating_timeout_s=600, **values).toml()


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

