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
    """Allow CURVE clients whose public certificates are in ``clients_dir``. A client's User-Id
    (seen by the RPC layer) is its certificate's file name without ``.key``; refused clients
    are logged by address, rate-limited (hwd.audit)."""
    import zmq.auth
    from zmq.auth.thread import ThreadAuthenticator
    from zmq.utils import z85

    from hwd.audit import AUDIT

    names: dict[bytes, str] = {}
    for cert in sorted(Path(clients_dir).glob("*.key")):
        try:
            public, _ = zmq.auth.load_certificate(str(cert))
        except (OSError, ValueError):
            continue
        names[public] = cert.stem

    class NamingAuthenticator(ThreadAuthenticator):
        _address = "?"

        async def handle_zap_message(self, msg: list) -> None:
            if len(msg) > 3:
                self._address = msg[3].decode("utf-8", "replace")
            await super().handle_zap_message(msg)

        def curve_user_id(self, client_public_key: bytes) -> str:
            key = client_public_key if len(client_public_key) == 40 else z85.encode(client_public_key)
            return names.get(key, key.decode())

        def _send_zap_reply(self, request_id: bytes, status_code: bytes, status_text: bytes,
                            user_id: str = "anonymous") -> None:
            if status_code != b"200":
                AUDIT.warning(f"curve:{self._address}", "refused a CURVE client from %s: %s", self._address,
                              status_text.decode("utf-8", "replace"))
            super()._send_zap_reply(request_id, status_code, status_text, user_id)

    auth = NamingAuthenticator(context)
    auth.start()
    auth.configure_curve(domain="*", location=str(clients_dir))
    return auth
