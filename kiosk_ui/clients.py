"""Who a browser is, by its address on the hall LAN: a configured kiosk, window PC or hall
display (their ``addresses`` in the config), or anyone else (a phone, a visitor's laptop, a
script).

Card events go only to the kiosk's own addresses (default: this machine, 127.0.0.1 and ::1,
where a kiosk's browser runs beside its reader); live streams of configured machines come out
of a reserved pool that nobody else can fill (kiosk_ui.live).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Iterable

LOCAL = ("127.0.0.1", "::1")


def _networks(values: Iterable[str]) -> list:
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(str(value), strict=False))
        except ValueError:
            continue
    return out


def _address(remote: str | None):
    try:
        addr = ipaddress.ip_address((remote or "").split("%")[0])
    except ValueError:
        return None
    mapped = getattr(addr, "ipv4_mapped", None)
    return mapped or addr


def key(remote: str | None) -> str:
    """What a per-address limit counts: the IPv4 address (an IPv4-mapped IPv6 one unwrapped), or
    the IPv6 /64, since one machine picks any address of its /64 at will."""
    addr = _address(remote)
    if addr is None:
        return str(remote or "")
    if addr.version == 6:
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


def matches(remote: str | None, networks: Iterable[str]) -> bool:
    addr = _address(remote)
    return addr is not None and any(addr in net for net in _networks(networks) if net.version == addr.version)


def kiosk_addresses(kiosk: dict) -> list[str]:
    return list(kiosk.get("addresses") or LOCAL)


def is_kiosk(remote: str | None, kiosk: dict) -> bool:
    """Is this the kiosk machine (the one with the card reader)?"""
    return matches(remote, kiosk_addresses(kiosk))


def configured_networks(link: Any) -> list:
    """The networks of the hall's configured machines and of this PC, parsed once per link (its
    config does not change while hwd-ui runs)."""
    nets = getattr(link, "_configured_networks", None)
    if nets is None:
        hall = link.hall_raw
        values: list[str] = list(LOCAL) + list(getattr(link.settings, "display_addresses", []) or [])
        for kiosk in hall.get("kiosk", []) or []:
            if isinstance(kiosk, dict):
                values += kiosk_addresses(kiosk)
        for window in hall.get("window", []) or []:
            if isinstance(window, dict):
                values += list(window.get("addresses") or [])
        nets = _networks(values)
        link._configured_networks = nets
    return nets


def configured(link: Any, remote: str | None) -> bool:
    """Is this one of the hall's configured machines (kiosk, window PC, hall display), or this
    PC itself (its own display or kiosk browser)?"""
    addr = _address(remote)
    return addr is not None and any(addr in net for net in configured_networks(link) if net.version == addr.version)
