"""The hall's side of the devices: window screens, keypad LCDs, announcements, prompts and tickets.

A device failure never fails a hall operation. Screen and keypad-LCD updates are fire-and-forget
and coalesced per device: only the newest content matters, so one sender per screen delivers the
latest lines and, when the screen's node or the device is unreachable, keeps them and retries
(at once when ``retry()`` is called because a node came back). Announcements and prompts are
fired in tasks and dropped on failure (a late announcement would send people to the wrong
place). Only printing is awaited, because the kiosk must say whether the ticket came out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable

from hwd import errors
from hwd.errors import HwdError

log = logging.getLogger("hwd.hall.devices.outputs")

TRANSIENT = {errors.NODE_UNREACHABLE, errors.DEVICE_OFFLINE, errors.DEVICE_FAULT, errors.DEVICE_TIMEOUT,
             errors.DEVICE_ERROR}
SHOW_TIMEOUT = 10.0
RETRY_FIRST, RETRY_MAX = 0.5, 10.0
CANCEL_GRACE_S = 2.0     # a job's own deadline: the print wait plus this
CANCEL_TIMEOUT_S = 5.0
PRINTING_WAIT_S = 10.0   # a job caught mid-print: how long to wait for printed/failed
MAX_WAITING = 99999      # the largest waiting count keypad.show takes

Call = Callable[[str, dict], Awaitable[Any]]


class Outputs:
    def __init__(self, call: Call):
        self.call = call
        # (channel, device) -> (method, params) not yet delivered; newer content replaces older
        self.pending: dict[tuple[str, str], tuple[str, dict]] = {}
        self.shown: dict[str, list[str]] = {}                  # screen -> last delivered lines
        self.keypad_shown: dict[str, str] = {}                 # keypad -> last delivered LCD text
        self._senders: dict[tuple[str, str], asyncio.Task] = {}
        self._wake: dict[tuple[str, str], asyncio.Event] = {}
        self._tasks: set[asyncio.Task] = set()

    # -- screens and keypad LCDs -------------------------------------------------------------
    def show(self, device: str, lines: list[str], effect: str = "static") -> None:
        """Put ``lines`` on a screen, eventually; newer content replaces older undelivered content."""
        self._latest("screen", device, "display.show", {"device": device, "lines": list(lines), "effect": effect})

    def keypad_text(self, device: str, text: str, waiting: int | None = None) -> None:
        """Put ``text`` on a keypad's LCD (the called number, 暂停), eventually, like a screen;
        ``waiting``: the window's waiting count, for LCDs that show it."""
        params = {"device": device, "text": text}
        if waiting is not None:
            params["waiting"] = min(waiting, MAX_WAITING)
        self._latest("keypad", device, "keypad.show", params)

    def keypad_stars(self, device: str, score: int) -> None:
        """Show a rating's stars on an evaluator; like a prompt, it replaces what was not delivered."""
        self._latest("keypad", device, "keypad.stars", {"device": device, "score": score})

    def keypad_prompt(self, device: str) -> None:
        """Invite a rating on the keypad; it replaces LCD text not yet delivered (and vice versa)."""
        self._latest("keypad", device, "keypad.prompt", {"device": device})

    def _latest(self, channel: str, device: str, method: str, params: dict) -> None:
        key = (channel, device)
        self.pending[key] = (method, params)
        self._wake.setdefault(key, asyncio.Event()).set()
        sender = self._senders.get(key)
        if sender is None or sender.done():
            self._senders[key] = asyncio.ensure_future(self._send_latest(key))

    def retry(self) -> None:
        """Retry every undelivered screen and LCD now (a node came back)."""
        for event in self._wake.values():
            event.set()

    async def _send_latest(self, key: tuple[str, str]) -> None:
        device = key[1]
        delay = RETRY_FIRST
        wake = self._wake[key]
        while key in self.pending:
            item = self.pending[key]
            method, params = item
            wake.clear()
            try:
                await asyncio.wait_for(self.call(method, params), SHOW_TIMEOUT)
            except (HwdError, asyncio.TimeoutError) as exc:
                code = getattr(exc, "code", errors.DEVICE_TIMEOUT)
                if code == errors.METHOD_NOT_FOUND and key[0] == "keypad":
                    # a keypad on an older node's hwd, without keypad.show: nothing to show
                    log.info("keypad %s has no %s: %s", device, method, exc)
                    self._delivered(key, item, ok=False)
                    continue
                if code not in TRANSIENT:
                    log.error("%s %s cannot show %s: %s", method, device, params, exc)
                    self._delivered(key, item, ok=False)
                    continue
                log.info("%s %s unreachable (%s); will retry", method, device, exc or "timeout")
                try:
                    await asyncio.wait_for(wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                delay = min(delay * 2, RETRY_MAX)
                continue
            except Exception:
                log.exception("%s %s failed", method, device)
                self._delivered(key, item, ok=False)
                continue
            delay = RETRY_FIRST
            self._delivered(key, item, ok=True)

    def _delivered(self, key: tuple[str, str], item: tuple[str, dict], ok: bool) -> None:
        method, params = item
        if ok and method == "display.show":
            self.shown[key[1]] = params["lines"]
        elif ok and method == "keypad.show":
            self.keypad_shown[key[1]] = params["text"]
        if self.pending.get(key) is item:
            del self.pending[key]

    # -- announcements and prompts -----------------------------------------------------------
    def fire(self, method: str, params: dict) -> None:
        """Call a device method in a task; log a failure, never raise."""
        task = asyncio.ensure_future(self._fire(method, params))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fire(self, method: str, params: dict) -> None:
        try:
            await asyncio.wait_for(self.call(method, params), 30)
        except HwdError as exc:
            log.warning("%s on %s failed: %s", method, params.get("device"), exc)
        except asyncio.TimeoutError:
            log.warning("%s on %s timed out", method, params.get("device"))
        except Exception:
            log.exception("%s on %s failed", method, params.get("device"))

    # -- printing ----------------------------------------------------------------------------
    async def print(self, printer: str, template: str | None, data: dict, job: str, wait_ms: int,
                    document: dict | None = None) -> tuple[bool, str | None]:
        """Print a template with its data (or a ``document``) and wait up to ``wait_ms``: (printed, why not).

        What this returns is what the citizen is told, so a job that has not printed by then is
        cancelled and never comes out later (a stray ticket at an unattended kiosk). The job also
        carries its own deadline (``max_age_s``), for a printer the cancel cannot reach.
        """
        params = {"device": printer, "job": job, "wait_ms": wait_ms, "max_age_s": wait_ms / 1000 + CANCEL_GRACE_S,
                  **({"document": document} if document is not None else {"template": template, "data": data})}
        try:
            result = await asyncio.wait_for(self.call("printer.print", params), wait_ms / 1000 + 5)
        except HwdError as exc:
            log.warning("printer %s cannot print %s: %s", printer, job, exc)
            return await self._give_up(params, f"打印机故障：{exc}")
        except asyncio.TimeoutError:
            return await self._give_up(params, "打印机无响应")
        except Exception as exc:
            log.exception("printer %s failed on %s", printer, job)
            return await self._give_up(params, f"打印机故障：{type(exc).__name__}")
        state = (result or {}).get("state")
        if state == "printed":
            return True, None
        reason = (result or {}).get("reason")
        if state == "queued":   # held: paper out, cover open, printer offline
            return await self._give_up(params, "打印机暂时不能出票（缺纸或故障），号票未打印")
        error = f"打印未完成（{state}{'：' + reason if reason else ''}）"
        if state == "printing":
            return await self._give_up(params, error)
        return False, error

    async def _give_up(self, params: dict, error: str) -> tuple[bool, str | None]:
        """Cancel a job that did not print in time; return what really happened to it."""
        printer, job = params["device"], params["job"]
        try:
            await asyncio.wait_for(self.call("printer.cancel", {"device": printer, "job": job}), CANCEL_TIMEOUT_S)
            log.info("job %s on %s cancelled: the citizen was told it did not print", job, printer)
            return False, error
        except HwdError as exc:
            state = exc.data.get("state") if isinstance(exc.data, dict) else None
            if exc.code == errors.NOT_FOUND:
                return False, error
            if exc.code != errors.BAD_STATE:
                log.warning("cannot cancel job %s on %s (%s); it expires by itself", job, printer, exc)
                return False, error
        except asyncio.TimeoutError:
            log.warning("cannot cancel job %s on %s (timeout); it expires by itself", job, printer)
            return False, error
        if state == "printing":  # it started just now: wait for the outcome, do not guess
            try:
                # the same job id again: the spool returns the existing job and waits for it
                result = await asyncio.wait_for(self.call("printer.print", dict(
                    params, wait_ms=int(PRINTING_WAIT_S * 1000))), PRINTING_WAIT_S + 5)
                state = (result or {}).get("state")
            except (HwdError, asyncio.TimeoutError) as exc:
                log.warning("job %s on %s: outcome unknown (%s)", job, printer, exc)
        if state == "printed":
            log.info("job %s on %s printed as it was being cancelled", job, printer)
            return True, None
        return False, error

    async def close(self) -> None:
        tasks = list(self._senders.values()) + list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
