"""The hall speaker: announcements queued in the device's worker, so they never overlap.

``speaker.announce`` renders the text at once (bad template = immediate error), queues the job
and returns its id; the worker renders the speech (cached per phrase in the state dir), puts
the chime in front, repeats it, applies the volume and hands it to the output named by the URL.
``speaker.announced`` is published when it has been played. Quiet hours mute (or soften)
announcements. Subclasses provide the engine (``make_engine``).
"""

from __future__ import annotations

import concurrent.futures
import datetime
import hashlib
import itertools
import re
import threading
import uuid
from pathlib import Path
from typing import Any

from drivers.speaker import templates, wav
from drivers.speaker.outputs import Output, output_for
from drivers.speaker.interface import Speaker
from hwd.errors import INVALID_PARAMS, DeviceError, HwdError
from hwd.schema import Field

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _check_quiet(value: list) -> str | None:
    for item in value:
        if not _HOURS.match(item):
            return f"{item!r}: write quiet hours as \"HH:MM-HH:MM\", e.g. \"12:00-13:00\""
    return None


def _check_templates(value: dict) -> str | None:
    for name, text in value.items():
        if not isinstance(text, str):
            return f"template {name!r} must be a string"
        try:
            templates.fields(text)
        except templates.TemplateError as exc:
            return str(exc)
    return None


def in_quiet_hours(spans: list[str], now: datetime.time) -> bool:
    minute = now.hour * 60 + now.minute
    for span in spans:
        h1, m1, h2, m2 = map(int, _HOURS.match(span).groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if (start <= minute < end) if start <= end else (minute >= start or minute < end):
            return True
    return False


COMMON_OPTIONS = (
    Field("volume", int, 100, min=0, max=200, doc="percent of the rendered level"),
    Field("chime", bool, True, doc="play the 叮咚 chime before template announcements"),
    Field("chime_file", str, None, doc="a WAV to use as the chime instead of the built-in one"),
    Field("repeat", int, 1, min=1, max=5, doc="times each announcement is spoken"),
    Field("repeat_gap_ms", int, 700, min=0, max=10000),
    Field("quiet_hours", list, [], items=str, check=_check_quiet, doc="e.g. [\"12:00-13:00\"]"),
    Field("quiet_volume", int, 0, min=0, max=200, doc="volume during quiet hours; 0 = silent"),
    Field("timezone", str, "Asia/Shanghai"),
    Field("templates", dict, {}, check=_check_templates, doc="extra or replaced templates"),
)


class SpeakerDevice(Speaker):
    schemes = ("alsa", "file", "null")
    emulator = "drivers.speaker.emulator:AmplifierEmulator"
    options = COMMON_OPTIONS

    def __init__(self, config, ctx):
        super().__init__(config, ctx)
        self.templates = {**templates.DEFAULT_TEMPLATES, **self.opts.get("templates", {})}
        self.output: Output | None = None
        self.engine: Any = None
        self.pending: dict[str, concurrent.futures.Future] = {}
        self.lock = threading.Lock()
        self.prefix = uuid.uuid4().hex[:6]
        self.numbers = itertools.count(1)

    # -- subclasses --------------------------------------------------------------------------
    def make_engine(self) -> Any:
        """The text-to-speech engine: ``identity()`` and ``synth(text) -> wav.Audio``."""
        raise NotImplementedError

    # -- link --------------------------------------------------------------------------------
    def open(self) -> None:
        if self.engine is None:
            self.engine = self.make_engine()
        self.engine.check()
        output = output_for(self.url)
        output.open()
        self.output = output

    def close(self) -> None:
        self.output = None

    # -- rendering ---------------------------------------------------------------------------
    @property
    def workdir(self) -> Path:
        return self.ctx.state_dir

    def phrase(self, text: str) -> wav.Audio:
        """Speech for ``text``, from the phrase cache or freshly rendered into it."""
        key = hashlib.sha256(f"{self.engine.identity()}\0{text}".encode()).hexdigest()[:24]
        cache = self.workdir / "phrases"
        path = cache / f"{key}.wav"
        if path.exists():
            try:
                return wav.read_wav(path)
            except (OSError, wav.WavError):
                self.log.warning("cached phrase %s unreadable; rendering again", path.name)
        audio = self.engine.synth(text)
        if not audio.samples:
            raise DeviceError(f"the speech engine produced no audio for {text!r}")
        cache.mkdir(parents=True, exist_ok=True)
        wav.write_wav(path, audio)
        self.count("phrases_rendered")
        return audio

    def chime_audio(self, rate: int) -> wav.Audio:
        path = self.opts.get("chime_file")
        if path:
            return wav.read_wav(path)
        return wav.chime(rate)

    def compose(self, text: str | None, repeat: int, chime: bool) -> wav.Audio:
        parts: list[wav.Audio] = []
        speech = self.phrase(text) if text else None
        rate = speech.rate if speech else 22050
        if chime:
            parts += [self.chime_audio(rate), wav.silence(rate, 250)]
        for i in range(repeat if speech else 0):
            if i:
                parts.append(wav.silence(rate, self.opts["repeat_gap_ms"]))
            parts.append(speech)
        return wav.concat(parts, rate)

    def volume_now(self) -> int:
        spans = self.opts.get("quiet_hours") or []
        if spans:
            import zoneinfo

            now = datetime.datetime.now(zoneinfo.ZoneInfo(self.opts["timezone"])).time()
            if in_quiet_hours(spans, now):
                return self.opts["quiet_volume"]
        return self.opts["volume"]

    # -- jobs (worker thread) ----------------------------------------------------------------
    def play_job(self, job: str, text: str | None, repeat: int, chime: bool) -> dict:
        try:
            volume = self.volume_now()
            if volume == 0:
                self.log.info("job %s muted (quiet hours)", job)
                self.publish("speaker.announced", job=job, text=text or "", played=False, reason="quiet hours")
                return {"job": job, "played": False}
            if self.output is None:
                raise DeviceError("speaker is offline")
            audio = wav.gain(self.compose(text, repeat, chime), volume / 100)
            file = self.output.play(audio, self.workdir / "out", {"job": job, "text": text or ""})
            self.count("announcements")
            event: dict[str, Any] = {"job": job, "text": text or "", "played": True,
                                     "duration_ms": int(audio.duration * 1000)}
            if file:
                event["file"] = file
            self.publish("speaker.announced", **event)
            return event
        except (DeviceError, wav.WavError) as exc:
            self.count("failed")
            self.log.error("job %s failed: %s", job, exc)
            self.publish("speaker.failed", job=job, text=text or "", reason=str(exc))
            raise
        finally:
            with self.lock:
                self.pending.pop(job, None)

    def queue(self, text: str | None, repeat: int, chime: bool) -> dict:
        job = f"{self.prefix}-{next(self.numbers)}"
        with self.lock:
            self.pending[job] = self.submit(self.play_job, job, text, repeat, chime)
        return {"job": job, "text": text or "", "queued": len(self.pending)}

    # -- RPC (drivers/speaker/interface.py) -----------------------------------------------------
    def rpc_announce(self, params: dict) -> dict:
        try:
            text = templates.announcement_text(self.templates, params.get("text"), params.get("template"),
                                               params.get("params"))
        except templates.TemplateError as exc:
            raise HwdError(str(exc), INVALID_PARAMS) from None
        chime = params.get("chime")
        if chime is None:
            chime = self.opts["chime"] and bool(params.get("template"))
        repeat = params.get("repeat") or self.opts["repeat"]
        return self.queue(text, repeat, chime)

    def rpc_chime(self, params: dict) -> dict:
        return self.queue(None, 1, True)

    def rpc_stop(self, params: dict) -> dict:
        with self.lock:
            jobs = list(self.pending.items())
        cancelled = [job for job, future in jobs if future.cancel()]
        with self.lock:
            for job in cancelled:
                self.pending.pop(job, None)
        if self.output is not None:
            self.output.stop()
        return {"cancelled": cancelled}
