"""Settings fixed at install: fleet.yaml against what the rendered tree's lock records (settled.py)."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Issue
from ..settled import NOTHING, Settled
from .registry import Context, flag, rule

_REINSTALL = "reinstall Cilium on"


@rule(
    "immutable-setting",
    fix="restore the recorded value; to change it for real, rebuild what it names (see the message) first, "
    "then suppress the finding once with `# fleetgen: ignore[immutable-setting]` on that line and render",
)
def immutable_setting(ctx: Context) -> Iterator[Issue]:
    """fleet.yaml changes a setting the rendered tree records as installed and that cannot change.

    `render` records in `.fleetgen.lock` each cluster's Cilium `cluster.id` (`network.meshID`),
    the mesh's `maxConnectedClusters` and each cluster's IP family. The Cilium chart says
    `maxConnectedClusters` "cannot be changed on running clusters" and must be equal on every member;
    the cluster id is part of every security identity the cluster allocated. A changed value would
    re-render values that break policy and the mesh until Cilium is reinstalled. An EKS cluster's IP
    family is fixed at creation (CAPA's webhook refuses the change) and no provider moves a running
    cluster's pods to another family. A cluster removed and rendered without is forgotten.
    """
    before, fleet = ctx.installed, ctx.fleet
    if before is None or before == NOTHING:
        return
    cilium = fleet.mesh == "cilium"
    limit = before.max_connected_clusters
    if cilium and limit is not None and fleet.max_connected_clusters != limit:
        yield flag(
            ("network", "maxConnectedClusters"),
            f"network.maxConnectedClusters was installed as {limit}, now {fleet.max_connected_clusters}: "
            f"{_REINSTALL} every mesh member with the new value first",
        )
    for c in fleet.clusters:
        yield from _cluster_changes(
            before, c.name, c.path, c.network.mesh_id if cilium else None, c.network.pods.version
        )


def _cluster_changes(before: Settled, name: str, path: tuple, new_id: int | None, new_family: int) -> Iterator[Issue]:
    old_id = before.mesh_ids.get(name)
    if None not in (old_id, new_id) and old_id != new_id:
        yield flag(
            (*path, "network", "meshID"),
            f"meshID of cluster {name!r} was installed as Cilium cluster.id {old_id}, now {new_id}: "
            f"{_REINSTALL} {name!r} with the new id first",
        )
    old_family = before.ip_families.get(name)
    if old_family is not None and old_family != new_family:
        yield flag(
            (*path, "network", "pods"),
            f"cluster {name!r} was installed with IPv{old_family} pods, now IPv{new_family}: a cluster's IP "
            "family cannot change (EKS refuses it); create a new cluster under another name",
        )
