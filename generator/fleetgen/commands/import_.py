"""``fleetgen import INPUT...``: add what a team already runs to fleet.yaml, without any credential.

The reading is ``fleetgen.importer``; this module wires options, writing and the lint run.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from .. import pipeline, tree
from ..edit import EditError
from ..errors import FleetgenError
from ..findings import exit_code
from ..importer.merge import merge
from ..importer.read import read_inputs
from ..report import text as text_report
from ..scaffold import default_name, files
from .common import colour


@click.command("import")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--fleet",
    "fleet",
    type=click.Path(path_type=Path, dir_okay=False),
    default="fleet.yaml",
    show_default=True,
    help="The fleet file to extend (created when it does not exist).",
)
@click.option("--environment", help="Environment for clusters whose inputs name none (no `environment` label).")
@click.option("--dry-run", is_flag=True, help="Print the unified diff of the fleet file instead of writing it.")
def command(inputs: tuple[Path, ...], fleet: Path, environment: str | None, dry_run: bool) -> int:
    """Import clusters from Argo CD cluster Secrets, Cluster API manifests, kubeconfigs or a rendered tree.

    INPUT is a YAML file (a List or several documents), a directory of them, or a tree fleetgen
    rendered. Credentials are dropped with a note; a value that differs from fleet.yaml is reported
    as a conflict and never overwritten. The result is linted like `fleetgen lint`.
    """
    found = read_inputs(list(inputs))
    before = pipeline.read(fleet).decode("utf-8-sig") if fleet.exists() else _new_fleet(fleet)
    try:
        after, conflicts = merge(before, found.clusters, environment)
    except EditError as exc:
        raise FleetgenError(f"{fleet}: {exc}") from None
    for note in found.notes:
        click.echo(f"note: {note}")
    for conflict in found.conflicts + conflicts:
        click.echo(f"conflict: {conflict}")
    click.echo(f"{len(found.clusters)} cluster(s) read: {', '.join(sorted(found.clusters)) or 'none'}")
    if dry_run:
        old = before.splitlines(keepends=True) if fleet.exists() else []
        click.echo(
            "".join(difflib.unified_diff(old, after.splitlines(keepends=True), f"a/{fleet}", f"b/{fleet}")), nl=False
        )
        return 0
    if not fleet.exists() or after != before:
        _write(fleet, after)
        click.echo(f"updated {fleet}")
    result = pipeline.load_and_lint(fleet)
    click.echo(text_report.render(result.findings, colour=colour()), nl=False)
    if not result.ok:
        click.echo(
            f"{fleet} was written; fill in what lint reports above (facts the inputs do not hold) "
            "and run fleetgen lint again"
        )
    return exit_code(result.findings)


def _new_fleet(fleet: Path) -> str:
    return files(default_name(fleet.resolve().parent), "https://git.example.com/fleet.git")["fleet.yaml"]


def _write(path: Path, text: str) -> None:
    """Atomically: a temporary file beside ``path`` with its mode, then a rename (``tree.replace_file``)."""
    real = path.resolve()
    try:
        tree.replace_file(tree.write_candidate(real, text.encode("utf-8"), ".fleetgen-import"), real)
    except OSError as exc:
        raise FleetgenError(f"{path}: cannot write: {exc.strerror}") from None
