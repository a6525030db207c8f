"""Probes: the only code that touches the network. Each returns frozen observations."""
