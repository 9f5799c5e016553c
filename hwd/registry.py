"""The table of drivers by (kind, driver), and the check that each driver implements its kind.

Each ``drivers/<kind>/__init__.py`` declares ``INTERFACE = "module:Class"`` (the kind's interface
class: its RPC methods and their params, declared once) and ``DRIVERS = {"name": "module:Class"}``.
A driver class is checked against its interface when it is loaded: a driver that lacks a method
of its kind (and does not declare it ``unsupported``), adds one, or narrows a param it does not
have fails loudly (``DriverContractError``; at start, a config error naming the driver).
Driver modules import their optional libraries only when a device is opened, so reading this
table (and checking a config) works without any extra installed.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from typing import Any

KINDS = ("printer", "display", "idcard", "keypad", "speaker", "scanner", "locker")


class DriverContractError(TypeError):
    """A driver class that does not implement its kind's interface."""


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _package(kind: str) -> Any | None:
    try:
        return importlib.import_module(f"drivers.{kind}")
    except ImportError:
        return None


def drivers_of(kind: str) -> dict[str, str]:
    return dict(getattr(_package(kind), "DRIVERS", {}))


@functools.lru_cache(maxsize=None)
def interface(kind: str) -> Any:
    """The interface class of ``kind`` (a ``hwd.device.Device`` subclass declaring ``methods``)."""
    spec = getattr(_package(kind), "INTERFACE", None)
    if spec is None:
        raise DriverContractError(f"drivers.{kind} declares no INTERFACE")
    return _load(spec)


def driver_class(kind: str, driver: str) -> Any | None:
    """The class of ``kind``/``driver`` (None when there is no such driver), checked against the
    kind's interface."""
    spec = drivers_of(kind).get(driver)
    if spec is None:
        return None
    return _checked(kind, _load(spec))


@functools.lru_cache(maxsize=None)
def _checked(kind: str, cls: Any) -> Any:
    problems = contract_problems(cls, interface(kind))
    if problems:
        raise DriverContractError(f"driver {kind}/{getattr(cls, 'driver', cls.__name__)} "
                                  f"({cls.__module__}.{cls.__qualname__}): " + "; ".join(problems))
    return cls


def contract_problems(cls: Any, iface: Any) -> list[str]:
    """Why driver class ``cls`` does not implement interface ``iface`` (empty when it does)."""
    if not isinstance(cls, type) or not issubclass(cls, iface):
        return [f"it does not subclass {iface.__module__}.{iface.__qualname__}"]
    problems = []
    if cls.kind != iface.kind:
        problems.append(f"its kind is {cls.kind!r}, its interface's {iface.kind!r}")
    if cls.methods is not iface.methods:
        problems.append(f"it declares methods of its own; the {iface.kind} interface declares them")
    declared = {spec.handler: spec for spec in iface.methods}
    for spec in iface.methods:
        implemented = callable(getattr(cls, spec.handler, None))
        if spec.name in cls.unsupported:
            if implemented:
                problems.append(f"{iface.kind}.{spec.name} is both unsupported and implemented")
        elif not implemented:
            problems.append(f"{iface.kind}.{spec.name} is missing: implement {spec.handler}(self, params) "
                            "or list it in unsupported")
    for name in cls.unsupported:
        if name not in {spec.name for spec in iface.methods}:
            problems.append(f"unsupported names {name!r}, which is not a method of {iface.kind}")
    for attr in dir(cls):
        if attr.startswith("rpc_") and attr not in declared:
            problems.append(f"{attr} is not a method of {iface.kind}: declare it in the interface")
    for handler, spec in declared.items():
        fields = {f.name: f for f in spec.params}
        for narrow in getattr(getattr(cls, handler, None), "_hwd_narrows", ()):
            field = fields.get(narrow.name)
            if field is None:
                problems.append(f"{handler} narrows {narrow.name!r}, which {iface.kind}.{spec.name} does not take")
            elif (narrow.type, narrow.default, narrow.items) != (field.type, field.default, field.items):
                problems.append(f"{handler} narrows {narrow.name!r} with another type or default than "
                                f"{iface.kind}.{spec.name}'s")
    return problems


def missing_requirements(cls: Any) -> list[str]:
    """Pip packages a driver needs that are not installed."""
    return [package for module, package in cls.requires if importlib.util.find_spec(module) is None]
