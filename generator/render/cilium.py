"""Cilium Helm values (chart 1.20) for every cluster with a mesh id: ClusterMesh and IPAM.

Peers are every other mesh cluster, registered or not: the mesh is what fleet.yaml declares,
and a peer that does not exist yet only delays its own connection (agents retry), while
adding peers on registration would restart every agent's mesh config each time.

A peer entry is ``{name, address, port}`` (templates/clustermesh-config/_helpers.tpl:
``https://<address>:<port>``). fleet.yaml has no field for a cluster's clustermesh-apiserver
address is ``network.clustermeshEndpoint`` (a DNS name template, default
``{cluster}.clustermesh.{fleet}.internal``) under which the platform must publish it; the
apiserver Service is a LoadBalancer so that name can point at it on ``PEER_PORT``. No ``tls``
is rendered: peers authenticate with certificates from a CA shared across the mesh
(``clustermesh.apiserver.tls``, installed outside git), never with keys in values files.
"""

from __future__ import annotations

from typing import Any

from ..model import Cluster, Fleet, fill
from . import File

PEER_PORT = 2379  # clustermesh-apiserver's etcd port behind its LoadBalancer Service


def render(fleet: Fleet) -> list[File]:
    if fleet.mesh != "cilium":
        return []
    mesh = mesh_clusters(fleet)
    return [File(f"clusters/{c.name}/cilium/values.yaml", (values(fleet, c, mesh),)) for c in mesh]


def mesh_clusters(fleet: Fleet) -> list[Cluster]:
    return [c for c in fleet.clusters if c.network.mesh_id is not None]


def values(fleet: Fleet, cluster: Cluster, mesh: list[Cluster]) -> dict[str, Any]:
    return {
        "cluster": {"name": cluster.name, "id": cluster.network.mesh_id},
        "clustermesh": clustermesh(fleet, cluster, mesh),
        **ip_families(cluster),
        "ipam": ipam(cluster),
    }


def clustermesh(fleet: Fleet, cluster: Cluster, mesh: list[Cluster]) -> dict[str, Any]:
    peers = [peer(fleet, other) for other in mesh if other.name != cluster.name]
    return {
        "useAPIServer": True,
        # Fixed at install and must be equal on every member (it sets the identity bit layout).
        "maxConnectedClusters": fleet.max_connected_clusters,
        "apiserver": {"service": {"type": "LoadBalancer"}},
        "config": {"enabled": True, "clusters": peers},
    }


def peer(fleet: Fleet, other: Cluster) -> dict[str, Any]:
    return {"name": other.name, "address": fill(fleet.clustermesh_endpoint, other.name, fleet.name),
            "port": PEER_PORT}


def ip_families(cluster: Cluster) -> dict[str, Any]:
    """The pod CIDR's family is the one Cilium allocates from; the chart enables IPv4 only by default."""
    v6 = cluster.network.pods.version == 6
    return {"ipv4": {"enabled": not v6}, "ipv6": {"enabled": v6}}


def ipam(cluster: Cluster) -> dict[str, Any]:
    """cluster-pool: the operator carves per-node ``nodeMask`` blocks out of the cluster's pod CIDR."""
    family = f"IPv{cluster.network.pods.version}"
    return {"mode": "cluster-pool", "operator": {
        f"clusterPool{family}PodCIDRList": [str(cluster.network.pods)],
        f"clusterPool{family}MaskSize": cluster.network.node_mask,
    }}
