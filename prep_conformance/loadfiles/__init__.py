"""Locustfiles the harness ships. They run only inside a Locust process (never imported by the harness)."""

from pathlib import Path

PREP_VISITOR = Path(__file__).with_name("prep_visitor.py")
