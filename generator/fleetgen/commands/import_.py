"""``fleetgen import INPUT...``: add what a team already runs to fleet.yaml, without any credential.

The reading is ``fleetgen.importer``; this module wires options, writing and the lint run. An existing
fleet.yaml is read, merged into and replaced under its lock (``edit.lock_fleet``, as the runbook
commands hold it), its BOM and line ends kept; a new one is created with ``tree.create_file``, never
over a file that appeared meanwhile.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import click

from .. import pipeline, tree
from ..edit import EditError, decode, encode, lock_fleet, write_failure
from ..errors import FleetgenError
from ..findings import display, exit_code
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
    for note in found.notes:
        click.echo(f"note: {note}")
    for conflict in found.conflicts:
        click.echo(f"conflict: {conflict}")
    click.echo(f"{len(found.clusters)} cluster(s) read: {', '.join(sorted(found.clusters)) or 'none'}")
    while True:  # once more only when another command created the fleet file meanwhile: then it is locked
        done = _merge_into(fleet, found.clusters, environment, dry_run)
        if done is not None:
            return done


def _merge_into(fleet: Path, clusters: dict, environment: str | None, dry_run: bool) -> int | None:
    """Merge under fleet.yaml's lock (held from before it is read until it is replaced and linted), like
    the runbook commands, so a concurrent edit is never lost. A new fleet file is created, never over one
    that appeared meanwhile (then None: merge again, into that one)."""
    lock = lock_fleet(fleet, lambda note: click.echo(note, err=True)) if fleet.exists() else None
    try:
        if lock is None:
            before, bom, crlf = _new_fleet(fleet), False, False
        else:
            before, bom, crlf = decode(pipeline.read(fleet))
        try:
            after, conflicts = merge(before, clusters, environment)
        except EditError as exc:
            raise FleetgenError(f"{fleet}: {exc}") from None
        for conflict in conflicts:
            click.echo(f"conflict: {conflict}")
        if dry_run:
            old = before.splitlines(keepends=True) if lock is not None else []
            new = after.splitlines(keepends=True)
            click.echo("".join(difflib.unified_diff(old, new, f"a/{fleet}", f"b/{fleet}")), nl=False)
            return 0
        if lock is None or after != before:
            if not _write(fleet, encode(after, bom, crlf), create=lock is None):
                return None
            click.echo(f"updated {fleet}")
        result = pipeline.load_and_lint(fleet)
    finally:
        if lock is not None:
            os.close(lock)
    click.echo(text_report.render(result.findings, colour=colour()), nl=False)
    if not result.ok:
        click.echo(
            f"{fleet} was written; fill in what lint reports above (facts the inputs do not hold) "
            "and run fleetgen lint again"
        )
    return exit_code(result.findings)


def _new_fleet(fleet: Path) -> str:
    return files(default_name(fleet.resolve().parent), "https://git.example.com/fleet.git")["fleet.yaml"]


def _write(path: Path, data: bytes, create: bool) -> bool:
    """Atomically: a new file (``tree.create_file``, False when one appeared meanwhile) or a replacement
    with the file's mode (``tree.replace_file``); a failed write is one line, exit 2, the file unchanged."""
    real = path.resolve()
    try:
        if create:
            tree.create_file(real, data)
        else:
            tree.replace_file(tree.write_candidate(real, data, ".fleetgen-import"), real)
    except OSError as exc:
        if create and isinstance(exc, FileExistsError):
            return False
        raise write_failure(display(path), exc, real.parent) from None
    return True
