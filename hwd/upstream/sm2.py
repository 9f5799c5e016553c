"""SM2 (GB/T 32918) as the provinces' 好差评 envelopes use it: public-key encryption of a record
and signatures with a signer ID, in the wire formats of their Java code (BouncyCastle
``SM2Engine`` / ``SM2Signer``, e.g. zfsoft's ``SM2Util``): ciphertext ``04 || C1 || C2 || C3`` in
lower-case hex (``order = "c1c3c2"`` for the newer layout), signatures DER ``SEQUENCE {r, s}`` in
hex, public keys ``04 || x || y`` in hex, private keys 32 bytes in hex.

The curve arithmetic, the KDF and SM3 are those of ``gmssl`` (pure Python, PyPI; why this library
is in docs/security.md). Three of its defects are handled here rather than inherited:

- its ``encrypt`` and ``sign_with_sm3`` draw the ephemeral ``k`` with ``random.choice`` (Mersenne
  Twister, predictable from its output: a known ``k`` gives away the plaintext, or the private
  key). Here ``k`` always comes from ``secrets``; encryption is therefore composed here from
  gmssl's point multiplication, KDF and SM3, and signing passes ``k`` to gmssl's ``sign``;
- its constructor strips a ``04`` prefix with ``lstrip("04")``, which also eats an ``x`` that starts
  with the digit 0 or 4: the key is set after construction;
- its ``decrypt`` computes ``C3`` but never compares it: ``decrypt`` here refuses a ciphertext
  whose ``C3`` does not match.

The signer ID enters ``Z`` (GB/T 32918.2 §5.5); gmssl fixes it at ``1234567812345678``, the
provinces do not (zfsoft signs with its ``apiKey``), so ``Z`` and ``e`` are computed here with
gmssl's SM3 and gmssl signs ``e``.
"""

from __future__ import annotations

import secrets

from hwd.errors import MissingDependency

DEFAULT_ID = b"1234567812345678"
ORDERS = ("c1c2c3", "c1c3c2")
# the recommended curve (GB/T 32918.5), as gmssl's default_ecc_table spells it
P = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF", 16)
A = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC", 16)
B = int("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93", 16)
N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
G = ("32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
     "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0")


def _gmssl():
    try:
        from gmssl import sm2, sm3
    except ImportError:
        raise MissingDependency("SM2 envelopes need the 'gmssl' package: pip install 'hwd[upstream]'") from None
    return sm2, sm3


def _crypt(private_hex: str = "", public_xy: str = ""):
    sm2, _ = _gmssl()
    c = sm2.CryptSM2(private_key=private_hex, public_key="", mode=0, asn1=True)
    c.public_key = public_xy  # after construction: see the module docstring
    return c


def _sm3(data: bytes) -> bytes:
    _, sm3 = _gmssl()
    return bytes.fromhex(sm3.sm3_hash(list(data)))


def point(public_hex: str) -> str:
    """``x || y`` (128 hex digits) of a public key given as ``04xy`` or ``xy``; ValueError when it
    is not a point of the curve."""
    text = public_hex.strip().lower()
    if len(text) == 130 and text.startswith("04"):
        text = text[2:]
    if len(text) != 128:
        raise ValueError("an SM2 public key is 04 followed by 128 hex digits (x, y)")
    x, y = int(text[:64], 16), int(text[64:], 16)
    if not (x < P and y < P and (y * y - (x ** 3 + A * x + B)) % P == 0):
        raise ValueError("not a point of the SM2 curve")
    return text


def check_private(private_hex: str) -> str:
    text = private_hex.strip().lower()
    d = int(text, 16) if len(text) == 64 else 0
    if not 0 < d < N - 1:
        raise ValueError("an SM2 private key is 64 hex digits, 0 < d < n - 1")
    return text


def public_of(private_hex: str) -> str:
    """The public key ``04 || x || y`` of a private key."""
    d = int(check_private(private_hex), 16)
    return "04" + _crypt()._kg(d, G)


def keygen() -> tuple[str, str]:
    """A new key pair (private hex, public ``04xy`` hex)."""
    d = secrets.randbelow(N - 2) + 1
    private = f"{d:064x}"
    return private, public_of(private)


def _k() -> int:
    return secrets.randbelow(N - 1) + 1


def encrypt(public_hex: str, data: bytes, order: str = "c1c2c3") -> str:
    """``04 || C1 || C2 || C3`` (or ``C1 || C3 || C2``) in hex, for the holder of the private key."""
    _, sm3 = _gmssl()
    xy_b = point(public_hex)
    c = _crypt(public_xy=xy_b)
    while True:
        k = _k()
        c1 = c._kg(k, G)
        shared = c._kg(k, xy_b)
        t = sm3.sm3_kdf(shared.encode("ascii"), len(data))
        if int(t, 16) != 0:  # an all-zero key stream: draw k again (GB/T 32918.4 §6.1 A5)
            break
    c2 = bytes(a ^ b for a, b in zip(data, bytes.fromhex(t)))
    c3 = _sm3(bytes.fromhex(shared[:64]) + data + bytes.fromhex(shared[64:]))
    body = c2 + c3 if order == "c1c2c3" else c3 + c2
    return "04" + c1 + body.hex()


def decrypt(private_hex: str, cipher_hex: str, order: str = "c1c2c3") -> bytes:
    """The plaintext of ``encrypt``'s output; ValueError when it is malformed or ``C3`` differs."""
    _, sm3 = _gmssl()
    text = cipher_hex.strip().lower()
    if text.startswith("04") and len(text) % 2 == 0 and len(text) >= 2 + 128 + 64:
        text = text[2:]
    raw = bytes.fromhex(text)
    if len(raw) < 64 + 32:
        raise ValueError("too short for an SM2 ciphertext")
    c1 = point(raw[:64].hex())
    rest = raw[64:]
    c2, c3 = (rest[:-32], rest[-32:]) if order == "c1c2c3" else (rest[32:], rest[:32])
    shared = _crypt(check_private(private_hex))._kg(int(private_hex, 16), c1)
    t = bytes.fromhex(sm3.sm3_kdf(shared.encode("ascii"), len(c2)))
    data = bytes(a ^ b for a, b in zip(c2, t))
    if not secrets.compare_digest(_sm3(bytes.fromhex(shared[:64]) + data + bytes.fromhex(shared[64:])), c3):
        raise ValueError("SM2 ciphertext does not check (C3 differs): wrong key or altered on the way")
    return data


def _e(public_xy: str, data: bytes, signer_id: bytes) -> bytes:
    """SM3(Z || M), Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GB/T 32918.2 §5.5)."""
    entl = (len(signer_id) * 8).to_bytes(2, "big")
    z = _sm3(entl + signer_id + A.to_bytes(32, "big") + B.to_bytes(32, "big") + bytes.fromhex(G)
             + bytes.fromhex(public_xy))
    return _sm3(z + data)


def sign(private_hex: str, data: bytes, signer_id: bytes = DEFAULT_ID) -> str:
    """SM3withSM2 signature of ``data``, DER ``SEQUENCE {r, s}`` in hex."""
    key = check_private(private_hex)
    xy = public_of(key)[2:]
    c = _crypt(key, xy)
    e = _e(xy, data, signer_id)
    while True:
        signature = c.sign(e, f"{_k():064x}")
        if signature:  # None when r = 0 or r + k = n: draw k again
            return signature


def verify(public_hex: str, data: bytes, signature_hex: str, signer_id: bytes = DEFAULT_ID) -> bool:
    xy = point(public_hex)
    try:
        return bool(_crypt(public_xy=xy).verify(signature_hex, _e(xy, data, signer_id)))
    except (ValueError, TypeError, IndexError):  # not DER, not hex
        return False
