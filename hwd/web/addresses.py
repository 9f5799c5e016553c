"""Client addresses as per-address limits count them: an IPv4 address (an IPv4-mapped IPv6 one
unwrapped) or an IPv6 /64, since one machine picks any address of its /64 at will; and whether
an address lies in a list of networks.

Shared by hwd-ui (kiosk_ui.clients adds the hall's configured machines) and hwd-central.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

LOCAL = ("127.0.0.1", "::1")


def networks(values: Iterable[str]) -> list:
    """The networks of ``values`` (addresses or CIDR blocks); unparsable entries are skipped."""
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(str(value), strict=False))
        except ValueError:
            continue
    return out


def address(remote: str | None):
    """The address of ``remote`` (a zone index dropped, an IPv4-mapped IPv6 address unwrapped),
    or None when it is not an address."""
    try:
        addr = ipaddress.ip_address((remote or "").split("%")[0])
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)
    return mapped or addr


def key(remote: str | None) -> str:
    """What a per-address limit counts: the IPv4 address, or the IPv6 /64."""
    addr = address(remote)
    if addr is None:
        return str(remote or "")
    if addr.version == 6:
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def in_networks(remote: str | None, nets: Iterable) -> bool:
    """Is ``remote`` in one of the parsed networks ``nets``?"""
    addr = address(remote)
    return addr is not None and any(addr in net for net in nets if net.version == addr.version)


def matches(remote: str | None, values: Iterable[str]) -> bool:
    """Is ``remote`` in one of the networks written in ``values``?"""
    return in_networks(remote, networks(values))


def host(remote: str | None) -> str:
    """The client's own address (an IPv6 one whole, not its /64), as limits that count each
    device count it; ``remote`` itself when it is not an address."""
    addr = address(remote)
    return str(remote or "") if addr is None else str(addr)


def keys(remote: str | None, per_device: bool = False) -> tuple[str, ...]:
    """The keys a per-client limit counts ``remote`` under: ``(key(remote),)``; with
    ``per_device``, an IPv6 client under its own address and its /64 (``(host, /64)``), so a
    limit can hold each phone on a WiFi to a small budget and the whole /64 to a looser one."""
    addr = address(remote)
    if per_device and addr is not None and addr.version == 6:
        return (str(addr), key(remote))
    return (key(remote),)
