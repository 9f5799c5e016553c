"""Error answers of a web app: JSON ``{"ok": false, "error", "code"}`` to API calls, else the
app's ``error.html`` with the message — in the citizen's or supervisor's words, never a
traceback. Each app names what counts as an API call and its own texts per status."""

from __future__ import annotations

from typing import Any, Callable

from flask import Flask, current_app, jsonify, make_response, render_template

EXTENSION = "hwd_web_errors"


def respond(status: int, message: str, code: Any = None) -> Any:
    """The error answer for this request."""
    if current_app.extensions[EXTENSION]():
        return make_response(jsonify({"ok": False, "error": message, "code": code}), status)
    return make_response(render_template("error.html", message=message, status=status), status)


def install(app: Flask, wants_json: Callable[[], bool], texts: dict[int, str]) -> None:
    """Answer each status of ``texts`` with its text; ``wants_json()`` tells API calls apart."""
    app.extensions[EXTENSION] = wants_json
    for status, text in texts.items():
        app.register_error_handler(status, lambda exc, status=status, text=text: respond(status, text, status))
