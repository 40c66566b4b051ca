"""Network rules: CIDR overlaps (sort and sweep, O(n log n)), sizes and capacity."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import NamedTuple

from ..allocate import DEFAULT_NODE_NETWORKS, node_network
from ..findings import WARNING, Issue, Path
from ..model import Cluster, Network, cilium_routing
from ..selectors import select
from .registry import Context, flag, rule


class _Span(NamedTuple):  # a tuple: ordered by its fields, and cheap to make 20,000 of
    start: int
    end: int
    version: int
    cluster: str
    kind: str  # pods | services
    position: int  # the cluster's index in fleet.yaml's clusters


def _span(cluster: Cluster, kind: str) -> _Span:
    net: Network = getattr(cluster.network, kind)
    start = int(net.network_address)
    return _Span(start, _last(net, start), net.version, cluster.name, kind, int(cluster.path[1]))


def _last(net: Network, start: int) -> int:
    """The network's last address (``broadcast_address``) from its prefix, without ipaddress's cached properties."""
    return start + (1 << (net.max_prefixlen - net.prefixlen)) - 1


def _cluster_spans(ctx: Context) -> list[_Span]:
    """Every cluster's pod and service span, made once for the rules that sweep them."""
    if "cidr-spans" not in ctx.memo:
        ctx.memo["cidr-spans"] = [_span(c, kind) for c in ctx.fleet.clusters for kind in ("pods", "services")]
    return ctx.memo["cidr-spans"]


def overlapping_pairs(spans: list[_Span]) -> Iterator[tuple[_Span, _Span]]:
    """Every overlapping pair of one address family (earlier-starting first), by a sweep over starts.

    Cost is O(n log n + k) for k overlaps: only spans still open at a start are compared.
    """
    open_spans: list[tuple[int, int, _Span]] = []  # heap by end address; every open span overlaps the next
    for counter, span in enumerate(sorted(spans, key=lambda s: (s.start, -s.end, s.cluster, s.kind))):
        while open_spans and open_spans[0][0] < span.start:
            heapq.heappop(open_spans)
        for _, _, other in open_spans:
            yield other, span
        heapq.heappush(open_spans, (span.end, counter, span))


def _overlap(first: _Span, second: _Span) -> bool:
    return first.version == second.version and first.start <= second.end and second.start <= first.end


def _counts(first: _Span, second: _Span) -> bool:
    if first.cluster == second.cluster:
        return False  # cidr-overlap-internal's job
    return first.kind == "pods" or second.kind == "pods"  # cilium: pod CIDRs must be unique across the mesh


def _field(kind: str) -> str:
    return "pod" if kind == "pods" else "service"


@rule("cidr-overlap", fix="give each cluster its own pod range")
def cidr_overlap(ctx: Context) -> Iterator[Issue]:
    """Pod or service CIDRs of two clusters overlap where the mesh routes between them.

    With `network.mesh: cilium`, a cluster's pod CIDR may not overlap any other cluster's pod or
    service CIDR: ClusterMesh routes pod IPs directly, so an overlap sends traffic to the wrong
    cluster. With `none` nothing is checked. Checked by a sort-and-sweep, so 10,000 clusters take
    well under a second.
    """
    fleet = ctx.fleet
    if fleet.mesh == "none":
        return
    spans = _cluster_spans(ctx)
    pairs = [p for v in (4, 6) for p in overlapping_pairs([s for s in spans if s.version == v])]
    for first, second in pairs:
        if _counts(first, second):
            yield flag(
                ("clusters", second.position, "network", second.kind),
                f"{_field(second.kind)} CIDR of cluster {second.cluster!r} overlaps the {_field(first.kind)} CIDR "
                f"of cluster {first.cluster!r}",
                related=(("clusters", first.position, "network", first.kind),),
            )


@rule("cidr-overlap-internal", fix="move the service CIDR out of the pod CIDR")
def cidr_overlap_internal(ctx: Context) -> Iterator[Issue]:
    """A cluster's pod and service CIDRs overlap.

    Services and pods then share addresses inside one cluster: kube-proxy or Cilium will route
    a pod IP to a service or the other way round.
    """
    spans = _cluster_spans(ctx)  # pods, services of each cluster in turn
    for c, pods, services in zip(ctx.fleet.clusters, spans[::2], spans[1::2]):
        if pods.version == services.version and pods.start <= services.end and services.start <= pods.end:
            yield flag(
                (*c.path, "network", "services"),
                f"service CIDR {c.network.services} of cluster {c.name!r} overlaps its pod CIDR {c.network.pods}",
                related=((*c.path, "network", "pods"),),
            )


@rule("service-cidr-size", fix="use a service CIDR of at most /12 (IPv4) or /108 (IPv6)")
def service_cidr_size(ctx: Context) -> Iterator[Issue]:
    """The service CIDR is wider than Kubernetes allows.

    kube-apiserver rejects an IPv4 service range wider than /12 and an IPv6 range wider than
    /108 (its allocator bitmap is bounded); EKS also requires /24 to /12 and cannot change it later.
    """
    for c in ctx.fleet.clusters:
        net = c.network.services
        limit = 12 if net.version == 4 else 108
        if net.prefixlen < limit:
            yield flag(
                (*c.path, "network", "services"),
                f"service CIDR {net} of cluster {c.name!r} is wider than /{limit}, the widest Kubernetes allows",
            )


@rule("pod-cidr-capacity", fix="widen the pod CIDR, shrink nodeMask's blocks, or lower the node pools' max")
def pod_cidr_capacity(ctx: Context) -> Iterator[Issue]:
    """The pod CIDR cannot give every node its per-node block at the node pools' maximum size.

    Each node takes one /nodeMask block of the pod CIDR. When the sum of the node pools' `max`
    exceeds the number of such blocks, the cluster autoscaler adds nodes that never get a pod CIDR
    and stay NotReady.
    """
    for c in ctx.fleet.clusters:
        pods, mask = c.network.pods, c.network.node_mask
        nodes = sum(p.max for p in c.node_pools)
        if mask < pods.prefixlen or mask > pods.max_prefixlen:
            yield flag(
                (*c.path, "network", "nodeMask"),
                f"nodeMask /{mask} does not fit inside pod CIDR {pods} of cluster {c.name!r}",
            )
            continue
        blocks = 1 << (mask - pods.prefixlen)
        if nodes > blocks:
            yield flag(
                (*c.path, "network", "pods"),
                f"pod CIDR {pods} of cluster {c.name!r} holds {blocks} /{mask} node blocks, but its node "
                f"pools may grow to {nodes} nodes",
            )


@rule("mesh-id", fix="give every mesh cluster a unique network.meshID from 1 to network.maxConnectedClusters")
def mesh_id(ctx: Context) -> Iterator[Issue]:
    """A Cilium ClusterMesh id is missing, duplicated or out of range (warning: 128–255 on EKS).

    `cluster.id` identifies a cluster's identities across the mesh: two clusters with one id
    corrupt each other's policy, and an id above `maxConnectedClusters` is rejected at install.
    On EKS with ENI or aws-cni chaining, ids 128–255 are known to break, so they are a warning.
    """
    fleet = ctx.fleet
    if fleet.mesh != "cilium":
        return
    seen: dict[int, Cluster] = {}
    for c in sorted(fleet.clusters, key=lambda c: c.path):
        yield from _mesh_id_issues(c, seen, fleet.max_connected_clusters)


def _mesh_id_issues(c: Cluster, seen: dict[int, Cluster], limit: int) -> Iterator[Issue]:
    mid, path = c.network.mesh_id, (*c.path, "network", "meshID")
    if mid is None:
        yield flag((*c.path, "network"), f"cluster {c.name!r} has no network.meshID (required with mesh: cilium)")
        return
    if mid in seen:
        yield flag(
            path,
            f"meshID {mid} of cluster {c.name!r} is already used by {seen[mid].name!r}",
            related=((*seen[mid].path, "network", "meshID"),),
        )
    seen.setdefault(mid, c)
    if mid > limit:
        yield flag(path, f"meshID {mid} of cluster {c.name!r} is above maxConnectedClusters {limit}")
    elif 128 <= mid <= 255 and c.provider.type == "aws":
        yield flag(
            path,
            f"meshID {mid} of EKS cluster {c.name!r} is in 128–255, which breaks with ENI/aws-cni chaining",
            severity=WARNING,
        )


@rule("mesh-member", fix="set network.clustermesh.member: false on outbound-only clusters (they keep Cilium)")
def mesh_member(ctx: Context) -> Iterator[Issue]:
    """A pull-mode (outbound-only) cluster is declared a Cilium ClusterMesh peer.

    Every peer's agents dial every other peer's clustermesh-apiserver (chart
    templates/clustermesh-config: `https://<address>:<port>`), so a peer must accept inbound
    connections. An edge site that only dials out cannot, and listing it makes every other
    cluster retry it forever. Pull-mode and docker clusters stay out of the mesh by default.
    """
    if ctx.fleet.mesh != "cilium":
        return
    for c in ctx.fleet.clusters:
        if c.argocd_mode == "pull" and c.network.mesh_member:
            yield flag(
                (*c.path, "network", "clustermesh", "member"),
                f"cluster {c.name!r} is outbound-only (argocd.mode pull): peers cannot dial its clustermesh-apiserver",
            )


@rule(
    "mesh-datapath",
    WARNING,
    fix="keep one datapath in the mesh: set network.clustermesh.member: false on the clusters of the other kind "
    "(EKS and GKE route natively; AKS, vSphere and imported clusters tunnel)",
)
def mesh_datapath(ctx: Context) -> Iterator[Issue]:
    """The ClusterMesh joins clusters with different datapath modes, so pods cannot reach across them.

    Cilium requires one datapath mode on every cluster of a mesh (`Documentation/network/clustermesh/
    clustermesh.rst`: "All clusters must be configured with the same datapath mode"): a tunnelling
    cluster sends traffic for a remote pod encapsulated to the remote node, which a natively routing
    cluster does not expect, and a native cluster sends it unencapsulated where only the overlay
    knows the pod addresses. Service discovery still works (the clustermesh-apiservers connect), so
    a global Service lists backends its callers cannot reach. fleetgen's datapath follows the
    provider (`render/cilium.py`): EKS with ENI and GKE route natively; AKS BYOCNI must tunnel (the
    chart refuses anything else), and so do vSphere, Docker and imported clusters. The clusters of
    the smaller group are flagged.
    """
    if ctx.fleet.mesh != "cilium":
        return
    members = [c for c in ctx.fleet.clusters if c.network.mesh_id is not None and c.network.mesh_member]
    modes = {c.name: cilium_routing(c.provider.type) for c in members}
    counts = {mode: sum(m == mode for m in modes.values()) for mode in set(modes.values())}
    if len(counts) < 2:
        return
    kept = max(sorted(counts), key=lambda mode: counts[mode])  # ties: "tunnel" sorts last, so native is kept
    others = ", ".join(c.name for c in members if modes[c.name] == kept)
    for c in members:
        if modes[c.name] != kept:
            yield flag(
                (*c.path, "network", "meshID"),
                f"ClusterMesh member {c.name!r} ({c.provider.type}) uses Cilium's {modes[c.name]} routing, but "
                f"{others} use {kept} routing: pods cannot reach across a mesh of two datapath modes",
            )


@rule(
    "global-service-mesh",
    WARNING,
    fix="place the workload only on ClusterMesh members, or make those clusters members; "
    "with mesh none, drop globalService unless you run a Cilium ClusterMesh yourself",
)
def global_service_mesh(ctx: Context) -> Iterator[Issue]:
    """A workload with `globalService` runs on clusters outside the Cilium ClusterMesh.

    Cilium merges a global Service's backends only across clusters connected through the mesh
    (each agent learns remote backends from its peers' clustermesh-apiservers). On a cluster
    that is not a member (`network.clustermesh.member: false`, or by default a pull-mode or docker
    cluster) the annotations do nothing: its replicas serve only local clients and are not
    reachable from the other clusters.

    With `network.mesh: none` fleetgen renders no mesh at all, so the annotations work only in a
    Cilium ClusterMesh run outside fleetgen; Submariner ignores them (Lighthouse exports a Service
    through a `ServiceExport`, see docs/controllers/submariner.md).
    """
    if ctx.fleet.mesh == "none":
        yield from _global_services_without_mesh(ctx)
        return
    for w in ctx.fleet.workloads:
        if w.global_service is None:
            continue
        outside = [c.name for c in select(w.clusters, ctx.fleet.clusters) if not c.network.mesh_member]
        if outside:
            yield flag(
                (*w.path, "globalService"),
                f"workload {w.name!r} is a global service but runs on clusters outside the ClusterMesh: "
                f"{', '.join(outside)}",
                severity=WARNING,
            )


def _global_services_without_mesh(ctx: Context) -> Iterator[Issue]:
    for w in ctx.fleet.workloads:
        if w.global_service is not None:
            yield flag(
                (*w.path, "globalService"),
                f"workload {w.name!r} is a global service, but network.mesh is none: fleetgen renders no "
                "mesh, and its Cilium global-service annotations do nothing without a Cilium ClusterMesh "
                "(Submariner ignores them)",
                severity=WARNING,
            )


def _node_span(cluster: Cluster) -> _Span | None:
    net, _ = node_network(cluster)
    if net is None:
        return None
    start = int(net.network_address)
    return _Span(start, _last(net, start), 4, cluster.name, "nodes", int(cluster.path[1]))


def _node_path(cluster: Cluster, span: _Span) -> Path:
    given = span.kind != "nodes" or node_network(cluster)[1]
    return ("clusters", span.position, "network", span.kind) if given else ("clusters", span.position, "network")


def _describe(cluster: Cluster, span: _Span) -> str:
    if span.kind != "nodes":
        return f"{_field(span.kind)} CIDR {getattr(cluster.network, span.kind)}"
    net, given = node_network(cluster)
    if given:
        return f"node network {net}"
    return f"node network {net} ({DEFAULT_NODE_NETWORKS[cluster.provider.type][1]}: no network.nodes)"


@rule("node-network-overlap", fix="give each cluster its own network.nodes, outside every pod and service CIDR")
def node_network_overlap(ctx: Context) -> Iterator[Issue]:
    """A cluster's node network overlaps another node network, or a pod or service CIDR.

    Node addresses must be unique where traffic flows: inside a cluster a node IP in the pod or
    service range is misrouted, and across clusters the Cilium ClusterMesh needs node-to-node
    reachability between its members, which peered VPCs/VNets cannot give when their ranges
    overlap (clusters outside the mesh, `network.clustermesh.member: false` or by default pull-mode
    and docker clusters, are compared with their own ranges only).

    A cluster Cluster API creates without `network.nodes` gets its cloud's default network, the
    same in every cluster of that provider: CAPA's EKS VPC 10.0.0.0/16, GKE's auto-mode VPC
    10.128.0.0/9 (CAPG's default `autoCreateSubnetworks: true`; GCP's block for the auto-mode
    subnets of every region), AKS's managed VNet 10.224.0.0/12. So two such clusters of one
    cloud in the mesh always overlap, and a GKE and an AKS cluster too (10.224.0.0/12 lies in
    10.128.0.0/9).
    """
    fleet = ctx.fleet
    by_name = {c.name: c for c in fleet.clusters}
    members = {c.name for c in fleet.clusters if fleet.mesh == "cilium" and c.network.mesh_member}
    nodes = [s for s in map(_node_span, fleet.clusters) if s is not None]
    spans = [s for s in _cluster_spans(ctx) if s.version == 4]
    own: dict[str, list[_Span]] = {}
    for span in spans:
        own.setdefault(span.cluster, []).append(span)
    # Within a cluster, its node network against its own pod and service CIDRs; across clusters only ClusterMesh
    # members need node-to-node reachability, so only their ranges are swept. (Sweeping every cluster's ranges
    # and dropping the pairs across non-members cost 0.1 s at 5,000 clusters: clusters without network.nodes
    # share their cloud's default network, and every two of them were paired.)
    pairs = [(node, other) for node in nodes for other in own.get(node.cluster, ()) if _overlap(node, other)]
    across = overlapping_pairs([s for s in nodes + spans if s.cluster in members])
    pairs += [(first, second) for first, second in across if first.cluster != second.cluster]
    for first, second in pairs:
        if "nodes" not in (first.kind, second.kind):
            continue
        node, other = (first, second) if first.kind == "nodes" else (second, first)
        if first.kind == second.kind == "nodes" and first.position < second.position:
            node, other = other, node  # point at the cluster later in fleet.yaml
        a, b = by_name[node.cluster], by_name[other.cluster]
        yield flag(
            _node_path(a, node),
            f"{_describe(a, node)} of cluster {a.name!r} overlaps the {_describe(b, other)} of cluster {b.name!r}",
            related=(_node_path(b, other),),
        )
