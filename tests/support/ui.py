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
        self.port = free_port()
        self.scheme = scheme
        self.context = context
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.log_path = Path(config_path).with_suffix(".ui.log")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk_ui.cli", "--config", str(config_path),
                                      "--host", "127.0.0.1", "--port", str(self.port)] + (extra or []),
                                     stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.wait(timeout)

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
