"""The ``hwd`` command: ``hwd --config FILE [--check] [--log-level LEVEL]``.

Exit codes: 0 ok, 1 could not start (the message says why), 2 bad config (every problem listed
as ``FILE:LINE KEY: reason``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from hwd import __version__, config as configuration, log as logsetup
from hwd.errors import ConfigError, StartupError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hwd", description="hwd: the service hall hardware daemon")
    parser.add_argument("--config", "-c", required=True, help="TOML config file")
    parser.add_argument("--check", action="store_true", help="validate the config and exit (0 ok, 2 bad)")
    parser.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="overrides [daemon] log_level")
    parser.add_argument("--version", action="version", version=f"hwd {__version__}")
    args = parser.parse_args(argv)
    try:
        cfg = configuration.load(args.config)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        print(f"hwd: {len(exc.problems)} problem(s) in {args.config}; nothing was started", file=sys.stderr)
        return 2
    if args.check:
        print(f"{args.config}: ok ({len(cfg.devices)} devices"
              f"{', hall ' + repr(cfg.hall.name) if cfg.hall is not None else ''})")
        return 0
    logsetup.setup(args.log_level or cfg.daemon.log_level)
    from hwd.daemon import Daemon

    try:
        daemon = Daemon(cfg)
        asyncio.run(daemon.run())
    except StartupError as exc:
        logging.getLogger("hwd").error("cannot start: %s", exc)
        return 1
    return daemon.exit_code


if __name__ == "__main__":
    sys.exit(main())
