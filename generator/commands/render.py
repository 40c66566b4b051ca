"""``fleetgen render``: lint, render in memory, scan, then replace the tree atomically."""

from __future__ import annotations

import sys

import click

from .. import pipeline, tree
from ..produce import leaked, produce
from ..report import text
from ..stages import Stages, wants_progress
from .check import display
from .common import colour, fleet_argument, out_option, profile_option


@click.command("render")
@fleet_argument
@out_option
@profile_option
def command(fleet, out, profile) -> None:
    """Render FLEET into the output tree. A fleet with error findings renders nothing (exit 1)."""
    stages = Stages(progress=wants_progress())
    try:
        _render(fleet, out, stages)
    finally:
        stages.close()
        if profile:
            click.echo(stages.table(), err=True, nl=False)


def _render(fleet, out, stages: Stages) -> None:
    loaded = pipeline.check(fleet, out, stages)
    if loaded.findings:
        click.echo(text.render(loaded.findings, suppressed=loaded.suppressed, colour=colour()), nl=False, err=True)
    if not loaded.ok:
        click.echo("fleetgen: nothing rendered: fix the errors above first", err=True)
        sys.exit(1)
    target = out or pipeline.output_dir(fleet, loaded.fleet)
    produced = produce(loaded.fleet, fleet.name, stages)
    secrets = leaked(produced, display(target))
    if secrets:
        click.echo(text.render(secrets, colour=colour()), nl=False, err=True)
        sys.exit(1)
    with stages.stage("write", total=len(produced.files)):
        result = tree.write(target, produced.files, produced.versions)
    click.echo(f"rendered {len(produced.files)} files into {display(target)}: {len(result.written)} written, "
               f"{result.unchanged} unchanged, {len(result.deleted)} deleted")
