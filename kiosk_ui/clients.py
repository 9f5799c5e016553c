"""Who a browser is, by its address on the hall LAN: a configured kiosk, window PC or hall
display (their ``addresses`` in the config), or anyone else (a phone, a visitor's laptop, a
script).

Card events go only to the kiosk's own addresses (default: this machine, 127.0.0.1 and ::1,
where a kiosk's browser runs beside its reader); live streams and connections of configured
machines come out of reserved pools that nobody else can fill (kiosk_ui.eventhub,
hwd.web.conncap), and no per-address cap holds them.
"""

from __future__ import annotations

from typing import Any

from hwd.web.addresses import LOCAL, in_networks, key, matches, networks

__all__ = ["LOCAL", "key", "matches", "kiosk_addresses", "is_kiosk", "configured_networks", "configured"]


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
        nets = networks(values)
        link._configured_networks = nets
    return nets


def configured(link: Any, remote: str | None) -> bool:
    """Is this one of the hall's configured machines (kiosk, window PC, hall display), or this
    PC itself (its own display or kiosk browser)?"""
    return in_networks(remote, configured_networks(link))
