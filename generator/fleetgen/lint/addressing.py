"""Address rules the controllers enforce: the node mask kubeadm and Cilium accept, and IP families per provider."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Issue, issue
from ..model import Cluster, Fleet
from .registry import Context, rule

KUBEADM_PROVIDERS = ("vsphere", "docker")  # Cluster API builds these with kubeadm (render/capi/kubeadm.py)
# Providers whose Cilium values use cluster-pool IPAM over network.pods (render/cilium.py ``datapath``;
# tests/test_render_cilium.py holds the two equal): EKS runs ENI IPAM, GKE Kubernetes host-scope IPAM.
CLUSTER_POOL_PROVIDERS = ("azure", "vsphere", "docker", "imported")
MAX_MASK_DIFF = 16  # kubeadm constants.PodSubnetNodeMaskMaxDiff; cidrset clusterSubnetMaxDiff (IPv6)
MIN_POD_ADDRESSES = 14  # kubeadm constants.MinimumAddressesInPodSubnet


def kubeadm_built(cluster: Cluster) -> bool:
    return cluster.provisioned and cluster.provider.type in KUBEADM_PROVIDERS


def cilium_cluster_pool(fleet: Fleet, cluster: Cluster) -> bool:
    """Cilium's operator carves the node blocks (cluster-pool IPAM) on this cluster."""
    return fleet.mesh == "cilium" and cluster.network.mesh_id is not None and \
        cluster.provider.type in CLUSTER_POOL_PROVIDERS


def mask_refusers(fleet: Fleet, cluster: Cluster) -> list[str]:
    """Who refuses a node mask more than 16 bits below the pod CIDR's prefix.

    kubeadm validates both families (``ValidatePodSubnetNodeMask``); kube-controller-manager's
    and Cilium's CIDR allocators keep an uncompressed bitmap of node blocks and refuse the gap for
    IPv6 only (``NewCIDRSet`` in kubernetes ``pkg/controller/nodeipam/ipam/cidrset`` and cilium
    ``pkg/ipam/cidrset``: ``ErrCIDRSetSubNetTooBig``).
    """
    net = cluster.network
    if net.node_mask - net.pods.prefixlen <= MAX_MASK_DIFF:
        return []
    v6, kubeadm = net.pods.version == 6, kubeadm_built(cluster)
    refusers = ["kubeadm"] if kubeadm else []
    refusers += ["kube-controller-manager's node IPAM"] if v6 and kubeadm else []
    refusers += ["Cilium's cluster-pool operator"] if v6 and cilium_cluster_pool(fleet, cluster) else []
    return refusers


@rule("node-mask", fix="set network.nodeMask at most 16 bits longer than the pod CIDR's prefix (or widen the pod CIDR)")
def node_mask(ctx: Context) -> Iterator[Issue]:
    """`nodeMask` and the pod CIDR are a pair kubeadm, kube-controller-manager or Cilium refuses.

    fleetgen passes `nodeMask` to kube-controller-manager (`node-cidr-mask-size-ipv4`/`-ipv6`) on
    kubeadm clusters (vSphere, Docker) and to Cilium's cluster-pool IPAM (AKS, vSphere, Docker,
    imported). kubeadm refuses to start when the node mask is more than 16 bits longer than the pod
    CIDR's prefix (either family) or the pod CIDR holds fewer than 14 addresses; the IPv6 CIDR
    allocators of kube-controller-manager and Cilium refuse the same 16-bit gap. So an IPv6 /40
    with the default /64 per node fails, as does `nodeMask: 30` over a /8. A mask shorter than the
    pod CIDR's prefix is `pod-cidr-capacity`'s finding. EKS (Cilium ENI IPAM) and GKE (per-node
    ranges from GKE's max-pods-per-node) do not use `nodeMask`.
    """
    for c in ctx.fleet.clusters:
        pods, mask = c.network.pods, c.network.node_mask
        if mask < pods.prefixlen or mask > pods.max_prefixlen:
            continue  # pod-cidr-capacity
        refusers = mask_refusers(ctx.fleet, c)
        if refusers:
            yield issue("node-mask", (*c.path, "network", "nodeMask"),
                        f"nodeMask /{mask} is {mask - pods.prefixlen} bits longer than pod CIDR {pods} of cluster "
                        f"{c.name!r}; {' and '.join(refusers)} refuse more than {MAX_MASK_DIFF}")
        elif kubeadm_built(c) and pods.num_addresses < MIN_POD_ADDRESSES:
            yield issue("node-mask", (*c.path, "network", "pods"),
                        f"pod CIDR {pods} of cluster {c.name!r} has {pods.num_addresses} addresses; kubeadm needs at "
                        f"least {MIN_POD_ADDRESSES}")
