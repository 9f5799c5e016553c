"""The SM2 keys of an upstream envelope, in files beside the other hall keys (docs/security.md).

``[hall.upstream] sm2_public_key`` names a file with the province's public key (hex ``04 || x ||
y``, as the province hands it out); ``sm2_private_key`` a file with the hall's own private key
(64 hex digits), for the profiles that sign (zfsoft). Like hwd.hall.hallkeys, the private key is
0600: a file readable by others is made 0600 with a warning. ``hwctl upstream sm2-keygen DIR``
writes a new pair (``upstream-sm2.key`` 0600, ``upstream-sm2.pub`` to give to the province).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from hwd.errors import HwdError
from hwd.upstream import sm2

log = logging.getLogger("hwd.upstream.sm2keys")
PRIVATE_NAME = "upstream-sm2.key"
PUBLIC_NAME = "upstream-sm2.pub"


class KeyFileError(HwdError):
    """An SM2 key file is missing, unreadable or not a key."""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read the SM2 key ({exc})") from None


def load_public(path: str | Path) -> str:
    """The public key in ``path`` as ``04xy`` hex."""
    path = Path(path)
    try:
        return "04" + sm2.point(_read(path))
    except ValueError as exc:
        raise KeyFileError(f"{path}: not an SM2 public key ({exc})") from None


def load_private(path: str | Path) -> str:
    """The private key in ``path`` (hex); a file readable by others is made 0600 first."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the SM2 key ({exc})") from None
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("upstream: %s was readable by others (%o); now 0600", path, mode)
    try:
        return sm2.check_private(_read(path))
    except ValueError as exc:
        raise KeyFileError(f"{path}: not an SM2 private key ({exc})") from None


def write_pair(directory: str | Path) -> tuple[Path, Path]:
    """A new pair in ``directory`` (0700): the private key 0600, the public key to hand out.
    An existing private key is never overwritten."""
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_path, public_path = directory / PRIVATE_NAME, directory / PUBLIC_NAME
    private, public = sm2.keygen()
    try:
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{private_path} exists: remove it first to make a new pair "
                           "(the province must then get the new public key)") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(private + "\n")
    public_path.write_text(public + "\n", encoding="ascii")
    return private_path, public_path
