"""A free TCP port for a server a test starts (never a fixed port: the machine is shared)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's choice for port 0)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
