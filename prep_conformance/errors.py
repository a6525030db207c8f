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


def _skipped_base() -> type:
    import pytest
    return pytest.skip.Exception


class NotVerified(_skipped_base()):  # type: ignore[misc]
    """A check that could have run but was not authorised or not configured (e.g. the load test without
    ``load.authorized``): SKIP in results.json, "No verificado" in the reports, never "No aplica".
    Raise it with :func:`not_verified`."""


def not_verified(summary: str, summary_en: str) -> None:
    """Skip this check as not verified, with its reason in both languages."""
    raise NotVerified(f"{summary} / {summary_en}")
