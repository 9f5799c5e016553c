"""Driver ``web``: a window screen that is a browser page (``/display/window/<id>``).

There is no wire: the content is published as ``display.content`` and the page shows it. The
device is declared with ``url = "null://"``; it is always online.
"""

from __future__ import annotations

from drivers.display.base import DisplayDevice


class WebScreen(DisplayDevice):
    driver = "web"
    schemes = ("null",)

    def open(self) -> None:
        """Nothing to open: the pages subscribe to ``display.content`` and call ``display.get``."""
        self.sent = {"lines": list(self.content["lines"]), "effect": self.content["effect"]}

    def send_content(self, content: dict) -> None:
        """Nothing to send: ``set_content`` already published the change."""
