"""Cluster API adoption: a cluster that exists (``lifecycle: external`` or ``imported``) becomes ``managed``.

For EKS, GKE and AKS nothing new is created: the rendered Cluster API objects name the existing cloud resources, and
each provider looks them up by name before it would create anything (CAPA
``pkg/cloud/services/eks/cluster.go`` ``reconcileCluster`` describes ``eksClusterName``; node
groups by ``eksNodegroupName``; CAPG by ``clusterName`` in the project and location; ASO issues
a PUT on the Azure resource with the same name, which takes over an existing one). The
README's "Adopting an existing fleet" has the procedure; ``plan`` and ``diff`` name the clusters
it applies to, so a reviewer never reads the new ``hub/capi/<cluster>.yaml`` as a second cluster.

vSphere and Docker clusters are **not adoptable**: CAPV and CAPD find nothing by name, they build
machines from the Machine objects (a kubeadm control plane that ``kubeadm init``s a new cluster),
so a switch to ``managed`` starts a second cluster beside the running one, and on vSphere its
control plane claims the running cluster's endpoint address (kube-vip). ``plan`` and ``diff`` list
those clusters apart, and ``diff`` counts them with what the change destroys (``--fail-on destroy``).
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
    "vsphere": "not adoptable: CAPV builds new VMs (a second kubeadm cluster on the same endpoint address)",
    "docker": "not adoptable: CAPD starts new containers (a second cluster)",
}
NOT_ADOPTABLE = (
    "Cluster API cannot adopt these running clusters (vSphere, Docker): it would build a second cluster "
    'in their place; keep them lifecycle: external (README, "Adopting an existing fleet")'
)
ADOPTABLE = frozenset({"aws", "gcp", "azure"})  # providers that find the running cluster by name


def adoptable(cluster: Cluster) -> bool:
    return cluster.provider.type in ADOPTABLE


def split(clusters: list[Cluster]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(adopted, not adoptable): names, sorted, of clusters Cluster API starts managing."""
    names = sorted((c.name, adoptable(c)) for c in clusters)
    return tuple(n for n, ok in names if ok), tuple(n for n, ok in names if not ok)


def adoptions(
    fleet: Fleet, lock_files: Mapping[str, str], lock_versions: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(adopted, not adoptable): clusters managed now that were rendered before without Cluster API objects."""
    return split(
        [
            c
            for c in fleet.clusters
            if c.provisioned and c.name in lock_versions and CAPI_FILE.format(name=c.name) not in lock_files
        ]
    )


def lifecycle_changes(base: Fleet | None, head: Fleet) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(adopted, not adoptable, released): clusters of both fleets that Cluster API starts or stops managing."""
    if base is None:
        return (), (), ()
    pairs = [(old, new) for old in base.clusters if (new := head.cluster(old.name)) is not None]
    adopted, not_adoptable = split([n for o, n in pairs if not o.provisioned and n.provisioned])
    released = tuple(sorted(o.name for o, n in pairs if o.provisioned and not n.provisioned))
    return adopted, not_adoptable, released


def adopted_by(cluster: Cluster) -> str:
    text = ADOPTED_BY.get(cluster.provider.type, "")
    return text.format(name=cluster.name, group=cluster.provider.resource_group or cluster.name)


RELEASE_WARNING = (
    "Argo CD prunes hub/capi/{name}.yaml and Cluster API DELETES the cluster and its "
    'infrastructure unless the objects are orphaned first (README, "Adopting an existing fleet")'
)
