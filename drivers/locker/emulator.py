"""Emulator of the lock-control boards on one RS-485 bus: each attached ``board`` locker at its
address, at the far end of a pty (or a loopback TCP port: ``sim://NAME?transport=tcp``).

Every board answers the ``WKLY`` commands as the public sources describe them
(drivers/locker/protocol.py): 0x82 opens a door and answers status, channel and the door's state;
0x83 and 0x84 answer one door's or every door's state; 0x80, 0x86 and 0x87 open several or all;
0x81, 0x88 and 0x89 answer status and channel. A door it opens stays open until it is shut by
hand; every change of a door is uploaded unasked (0x85), after the reply to the command that
caused it.

Actions are addressed by the device they are called for (``hwctl sim locker1 shut '{"door": 3}'``):
``shut {door}`` (a person closes the door), ``force {door}`` (the door is pried open: no command
opened it), ``jam {door, on}`` (its lock no longer releases: 0x82 answers the door still shut),
``uploads {on}`` (a board that does not upload changes: only the host's polls see them),
``doors`` (every door's state and the board's counters), ``wire`` (the latest frames in and out,
in hex, for the whole bus). Faults, for the board the action is
called for: ``bad_checksum {count}`` (its next frames go out with a wrong checksum),
``silent_address {on}`` (it stops answering and uploading); and ``unplug``/``plug``/``silent``
for the whole bus from the base class.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from drivers.locker import protocol as wkly
from hwd.errors import HwdError, INVALID_PARAMS
from hwd.sim import Emulator
from hwd.stream import Skip, StreamDecoder


WIRE_FRAMES = 200


class LockerBusEmulator(Emulator):
    joins_bus = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.decoder = StreamDecoder(wkly.check, f"sim {self.name}", max_frame=wkly.MAX_FRAME)
        self.boards: dict[int, dict[str, Any]] = {}
        self.by_device: dict[str, int] = {}
        self.counters = {"frames": 0, "bad_frames": 0, "noise_bytes": 0, "replies": 0, "uploads": 0}
        self.lock = threading.RLock()
        self.wire: deque = deque(maxlen=WIRE_FRAMES)   # ("in"/"out", hex) of the latest frames

    def attach(self, device_config: Any) -> None:
        super().attach(device_config)
        opts = dict(device_config.options)
        addr = int(opts.get("address", 0))
        doors = int(opts.get("doors", 24))
        self.by_device[device_config.id] = addr
        self.boards[addr] = {
            "device": device_config.id, "address": addr, "doors": {d: "closed" for d in range(1, doors + 1)},
            "jammed": set(), "uploads": True, "silent": False, "faults": [], "opens": 0, "commands": {},
            "flashing": set(), "kept_open": set(),
        }

    # -- the wire ----------------------------------------------------------------------------
    def received(self, data: bytes) -> None:
        with self.lock:
            items = self.decoder.feed(data)
            for item in items:
                if isinstance(item, Skip):
                    self.counters["noise_bytes" if item.noise else "bad_frames"] += item.size if item.noise else 1
                    continue
                self.counters["frames"] += 1
                self.wire.append(("in", item.raw.hex().upper()))
                self.handle(item)

    def handle(self, frame: wkly.Frame) -> None:
        board = self.boards.get(frame.addr)
        if board is None or board["silent"]:
            return                                  # nobody (answering) at this address
        name = wkly.COMMANDS.get(frame.cmd)
        if name is None or frame.cmd == wkly.UPLOAD:
            return                                  # not a command a board takes
        board["commands"][name] = board["commands"].get(name, 0) + 1
        changed: list[int] = []
        d = frame.data
        if frame.cmd in (wkly.OPEN, wkly.STATUS):
            door = d[0] if d else 0
            if door not in board["doors"]:
                self.answer(board, frame.cmd, bytes([wkly.FAILED, door, wkly.DOOR_FAILED]))
                return
            if frame.cmd == wkly.OPEN:
                changed += self._open(board, [door])
            state = wkly.DOOR_OPEN if board["doors"][door] == "open" else wkly.DOOR_CLOSED
            self.answer(board, frame.cmd, bytes([wkly.SUCCESS, door, state]))
        elif frame.cmd == wkly.STATUS_ALL:
            states = bytes(wkly.DOOR_OPEN if board["doors"][n] == "open" else wkly.DOOR_CLOSED
                           for n in sorted(board["doors"]))
            self.answer(board, frame.cmd, bytes([wkly.SUCCESS, len(states)]) + states)
        elif frame.cmd in (wkly.OPEN_SEVERAL, wkly.OPEN_SEQUENTIAL, wkly.OPEN_ALL):
            doors = sorted(board["doors"]) if frame.cmd == wkly.OPEN_ALL else list(d[1:1 + (d[0] if d else 0)])
            ok = all(n in board["doors"] for n in doors) and bool(doors)
            if ok:
                changed += self._open(board, doors)
            self.answer(board, frame.cmd, bytes([wkly.SUCCESS if ok else wkly.FAILED]))
        else:                                        # 0x81 flash, 0x88 keep open, 0x89 close channel
            door = d[0] if d else 0
            ok = door in board["doors"]
            if ok:
                lights = {wkly.FLASH: "flashing", wkly.KEEP_OPEN: "kept_open"}
                if frame.cmd == wkly.CLOSE_CHANNEL:
                    board["kept_open"].discard(door)
                    board["flashing"].discard(door)
                else:
                    board[lights[frame.cmd]].add(door)
            self.answer(board, frame.cmd, bytes([wkly.SUCCESS if ok else wkly.FAILED, door]))
        for door in changed:
            self.upload(board, door)

    def _open(self, board: dict, doors: list[int]) -> list[int]:
        """Release the locks of ``doors`` (a jammed one stays shut); the doors that changed."""
        changed = []
        for door in doors:
            if door in board["jammed"]:
                continue
            board["opens"] += 1
            if board["doors"][door] != "open":
                board["doors"][door] = "open"
                changed.append(door)
        return changed

    def _send(self, board: dict, frame: bytes) -> None:
        fault = board["faults"].pop(0) if board["faults"] else None
        if fault == "bad_checksum":
            frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
        self.wire.append(("out", frame.hex().upper()))
        self.send(frame)

    def answer(self, board: dict, cmd: int, data: bytes) -> None:
        self.counters["replies"] += 1
        self._send(board, wkly.reply(board["address"], cmd, data))

    def upload(self, board: dict, door: int) -> None:
        """Tell the host of a door's change, unasked (0x85), if this board uploads."""
        if not board["uploads"] or board["silent"]:
            return
        state = wkly.DOOR_OPEN if board["doors"][door] == "open" else wkly.DOOR_CLOSED
        self.counters["uploads"] += 1
        self._send(board, wkly.reply(board["address"], wkly.UPLOAD, bytes([door, state])))

    # -- actions -----------------------------------------------------------------------------
    def control_device(self, device_id: str, action: str, params: dict | None = None) -> Any:
        params = dict(params or {})
        if action in ("shut", "force", "jam", "uploads", "doors", "bad_checksum", "silent_address"):
            params.setdefault("device", device_id)
        return self.control(action, params)

    def _board(self, device: str | None) -> dict:
        if device not in self.by_device:
            raise HwdError(f"no lock board {device!r} on bus {self.name}; known: {', '.join(self.by_device)}",
                           INVALID_PARAMS)
        return self.boards[self.by_device[device]]

    def _door(self, board: dict, door: Any) -> int:
        if isinstance(door, bool) or not isinstance(door, int) or door not in board["doors"]:
            raise HwdError(f"board {board['device']} has doors 1-{len(board['doors'])}", INVALID_PARAMS)
        return door

    def act_shut(self, door: int, device: str | None = None) -> dict:
        """A person shuts the door (it latches)."""
        with self.lock:
            board = self._board(device)
            door = self._door(board, door)
            if board["doors"][door] != "closed":
                board["doors"][door] = "closed"
                self.upload(board, door)
            return self._status(board)

    def act_force(self, door: int, device: str | None = None) -> dict:
        """The door is pried open: open without any command."""
        with self.lock:
            board = self._board(device)
            door = self._door(board, door)
            if board["doors"][door] != "open":
                board["doors"][door] = "open"
                self.upload(board, door)
            return self._status(board)

    def act_jam(self, door: int, on: bool = True, device: str | None = None) -> dict:
        """The door's lock no longer releases (``on``), or works again."""
        with self.lock:
            board = self._board(device)
            door = self._door(board, door)
            (board["jammed"].add if on else board["jammed"].discard)(door)
            return self._status(board)

    def act_uploads(self, on: bool = True, device: str | None = None) -> dict:
        with self.lock:
            board = self._board(device)
            board["uploads"] = bool(on)
            return self._status(board)

    def act_doors(self, device: str | None = None) -> dict:
        with self.lock:
            return self._status(self._board(device))

    def act_bad_checksum(self, count: int = 1, device: str | None = None) -> dict:
        with self.lock:
            board = self._board(device)
            board["faults"].extend("bad_checksum" for _ in range(max(1, int(count))))
            return self._status(board)

    def act_silent_address(self, on: bool = True, device: str | None = None) -> dict:
        with self.lock:
            board = self._board(device)
            board["silent"] = bool(on)
            return self._status(board)

    def act_wire(self, last: int = 20) -> dict:
        """The latest frames on the bus as the boards heard and sent them (hex, oldest first)."""
        with self.lock:
            frames = list(self.wire)[-max(1, min(int(last), WIRE_FRAMES)):]
        return {"frames": [{"dir": d, "hex": h} for d, h in frames]}

    @staticmethod
    def _status(board: dict) -> dict:
        return {"device": board["device"], "address": board["address"],
                "open": sorted(d for d, s in board["doors"].items() if s == "open"),
                "jammed": sorted(board["jammed"]), "uploads": board["uploads"], "silent": board["silent"],
                "opens": board["opens"], "commands": dict(board["commands"]),
                "flashing": sorted(board["flashing"]), "kept_open": sorted(board["kept_open"])}

    def status(self) -> dict:
        with self.lock:
            return {**super().status(), **self.counters,
                    "boards": [self._status(b) for _, b in sorted(self.boards.items())]}
