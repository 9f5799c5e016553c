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


def service_state_dir() -> Path | None:
    """systemd's StateDirectory= of this process's unit (the first of ``$STATE_DIRECTORY``), or None."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    return None


def state_dir() -> Path:
    """hwd's state directory when ``[daemon] state_dir`` does not say."""
    service = service_state_dir()
    if service is not None:
        return service
    if os.geteuid() == 0:
        return Path("/var/lib/hwd")
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "hwd"


def default_endpoint(name: str) -> str:
    """hwd's ``rpc`` or ``events`` endpoint when ``[daemon]`` does not say."""
    return f"ipc://{runtime_dir() / name}"
