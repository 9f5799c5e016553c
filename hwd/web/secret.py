"""The key that signs a web app's session cookies, kept in a file only its owner reads (0600),
so logins survive a restart of the app. hwd-ui and hwd-central each have their own file."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from hwd import paths

log = logging.getLogger("hwd.web.secret")


def key_file(configured: Path | str | None, name: str, fallback: Path) -> Path:
    """Where the key lives: the configured file, else ``$STATE_DIRECTORY/name`` (systemd's
    StateDirectory= of the app's unit), else ``fallback``."""
    if configured:
        return Path(configured)
    service = paths.service_state_dir()
    return service / name if service is not None else Path(fallback)


def load(path: Path) -> bytes:
    """The key in ``path`` (hex), made (32 random bytes, 0600) when missing or unreadable. A key
    file others may read is narrowed to 0600. Without a writable place the key lives until the
    app stops (everyone logs in again after a restart)."""
    try:
        key = bytes.fromhex(path.read_text().strip())
        if len(key) >= 16:
            _narrow(path)
            return key
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex())
        _narrow(path)
    except OSError as exc:
        log.warning("session key %s: cannot write it (%s); logins last until this process stops", path, exc)
    return key


def _narrow(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
            log.warning("session key %s was mode %o: made 0600", path, mode)
    except OSError as exc:
        log.warning("session key %s: cannot make it 0600: %s", path, exc)
