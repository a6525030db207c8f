"""Lab scenarios, one module per family (``core``, ``web``, ``ssh``, ``publication``, ``load``).

Each module exports ``SCENARIOS: list[Scenario]``; the lab collects them all (see lab/README.md).
"""
