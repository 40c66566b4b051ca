"""``fleetgen render``: lint, render in memory, scan, then replace the tree atomically."""

from __future__ import annotations

import click

from .. import pipeline, tree
from ..drift import as_finding
from ..produce import leaked, produce
from ..report import text
from ..stages import Stages, wants_progress
from .check import display, stray_summary
from .common import colour, fleet_argument, out_option, profile_option


@click.command("render")
@fleet_argument
@out_option
@profile_option
def command(fleet, out, profile) -> int:
    """Render FLEET into the output tree. A fleet with error findings renders nothing (exit 1)."""
    stages = Stages(progress=wants_progress())
    try:
        code, report, summary = _render(fleet, out, stages)
    finally:
        stages.close()  # the progress line is gone before anything else is printed
        if profile:
            click.echo(stages.table(), err=True, nl=False)
    click.echo(report, nl=False, err=True)
    click.echo(summary, err=code != 0)
    return code


def _render(fleet, out, stages: Stages) -> tuple[int, str, str]:
    """(exit code, findings to show, one-line summary)."""
    loaded = pipeline.load_and_lint(fleet, out, stages)
    report = text.render(loaded.findings, suppressed=loaded.suppressed, colour=colour()) if loaded.findings else ""
    if not loaded.ok:
        return 1, report, "fleetgen: nothing rendered: fix the errors above first"
    target = out or pipeline.output_dir(fleet, loaded.model)
    produced = produce(loaded.model, fleet.name, stages)
    secrets = leaked(produced, display(target))
    if secrets:
        return 1, report + text.render(secrets, colour=colour()), "fleetgen: nothing rendered: a credential would leak"
    with stages.stage("write"):
        result = tree.write(target, produced.files, produced.versions)
    summary = (f"rendered {len(produced.files)} files into {display(target)}: {len(result.written)} written, "
               f"{result.unchanged} unchanged, {len(result.deleted)} deleted")
    if result.strays:  # what `check` reports as orphans: fail here too, so the pre-commit hook agrees with CI
        strays = [as_finding(tree.Drift("orphan", rel, tree.STRAY), display(target)) for rel in result.strays]
        return 1, report + text.render(strays, colour=colour()), f"{summary}; {stray_summary(len(strays))}"
    return 0, report, summary
