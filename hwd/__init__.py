"""hwd: the daemon that runs the hardware of a government service hall.

The package holds the daemon's core (config, device manager, ZeroMQ API, command line) and the
hall engine. Device drivers live in the sibling package ``drivers``.
"""

__version__ = "0.1.0"
