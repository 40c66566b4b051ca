"""Azure (CAPZ v1.26, AKS through ASO): the AzureASOManaged* kinds; the AzureManaged* ones are deprecated."""

from __future__ import annotations

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
AKS_POOL_NAME_MAX = 12  # Linux agent pool names: lowercase alphanumerics, starting with a letter


def aks_pool_names(pools: Iterable[NodePool]) -> list[str]:
    """AKS agent pool names for the pools, made unique by a numeric suffix when squeezing collides."""
    names: list[str] = []
    for i, pool in enumerate(pools):
        name = re.sub(r"[^a-z0-9]", "", pool.name)
        name = (name if name[:1].isalpha() else "np" + name)[:AKS_POOL_NAME_MAX]
        names.append(name if name not in names else f"{name[: AKS_POOL_NAME_MAX - 2]}{i:02d}")
    return names


def azure(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    group_spec = {"azureName": cluster.provider.resource_group or cluster.name, "location": cluster.region}
    group = {
        "apiVersion": ASO_RESOURCES,
        "kind": "ResourceGroup",
        "metadata": {"name": cluster.name},
        "spec": group_spec,
    }
    infra = obj(AZURE, "AzureASOManagedCluster", meta(cluster, cluster.name), {"resources": [group]})
    version = pinned_version(cluster.kubernetes_version) or minor_version(cluster.kubernetes_version)
    spec = {"resources": [aks_managed_cluster(cluster, mesh)], "version": version}
    control_plane = obj(AZURE, "AzureASOManagedControlPlane", meta(cluster, cluster.name), spec)
    named = zip(cluster.node_pools, aks_pool_names(cluster.node_pools), strict=True)
    pools = [aks_pool(cluster, pool, name, i == 0) for i, (pool, name) in enumerate(named)]
    return infra, control_plane, [doc for docs in pools for doc in docs]


def aks_managed_cluster(cluster: Cluster, mesh: str) -> Doc:
    """The ASO ManagedCluster; CAPZ fills in kubernetesVersion, CIDRs and agent pool profiles."""
    # BYO CNI lets the fleet's own Cilium run; otherwise Azure CNI overlay (pods off the VNet).
    network = (
        {"networkPlugin": "none"} if mesh == "cilium" else {"networkPlugin": "azure", "networkPluginMode": "overlay"}
    )
    spec = {
        "dnsPrefix": cluster.name,
        "identity": {"type": "SystemAssigned"},
        "location": cluster.region,
        "networkProfile": network,
        "owner": {"name": cluster.name},
        "servicePrincipalProfile": {"clientId": "msi"},
    }
    return {
        "apiVersion": ASO_CONTAINER_SERVICE,
        "kind": "ManagedCluster",
        "metadata": {"name": cluster.name},
        "spec": spec,
    }


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
    agent_pool = {
        "apiVersion": ASO_CONTAINER_SERVICE,
        "kind": "ManagedClustersAgentPool",
        "metadata": {"name": pool_name(cluster, pool)},
        "spec": spec,
    }
    infra_meta = meta(cluster, pool_name(cluster, pool))
    infra = obj(AZURE, "AzureASOManagedMachinePool", infra_meta, {"resources": [agent_pool]})
    version = pinned_version(cluster.kubernetes_version)
    return [machine_pool(cluster, pool, infra, {"replicas": pool.min}, version), infra]
