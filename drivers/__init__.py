"""Device drivers, one package per kind.

Each ``drivers/<kind>/`` holds ``protocol.py`` (pure bytes <-> values, where the kind has a wire
protocol), one module per backend, and ``emulator.py`` (the far end of the wire, with fault
injection). Its ``__init__`` lists the backends in ``DRIVERS``.
"""
