"""``fleetgen upgrade``: set kubernetesVersion for the next upgrade wave, so one PR is one wave.

The waves are ``plan``'s (``plan/upgrades.py``) for a fleet where every cluster wants the
target version, starting from the versions the rendered tree holds: one minor at a time,
environments in promotion order, production one region per wave. A wave already written to
fleet.yaml but not rendered yet is in flight: nothing more is changed until it is rendered, so
two waves never share a PR. A cluster that inherits its version from ``defaults`` gets the
version on its own entry; ``defaults`` stays as it is for everybody else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import click

from .. import versions as v
from ..model import Fleet
from ..plan.upgrades import Wave, upgrade_waves
from .common import fleet_argument, out_option
from .runbook import Session, dry_run_option, finish, keys_before, open_fleet


def target_waves(fleet: Fleet, current: Mapping[str, str], to: str) -> tuple[Wave, ...]:
    """Every wave from the rendered versions to ``to`` on every cluster (newer clusters keep theirs)."""
    wanting = tuple(
        dataclasses.replace(c, kubernetes_version=to) if v.older(c.kubernetes_version, to) else c
        for c in fleet.clusters
    )
    return upgrade_waves(dataclasses.replace(fleet, clusters=wanting), current)


def applied(fleet: Fleet, name: str, wave: Wave) -> bool:
    """fleet.yaml already asks cluster ``name`` for the wave's target version (or newer)."""
    return not v.older(fleet.named(name).kubernetes_version, wave.target)


Change = tuple[Wave, list[str]]  # a wave and the clusters of it to write now


def choose(fleet: Fleet, waves: Sequence[Wave], which: str) -> tuple[list[Change], str | None]:
    """The wave(s) to write now, or why none is.

    ``next``: the first wave, unless it is in flight. ``all``: every cluster's first step from
    its rendered version (a second one would skip a minor before the tree moves).
    """
    if which == "next":
        first = waves[0] if waves else None
        if first is None:
            return [], None
        todo = [c for c in first.clusters if not applied(fleet, c, first)]
        if not todo:
            return [], (
                f"wave {first.number} ({', '.join(first.clusters)}: {first.source} -> "
                f"{first.target}) is set in fleet.yaml but not rendered yet: run `fleetgen render`, "
                "roll it out, then run upgrade again"
            )
        return [(first, todo)], None
    seen: set[str] = set()
    changes = []
    for wave in waves:
        todo = [c for c in wave.clusters if c not in seen and not applied(fleet, c, wave)]
        seen.update(wave.clusters)
        if todo:
            changes.append((wave, todo))
    return changes, None


@click.command("upgrade")
@fleet_argument
@click.option("--to", "to", required=True, metavar="X.Y", help="The Kubernetes version to move the fleet to.")
@click.option(
    "--wave",
    "which",
    type=click.Choice(["next", "all"]),
    default="next",
    show_default=True,
    help="next: only the next wave (one PR per wave); all: every wave of the next minor step.",
)
@out_option
@dry_run_option
def command(fleet, to, which, out, dry_run) -> int:
    """Set kubernetesVersion for the clusters of the next upgrade wave towards X.Y in FLEET."""
    if not v.is_version(to):
        raise click.BadParameter(f"{to!r} is not a Kubernetes version like 1.31", param_hint="--to")
    session = open_fleet(fleet, out)
    current = session.versions
    waves = target_waves(session.fleet, current, to)
    changes, reason = choose(session.fleet, waves, which)
    if not changes:
        click.echo(reason or _done(session, current, to))
        return 0
    editor = session.editor()
    for wave, names in changes:
        label = f"wave {wave.number}: " if which == "next" else ""
        click.echo(f"{label}{wave.source} -> {wave.target}: {', '.join(names)}")
        for name in names:
            index = int(session.fleet.named(name).path[1])
            path = ("clusters", index, "kubernetesVersion")
            editor.set(path, wave.target, after=keys_before("kubernetesVersion"))
    finish(session, editor.result(), dry_run)
    return 0


def _done(session: Session, current: Mapping[str, str], to: str) -> str:
    if not current:
        return (
            f"nothing to do: {session.out} holds no rendered versions yet; run `fleetgen render` first "
            "(new clusters are created at their fleet.yaml version)"
        )
    return f"nothing to do: every rendered cluster is at {to} or newer"
