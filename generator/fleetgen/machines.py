"""Facts about machines and node pools that lint and the Cluster API renderer share.

vSphere machine sizes from ``instanceType``, the port a kubeadm API server listens on, which
node-pool labels reach a Node and by which road (the kubelet's ``--node-labels``, only labels the
NodeRestriction rules let a kubelet set on itself, or Cluster API's Machine-to-Node label sync), and
the node count of a GKE pool in a regional cluster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

API_SERVER_PORT = 6443  # kubeadm's default bindPort: where a kubeadm control plane's API server listens
_EC2_SIZES = {
    "medium": (2, 4),
    "large": (2, 8),
    "xlarge": (4, 16),
    "2xlarge": (8, 32),
    "4xlarge": (16, 64),
    "8xlarge": (32, 128),
    "12xlarge": (48, 192),
    "16xlarge": (64, 256),
}
_SIZE = re.compile(r"([1-9][0-9]{0,2})x([1-9][0-9]{0,4})")
_RESTRICTED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")
_KUBELET_ALLOWED_DOMAINS = ("node.kubernetes.io", "kubelet.kubernetes.io")
# The kubernetes.io keys a kubelet may still set itself (k8s.io/kubelet/pkg/apis/well_known_labels.go kubeletLabels).
_KUBELET_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
    }
)
# Label domains Cluster API copies from a Machine onto its Node (util/labels/helpers.go GetManagedLabels,
# called by core/reconcilers/machine/machine_controller_noderef.go): node-role.kubernetes.io exactly,
# node-restriction.kubernetes.io and node.cluster.x-k8s.io with their subdomains.
_CAPI_SYNCED_EXACT = ("node-role.kubernetes.io",)
_CAPI_SYNCED_DOMAINS = ("node-restriction.kubernetes.io", "node.cluster.x-k8s.io")


def _in_domain(domain: str, domains: Iterable[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def vsphere_size(instance_type: str) -> tuple[int, int] | None:
    """(CPUs, GiB) from ``4x16`` or an EC2-style size (``m6i.xlarge``, ``xlarge``); None when neither.

    CAPV needs at least 2 CPUs, so fewer are raised to 2; an unparsable type is lint's
    ``vsphere-instance-type`` error, never a guessed size.
    """
    explicit = _SIZE.fullmatch(instance_type)
    if explicit:
        cpus, gib = int(explicit[1]), int(explicit[2])
    elif instance_type.rsplit(".", 1)[-1] in _EC2_SIZES:
        cpus, gib = _EC2_SIZES[instance_type.rsplit(".", 1)[-1]]
    else:
        return None
    return max(cpus, 2), gib


def kubelet_settable(key: str) -> bool:
    """The kubelet refuses --node-labels in kubernetes.io/k8s.io namespaces except its own."""
    domain = key.split("/", 1)[0] if "/" in key else ""
    if key in _KUBELET_LABELS or _in_domain(domain, _KUBELET_ALLOWED_DOMAINS):
        return True
    return not _in_domain(domain, _RESTRICTED_LABEL_DOMAINS)


def capi_synced(key: str) -> bool:
    """Cluster API keeps this label on the Node in step with the Machine's (GetManagedLabels)."""
    domain = key.split("/", 1)[0]
    return "/" in key and (domain in _CAPI_SYNCED_EXACT or _in_domain(domain, _CAPI_SYNCED_DOMAINS))


# A GKE pool of a regional cluster runs the same number of nodes in each of its zones: CAPG spreads it over 3 when
# no nodeLocations are given (cloud.DefaultNumRegionsPerZone), and its preflight check refuses to create the
# cluster or the pool unless MachinePool.spec.replicas is a multiple of that (CAPG v1.12.0
# cloud/services/shared/machinepool.go ManagedMachinePoolPreflightCheck).
GKE_REGIONAL_ZONES = 3


def gke_regional(location: str) -> bool:
    """CAPG's test (``shared.IsRegional``): one dash is a region (``us-central1``), two a zone (``us-central1-a``)."""
    return location.count("-") == 1


def gke_initial_replicas(location: str, low: int, high: int) -> int | None:
    """The node count a GKE pool is created with: its min, raised to the next multiple of the zones in a regional
    cluster; None when no such count lies within ``[low, high]`` (lint gke-regional-pool)."""
    if not gke_regional(location):
        return low
    count = -(-low // GKE_REGIONAL_ZONES) * GKE_REGIONAL_ZONES
    return count if count <= high else None
