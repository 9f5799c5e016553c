"""One interface per device kind (hwd/registry.py, drivers/<kind>/interface.py): every driver
implements its kind's methods, the contract's names stay, and a driver that lacks a method, adds
one or narrows a param it does not have is refused when it is loaded — at start, as a config
error — while one that declares a method unsupported gets a clear error on a call."""

from __future__ import annotations

import asyncio

import pytest

import drivers.keypad
from drivers.keypad.interface import Keypad
from drivers.keypad.serial_keypad import SerialKeypad
from hwd import config as configuration, errors, registry
from hwd.device import narrows
from hwd.errors import ConfigError, HwdError
from hwd.manager import DeviceManager
from hwd.schema import Field

# the methods of each kind (docs/api.md and docs/drivers/*.md): contract names, never renamed
CONTRACT = {
    "printer": {"print", "status", "jobs", "reprint", "cancel"},
    "display": {"show", "clear", "get"},
    "idcard": {"read", "current", "resolve"},
    "keypad": {"show", "prompt", "beep", "stars"},
    "speaker": {"announce", "chime", "stop"},
    "scanner": set(),
    "locker": {"open", "status"},
}


def test_every_driver_implements_its_kind():
    for kind in registry.KINDS:
        iface = registry.interface(kind)
        assert {spec.name for spec in iface.methods} == CONTRACT[kind]
        for driver in registry.drivers_of(kind):
            cls = registry.driver_class(kind, driver)
            assert issubclass(cls, iface) and cls.methods is iface.methods
            assert registry.contract_problems(cls, iface) == []


class NoPrompt(Keypad):
    driver = "noprompt"
    schemes = ("serial",)

    def rpc_show(self, params: dict) -> dict:
        return {"shown": False}


class Unsupported(NoPrompt):
    driver = "unsupported"
    unsupported = ("prompt", "beep", "stars")


class Extra(SerialKeypad):
    def rpc_honk(self, params: dict) -> dict:
        return {}


class BadNarrowing(SerialKeypad):
    @narrows(Field("text", int), Field("colour", str))
    def rpc_show(self, params: dict) -> dict:
        return {"shown": False}


class OwnMethods(SerialKeypad):
    methods = Keypad.methods[:1]


@pytest.mark.parametrize("cls, needle", [
    (NoPrompt, "keypad.prompt is missing: implement rpc_prompt(self, params) or list it in unsupported"),
    (Extra, "rpc_honk is not a method of keypad"),
    (BadNarrowing, "narrows 'text' with another type"),
    (BadNarrowing, "narrows 'colour', which keypad.show does not take"),
    (OwnMethods, "declares methods of its own"),
])
def test_contract_problems(cls, needle):
    assert any(needle in p for p in registry.contract_problems(cls, Keypad)), registry.contract_problems(cls, Keypad)


def _config(tmp_path, driver: str):
    return configuration.loads(f'''
[daemon]
state_dir = "{tmp_path / "state"}"
[[device]]
id = "k1"
kind = "keypad"
driver = "{driver}"
url = "serial:///dev/ttyUSB7"
''', tmp_path / "hwd.toml")


@pytest.fixture
def test_drivers(monkeypatch):
    monkeypatch.setitem(drivers.keypad.DRIVERS, "noprompt", f"{__name__}:NoPrompt")
    monkeypatch.setitem(drivers.keypad.DRIVERS, "unsupported", f"{__name__}:Unsupported")


def test_a_driver_lacking_a_method_of_its_kind_fails_at_start(tmp_path, test_drivers):
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, "noprompt")
    assert "driver" in str(err.value) and "keypad.prompt is missing" in str(err.value)


def test_a_method_declared_unsupported_gets_a_clear_error(tmp_path, test_drivers):
    cfg = _config(tmp_path, "unsupported")
    manager = DeviceManager(cfg, lambda topic, event: None, tmp_path / "state")
    manager.build()
    with pytest.raises(HwdError) as err:
        asyncio.run(manager.call("keypad.prompt", {"device": "k1"}))
    assert err.value.code == errors.METHOD_NOT_FOUND
    assert str(err.value) == "driver unsupported of device 'k1' does not support keypad.prompt"
