"""Driver ``sam``: a second-generation ID-card reader's SAM module on a serial line.

The worker polls the reader: while no card is known it sends *find*; a found card is *selected*
and *read* (text + photo, and the additional address where the reader supports it). While a
card lies on the reader, *find* fails (a read card must leave the field first) and *select*
keeps succeeding, so *select* is the presence probe; ``removal_misses`` failed probes in a row
mean the card has gone. Hence exactly one ``idcard.inserted`` per placement and one
``idcard.removed`` when it leaves.

A card token lives ``token_ttl_s``; while the card still lies on the reader the driver mints a
fresh token when half of that has passed and publishes ``idcard.renewed`` (a new token, never a
longer life for an old one), so a slow citizen at the kiosk keeps the card's priority.

Full card data stays in this process: it is kept as the current card and in the shared token
store (``ctx.extras["card_tokens"]``) for ``token_ttl_s``; events carry only the masked summary
(hwd/privacy.py). Nothing about a card is logged beyond its type.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import secrets
import threading
import time
from typing import Any

from drivers.idcard import cards, protocol as p
from drivers.idcard.handshake import HANDSHAKES, CVR100_LEN, cvr100_answer, cvr100_challenge
from drivers.idcard.interface import IdCardReader
from drivers.idcard.tokens import TokenStore
from hwd import errors, privacy
from hwd.errors import DeviceLost, HwdError
from hwd.ports import open_serial
from hwd.schema import Field
from hwd.stream import Skip


# SW3 answers that mean the reader itself is unusable (fault state until it answers normally)
SAM_FAULTS = (0x23, 0x60, 0x66)


class ReaderTimeout(p.IdCardError):
    """The reader did not answer a command in time."""


def _check_photo_command(value: list) -> str | None:
    from drivers.idcard.photo import check_command

    return check_command(value)


class SamReader(IdCardReader):
    driver = "sam"
    schemes = ("serial", "tcp")
    requires = (("serial", "pyserial"),)
    emulator = "drivers.idcard.emulator:IdCardEmulator"
    poll_interval = 0.25
    options = (
        Field("baudrate", int, 115200, min=1200, max=921600),
        Field("poll_ms", int, 250, min=20, max=5000, doc="how often the reader is asked for a card"),
        Field("extra_address", bool, False, doc="the reader supports 30 03 (additional address)"),
        Field("token_ttl_s", float, 60.0, min=1, max=3600, doc="how long a card token resolves"),
        Field("removal_misses", int, 2, min=1, max=20, doc="failed presence probes before removed"),
        Field("find_timeout_ms", int, 500, min=50, max=5000),
        Field("read_timeout_ms", int, 3500, min=200, max=20000),
        Field("read_attempts", int, 3, min=1, max=10, doc="tries to read a found card"),
        Field("max_silence", int, 3, min=1, max=100, doc="unanswered polls before offline"),
        Field("photo_command", list, None, items=str, check=_check_photo_command,
              doc='local WLT decoder, e.g. ["/opt/vendor/wlt2bmp", "{wlt}", "{out}"]'),
        Field("photo_format", str, "bmp", choices=("bmp", "png", "jpeg")),
        Field("photo_timeout_s", float, 5.0, min=0.1, max=60),
        Field("handshake", str, None, choices=HANDSHAKES,
              doc="vendor handshake before the SAM frames answer (docs/drivers/idcard.md)"),
        Field("handshake_timeout_ms", int, 1000, min=50, max=10000),
    )

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.poll_interval = self.opts["poll_ms"] / 1000
        self.tokens: TokenStore = ctx.extras.setdefault("card_tokens", TokenStore(self.opts["token_ttl_s"]))
        self.port = None
        self.parser = p.decoder(logger=self.log)
        self.present = False
        self.misses = 0
        self.silence = 0
        self.read_left = 0
        self.last_trouble: str | None = None
        self.current: dict[str, Any] | None = None
        self.current_token: str | None = None
        self.token_at = 0.0  # time.monotonic() when current_token was minted
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    # -- link --------------------------------------------------------------------------------
    def open(self) -> None:
        self.port = open_serial(self.url, baudrate=self.opts["baudrate"], timeout=0.05, capture_ok=False)
        self.silence = 0
        if self.opts["handshake"] == "cvr100":
            self.handshake_cvr100()
        try:
            frame = self.command(p.SAM_STATUS, self.opts["find_timeout_ms"] / 1000)
        except (ReaderTimeout, p.FrameError) as exc:
            hint = "" if self.opts["handshake"] else \
                '; a CVR-100 family reader may need handshake = "cvr100"'
            raise DeviceLost(f"no valid answer from the SAM module ({exc}); check the cable and "
                             f"baudrate{hint}") from None
        if frame.sw3 != p.OK:
            raise DeviceLost(f"SAM module not ready: {p.sw3_name(frame.sw3)}")
        # a card may already lie on the reader (found before we came up: FIND will not report it
        # again): it gets every attempt a newly found card gets
        self.read_left = self.opts["read_attempts"]

    def handshake_cvr100(self, challenge: bytes | None = None) -> None:
        """The CVR-100 challenge (drivers/idcard/handshake.py): a reader that answers it wrongly,
        or not at all, is not the reader the config names."""
        frame = cvr100_challenge(challenge or secrets.token_bytes(10))
        port = self.port
        port.reset_input_buffer()
        port.write(frame)
        got = b""
        deadline = time.monotonic() + self.opts["handshake_timeout_ms"] / 1000
        while len(got) < CVR100_LEN and time.monotonic() < deadline:
            port.timeout = max(0.01, min(0.1, deadline - time.monotonic()))
            got += port.read(CVR100_LEN - len(got))
        if len(got) < CVR100_LEN:
            self.count("handshake_failures")
            raise DeviceLost(f"no answer to the CVR-100 handshake ({len(got)} of {CVR100_LEN} bytes); "
                             "check that the reader is of the CVR-100 family, or remove handshake")
        if got != cvr100_answer(frame):
            self.count("handshake_failures")
            raise DeviceLost("the reader answered the CVR-100 handshake wrongly; "
                             "it is not a CVR-100 reader or its firmware differs")
        self.count("handshakes")

    def close(self) -> None:
        if self.port is not None:
            try:
                self.port.close()
            finally:
                self.port = None
        if self.present:
            self._removed("link lost")

    def info(self) -> dict:
        return {"card_present": self.present}

    def command(self, command: tuple[int, int], timeout: float) -> p.Frame:
        """Send one command and return the reader's reply frame (any SW3)."""
        port = self.port
        if port is None:
            raise DeviceLost("not connected")
        port.reset_input_buffer()
        self.parser.reset()
        port.write(p.request(command))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReaderTimeout(f"no answer to {command[0]:02X} {command[1]:02X} in {timeout:g} s")
            port.timeout = min(left, 0.5)
            data = port.read(max(1, port.in_waiting))
            for item in self.parser.feed(data):
                if isinstance(item, Skip) and item.noise:
                    continue
                if isinstance(item, Skip):
                    self.count(f"bad_{item.reason}")
                    self._drain()
                    raise p.FrameError(f"reply to {command[0]:02X} {command[1]:02X} rejected: bad {item.reason}")
                if len(item.body) < 3:
                    raise p.FrameError("reply too short")
                return item

    def _drain(self) -> None:
        """Skip the rest of a rejected reply: read until the line has been quiet a moment."""
        port = self.port
        port.timeout = 0.05
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and port.read(4096):
            pass

    # -- polling -----------------------------------------------------------------------------
    def poll(self) -> None:
        try:
            if self.present:
                self._check_presence()
            else:
                self._look_for_card()
        except ReaderTimeout as exc:
            self.silence += 1
            self.count("timeouts")
            if self.silence >= self.opts["max_silence"]:
                raise DeviceLost(f"the reader stopped answering ({exc})") from None
        except p.FrameError as exc:
            self.count("frame_errors")
            self._trouble("frame", str(exc))
        except p.SamError as exc:
            self.count(exc.name)
            self._trouble(exc.name, str(exc))
            if exc.sw3 in SAM_FAULTS:
                self.set_state("fault", f"SAM module: {exc.name}")
        else:
            self.silence = 0
            self.last_trouble = None
            if self.state == "fault":
                self.set_state("online")

    def _trouble(self, name: str, message: str) -> None:
        """Log a problem once per run of the same problem, not on every poll."""
        if name != self.last_trouble:
            self.log.warning("%s", message)
        self.last_trouble = name

    def _look_for_card(self) -> None:
        if self.read_left <= 0:
            frame = self.command(p.FIND, self.opts["find_timeout_ms"] / 1000)
            if frame.sw3 == p.FIND_FAILED:
                return
            if frame.sw3 != p.FIND_OK:
                raise p.SamError(frame.sw3, p.FIND)
            self.read_left = self.opts["read_attempts"]
        self.read_left -= 1
        frame = self.command(p.SELECT, self.opts["find_timeout_ms"] / 1000)
        if frame.sw3 != p.OK:
            self.read_left = 0
            if frame.sw3 in (p.SELECT_FAILED, p.FIND_FAILED):
                return  # the card left before it could be selected
            raise p.SamError(frame.sw3, p.SELECT)
        try:
            card = self._read_card()
        except (p.FrameError, p.SamError, ReaderTimeout):
            if self.read_left <= 0:
                self.count("unreadable_cards")
                self.log.warning("a card could not be read in %d attempts; lift it and place it again",
                                 self.opts["read_attempts"])
            raise
        self.read_left = 0
        self._placed(card)

    def _read_card(self) -> dict[str, Any]:
        frame = self.command(p.READ, self.opts["read_timeout_ms"] / 1000)
        if frame.sw3 != p.OK:
            raise p.SamError(frame.sw3, p.READ)
        data = p.parse_read(frame.data)
        extra = None
        if self.opts["extra_address"]:
            reply = self.command(p.READ_EXTRA_ADDRESS, self.opts["find_timeout_ms"] / 1000)
            if reply.sw3 == p.OK:
                extra = reply.data
            elif reply.sw3 != p.NO_CONTENT:
                raise p.SamError(reply.sw3, p.READ_EXTRA_ADDRESS)
        try:
            card = cards.decode(data.text, data.photo, extra)
        except cards.CardFormatError as exc:
            raise p.FrameError(str(exc)) from None
        if self.opts["photo_command"] and data.photo:
            self._decode_photo(card, data.photo)
        return card

    def _decode_photo(self, card: dict[str, Any], wlt: bytes) -> None:
        from drivers.idcard.photo import PhotoError, decode_wlt

        card["photo"] = card["photo_format"] = None
        try:
            picture = decode_wlt(self.opts["photo_command"], wlt, self.opts["photo_timeout_s"],
                                 "." + self.opts["photo_format"])
        except PhotoError as exc:
            self.count("photo_errors")
            self.log.warning("%s", exc)
            return
        card["photo"] = base64.b64encode(picture).decode("ascii")
        card["photo_format"] = self.opts["photo_format"]

    def _check_presence(self) -> None:
        frame = self.command(p.FIND, self.opts["find_timeout_ms"] / 1000)
        if frame.sw3 == p.FIND_OK:
            # a fresh card: the one we read was swapped for another between two polls
            self._removed("another card found")
            self.read_left = self.opts["read_attempts"]
            self._look_for_card()
            return
        frame = self.command(p.SELECT, self.opts["find_timeout_ms"] / 1000)
        if frame.sw3 == p.OK:
            self.misses = 0
            self._renew_if_due()
            return
        if frame.sw3 not in (p.SELECT_FAILED, p.FIND_FAILED):
            raise p.SamError(frame.sw3, p.SELECT)
        self.misses += 1
        if self.misses >= self.opts["removal_misses"]:
            self._removed("card left the reader")

    # -- presence ----------------------------------------------------------------------------
    def _placed(self, card: dict[str, Any]) -> None:
        token = self.tokens.issue(card, self.opts["token_ttl_s"], device=self.id)
        with self._lock:
            self.present, self.misses = True, 0
            self.current, self.current_token, self.token_at = card, token, time.monotonic()
            waiters, self._waiters = self._waiters, []
        self.count("cards")
        self.log.info("card placed (%s)", card["card_type"])
        self.publish("idcard.inserted", card_token=token, ttl_s=self.opts["token_ttl_s"],
                     **privacy.masked_summary(card))
        for loop, future in waiters:
            loop.call_soon_threadsafe(_resolve_future, future, self._with_token(card, token))

    def _renew_if_due(self) -> None:
        """The card is still there: a fresh token once half of the current one's life is gone."""
        ttl = self.opts["token_ttl_s"]
        with self._lock:
            if self.current is None or time.monotonic() - self.token_at < ttl / 2:
                return
            card = self.current
            token = self.tokens.issue(card, ttl)
            self.current_token, self.token_at = token, time.monotonic()
        self.count("renewals")
        self.publish("idcard.renewed", card_token=token, ttl_s=ttl, **privacy.masked_summary(card))

    def _removed(self, why: str) -> None:
        with self._lock:
            self.present, self.misses = False, 0
            self.current = self.current_token = None
        self.log.info("card removed (%s)", why)
        self.publish("idcard.removed")

    @staticmethod
    def _with_token(card: dict[str, Any], token: str) -> dict[str, Any]:
        return {**copy.deepcopy(card), "card_token": token}

    # -- RPC (drivers/idcard/interface.py) ------------------------------------------------------
    async def rpc_read(self, params: dict) -> dict | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        with self._lock:
            if self.current is not None:
                return self._with_token(self.current, self.current_token)
            if params["timeout_ms"] <= 0:
                return None
            self._waiters.append((loop, future))
        try:
            return await asyncio.wait_for(future, params["timeout_ms"] / 1000)
        except asyncio.TimeoutError:
            return None
        finally:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))

    def rpc_current(self, params: dict) -> dict | None:
        with self._lock:
            if self.current is None:
                return None
            left = max(0.0, self.opts["token_ttl_s"] - (time.monotonic() - self.token_at))
            return {"device": self.id, "card_token": self.current_token, "ttl_s": round(left, 1),
                    **privacy.masked_summary(self.current)}

    def rpc_resolve(self, params: dict) -> dict:
        card = self.tokens.resolve(params["token"], device=self.id)
        if card is None:
            raise HwdError("card token unknown or expired: ask the citizen to place the card again",
                           errors.CARD_TOKEN_EXPIRED)
        return card


def _resolve_future(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)
