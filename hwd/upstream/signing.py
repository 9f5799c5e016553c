"""Signatures of pushed records: HMAC-SHA256 or HMAC-SM3 (GB/T 32905) over ``timestamp.body``.

Both come from ``cryptography`` (OpenSSL's SM3), a maintained library, instead of hand-written
hashing; SM3 is what provincial platforms that follow the 国密 rules ask for.
"""

from __future__ import annotations

from hwd.errors import MissingDependency


def _hash(name: str):
    try:
        from cryptography.hazmat.primitives import hashes
    except ImportError:
        raise MissingDependency("signing upstream records needs the 'cryptography' package: "
                                "pip install 'hwd[upstream]'") from None
    return {"hmac-sha256": hashes.SHA256, "hmac-sm3": hashes.SM3}[name]()


def sign(algorithm: str, secret: str, timestamp: str, body: bytes) -> str:
    """Hex digest of HMAC(secret, timestamp + "." + body)."""
    from cryptography.hazmat.primitives import hmac

    h = hmac.HMAC(secret.encode(), _hash(algorithm))
    h.update(timestamp.encode() + b"." + body)
    return h.finalize().hex()


def verify(algorithm: str, secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    import hmac as std_hmac

    return std_hmac.compare_digest(sign(algorithm, secret, timestamp, body), signature)
