"""Election night: ``prep-conformance watch`` (poller, store, incidents, availability, board, metrics)."""
