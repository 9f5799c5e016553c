"""Config checks the web apps' sections share (``[ui]`` of the hall, ``[central]`` of the
county): a password hash, a listen host, a list of networks, a URL. Plain functions for
hwd.schema's ``Field(check=...)``: each returns None or the reason a value is refused."""

from __future__ import annotations

import ipaddress

HASH_PREFIXES = ("pbkdf2:", "scrypt:")


def password_hash(value: str) -> str | None:
    if value.startswith(HASH_PREFIXES) and "$" in value:
        return None
    return "expected a password hash (pbkdf2:sha256:...$salt$hash); make one with hwd-ui --hash-password"


def networks(value: list) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            return f"{item!r} is not an IP address or network"
    return None


def url(value: str) -> str | None:
    if not value:
        return None
    if not value.startswith(("http://", "https://")) or any(c.isspace() for c in value):
        return "expected http://host:port or https://host:port"
    return None


def host(value: str) -> str | None:
    return None if value and " " not in value else "expected a host name or address"
