"""``fleetgen check``: the CI gate. Renders in memory and compares bytes with the committed tree."""

from __future__ import annotations

import click

from .. import exiting, pipeline, survey, tree
from ..drift import as_finding, unified
from ..findings import display, exit_code
from ..incremental import Incremental
from ..incremental import produce as produce_incremental
from ..produce import Produced, patch_findings, produce
from ..report import LINT_FORMATS, text
from ..stages import Stages, wants_progress
from .common import colour, fleet_argument, format_option, out_option, profile_option, write_stdout
from .validate_rendered import summary


@click.command("check")
@fleet_argument
@out_option
@format_option("text", "json", "github", "sarif")
@click.option(
    "--schemas",
    is_flag=True,
    help="Also validate every rendered document against the vendored upstream schemas and CEL rules "
    "(what validate-rendered checks, without reading the tree back).",
)
@profile_option
@click.option(
    "--full",
    is_flag=True,
    help="Render everything and read every file of the tree, trusting nothing the last render recorded.",
)
def command(fleet, out, fmt, schemas, profile, full) -> int:
    """Fail (exit 1) when the rendered tree is stale, hand-edited or holds stray manifests.

    Without --full (or --schemas), units unchanged since the last render are not rendered again, and
    their files are read only when their size, mtime or inode changed (see README, "Incremental render")."""
    stages = Stages(progress=wants_progress())
    try:
        code, output = _check(fleet, out, fmt, stages, schemas, full)
    finally:
        stages.close()  # the progress line is gone before the report is printed
        if profile:
            click.echo(stages.table(), err=True, nl=False)
    write_stdout(output)
    return code


def _check(fleet, out, fmt, stages: Stages, schemas: bool = False, full: bool = False) -> tuple[int, str]:
    incremental = not (schemas or full)
    pending = survey.Pending()  # the tree's cache, stats and listing, taken while fleet.yaml is validated

    def rendered(loaded: pipeline.Loaded) -> Produced | Incremental:  # in memory only: dropped if lint finds an error
        target = out or pipeline.output_dir(fleet, loaded.model)
        if not incremental:
            return produce(loaded.model, fleet.name, stages, schemas=display(target) if schemas else None)
        return produce_incremental(
            loaded.model,
            loaded.document.data,
            fleet.name,
            target,
            stages,
            sources=loaded.sources,
            surveyed=pending.result(target),
        )

    start = survey.starter(pending, out, fleet) if incremental else None
    try:  # --full trusts no cache
        loaded, produced = pipeline.load_lint_and(fleet, rendered, out, stages, cached=not full, loaded=start)
        return _report(fleet, out, fmt, stages, loaded, produced, pending)
    finally:
        pending.close()  # the survey's listing is taken by the compare; ended unread when there was none


def _report(fleet, out, fmt, stages: Stages, loaded, produced, pending: survey.Pending) -> tuple[int, str]:
    exiting.keep(loaded, produced)
    if produced is None:
        return 1, LINT_FORMATS[fmt](loaded.findings, colour=colour())
    target = out or pipeline.output_dir(fleet, loaded.model)
    label = display(target)
    known: dict[str, str] | None = None
    surveyed = None
    if isinstance(produced, Incremental):
        known = produced.known
        surveyed = pending.result(target)
    checked = produced.upstream if isinstance(produced, Produced) else None
    with stages.stage("compare"):
        drift = tree.compare(target, produced.files, known, surveyed.live if surveyed else None)
    if isinstance(produced, Incremental):  # the survey's time, its listing included
        stages.notes.append(pending.note() + produced.summary())
    findings = [as_finding(d, label) for d in drift]
    upstream = sorted(checked.findings) if checked is not None else []
    patched = patch_findings(produced, loaded.document)
    code = 1 if findings or exit_code(upstream) or exit_code(patched) else 0
    if fmt != "text":
        return code, LINT_FORMATS[fmt](patched + findings + upstream)
    output = (LINT_FORMATS["text"](patched, colour=colour()) if patched else "") + _text(drift, findings, label)
    if checked is not None:  # --schemas
        output += LINT_FORMATS["text"](upstream, colour=colour()) + summary(checked) + "\n"
    return code, output


def _text(drift, findings, label: str) -> str:
    if not findings:
        return f"{label}: up to date with the fleet file\n"
    parts = []
    for d, f in zip(drift, findings):
        parts.append(text.line(f, colour()) + "\n")
        if d.old is not None or d.new is not None:
            parts.append(unified(d, label))
    strays = sum(d.message == tree.STRAY for d in drift)
    if len(findings) > strays:
        parts.append(f"{len(findings) - strays} file(s) out of date: run `fleetgen render` and commit the result\n")
    if strays:
        parts.append(stray_summary(strays) + "\n")
    return "".join(parts)


def stray_summary(count: int) -> str:
    """The one fix for manifests fleetgen does not own, worded the same by ``check`` and ``render``."""
    return (
        f"{count} stray manifest(s) that fleetgen does not own: delete them or move them out of the rendered "
        "tree (fleetgen never deletes a file it did not write)"
    )
