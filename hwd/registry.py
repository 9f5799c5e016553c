"""The table of drivers by (kind, driver).

Each ``drivers/<kind>/__init__.py`` declares ``DRIVERS = {"name": "module:Class"}``. Driver
modules import their optional libraries only when a device is opened, so reading this table
(and checking a config) works without any extra installed.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

KINDS = ("printer", "display", "idcard", "keypad", "speaker", "scanner")


def drivers_of(kind: str) -> dict[str, str]:
    try:
        module = importlib.import_module(f"drivers.{kind}")
    except ImportError:
        return {}
    return dict(getattr(module, "DRIVERS", {}))


def driver_class(kind: str, driver: str) -> Any | None:
    spec = drivers_of(kind).get(driver)
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def missing_requirements(cls: Any) -> list[str]:
    """Pip packages a driver needs that are not installed."""
    return [package for module, package in cls.requires if importlib.util.find_spec(module) is None]
