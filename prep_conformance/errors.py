"""Exceptions that checks and probes raise when something could not be evaluated (verdict ERROR)."""

from __future__ import annotations

from typing import Any


class CheckError(Exception):
    """A fault met while checking (unreachable, refused login, unknown host key, garbage).

    The plugin turns it into an ERROR verdict carrying ``summary``/``summary_en`` and ``evidence``,
    never into a traceback in the report.
    """

    def __init__(self, summary: str, summary_en: str = "", **evidence: Any):
        super().__init__(summary_en or summary)
        self.summary = summary
        self.summary_en = summary_en or summary
        self.evidence = evidence


class Blocked(CheckError):
    """A pre-flight (reachability, SSH login) already failed for this difusor: dependent checks say so at once."""
