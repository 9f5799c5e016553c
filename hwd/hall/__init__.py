"""The hall: the queue, windows, calls, ratings and statistics, persisted in SQLite; enabled by a
``[hall]`` section in the config. See docs/hall.md.

    engine, api      the hall as the daemon runs it, and its ``hall.*`` RPC methods
    identity         card tokens, staff PIN checks and logins
    issuing          kiosk and desk operations with their I/O (card, rule, print)
    store, views     the SQLite database, and how tickets, windows and ratings look to clients
    stats            statistics, reports and CSV exports
    pin, hallkeys    clerk PIN hashes (``python -m hwd.hall.pin``), the hall's secret key files
    config/          the ``[hall]`` section and its tables
    queue/           the queue's rules: core, selection, estimate, hours, appointments, desk, alerts
    ratings/         好差评 and its work orders
    phone/           the phone board, phone notices, a ticket's links
    devices/         screens, speakers, printing and keypad/scanner events, over the device outputs

The parts never import the engine; the sub-packages import the top-level shared modules (store,
views, pin) and each other one way: queue → ratings, phone → queue, devices → queue.
"""
