"""The county's view of every hall: the hall side (``[hall.central]``: records for the county in
the hall's outbox, a PostgreSQL sink) and the county database's schema. The county's web app is
the ``central`` package (``hwd-central``)."""
