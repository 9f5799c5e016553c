"""The device manager: builds each configured device, starts its worker (and its emulator for
``sim://``), and routes ``<kind>.<method>`` RPCs to the device named in ``params.device``.

The methods and their params are the kind's interface's (hwd/registry.py), whatever drivers are
configured; a call is checked again against the params the device's driver narrows.

The hall engine calls devices through ``call`` too, so a local device and one on another node
(``node = ...``) are driven the same way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from pathlib import Path
from typing import Any, Callable

from hwd import errors, registry, url as urls
from hwd.config import Config, DeviceConfig
from hwd.device import Device, DeviceContext, MethodSpec, Worker, spec_for
from hwd.errors import HwdError
from hwd.ports import PortRegistry
from hwd.rpc import MethodTable, check_params
from hwd.schema import Field
from hwd.sim import SimRegistry

log = logging.getLogger("hwd.manager")
CALL_TIMEOUT = 60.0


class DeviceManager:
    def __init__(self, config: Config, publish: Callable[[str, dict], None], state_dir: Path):
        self.config = config
        self.publish = publish
        self.state_dir = Path(state_dir)
        self.ports = PortRegistry()
        self.sims = SimRegistry(self.state_dir / "sim")
        self.extras: dict[str, Any] = {}
        self.devices: dict[str, Device] = {}
        self.remote: dict[str, DeviceConfig] = {}
        self.nodes: dict[str, Any] = {}  # node id -> remote node link (hwd.nodes)
        self.workers: list[Worker] = []

    def build(self) -> None:
        for dc in self.config.devices:
            if dc.node:
                self.remote[dc.id] = dc
                continue
            cls = registry.driver_class(dc.kind, dc.driver)
            ctx = DeviceContext(self.publish, self.state_dir / "devices" / dc.id, self.ports, self.extras)
            self.devices[dc.id] = cls(dc, ctx)

    def start(self) -> None:
        for dev in self.devices.values():
            if not dev.config.enabled:
                dev.set_state("disabled", "enabled = false in the config")
                continue
            if dev.config.url.scheme == "sim":
                try:
                    dev.url = urls.parse(self.sims.start_for(dev.config, type(dev)))
                except Exception as exc:
                    log.exception("cannot start the emulator of %s", dev.id)
                    dev.set_state("offline", f"emulator failed: {exc}")
                    continue
            worker = Worker(dev)
            self.workers.append(worker)
            worker.start()

    def stop(self, timeout: float = 1.5) -> None:
        for worker in self.workers:
            worker.stop()
        end = time.monotonic() + timeout
        for worker in self.workers:
            worker.join(max(0.0, end - time.monotonic()))
        self.sims.stop()

    # -- routing ----------------------------------------------------------------------------
    def get(self, device_id: str) -> Device:
        dev = self.devices.get(device_id)
        if dev is None:
            raise HwdError(f"unknown device {device_id!r}", errors.UNKNOWN_DEVICE)
        return dev

    def register_methods(self, table: MethodTable) -> None:
        """Every method of every kind's interface, as ``<kind>.<name>`` with its params."""
        for kind in registry.KINDS:
            for spec in registry.interface(kind).methods:
                full = f"{kind}.{spec.name}"
                table.add(full, self._handler(full), (DEVICE,) + tuple(spec.params), spec.doc,
                          replay=not spec.read_only, card_data=spec.card_data)

    def _handler(self, full_name: str) -> Callable[[dict], Any]:
        async def handle(params: dict) -> Any:
            return await self._dispatch(full_name, params, checked=True)
        handle.__doc__ = full_name
        return handle

    async def call(self, full_name: str, params: dict) -> Any:
        """Run ``<kind>.<method>`` on ``params['device']``, local or on another node, from inside
        the daemon: params are checked (and defaulted) as an RPC's are."""
        return await self._dispatch(full_name, params, checked=False)

    async def _dispatch(self, full_name: str, params: dict, checked: bool) -> Any:
        device_id = params.get("device")
        if device_id in self.remote:
            return await self._call_remote(self.remote[device_id], full_name, params)
        dev = self.get(device_id)
        kind, _, name = full_name.partition(".")
        if dev.kind != kind:
            raise HwdError(f"device {dev.id!r} is a {dev.kind}, not a {kind}", errors.WRONG_KIND)
        spec = _method(type(dev), name)
        if spec is None:
            raise HwdError(f"unknown method {full_name!r}", errors.METHOD_NOT_FOUND)
        if name in dev.unsupported:
            raise HwdError(f"driver {dev.driver} of device {dev.id!r} does not support {full_name}",
                           errors.METHOD_NOT_FOUND)
        if dev.state == "disabled":
            raise HwdError(f"device {dev.id!r} is disabled", errors.DEVICE_DISABLED)
        if not spec.offline_ok:
            if dev.state == "offline":
                raise HwdError(f"device {dev.id!r} is offline: {dev.detail}", errors.DEVICE_OFFLINE)
            if dev.state == "fault":
                raise HwdError(f"device {dev.id!r} is in fault: {dev.detail}", errors.DEVICE_FAULT)
        if not checked or spec is not _method(registry.interface(kind), name):
            # from inside the daemon, or a driver that narrows a param: (re)check with its params
            params = check_params(params, (DEVICE,) + tuple(spec.params))
        bound = getattr(dev, spec.handler)
        if not spec.in_worker:
            result = bound(params)
            return await result if asyncio.iscoroutine(result) else result
        if dev.worker is None:
            raise HwdError(f"device {dev.id!r} is not running", errors.DEVICE_OFFLINE)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(dev.submit(bound, params)), CALL_TIMEOUT)
        except asyncio.TimeoutError:
            raise HwdError(f"device {dev.id!r} did not finish {full_name} in {CALL_TIMEOUT:.0f} s",
                           errors.DEVICE_TIMEOUT) from None

    async def _call_remote(self, dc: DeviceConfig, full_name: str, params: dict) -> Any:
        node = self.nodes.get(dc.node)
        if node is None:
            raise HwdError(f"device {dc.id!r} is on node {dc.node!r}, which is not connected",
                           errors.NODE_UNREACHABLE)
        return await node.call(full_name, params)

    def describe(self) -> list[dict]:
        rows = [dev.describe() for dev in self.devices.values()]
        for dc in self.remote.values():
            node = self.nodes.get(dc.node)
            row = node.describe_device(dc.id) if node is not None else None
            rows.append(row or {"id": dc.id, "kind": dc.kind, "driver": dc.driver, "node": dc.node,
                                "state": "offline", "detail": "node not connected", "since": None})
        return rows

    def summary(self) -> dict:
        counts: dict[str, int] = {}
        for row in self.describe():
            counts[row["state"]] = counts.get(row["state"], 0) + 1
        return counts


DEVICE = Field("device", str)


@functools.lru_cache(maxsize=None)
def _method(cls: type, name: str) -> MethodSpec | None:
    """The spec of ``<kind>.<name>`` as driver (or interface) class ``cls`` takes it."""
    spec = next((s for s in cls.methods if s.name == name), None)
    return None if spec is None else spec_for(cls, spec)
