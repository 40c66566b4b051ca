"""``fleetgen validate``: YAML syntax and the fleet schema, nothing else."""

from __future__ import annotations

import click

from .. import pipeline
from ..findings import exit_code
from ..report import LINT_FORMATS
from .common import colour, fleet_argument, format_option, write_stdout


@click.command("validate")
@fleet_argument
@format_option(*LINT_FORMATS)
def command(fleet, fmt) -> int:
    """Check FLEET (default ./fleet.yaml) against the fleet.yaml JSON Schema."""
    result = pipeline.validate(fleet)
    write_stdout(LINT_FORMATS[fmt](result.findings, colour=colour()))
    return exit_code(result.findings)
