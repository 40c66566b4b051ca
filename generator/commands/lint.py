"""``fleetgen lint``: syntax, schema and every lint rule, in text, json, github or sarif."""

from __future__ import annotations

import sys

import click

from .. import pipeline
from ..findings import exit_code
from ..report import LINT_FORMATS
from .common import colour, emit, fleet_argument, format_option, out_option


@click.command("lint")
@fleet_argument
@format_option(*LINT_FORMATS)
@out_option
def command(fleet, fmt, out) -> None:
    """Lint FLEET (default ./fleet.yaml): exit 1 on any error finding."""
    result = pipeline.check(fleet, out)
    emit(LINT_FORMATS[fmt](result.findings, suppressed=result.suppressed, colour=colour()))
    sys.exit(exit_code(result.findings))
