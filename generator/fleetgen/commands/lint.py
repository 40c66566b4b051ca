"""``fleetgen lint``: syntax, schema and every lint rule, in text, json, github or sarif."""

from __future__ import annotations

from pathlib import Path

import click

from .. import exiting, pipeline
from ..findings import exit_code
from ..report import LINT_FORMATS
from ..stages import Stages
from .common import colour, format_option, out_option, profile_option, write_stdout


@click.command("lint")
@click.argument("fleets", nargs=-1, type=click.Path(path_type=Path))
@format_option(*LINT_FORMATS)
@out_option
@profile_option
def command(fleets, fmt, out, profile) -> int:
    """Lint FLEETS (default ./fleet.yaml): exit 1 on any error finding.

    Several files may be given (as pre-commit passes them); their findings are reported together.
    """
    stages = Stages()
    results = [pipeline.load_and_lint(path, out, stages) for path in fleets or (Path("fleet.yaml"),)]
    exiting.keep(results)
    if profile:
        click.echo(stages.table(), err=True, nl=False)
    findings = [f for r in results for f in r.findings]
    write_stdout(LINT_FORMATS[fmt](findings, suppressed=sum(r.suppressed for r in results), colour=colour()))
    return exit_code(findings)
