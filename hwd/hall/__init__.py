"""The hall engine (design.md §4): queue, windows, calls, ratings and statistics, persisted in
SQLite; enabled by a ``[hall]`` section in the config. See docs/hall.md.
"""
