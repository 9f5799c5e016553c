"""What the tests share, written once: ``halls`` (the one way to write a test hall's TOML),
``devices`` (emulated devices' TOML), ``ports`` (a free TCP port), ``waits`` (polling and event
watching with a subscription handshake), ``daemon`` (a real hwd process) and ``ui`` (a real
hwd-ui process).

``tests/`` is on ``sys.path`` (tests/conftest.py), so a test imports ``from support.waits import
wait_for``.
"""
