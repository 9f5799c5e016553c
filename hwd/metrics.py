"""The ``daemon.metrics`` RPC: everything hwd knows for ``/metrics`` in one JSON answer — its
version and start time, each device's state (printers: paper), the run time of each RPC method
(a histogram), and on the main PC the hall's numbers (hwd.hall.metrics).

hwd-ui's ``GET /metrics`` and ``hwctl metrics --textfile`` turn it into the Prometheus text
format (hwd.prometheus); the metric names are listed in docs/deploy.md.
"""

from __future__ import annotations

import time
from typing import Any

from hwd import __version__
from hwd.hall import metrics as hall_metrics


def collect(daemon: Any) -> dict:
    devices = [{"id": d.get("id"), "kind": d.get("kind"), "state": d.get("state"), "paper": d.get("paper")}
               for d in daemon.manager.describe()]
    server = daemon.rpc_server
    return {
        "version": __version__,
        "start_time": time.time() - (time.monotonic() - daemon.started),
        "devices": devices,
        "rpc": server.latency.snapshot() if server is not None else None,
        "hall": hall_metrics.collect(daemon.hall) if daemon.hall is not None else None,
    }


def register(methods: Any, daemon: Any) -> None:
    methods.add("daemon.metrics", lambda p: collect(daemon), (),
                "devices, RPC run times and the hall's numbers, for /metrics", replay=False)
