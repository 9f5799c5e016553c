"""Where hwd keeps its sockets and state when the config does not say.

Under systemd the unit's RuntimeDirectory/StateDirectory arrive as environment variables; a
developer's run uses the per-user runtime directory, so two people on one machine never meet.
"""

from __future__ import annotations

import os
from pathlib import Path


def runtime_dir() -> Path:
    if os.environ.get("RUNTIME_DIRECTORY"):
        return Path(os.environ["RUNTIME_DIRECTORY"].split(":")[0])
    if os.geteuid() == 0 and Path("/run").is_dir():
        return Path("/run/hwd")
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "hwd"
    return Path(f"/tmp/hwd-{os.getuid()}")


def state_dir() -> Path:
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    if os.geteuid() == 0:
        return Path("/var/lib/hwd")
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "hwd"


def default_endpoint(name: str) -> str:
    return f"ipc://{runtime_dir() / name}"
