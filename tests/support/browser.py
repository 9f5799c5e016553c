"""Headless Debian chromium through Playwright (``executable_path``: no downloaded browser).

One chromium serves every test of a module (starting it costs a second or two); each test gets
it through the ``browser`` fixture (tests/conftest.py) and the contexts it opened are closed
after it, so no cookie, storage or page of one test reaches another."""

from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync"]

needs_chromium = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                    reason=f"{CHROMIUM} missing (apt-get install chromium)")
