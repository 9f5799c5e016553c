"""Certificates for the hall's etcd (``hwctl standby certs``): a CA of its own and, for each
member PC, one certificate for both sides of TLS — serving etcd's peers and clients, and
authenticating as a client to the others (etcd's ``--client-cert-auth``, hwd's ``etcd_cert``).

Made with the ``cryptography`` library like hwd-ui's certificates (hwd.tlsca, whose CA this
reuses in a directory of its own); keys ECDSA P-256, written 0600, certificates for 10 years (a
hall's etcd is not a public service: renewing means re-running this and restarting etcd).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from hwd import tlsca


def _write_key(path: Path, key) -> None:
    from cryptography.hazmat.primitives import serialization

    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def make(directory: Path, members: list[tuple[str, str]], hall: str = "hwd hall") -> list[tuple[Path, Path]]:
    """The CA (``hall-ca.pem``) and ``<name>.pem`` / ``<name>-key.pem`` for each (name, address)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert_path, ca_key_path = tlsca.make_ca(directory, f"{hall} etcd")
    ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    out = []
    for name, address in members:
        sans = [x509.DNSName(name)]
        for item in (address, "127.0.0.1"):
            sans.append(x509.IPAddress(ipaddress.ip_address(item)))
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64])]))
                .issuer_name(ca_cert.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.SubjectAlternativeName(sans), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                      ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False)
                .sign(ca_key, hashes.SHA256()))
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}-key.pem"
        _write_key(key_path, key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        out.append((cert_path, key_path))
    return out
