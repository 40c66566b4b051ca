"""Azure (CAPZ v1.26, AKS through ASO): the AzureASOManaged* kinds; the AzureManaged* ones are deprecated.

Checked against CAPZ v1.26.0 ``pkg/mutators/azureasomanagedcontrolplane.go`` (CAPZ copies the
version, ``serviceCidr`` and ``podCidr`` into the ManagedCluster, but not ``dnsServiceIP``),
``pkg/mutators/azureasomanagedmachinepool.go`` (an autoscaled pool gets the
``replicas-managed-by`` annotation and ``spec.replicas`` only seeds ``count``),
``controllers/azureasomanagedmachinepool_controller.go`` (then writes the live count into
``MachinePool.spec.replicas``), ``templates/cluster-template-aks-aso.yaml`` (the per-resource
``serviceoperator.azure.com/credential-from`` annotation) and ASO v2's ``containerservice``
v1api20240901 and ``network`` v1api20201101 types.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from ...model import Cluster, NodePool, Taint
from .common import (
    Doc,
    autoscaled,
    machine_pool,
    meta,
    minor_version,
    obj,
    pinned_version,
    pool_name,
)

# ------------------------------------------------------------------ Azure (CAPZ ASO, AKS)

AZURE = "infrastructure.cluster.x-k8s.io/v1beta1"
ASO_CONTAINER_SERVICE = "containerservice.azure.com/v1api20240901"
ASO_RESOURCES = "resources.azure.com/v1api20200601"
ASO_NETWORK = "network.azure.com/v1api20201101"  # the version CAPZ itself uses (azure/converters/subnets.go)
CREDENTIAL_FROM = "serviceoperator.azure.com/credential-from"
DNS_SERVICE_OFFSET = 10  # CAPZ's non-ASO path: the service CIDR's .10 (azure/services/managedclusters/spec.go)
AKS_POOL_NAME_MAX = 12  # Linux agent pool names: lowercase alphanumerics, starting with a letter


def aks_pool_names(pools: Iterable[NodePool]) -> list[str]:
    """AKS agent pool names for the pools, made unique by a numeric suffix when squeezing collides."""
    names: list[str] = []
    for i, pool in enumerate(pools):
        name = re.sub(r"[^a-z0-9]", "", pool.name)
        name = (name if name[:1].isalpha() else "np" + name)[:AKS_POOL_NAME_MAX]
        names.append(name if name not in names else f"{name[: AKS_POOL_NAME_MAX - 2]}{i:02d}")
    return names


def credential_secret(subscription_id: str) -> str:
    """The ASO credential Secret of a subscription, created in each cluster namespace outside git."""
    return f"aso-credential-{subscription_id.lower()}"


def aso(api_version: str, kind: str, name: str, cluster: Cluster, spec: Doc) -> Doc:
    """An ASO resource that authenticates with its subscription's credential Secret."""
    annotations = {CREDENTIAL_FROM: credential_secret(cluster.provider.subscription_id)}
    metadata = {"name": name, "annotations": annotations}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def dns_service_ip(services: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """The 10th address of the service CIDR (inside it for any CIDR of at least 16 addresses)."""
    return str(services.network_address + DNS_SERVICE_OFFSET)


def node_subnet_name(cluster: Cluster) -> str:
    return f"{cluster.name}-nodes"


def vnet(cluster: Cluster) -> list[Doc]:
    """With ``network.nodes``: a VNet of that range and one node subnet spanning it."""
    nodes = cluster.network.nodes
    if nodes is None:
        return []
    vnet_spec = {
        "addressSpace": {"addressPrefixes": [str(nodes)]},
        "location": cluster.region,
        "owner": {"name": cluster.name},
    }
    subnet_spec = {"addressPrefix": str(nodes), "owner": {"name": cluster.name}}
    return [
        aso(ASO_NETWORK, "VirtualNetwork", cluster.name, cluster, vnet_spec),
        aso(ASO_NETWORK, "VirtualNetworksSubnet", node_subnet_name(cluster), cluster, subnet_spec),
    ]


def azure(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    group_spec = {"azureName": cluster.provider.resource_group or cluster.name, "location": cluster.region}
    group = aso(ASO_RESOURCES, "ResourceGroup", cluster.name, cluster, group_spec)
    infra = obj(AZURE, "AzureASOManagedCluster", meta(cluster, cluster.name), {"resources": [group, *vnet(cluster)]})
    version = pinned_version(cluster.kubernetes_version) or minor_version(cluster.kubernetes_version)
    spec = {"resources": [aks_managed_cluster(cluster, mesh)], "version": version}
    control_plane = obj(AZURE, "AzureASOManagedControlPlane", meta(cluster, cluster.name), spec)
    named = zip(cluster.node_pools, aks_pool_names(cluster.node_pools), strict=True)
    pools = [aks_pool(cluster, pool, name, i == 0) for i, (pool, name) in enumerate(named)]
    return infra, control_plane, [doc for docs in pools for doc in docs]


def aks_managed_cluster(cluster: Cluster, mesh: str) -> Doc:
    """The ASO ManagedCluster; CAPZ fills in kubernetesVersion, CIDRs and agent pool profiles.

    ``aadProfile.managed`` turns on AKS-managed Entra ID: the API server then accepts the Entra
    tokens ``argocd-k8s-auth azure`` presents; Kubernetes RBAC (not Azure RBAC) authorizes them.
    """
    # BYO CNI lets the fleet's own Cilium run; otherwise Azure CNI overlay (pods off the VNet).
    network: Doc = (
        {"networkPlugin": "none"} if mesh == "cilium" else {"networkPlugin": "azure", "networkPluginMode": "overlay"}
    )
    network["dnsServiceIP"] = dns_service_ip(cluster.network.services)
    spec = {
        "aadProfile": {"enableAzureRBAC": False, "managed": True},
        "dnsPrefix": cluster.name,
        "identity": {"type": "SystemAssigned"},
        "location": cluster.region,
        "networkProfile": network,
        "owner": {"name": cluster.name},
        "servicePrincipalProfile": {"clientId": "msi"},
    }
    return aso(ASO_CONTAINER_SERVICE, "ManagedCluster", cluster.name, cluster, spec)


def aks_taint(taint: Taint) -> str:
    return f"{taint.key}={taint.value}:{taint.effect}" if taint.value else f"{taint.key}:{taint.effect}"


def aks_pool(cluster: Cluster, pool: NodePool, azure_name: str, system: bool) -> list[Doc]:
    mode = "System" if system else "User"
    spec: Doc = {
        "azureName": azure_name,
        "mode": mode,
        "owner": {"name": cluster.name},
        "type": "VirtualMachineScaleSets",
        "vmSize": pool.instance_type,
    }
    if autoscaled(pool):
        spec.update(enableAutoScaling=True, minCount=pool.min, maxCount=pool.max)
    if pool.labels:
        spec["nodeLabels"] = dict(pool.labels)
    if pool.taints:
        spec["nodeTaints"] = [aks_taint(t) for t in pool.taints]
    if cluster.network.nodes is not None:
        spec["vnetSubnetReference"] = {
            "group": "network.azure.com",
            "kind": "VirtualNetworksSubnet",
            "name": node_subnet_name(cluster),
        }
    agent_pool = aso(ASO_CONTAINER_SERVICE, "ManagedClustersAgentPool", pool_name(cluster, pool), cluster, spec)
    infra_meta = meta(cluster, pool_name(cluster, pool))
    infra = obj(AZURE, "AzureASOManagedMachinePool", infra_meta, {"resources": [agent_pool]})
    version = pinned_version(cluster.kubernetes_version)
    return [machine_pool(cluster, pool, infra, version, scaled_by="aks"), infra]
