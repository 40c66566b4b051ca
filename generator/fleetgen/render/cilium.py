"""Cilium Helm values (chart 1.20) for every cluster of a ``mesh: cilium`` fleet: provider datapath and ClusterMesh.

Provider settings (each one decided by the chart's templates/cilium-configmap.yaml):

* EKS: ENI mode (``eni.enabled``, ``ipam.mode: eni``, ``routingMode: native``). The AWS VPC CNI is
  removed by Cluster API (CAPA ``vpcCni.disable``), and Cilium's operator gives pods addresses
  from the VPC's own subnets. Chosen over a cluster-pool overlay because the EKS-managed control
  plane cannot route to overlay pod addresses: every admission webhook (cert-manager's, which the
  mesh certificates need, prometheus-operator's) would have to run on the host network. In ENI
  mode the chart turns IPv4 masquerading off (upgradeCompatibility >= 1.18) and needs no
  ``ipv4NativeRoutingCIDR``; pod addresses are VPC addresses, so the mesh needs the clusters' VPC
  CIDRs to be disjoint and routed (peering or a transit gateway), not ``network.pods``.
* GKE: ``gke.enabled`` (native routing, endpoint routes), ``cni.binPath: /home/kubernetes/bin``
  (where GKE's kubelet looks for CNI plugins), ``ipam.mode: kubernetes`` so each node's pods come
  from the podCIDR GKE assigns it out of the cluster's alias range (``network.pods``, which CAPG
  sets as the cluster's pod range), ``ipv4NativeRoutingCIDR`` = that range (traffic inside it is
  not masqueraded), and the NodeInit DaemonSet that prepares GKE nodes.
* AKS: ``aksbyocni.enabled`` (the ASO ManagedCluster uses ``networkPlugin: none``); the chart
  requires tunnel routing there. Pods come from ``network.pods`` by cluster-pool IPAM.
* vSphere, Docker, imported: cluster-pool IPAM over ``network.pods`` with the default VXLAN tunnel.

ClusterMesh. Only members (``network.clustermesh.member``, default: push-mode clusters that are
not docker) run the clustermesh-apiserver and list peers, and a member's peers are the other
members: each agent dials ``https://<address>:<port>`` for every peer
(templates/clustermesh-config/_helpers.tpl), so a peer that cannot be dialled (outbound-only
edge, a laptop) only produces endless retries. Non-members keep Cilium with their cluster
name and id. A peer that is not registered yet is still listed: the mesh is what fleet.yaml
declares, and adding peers on registration would restart every agent's mesh config each time.

Peers dial ``network.clustermeshEndpoint`` (default ``{cluster}.clustermesh.{fleet}.internal``)
on ``PEER_PORT``; the etcd client checks that name against the server certificate, so it goes
into ``clustermesh.apiserver.tls.auto.server.extraDnsNames`` (chart 1.20; ``tls.server.*`` is
the deprecated spelling). All certificates come from one CA shared by the mesh: cert-manager
issues them (``tls.auto.method: certmanager``) from the ClusterIssuer ``network.clustermeshIssuer``,
which must exist in every member and sign with the same CA (a CA issuer whose Secret is
distributed outside git, or Vault). The chart's default ``helm`` method would run ``genCA`` on
every render (no ``lookup`` under Argo CD): a different CA per cluster and per refresh. No key
is ever in values.

The clustermesh-apiserver Service is a LoadBalancer, internal unless the cluster sets
``network.clustermesh.loadBalancer: public``: ``INTERNAL_LB`` lists the annotation each
provider's load-balancer controller reads.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..model import Cluster, Fleet, cilium_routing, fill
from . import File
from .security import EXTERNAL_DNS_HOSTNAME, INTERNAL_LB, PUBLIC_LB

PEER_PORT = 2379  # clustermesh-apiserver's etcd port behind its LoadBalancer Service
GKE_CNI_BIN = "/home/kubernetes/bin"
# Cilium's GKE guide creates every node pool with an agent-not-ready taint: GKE nodes come up with
# GKE's own CNI, and pods started before the Cilium agent would keep that CNI's addresses. The agent
# pods tolerate it, and cilium-operator removes it from a Node once the agent there is ready
# (--remove-cilium-node-taints, on by default). Not the default key node.cilium.io/agent-not-ready:
# the cluster autoscaler simulates a new node of a pool with the pool's taints, so a pool at zero
# nodes would never scale up for pods that do not tolerate it. Taints whose key starts with
# ignore-taint.cluster-autoscaler.kubernetes.io/ are dropped from that template (cluster-autoscaler
# utils/taints IgnoreTaintPrefix), and the chart's agentNotReadyTaintKey tells Cilium the key.
AGENT_NOT_READY_TAINT = {
    "key": "ignore-taint.cluster-autoscaler.kubernetes.io/cilium-agent-not-ready",
    "value": "true",
    "effect": "NoExecute",
}


def render(fleet: Fleet) -> list[File]:
    return [*fleet_files(fleet), *(f for c in fleet.clusters for f in cluster_files(fleet, c))]


def fleet_files(fleet: Fleet) -> list[File]:
    """Nothing fleet-wide: each mesh cluster's values are its own render unit (``fleetgen.units``)."""
    return []


def cluster_files(fleet: Fleet, cluster: Cluster) -> list[File]:
    """One mesh cluster's values. They list every other member as a peer, but read only the members' names
    (``Fleet.mesh_members``): editing a cluster renders its own values again, not every cluster's."""
    if fleet.mesh != "cilium" or cluster.network.mesh_id is None:
        return []
    return [File(f"clusters/{cluster.name}/cilium/values.yaml", (values(fleet, cluster, fleet.mesh_members),))]


def values(fleet: Fleet, cluster: Cluster, members: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"cluster": {"name": cluster.name, "id": cluster.network.mesh_id}}
    if cluster.network.mesh_member:
        out["clustermesh"] = clustermesh(fleet, cluster, members)
    return {**out, **ip_families(cluster), **datapath(cluster)}


def clustermesh(fleet: Fleet, cluster: Cluster, members: tuple[str, ...]) -> dict[str, Any]:
    peers = [peer(fleet, other) for other in members if other != cluster.name]
    return {
        "useAPIServer": True,
        # Fixed at install and must be equal on every member (it sets the identity bit layout).
        "maxConnectedClusters": fleet.max_connected_clusters,
        "apiserver": {"service": service(fleet, cluster), "tls": tls(fleet, cluster)},
        "config": {"enabled": True, "clusters": peers},
    }


def address(fleet: Fleet, cluster: str) -> str:
    return fill(fleet.clustermesh_endpoint, cluster, fleet.name)


def peer(fleet: Fleet, other: str) -> dict[str, Any]:
    return {"name": other, "address": address(fleet, other), "port": PEER_PORT}


def service(fleet: Fleet, cluster: Cluster) -> dict[str, Any]:
    """The clustermesh-apiserver's load balancer, published under the name its peers dial.

    Every peer dials ``https://<address>:<port>`` (the chart's ``clustermesh-config/_helpers.tpl``), and
    nothing else makes that name resolve: external-dns publishes a LoadBalancer Service's address only under
    a hostname annotation (its ``source/service.go``), as it does for each spoke's ``thanos-sidecar``. An
    address that is an IP literal needs no record."""
    table = INTERNAL_LB if cluster.network.mesh_load_balancer == "internal" else PUBLIC_LB
    annotations = dict(table.get(cluster.provider.type) or {})
    host = address(fleet, cluster.name)
    if not _is_ip(host):
        annotations[EXTERNAL_DNS_HOSTNAME] = host
    return {"type": "LoadBalancer", **({"annotations": dict(sorted(annotations.items()))} if annotations else {})}


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def tls(fleet: Fleet, cluster: Cluster) -> dict[str, Any]:
    """cert-manager certificates from the mesh's shared issuer; the name peers dial is on the server's."""
    issuer = {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": fleet.clustermesh_issuer}
    return {
        "auto": {
            "enabled": True,
            "method": "certmanager",
            "certManagerIssuerRef": issuer,
            "server": {"extraDnsNames": [address(fleet, cluster.name)]},
        }
    }


def ip_families(cluster: Cluster) -> dict[str, Any]:
    """The pod CIDR's family is the one Cilium allocates from; the chart enables IPv4 only by default."""
    v6 = cluster.network.pods.version == 6
    return {"ipv4": {"enabled": not v6}, "ipv6": {"enabled": v6}}


def datapath(cluster: Cluster) -> dict[str, Any]:
    build = {"aws": _eks, "gcp": _gke, "azure": _aks}.get(cluster.provider.type, cluster_pool)
    return build(cluster)


def _eks(cluster: Cluster) -> dict[str, Any]:
    return {"eni": {"enabled": True}, "ipam": {"mode": "eni"}, "routingMode": cilium_routing("aws")}


def _gke(cluster: Cluster) -> dict[str, Any]:
    family = f"ipv{cluster.network.pods.version}"
    return {
        "gke": {"enabled": True},
        "agentNotReadyTaintKey": AGENT_NOT_READY_TAINT["key"],
        "cni": {"binPath": GKE_CNI_BIN},
        "nodeinit": {"enabled": True},
        "ipam": {"mode": "kubernetes"},
        "routingMode": cilium_routing("gcp"),
        f"{family}NativeRoutingCIDR": str(cluster.network.pods),
    }


def _aks(cluster: Cluster) -> dict[str, Any]:
    return {"aksbyocni": {"enabled": True}, **cluster_pool(cluster), "routingMode": cilium_routing("azure")}


def cluster_pool(cluster: Cluster) -> dict[str, Any]:
    """cluster-pool: the operator carves per-node ``nodeMask`` blocks out of the cluster's pod CIDR."""
    family = f"IPv{cluster.network.pods.version}"
    return {
        "ipam": {
            "mode": "cluster-pool",
            "operator": {
                f"clusterPool{family}PodCIDRList": [str(cluster.network.pods)],
                f"clusterPool{family}MaskSize": cluster.network.node_mask,
            },
        }
    }
