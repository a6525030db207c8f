"""Test support servers (real servers on loopback, no mocks)."""
