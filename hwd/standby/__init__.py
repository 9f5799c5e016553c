"""Two engine PCs, one hall (双机热备): leadership, fencing and the replicated hall database
through etcd, and the clients that follow the active engine. See docs/standby.md.

Nothing here is imported by a hall without ``[hall.standby]``.
"""
