"""Naming rules: duplicate clusters and names the mesh or Argo CD cannot take."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ..findings import Issue
from ..model import ApplicationSet, Workload
from .registry import Context, flag, rule

CILIUM_NAME_LIMIT = 32
# Argo CD's name for the cluster it runs in, the Karmada API server's cluster Secret, and hub
# namespaces a cluster name would also name (its CAPI namespace, a pull cluster's agent namespace).
RESERVED_NAMES = {"in-cluster", "karmada", "default", "kube-system", "kube-public", "kube-node-lease", "monitoring"}


@rule("duplicate-cluster", fix="rename or remove one of the two clusters")
def duplicate_cluster(ctx: Context) -> Iterator[Issue]:
    """Two clusters share a name.

    A cluster's name keys its Argo CD Secret, its Karmada membership, its file paths and its
    Thanos identity: a second cluster of the same name would silently replace the first.
    """
    first: dict[str, tuple] = {}
    for c in sorted(ctx.fleet.clusters, key=lambda c: c.path):
        if c.name in first:
            yield flag((*c.path, "name"), f"cluster name {c.name!r} is used twice", related=(first[c.name],))
        first.setdefault(c.name, (*c.path, "name"))


@rule("duplicate-name", fix="rename one of the two entries")
def duplicate_name(ctx: Context) -> Iterator[Issue]:
    """Two applicationSets, or two workloads, share a name.

    Their rendered files and Argo CD objects would have the same name, and one would replace the other.
    """
    named: tuple[tuple[str, Sequence[ApplicationSet | Workload]], ...] = (
        ("applicationSet", ctx.fleet.application_sets),
        ("workload", ctx.fleet.workloads),
    )
    for kind, items in named:
        first: dict[str, tuple] = {}
        for item in sorted(items, key=lambda i: i.path):
            if item.name in first:
                yield flag(
                    (*item.path, "name"), f"{kind} name {item.name!r} is used twice", related=(first[item.name],)
                )
            first.setdefault(item.name, (*item.path, "name"))


@rule("cluster-name", fix="shorten or rename the cluster")
def cluster_name(ctx: Context) -> Iterator[Issue]:
    """A cluster name the mesh or Argo CD cannot take.

    Cilium ClusterMesh limits cluster names to 32 characters. A cluster's name also names its
    Cluster API namespace and (pull mode) its argocd-agent namespace on the hub, and its Argo CD
    cluster Secret, so the names of the hub itself, of `in-cluster`, `karmada`, the Argo CD
    namespace and the system namespaces are taken.
    """
    fleet = ctx.fleet
    for c in fleet.clusters:
        path = (*c.path, "name")
        if fleet.mesh == "cilium" and len(c.name) > CILIUM_NAME_LIMIT:
            yield flag(
                path,
                f"cluster name {c.name!r} has {len(c.name)} characters; Cilium "
                f"ClusterMesh allows at most {CILIUM_NAME_LIMIT}",
            )
        if c.name in RESERVED_NAMES or c.name in (fleet.hub_name, fleet.argocd_namespace):
            yield flag(path, f"cluster name {c.name!r} is reserved for the hub in Argo CD")


@rule("pool-min-max", fix="lower min or raise max so that min ≤ max")
def pool_min_max(ctx: Context) -> Iterator[Issue]:
    """A node pool's `min` is greater than its `max`.

    The bounds become the cluster autoscaler's (and the managed node group's) minimum and maximum
    size; every provider rejects a minimum above the maximum, so the pool is never created.
    """
    for c in ctx.fleet.clusters:
        for pool in c.node_pools:
            if pool.min > pool.max:
                yield flag(
                    (*pool.path, "min"), f"node pool {pool.name!r}: min {pool.min} is greater than max {pool.max}"
                )
