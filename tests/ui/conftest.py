"""Fixtures for the page tests: a real hwd with a small hall (always open), emulated printer,
card reader and scanner, a web window screen, and the Flask app or the real hwd-ui server."""

from __future__ import annotations

import pytest

from support.halls import CLOCK_START, page_hall
from support.ui import UiProcess

@pytest.fixture
def hall(hwd_daemon):
    """A running hwd with the test hall."""
    return hwd_daemon(page_hall(), clock_start=CLOCK_START)


@pytest.fixture
def app(hall):
    from kiosk_ui import create_app

    return create_app(str(hall.config_path), {"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ui_server(hall):
    server = UiProcess(hall.config_path)
    yield server
    server.stop()
