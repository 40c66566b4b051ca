"""The one expected "cannot continue" error; the CLI turns it into exit code 2."""


class FleetgenError(Exception):
    """A usage or environment problem (unreadable path, bad option value, lock held).

    Problems *in* fleet.yaml are never raised: they are Findings.
    """

    exit_code = 2
