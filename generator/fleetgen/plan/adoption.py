"""Cluster API adoption: a cluster that exists (``lifecycle: external`` or ``imported``) becomes ``managed``.

Nothing new is created: the rendered Cluster API objects name the existing cloud resources, and
each provider looks them up by name before it would create anything (CAPA
``pkg/cloud/services/eks/cluster.go`` ``reconcileCluster`` describes ``eksClusterName``; node
groups by ``eksNodegroupName``; CAPG by ``clusterName`` in the project and location; ASO issues
a PUT on the Azure resource with the same name, which takes over an existing one). The
README's "Adopting an existing fleet" has the procedure; ``plan`` and ``diff`` name the clusters
it applies to, so a reviewer never reads the new ``hub/capi/<cluster>.yaml`` as a second cluster.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model import Cluster, Fleet

CAPI_FILE = "hub/capi/{name}.yaml"
# What each provider finds the existing cluster by: the name fleetgen renders (render/capi/*).
ADOPTED_BY = {
    "aws": "EKS cluster named {name} (eksClusterName), node groups named after the pools",
    "gcp": "GKE cluster named {name} (clusterName) in its project and region, node pools named after the pools",
    "azure": "AKS ManagedCluster {name} in resource group {group} (ASO adopts the resource of that name)",
    "vsphere": "no adoption: kubeadm clusters cannot be taken over by Cluster API; CAPV would build new VMs",
    "docker": "no adoption: CAPD would start new containers",
}


def adoptions(fleet: Fleet, lock_files: Mapping[str, str], lock_versions: Mapping[str, str]) -> list[str]:
    """Clusters Cluster API will take over: managed now, already rendered before without Cluster API objects."""
    return sorted(
        c.name
        for c in fleet.clusters
        if c.provisioned and c.name in lock_versions and CAPI_FILE.format(name=c.name) not in lock_files
    )


def lifecycle_changes(base: Fleet | None, head: Fleet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(adopted, released): clusters of both fleets that Cluster API starts or stops managing."""
    if base is None:
        return (), ()
    pairs = [(old, head.cluster(old.name)) for old in base.clusters]
    adopted = tuple(sorted(o.name for o, n in pairs if n is not None and not o.provisioned and n.provisioned))
    released = tuple(sorted(o.name for o, n in pairs if n is not None and o.provisioned and not n.provisioned))
    return adopted, released


def adopted_by(cluster: Cluster) -> str:
    text = ADOPTED_BY.get(cluster.provider.type, "")
    return text.format(name=cluster.name, group=cluster.provider.resource_group or cluster.name)


RELEASE_WARNING = (
    "Argo CD prunes hub/capi/{name}.yaml and Cluster API DELETES the cluster and its "
    'infrastructure unless the objects are orphaned first (README, "Adopting an existing fleet")'
)
