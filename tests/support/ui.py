"""The real ``hwd-ui`` process (waitress; cheroot with TLS) on a free loopback port."""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


class UiProcess:
    """``hwd-ui --config CONFIG --host 127.0.0.1 --port <free>`` (plus ``extra`` arguments);
    ``url``, ``port``, ``log()``, ``stop()``. ``scheme="https"`` with a client ``context`` for a
    config that serves TLS."""

    def __init__(self, config_path: Path, extra: list[str] | None = None, scheme: str = "http",
                 context: ssl.SSLContext | None = None, timeout: float = 30.0):
        self.scheme = scheme
        self.context = context
        self.log_path = Path(config_path).with_suffix(".ui.log")
        self._log = open(self.log_path, "ab")
        extra = list(extra or [])
        # the phone server's default port is a fixed one (8081): a config that does not choose
        # one gets a free port, so two hwd-ui of parallel tests never meet there
        if "--phone-port" not in extra and "phone_port" not in Path(config_path).read_text(encoding="utf-8"):
            extra += ["--phone-port", str(free_port())]
        for attempt in range(3):
            # a free port is free when asked, not always when hwd-ui binds it a moment later
            # (another process on this shared machine may take it): then again on another
            self.port = free_port()
            self.url = f"{scheme}://127.0.0.1:{self.port}"
            start = len(self.log())
            self.proc = subprocess.Popen([sys.executable, "-m", "kiosk_ui.cli", "--config", str(config_path),
                                          "--host", "127.0.0.1", "--port", str(self.port)] + extra,
                                         stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
                                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
            try:
                self.wait(timeout)
                return
            except AssertionError:
                if attempt == 2 or self.proc.poll() is None or "Address already in use" not in self.log()[start:]:
                    raise

    def _healthy(self) -> bool:
        if self.scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2,
                                                                           context=self.context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        finally:
            conn.close()

    def wait(self, timeout: float = 30.0) -> None:
        """Until ``/healthz`` answers 200 (fails the test if hwd-ui exits or does not answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hwd-ui exited: {self.log()}")
            try:
                if self._healthy():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"hwd-ui did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> "UiProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def csrf(client, path: str = "/healthz") -> str:
    """The session's CSRF token (rendered into every page's meta tag)."""
    html = client.get("/admin/login").get_data(as_text=True)
    start = html.index('name="csrf" content="') + len('name="csrf" content="')
    return html[start:html.index('"', start)]


def enrol_rate_page(page, hall, window: str = "5") -> None:
    """The admin enrolled this browser as the window's rating page (hall.pad.enroll, the pad
    cookie ``/rate/<window>/enroll`` sets): only an enrolled page may rate (issue 13)."""
    pad = hall.call("hall.pad.enroll", {"window": window})
    page.context.add_cookies([{"name": "hwd_pad", "value": f"{pad['secret']}.{pad['pad']}",
                               "domain": "127.0.0.1", "path": f"/rate/{window}"}])
