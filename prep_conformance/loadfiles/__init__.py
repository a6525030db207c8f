"""Locustfiles the harness ships. They run only inside a Locust process (never imported by the harness)."""

from pathlib import Path

PREP_VISITOR = Path(__file__).with_name("prep_visitor.py")
# What ``locust -f`` gets: the visitor and the one definition of a cache hit it imports, so a remote
# worker (``locust -f -``) receives both from the master.
CACHE_STATUS = Path(__file__).parent.parent / "cache_status.py"
LOCUSTFILES = f"{PREP_VISITOR},{CACHE_STATUS}"
