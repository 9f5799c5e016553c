"""The stored hash of a web app's login password (hwd-ui's admin, hwd-ui's kiosk exit PIN,
hwd-central's supervisors): given in the app's section or read from a file (e.g. a systemd
credential) at each login, so a new hash in the file needs no restart. A file that cannot be read,
or does not hold a hash (``hwd-ui --hash-password`` makes one), is no password: the login page
says none is set instead of comparing a password with plain text."""

from __future__ import annotations

from pathlib import Path

from hwd.web.checks import password_hash


def stored_hash(configured: str | None, file: Path | str | None) -> str | None:
    """``configured`` when set, else the hash in ``file``, else None."""
    if configured:
        return configured
    if file is None:
        return None
    try:
        text = Path(file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if password_hash(text) is None else None
