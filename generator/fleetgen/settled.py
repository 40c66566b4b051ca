"""Settings a cluster keeps for life once installed, as recorded in the rendered tree's lock.

- Cilium ``cluster.id`` (``network.meshID``) and ``clustermesh.maxConnectedClusters``. The chart says
  of the latter "This value cannot be changed on running clusters, and all clusters in a ClusterMesh
  must be configured with the same value" (``install/kubernetes/cilium/values.yaml``); it fixes how
  a security identity's bits split between cluster id and local identity, and the cluster id is in
  every identity the cluster allocated (with 255 clusters, bits 16-23: ``pkg/identity``
  ``NumericIdentity.ClusterID``), so a new id orphans every identity, policy and peer's cache entry
  until Cilium is reinstalled.
- Each cluster's IP family (of ``network.pods``): EKS's is fixed when the cluster is created (CAPA
  v2.11 ``controlplane/eks/webhooks/awsmanagedcontrolplane_webhook.go``: "changing IP family is not
  allowed after it has been set"), and no provider moves a running cluster's pods to another family.

``render`` records them in ``.fleetgen.lock``; lint rule ``immutable-setting`` compares fleet.yaml with
that record, so ``lint``, ``render`` and ``check`` all report a change before anything is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import Fleet


@dataclass(frozen=True)
class Settled:
    max_connected_clusters: int | None = None  # recorded with mesh: cilium only
    mesh_ids: Mapping[str, int] = field(default_factory=dict)  # cluster -> Cilium cluster.id
    ip_families: Mapping[str, int] = field(default_factory=dict)  # cluster -> 4 | 6

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.max_connected_clusters is not None:
            out["maxConnectedClusters"] = self.max_connected_clusters
        out["meshIDs"] = dict(sorted(self.mesh_ids.items()))
        out["ipFamilies"] = {name: f"ipv{v}" for name, v in sorted(self.ip_families.items())}
        return out


NOTHING = Settled()  # no record: a first render, or a lock older than this record


def settled(fleet: Fleet) -> Settled:
    """What a render of ``fleet`` installs: mesh ids only where Cilium values are rendered."""
    cilium = fleet.mesh == "cilium"
    ids = {c.name: c.network.mesh_id for c in fleet.clusters if cilium and c.network.mesh_id is not None}
    return Settled(
        fleet.max_connected_clusters if cilium else None, ids, {c.name: c.network.family for c in fleet.clusters}
    )


def from_json(body: Any) -> Settled:
    """The lock's record; anything malformed counts as not recorded (an older lock has none)."""
    if not isinstance(body, Mapping):
        return NOTHING
    limit = body.get("maxConnectedClusters")
    ids = raw_ids if isinstance(raw_ids := body.get("meshIDs"), Mapping) else {}
    families = raw_families if isinstance(raw_families := body.get("ipFamilies"), Mapping) else {}
    return Settled(
        limit if type(limit) is int else None,
        {str(k): v for k, v in ids.items() if type(v) is int},
        {str(k): int(v[3:]) for k, v in families.items() if v in ("ipv4", "ipv6")},
    )
