"""CURVE keys for tcp:// endpoints: generating key pairs and setting up a server socket.

Keys are zmq's certificate files (``NAME.key`` public, ``NAME.key_secret`` both); the server
allows exactly the clients whose public certificates sit in ``clients_dir``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def keygen(directory: str | Path, name: str = "hwd") -> tuple[Path, Path]:
    import zmq.auth

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(str(directory), name)
    os.chmod(secret, 0o600)
    return Path(public), Path(secret)


def secure_server(sock: Any, server_key: Path) -> None:
    import zmq.auth

    public, secret = zmq.auth.load_certificate(str(server_key))
    if secret is None:
        raise ValueError(f"{server_key} holds no secret key; give the .key_secret file")
    sock.curve_secretkey = secret
    sock.curve_publickey = public
    sock.curve_server = True


def start_authenticator(context: Any, clients_dir: Path) -> Any:
    """Allow CURVE clients whose public certificates are in ``clients_dir``."""
    from zmq.auth.thread import ThreadAuthenticator

    auth = ThreadAuthenticator(context)
    auth.start()
    auth.configure_curve(domain="*", location=str(clients_dir))
    return auth
