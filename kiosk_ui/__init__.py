"""kiosk_ui: the hall's touch-screen and browser pages, a thin Flask front end to hwd.

The package itself imports nothing heavy: hwd reads the ``[ui]`` section through
``kiosk_ui.settings`` (no Flask), so the daemon never loads Flask. ``create_app`` is in
``kiosk_ui.app``.
"""

from __future__ import annotations

from typing import Any


def create_app(config: Any = None, test_config: Any = None) -> Any:
    """The Flask app (see kiosk_ui.app.create_app)."""
    from kiosk_ui.app import create_app as factory

    return factory(config, test_config)
