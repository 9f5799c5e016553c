"""hwd-central: the county's supervisors' pages over the PostgreSQL every hall streams into
(hwd.county). All halls on one page, per hall / window / staff / matter tables for the day,
week, month and quarter with CSV export, charts drawn on the server as SVG.

The package itself imports nothing heavy, as kiosk_ui: ``central.settings`` (its config
section) is read without Flask; ``create_app`` is in ``central.app``.
"""

from __future__ import annotations

from typing import Any


def create_app(config: Any, test_config: dict | None = None) -> Any:
    """The Flask app (see central.app.create_app)."""
    from central.app import create_app as factory

    return factory(config, test_config)
