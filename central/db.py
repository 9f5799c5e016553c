"""The county database for hwd-central's requests, as the Flask tutorial's ``db.py``: the app
factory calls ``init_app``, which keeps a psycopg_pool pool in ``app.extensions`` and answers
503 + Retry-After while the database is down; a view takes a pooled connection with
``with connection() as conn: ...``."""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg_pool
from flask import Flask, current_app

from hwd.web import errors

from central.settings import CentralSettings

DOWN = "数据库暂时无法连接，请稍候再试"


def init_app(app: Flask, s: CentralSettings) -> None:
    app.extensions["central.db"] = psycopg_pool.ConnectionPool(
        s.dsn, min_size=1, max_size=s.pool_size, open=False, name="hwd-central",
        kwargs={"autocommit": True, "application_name": "hwd-central"})

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg_pool.PoolTimeout)
    def _db_down(exc: Any) -> Any:
        resp = errors.respond(503, DOWN)
        resp.headers["Retry-After"] = "5"
        return resp


def connection() -> Any:
    """A pooled connection for this request (a context manager)."""
    pool = current_app.extensions["central.db"]
    if pool.closed:
        pool.open(wait=False)
    return pool.connection(timeout=10)
