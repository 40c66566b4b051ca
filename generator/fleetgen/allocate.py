"""Free network ranges for a new cluster: the lowest free pod block, service block, node network and mesh id.

The pools come from ``network.allocation`` (the node network only when it has ``nodes`` and
``nodePrefix``). A block is free when it overlaps no pod, service or node CIDR of any cluster in
the fleet, whatever the mesh: a range that is unique today stays valid if
the fleet later moves to a mesh that routes between clusters. Taken ranges are sorted once and
merged, then the gaps are walked in address order, so one allocation costs O(n log n) for n
clusters, and the answer depends only on the fleet, never on file order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from .findings import Issue, issue
from .model import Cluster, Fleet, Network

EKS_RISKY_MESH_IDS = range(128, 256)  # lint's mesh-id warning: ENI/aws-cni chaining breaks on these


@dataclass(frozen=True)
class Allocated:
    pods: Network
    services: Network
    mesh_id: int | None  # None unless network.mesh is cilium
    nodes: Network | None = None  # None unless network.allocation has a nodes pool


Span = tuple[int, int]  # first and last address, inclusive


def merged(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping spans covering exactly the input spans."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def lowest_free_block(pool: Network, prefix: int, taken: Iterable[Network]) -> Network | None:
    """The lowest ``/prefix`` block inside ``pool`` that overlaps none of ``taken`` (any family)."""
    if prefix < pool.prefixlen or prefix > pool.max_prefixlen:
        return None
    size = 1 << (pool.max_prefixlen - prefix)
    low, high = int(pool.network_address), int(pool.broadcast_address)
    spans = merged(
        (int(n.network_address), int(n.broadcast_address))
        for n in taken
        if n.version == pool.version and n.overlaps(pool)
    )
    candidate = low
    for start, end in [*spans, (high + 1, high + 1)]:
        if candidate + size - 1 < start:
            break
        candidate = max(candidate, -(-(end + 1 - low) // size) * size + low)  # next aligned block past it
    if candidate + size - 1 > high:
        return None
    return ipaddress.ip_network((candidate, prefix))


def lowest_free_mesh_id(used: Iterable[int | None], limit: int, avoid: range = range(0)) -> int | None:
    """The lowest id in 1..limit not in ``used``, preferring ids outside ``avoid``."""
    taken = {i for i in used if i is not None}
    free = (i for i in range(1, limit + 1) if i not in taken)
    ordered = sorted(free, key=lambda i: (i in avoid, i))
    return ordered[0] if ordered else None


# The network each cloud gives a cluster that CAPA, CAPG or CAPZ creates without ``network.nodes``:
# the same range in every cluster of that provider, so two of them can never be peered.
DEFAULT_NODE_NETWORKS: dict[str, tuple[Network, str]] = {
    # CAPA pkg/cloud/services/network/vpc.go: defaultVPCCidr, the VPC CAPA creates for the cluster.
    "aws": (ipaddress.IPv4Network("10.0.0.0/16"), "CAPA's default EKS VPC"),
    # CAPG cloud/scope/managedcluster.go: autoCreateSubnetworks defaults to true, an auto-mode VPC,
    # whose per-region subnets all lie in GCP's auto-mode block 10.128.0.0/9 in every project
    # (two auto-mode VPCs cannot be peered).
    "gcp": (ipaddress.IPv4Network("10.128.0.0/9"), "GKE's auto-mode VPC"),
    # CAPZ's ASO ManagedCluster without vnetSubnetReference: AKS creates its managed VNet (aks-vnet-*)
    # with the address space 10.224.0.0/12 (node subnet 10.224.0.0/16) for every cluster.
    "azure": (ipaddress.IPv4Network("10.224.0.0/12"), "AKS's managed VNet"),
}


def node_network(cluster: Cluster) -> tuple[Network | None, bool]:
    """The cluster's node network and whether fleet.yaml gave it: an EKS, GKE or AKS cluster Cluster API
    creates falls back to its cloud's default network; an external one's is unknown unless fleet.yaml says."""
    if cluster.network.nodes is not None:
        return cluster.network.nodes, True
    default = DEFAULT_NODE_NETWORKS.get(cluster.provider.type)
    if default is not None and cluster.provisioned:
        return default[0], False
    return None, False


def taken_networks(fleet: Fleet) -> list[Network]:
    nets = (net for c in fleet.clusters for net in (c.network.pods, c.network.services, node_network(c)[0]))
    return [net for net in nets if net is not None]


def allocate(fleet: Fleet, provider: str = "") -> Allocated | Issue:
    """CIDRs (and, with mesh cilium, a mesh id) for one new cluster, or the Issue saying why not.

    ``provider`` aws steers the mesh id away from 128-255 while lower or higher ids are free. Without a
    nodes pool an aws, gcp or azure cluster gets its cloud's default node network, which its own pod and
    service CIDRs then avoid.
    """
    pools = fleet.allocation
    if pools is None:
        return issue(
            "allocation",
            ("network",),
            "fleet.yaml has no network.allocation: add-cluster "
            "allocates CIDRs from its pools (pods, podPrefix, services, servicePrefix)",
            hint="add network.allocation with pools no existing cluster uses",
        )
    taken = taken_networks(fleet)
    if pools.nodes is None and provider in DEFAULT_NODE_NETWORKS:
        taken.append(DEFAULT_NODE_NETWORKS[provider][0])  # the new cluster's own network, its cloud's default
    pods = lowest_free_block(pools.pods, pools.pod_prefix, taken)
    if pods is None:
        return _exhausted("pods", pools.pods, pools.pod_prefix)
    services = lowest_free_block(pools.services, pools.service_prefix, [*taken, pods])
    if services is None:
        return _exhausted("services", pools.services, pools.service_prefix)
    nodes = None
    if pools.nodes is not None:
        nodes = lowest_free_block(pools.nodes, pools.node_prefix, [*taken, pods, services])
        if nodes is None:
            return _exhausted("nodes", pools.nodes, pools.node_prefix)
    if fleet.mesh != "cilium":
        return Allocated(pods, services, None, nodes)
    avoid = EKS_RISKY_MESH_IDS if provider == "aws" else range(0)
    used = (c.network.mesh_id for c in fleet.clusters)
    mesh_id = lowest_free_mesh_id(used, fleet.max_connected_clusters, avoid)
    if mesh_id is None:
        return issue(
            "allocation",
            ("network", "maxConnectedClusters"),
            f"every mesh id from 1 to {fleet.max_connected_clusters} is taken: the ClusterMesh is full",
            hint="raise network.maxConnectedClusters to 511, or remove clusters that are gone",
        )
    return Allocated(pods, services, mesh_id, nodes)


def _exhausted(kind: str, pool: Network, prefix: int) -> Issue:
    field = {"pods": "podPrefix", "services": "servicePrefix", "nodes": "nodePrefix"}[kind]
    if prefix < pool.prefixlen or prefix > pool.max_prefixlen:
        return issue(
            "allocation",
            ("network", "allocation", field),
            f"network.allocation.{field} /{prefix} does not fit in the {kind} pool {pool}",
        )
    return issue(
        "allocation",
        ("network", "allocation", kind),
        f"the {kind} pool {pool} is exhausted: no free /{prefix} block overlaps no cluster's CIDRs",
    )
