"""Clerk PINs, stored only as salted PBKDF2-HMAC-SHA256 hashes in the config.

Format: ``pbkdf2_sha256$ITERATIONS$SALT_HEX$HASH_HEX``. Make one with
``python -m hwd.hall.pin 1234`` and paste it as ``pin_hash`` of a ``[[hall.staff]]``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys

SCHEME = "pbkdf2_sha256"
ITERATIONS = 100_000


def hash_pin(pin: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def check_format(value: str) -> str | None:
    parts = value.split("$")
    try:
        ok = len(parts) == 4 and parts[0] == SCHEME and int(parts[1]) > 0 and bytes.fromhex(parts[2]) \
            and len(bytes.fromhex(parts[3])) == 32
    except ValueError:
        ok = False
    return None if ok else f"expected {SCHEME}$ITERATIONS$SALT$HASH (make one: python -m hwd.hall.pin PIN)"


def verify(pin: str, stored: str) -> bool:
    scheme, iterations, salt, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m hwd.hall.pin PIN\n")
        return 2
    sys.stdout.write(hash_pin(argv[0]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
