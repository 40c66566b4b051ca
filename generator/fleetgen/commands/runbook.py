"""What the runbook commands (add-cluster, register, upgrade, remove-cluster) share on the command line.

Each one opens fleet.yaml for editing (``fleetgen.edit.Session``: locked, loaded and linted),
edits its text, lints the edited bytes exactly as ``fleetgen lint`` would, and only then replaces
the file atomically (``tree.replace_file``). ``--dry-run`` prints the unified diff instead. Either
way it ends with the plan delta: what Argo CD, Karmada and the upgrade waves will do differently
(``plan.delta.plan_delta``, rendered by ``report.plan_text.delta_text``).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from .. import pipeline
from ..edit import Session, keys_before, open_session
from ..plan.delta import plan_delta
from ..report import plan_text

__all__ = ["Session", "cluster_index", "dry_run_option", "finish", "keys_before", "open_fleet"]

dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Print the unified diff of fleet.yaml instead of writing it."
)


def open_fleet(path: Path, out: Path | None) -> Session:
    """``edit.open_session``, its lock held until the command ends (released when its click context closes)."""
    session = open_session(path, out, waiting=lambda note: click.echo(note, err=True))
    click.get_current_context().call_on_close(session.close)
    return session


def cluster_index(session: Session, name: str) -> int:
    """Where the cluster stands in fleet.yaml's ``clusters`` list; an unknown name is a usage error."""
    cluster = session.fleet.cluster(name)
    if cluster is None:
        close = difflib.get_close_matches(name, [c.name for c in session.fleet.clusters], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise click.BadParameter(f"no cluster {name!r} in {session.label}{hint}", param_hint="NAME")
    return int(cluster.path[1])


def finish(session: Session, new_text: str, dry_run: bool) -> pipeline.Loaded | None:
    """Lint the edited text, then print its diff (dry run) or write it; print the plan delta.

    Returns the fleet after the edit, or None when the edit changes nothing.
    """
    if new_text == session.text:
        click.echo(f"{session.label}: nothing to change")
        return None
    after, candidate = session.lint(session.encode(new_text), dry_run)
    if dry_run:
        click.echo(session.unified(new_text), nl=False)
    else:
        session.write(candidate)
        click.echo(f"updated {session.label}")
    assert after.fleet is not None
    click.echo(plan_text.delta_text(plan_delta(session.fleet, after.fleet, session.versions)), nl=False)
    return after
