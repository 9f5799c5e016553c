"""Decoding the card's WLT photo through a configured local command (a vendor library's tool).

No open WLT decoder is known (vendors ship ``libwlt2bmp.so`` and the like), and some vendor SDKs send the photo to a decode
server, which hwd never allows: the only way is ``photo_command``, a local program run without
a shell, e.g. ``["/opt/vendor/bin/wlt2bmp", "{wlt}", "{out}"]``. ``{wlt}`` is replaced by a file
holding the 1024 WLT bytes, ``{out}`` by the path the program must write the picture to. Both
live in a private temporary directory removed right after.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from drivers.idcard.protocol import IdCardError


class PhotoError(IdCardError):
    """The photo command failed; the message says how (never contains card data)."""


def check_command(command: list) -> str | None:
    """Config-time check of ``photo_command``: a program and both placeholders."""
    if not command:
        return "give the program and its arguments, e.g. [\"/opt/vendor/wlt2bmp\", \"{wlt}\", \"{out}\"]"
    if not any("{wlt}" in arg for arg in command) or not any("{out}" in arg for arg in command):
        return "the arguments must contain {wlt} (input file) and {out} (output file)"
    return None


def decode_wlt(command: list[str], wlt: bytes, timeout: float = 5.0, suffix: str = ".bmp") -> bytes:
    """Run ``command`` on ``wlt``; return the bytes of the picture it wrote."""
    with tempfile.TemporaryDirectory(prefix="hwd-wlt-") as tmp:
        wlt_path = Path(tmp) / "photo.wlt"
        out_path = Path(tmp) / f"photo{suffix}"
        wlt_path.write_bytes(wlt)
        args = [a.replace("{wlt}", str(wlt_path)).replace("{out}", str(out_path)) for a in command]
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=timeout, cwd=tmp, check=False)
        except FileNotFoundError:
            raise PhotoError(f"photo_command program {command[0]!r} not found") from None
        except subprocess.TimeoutExpired:
            raise PhotoError(f"photo_command did not finish in {timeout:g} s") from None
        if done.returncode != 0:
            raise PhotoError(f"photo_command exited with {done.returncode}")
        if not out_path.exists():
            raise PhotoError("photo_command wrote no output file")
        return out_path.read_bytes()
