"""``fleetgen render``: lint, render in memory, scan, then replace the tree atomically."""

from __future__ import annotations

import click

from .. import exiting, pipeline, survey, tree, units
from ..drift import as_finding
from ..findings import exit_code
from ..incremental import Incremental, produce
from ..produce import leaked, patch_findings
from ..report import text
from ..stages import Stages, wants_progress
from .check import display, stray_summary
from .common import colour, fleet_argument, out_option, profile_option


@click.command("render")
@fleet_argument
@out_option
@profile_option
@click.option("--full", is_flag=True, help="Render every unit, ignoring the cache of the previous render.")
def command(fleet, out, profile, full) -> int:
    """Render FLEET into the output tree. A fleet with error findings renders nothing (exit 1).

    Only the render units whose inputs changed since the last render are rendered (see README,
    "Incremental render"); the tree is byte-identical to a full render's."""
    stages = Stages(progress=wants_progress())
    try:
        code, report, summary = _render(fleet, out, stages, full)
    finally:
        stages.close()  # the progress line is gone before anything else is printed
        if profile:
            click.echo(stages.table(), err=True, nl=False)
    click.echo(report, nl=False, err=True)
    click.echo(summary, err=code != 0)
    return code


def _render(fleet, out, stages: Stages, full: bool = False) -> tuple[int, str, str]:
    """(exit code, findings to show, one-line summary)."""
    # the cache, its files' stats and both trees' listings (under the render lock), taken while fleet.yaml is
    # validated; the lock is held until the tree is written
    pending = survey.Pending()
    try:
        return _render_surveyed(fleet, out, stages, full, pending)
    finally:
        pending.close()


def _render_surveyed(fleet, out, stages: Stages, full: bool, pending: survey.Pending) -> tuple[int, str, str]:

    def rendered(loaded: pipeline.Loaded) -> Incremental:  # in memory only: dropped if lint finds an error
        target = out or pipeline.output_dir(fleet, loaded.model)
        return produce(
            loaded.model,
            loaded.document.data,
            fleet.name,
            target,
            stages,
            full,
            loaded.sources,
            pending.result(target),
        )

    start = None if full else survey.starter(pending, out, fleet, locked=True)
    loaded, produced = pipeline.load_lint_and(fleet, rendered, out, stages, cached=not full, keep=True, loaded=start)
    exiting.keep(loaded, produced)
    report = text.render(loaded.findings, suppressed=loaded.suppressed, colour=colour()) if loaded.findings else ""
    if produced is None:
        return 1, report, "fleetgen: nothing rendered: fix the errors above first"
    target = out or pipeline.output_dir(fleet, loaded.model)
    patched = patch_findings(produced, loaded.document)
    if exit_code(patched):
        return 1, report + text.render(patched, colour=colour()), "fleetgen: nothing rendered: a patch does not apply"
    report += text.render(patched, colour=colour()) if patched else ""
    secrets = leaked(produced, display(target))
    if secrets:
        return 1, report + text.render(secrets, colour=colour()), "fleetgen: nothing rendered: a credential would leak"
    surveyed = pending.result(target)
    with stages.stage("write"):
        result = tree.write(
            target,
            produced.files,
            produced.versions,
            produced.known,
            produced.digests,
            after=lambda out: units.save(out, produced.cache, produced.digests),
            settled=produced.settled,
            hold=pending.hold if surveyed else None,
            listed=surveyed.listings if surveyed else None,
        )
    stages.notes.append(pending.note() + produced.summary())  # the survey's time, its listings included
    pipeline.keep_parts(loaded)
    pipeline.keep_lint(loaded, produced.versions, produced.settled)
    summary = (
        f"rendered {len(produced.digests)} files into {display(target)}: {len(result.written)} written, "
        f"{result.unchanged} unchanged, {len(result.deleted)} deleted"
    )
    if result.strays:  # what `check` reports as orphans: fail here too, so the pre-commit hook agrees with CI
        strays = [as_finding(tree.Drift("orphan", rel, tree.STRAY), display(target)) for rel in result.strays]
        return 1, report + text.render(strays, colour=colour()), f"{summary}; {stray_summary(len(strays))}"
    return 0, report, summary
