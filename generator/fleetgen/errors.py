"""The expected "cannot continue" errors; the CLI's one handler (``main.py``) turns them into exit codes."""

from __future__ import annotations

from collections.abc import Sequence

from .findings import Finding


class FleetgenError(Exception):
    """A usage or environment problem (unreadable path, bad option value, lock held): exit 2.

    Problems *in* fleet.yaml are never raised: they are Findings.
    """

    exit_code = 2


class Refused(FleetgenError):
    """A command that will not go on because of what fleet.yaml says (exit 1, as for findings).

    ``findings`` (why) are printed to stderr, as ``lint`` prints them, before the one-line message.
    """

    exit_code = 1

    def __init__(self, message: str, findings: Sequence[Finding] = ()):
        super().__init__(message)
        self.findings = tuple(findings)
