"""``fleetgen remove-cluster``: drop a cluster and everything in fleet.yaml that names it.

Removed with it: its ``weights`` key in every workload (the whole ``weights`` when it was the
only one), every override whose selector pins it (``matchLabels: {name: …}`` or ``In`` on
``name`` with only its name), and its name from longer ``In``/``NotIn`` lists on ``name``.
Selectors of workloads and ApplicationSets that select it alone are left for a human and
reported. A workload that runs somewhere now and would run nowhere afterwards stops the
command (exit 1) unless ``--force``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import click

from ..edit import Key
from ..model import Cluster, Fleet
from ..plan.split import placements, selected_clusters
from ..render.karmada import KARMADA_KUBECONFIG
from .common import fleet_argument, out_option
from .runbook import Session, cluster_index, dry_run_option, finish, open_fleet

Path = tuple[Key, ...]


def pins(selector: Mapping[str, Any] | None, name: str) -> bool:
    """The selector can only ever match the cluster called ``name``."""
    selector = selector or {}
    if (selector.get("matchLabels") or {}).get("name") == name:
        return True
    return any(
        e.get("key") == "name" and e.get("operator") == "In" and e.get("values") == [name]
        for e in selector.get("matchExpressions") or ()
    )


def name_values(selector: Mapping[str, Any] | None, path: Path, name: str) -> Iterator[Path]:
    """Paths of ``name`` in In/NotIn lists on the ``name`` label that hold other names too."""
    for i, expr in enumerate((selector or {}).get("matchExpressions") or ()):
        values = expr.get("values") or []
        if expr.get("key") == "name" and name in values and len(values) > 1:
            yield (*path, "matchExpressions", i, "values", values.index(name))


def reference_edits(data: Mapping[str, Any], name: str) -> list[Path]:
    """Every path to delete besides the cluster entry, in an order that keeps later paths valid."""
    values: list[Path] = []
    structural: list[Path] = []
    for i, appset in enumerate(data.get("applicationSets") or ()):
        values += name_values(appset.get("clusters"), ("applicationSets", i, "clusters"), name)
    for j, workload in enumerate(data.get("workloads") or ()):
        base: Path = ("workloads", j)
        values += name_values(workload.get("clusters"), (*base, "clusters"), name)
        overrides = workload.get("overrides") or []
        pinned = [k for k, o in enumerate(overrides) if pins(o.get("clusters"), name)]
        for k, override in enumerate(overrides):
            if k not in pinned:
                values += name_values(override.get("clusters"), (*base, "overrides", k, "clusters"), name)
        if overrides and len(pinned) == len(overrides):
            structural.append((*base, "overrides"))
        else:
            structural += [(*base, "overrides", k) for k in reversed(pinned)]
        weights = workload.get("weights") or {}
        if name in weights:
            structural.append((*base, "weights") if len(weights) == 1 else (*base, "weights", name))
    return values + structural


def left_alone(data: Mapping[str, Any], name: str) -> list[str]:
    """Selectors that pin the cluster and are kept: they will select nothing."""
    found = [
        f"applicationSet {a['name']!r}" for a in data.get("applicationSets") or () if pins(a.get("clusters"), name)
    ]
    found += [f"workload {w['name']!r}" for w in data.get("workloads") or () if pins(w.get("clusters"), name)]
    return found


def stranded(fleet: Fleet, name: str) -> list[str]:
    """Workloads with replicas somewhere now that would have no cluster to run on without ``name``."""
    placed, _ = placements(fleet)
    rest = dataclasses.replace(fleet, clusters=tuple(c for c in fleet.clusters if c.name != name))
    out = []
    for workload in fleet.workloads:
        if not any(placed.get(workload.name, {}).values()):
            continue
        if not selected_clusters(rest, workload) or (workload.weights and set(workload.weights) == {name}):
            out.append(workload.name)
    return out


@click.command("remove-cluster")
@click.argument("name")
@fleet_argument
@click.option("--force", is_flag=True, help="Remove it even when a workload is left with no cluster.")
@out_option
@dry_run_option
def command(name, fleet, force, out, dry_run) -> int:
    """Remove cluster NAME from FLEET with its weights and the overrides that pin it."""
    session = open_fleet(fleet, out)
    index = cluster_index(session, name)
    cluster = session.fleet.named(name)
    lost = stranded(session.fleet, name)
    if lost and not force:
        click.echo(
            f"fleetgen: not removing {name!r}: workload(s) {', '.join(lost)} would have no cluster "
            "left to run on; add a cluster for them first, or pass --force",
            err=True,
        )
        return 1
    editor = session.editor()
    for path in reference_edits(session.before.document.data, name):
        editor.delete(path)
    editor.delete(("clusters", index))
    for what in left_alone(session.before.document.data, name):
        click.echo(f"note: {what} selects {name!r} by name and now selects no cluster; left unchanged")
    for workload in lost:
        click.echo(f"warning: workload {workload!r} has no cluster left to run on (--force)")
    after = finish(session, editor.result(), dry_run)
    if after is not None and not dry_run:
        click.echo(next_steps(session, cluster), nl=False)
    return 0


def next_steps(session: Session, cluster: Cluster) -> str:
    steps = ["fleetgen render   # then commit fleet.yaml and the rendered tree, open the PR"]
    if cluster.provisioned:
        steps.append(
            f"WARNING: once merged, Argo CD prunes hub/capi/{cluster.name}.yaml and Cluster API "
            "DELETES the cluster and its infrastructure"
        )
    if session.fleet.karmada_server and cluster.registered and cluster.karmada_member:
        steps.append(_leave_karmada(cluster))
    body = "".join(f"  {i}. {step}\n" for i, step in enumerate(steps, 1))
    return f"next steps for {cluster.name}:\n{body}"


def _leave_karmada(cluster: Cluster) -> str:
    """karmadactl unjoin (push members) or unregister (pull members, karmada-agent), as in pkg/karmadactl."""
    if cluster.argocd_mode == "pull":
        return f"karmadactl unregister {cluster.name} --cluster-kubeconfig={cluster.name}.kubeconfig"
    return (
        f"karmadactl unjoin {cluster.name} --kubeconfig={KARMADA_KUBECONFIG} "
        f"--cluster-kubeconfig={cluster.name}.kubeconfig"
    )
