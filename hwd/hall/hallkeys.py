"""The hall's secret keys, each in its own 0600 file outside the database.

``appointment.key`` keys the HMAC that stands for an appointment's ID number (so a copy of the
database alone cannot be searched for ID numbers); ``ticket-token.key`` keys the per-ticket
tokens of phone ratings; ``holder.key`` seals the card holder of a 实名评价 until the province
has it (hwd.hall.ratings.holders); ``pickup.key`` keys the locker's pickup codes
(hwd.hall.pickup.codes). They live in ``[hall] keys_dir`` (default ``STATE_DIR/keys``, 0700), are
made by ``hwctl hall-keys`` at install and, if missing, on the daemon's first start. Rotation is in
docs/security.md.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("hwd.hall.keys")

NAMES = ("appointment", "ticket-token", "holder", "pickup")
KEY_BYTES = 32


class KeyError_(Exception):
    """A key file exists but cannot be used (wrong size, unreadable, readable by others)."""


def key_path(keys_dir: Path, name: str) -> Path:
    return Path(keys_dir) / f"{name}.key"


def ensure(keys_dir: Path) -> list[Path]:
    """Create every missing key file (directory 0700, files 0600); return the ones made."""
    keys_dir = Path(keys_dir)
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    made = []
    for name in NAMES:
        path = key_path(keys_dir, name)
        if path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(KEY_BYTES) + "\n")
        made.append(path)
        log.info("made the hall key %s", path)
    return made


def load(keys_dir: Path, name: str) -> bytes:
    """The key ``name``; its file is created first when missing."""
    path = key_path(keys_dir, name)
    if not path.exists():
        ensure(keys_dir)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("%s was readable by others (%o); now 0600", path, mode)
    try:
        key = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise KeyError_(f"{path}: not a hex key ({exc}); remove it to make a new one "
                        "(see docs/security.md, rotating keys)") from None
    if len(key) < 16:
        raise KeyError_(f"{path}: key too short ({len(key)} bytes); expected {KEY_BYTES}")
    return key
