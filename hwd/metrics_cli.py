"""``hwctl metrics``: hwd's metrics in the Prometheus text format, printed or written for
node_exporter's textfile collector (halls whose Prometheus scrapes node_exporter only).

    hwctl metrics                                   print them
    hwctl metrics --textfile /var/lib/prometheus/node-exporter/hwd.prom

The file is replaced in one rename, so node_exporter never reads half of it; hwd-metrics.timer
writes it every 15 s. When hwd does not answer it holds ``hwd_up 0``. hwd-ui's own gauges
(``hwd_ui_*``) are only on its ``/metrics``: they live in the hwd-ui process.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from hwd import prometheus
from hwd.client import RpcError, Unreachable


def add_parser(sub: Any, extra: Any) -> None:
    s = sub.add_parser("metrics", help="hwd's metrics (Prometheus text); --textfile for node_exporter")
    s.add_argument("--textfile", help="write them to this .prom file (atomically) instead of printing")
    s.set_defaults(func=extra("metrics"))


def command(args: argparse.Namespace, client: Any) -> int:
    try:
        data = client.call("daemon.metrics")
    except (Unreachable, RpcError) as exc:
        print(f"hwctl: hwd did not answer ({exc}): hwd_up 0", file=sys.stderr)
        data = None
    body = prometheus.render(prometheus.daemon_families(data))
    if not args.textfile:
        sys.stdout.write(body.decode())
        return 0
    target = Path(args.textfile)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.chmod(tmp, 0o644)  # node_exporter runs as its own user
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return 0
