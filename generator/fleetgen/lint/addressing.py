"""Address rules the controllers enforce: the node mask kubeadm and Cilium accept, and IP families per provider."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Issue
from ..model import Cluster, Fleet
from .registry import Context, flag, rule

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
    return (
        fleet.mesh == "cilium"
        and cluster.network.mesh_id is not None
        and cluster.provider.type in CLUSTER_POOL_PROVIDERS
    )


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
        prefix, bits = pods.prefixlen, pods.max_prefixlen
        if prefix <= mask <= prefix + MAX_MASK_DIFF and bits - prefix >= 4:
            continue  # the common case, decided without more lookups: at least 16 addresses, a gap of 16 or less
        if mask < prefix or mask > bits:
            continue  # pod-cidr-capacity
        refusers = mask_refusers(ctx.fleet, c)
        if refusers:
            yield flag(
                (*c.path, "network", "nodeMask"),
                f"nodeMask /{mask} is {mask - prefix} bits longer than pod CIDR {pods} of cluster "
                f"{c.name!r}; {' and '.join(refusers)} refuse more than {MAX_MASK_DIFF}",
            )
        elif kubeadm_built(c) and pods.num_addresses < MIN_POD_ADDRESSES:
            yield flag(
                (*c.path, "network", "pods"),
                f"pod CIDR {pods} of cluster {c.name!r} has {pods.num_addresses} addresses; kubeadm needs at "
                f"least {MIN_POD_ADDRESSES}",
            )


# Why a provider cannot run a cluster whose pods and services are IPv6 (fleet.yaml has no dual-stack).
IPV4_ONLY = {
    "gcp": "CAPG v1.12 gives GKE IPv4 ranges only (GCPManagedControlPlane clusterNetwork → ClusterIpv4CidrBlock, "
    "ServicesIpv4CidrBlock), so GKE would pick IPv4 ranges of its own; GKE has no IPv6-only clusters",
    "azure": "AKS runs IPv6 only as dual-stack, and CAPZ copies one podCidr/serviceCidr from the Cluster",
}
KUBEADM_IPV4_ONLY = {  # only what fleetgen renders: an external kubeadm cluster may well be IPv6
    "vsphere": "the rendered VSphereMachineTemplate gives nodes DHCPv4 addresses only",
    "docker": "the rendered kubeadm configuration has no IPv6 node address (CAPD's ipv6 flavor sets node-ip '::')",
}
MIN_VPC_CNI_FOR_IPV6 = (1, 10, 2)  # CAPA v2.11 awsmanagedcontrolplane_webhook.go minVpcCniVersionForIPv6


def _version_triple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("-", 1)[0].split("."))


def _eks_ipv6(fleet: Fleet, c: Cluster) -> Iterator[Issue]:
    pods = (*c.path, "network", "pods")
    if fleet.mesh == "cilium" and c.network.mesh_id is not None:
        yield flag(
            pods,
            f"EKS cluster {c.name!r} has IPv6 pods, but Cilium's ENI IPAM (which fleetgen runs on EKS) is IPv4-only",
        )
    if not c.provisioned:
        return
    version = c.provider.vpc_cni_version
    if not version:
        yield flag(
            (*c.path, "provider"),
            f"IPv6 EKS cluster {c.name!r} needs provider.vpcCniVersion: CAPA refuses an IPv6 cluster whose "
            "add-ons are not named (the VPC CNI gives pods the VPC's IPv6 addresses)",
        )
    elif _version_triple(version) < MIN_VPC_CNI_FOR_IPV6:
        yield flag(
            (*c.path, "provider", "vpcCniVersion"),
            f"vpc-cni {version} of EKS cluster {c.name!r} is older than v1.10.2, the first with IPv6",
        )


def _family_issues(fleet: Fleet, c: Cluster) -> Iterator[Issue]:
    net, kind = c.network, c.provider.type
    if net.pods.version != net.services.version:
        yield flag(
            (*c.path, "network", "services"),
            f"cluster {c.name!r} has IPv{net.pods.version} pods but IPv{net.services.version} services: a "
            "single-stack cluster uses one family for both (fleet.yaml cannot describe dual-stack)",
        )
        return
    if net.pods.version == 4:
        return
    reason = IPV4_ONLY.get(kind) or (KUBEADM_IPV4_ONLY.get(kind) if c.provisioned else None)
    if reason:
        yield flag((*c.path, "network", "pods"), f"cluster {c.name!r} is IPv6, but {reason}")
    elif kind == "aws":
        yield from _eks_ipv6(fleet, c)


@rule(
    "ip-family",
    fix="use IPv4 pod and service CIDRs on this provider, or meet the provider's IPv6 requirement the message names",
)
def ip_family(ctx: Context) -> Iterator[Issue]:
    """A cluster's IP family is one its provider, or what fleetgen renders for it, cannot run.

    Pods and services must be of one family (fleet.yaml describes single-stack clusters only). IPv6
    works on EKS: fleetgen renders the VPC with `ipv6: {}` (an Amazon-provided /56), so CAPA creates
    the cluster with `ipFamily: ipv6`, which it can never change, and names the `vpc-cni` add-on
    (`provider.vpcCniVersion`, v1.10.2 or later), which CAPA requires for IPv6; Cilium's ENI IPAM is
    IPv4-only, so an IPv6 EKS cluster cannot be in a Cilium mesh. GKE through CAPG v1.12 and AKS
    (dual-stack only) are IPv4 here; fleetgen's vSphere and Docker machines get IPv4 node addresses only.
    """
    for c in ctx.fleet.clusters:
        yield from _family_issues(ctx.fleet, c)
