"""GCP (CAPG v1.12, GKE): GCPManagedCluster, GCPManagedControlPlane, MachinePool + GCPManagedMachinePool."""

from __future__ import annotations

from ...model import Cluster, NodePool
from .common import (
    Doc,
    gke_version,
    machine_pool,
    meta,
    obj,
    pinned_version,
    pool_name,
    with_pools,
)

# ------------------------------------------------------------------ GCP (CAPG, GKE)

GCP = "infrastructure.cluster.x-k8s.io/v1beta1"
GKE_CLUSTER_NAME_MAX = 40  # CAPG webhook limit on spec.clusterName


def gcp(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    project = cluster.provider.project
    infra_spec = {"project": project, "region": cluster.region}
    infra = obj(GCP, "GCPManagedCluster", meta(cluster, cluster.name), infra_spec)
    spec: Doc = {"clusterName": cluster.name} if len(cluster.name) <= GKE_CLUSTER_NAME_MAX else {}
    spec.update(project=project, location=cluster.region, version=gke_version(cluster.kubernetes_version))
    if cluster.network.pods.version == 4 and cluster.network.services.version == 4:
        spec["clusterNetwork"] = {
            "useIPAliases": True,
            "pod": {"cidrBlock": str(cluster.network.pods)},
            "service": {"cidrBlock": str(cluster.network.services)},
        }
    control_plane = obj(GCP, "GCPManagedControlPlane", meta(cluster, cluster.name), spec)
    return infra, control_plane, with_pools(cluster, lambda pool: gke_pool(cluster, pool))


def gke_pool(cluster: Cluster, pool: NodePool) -> list[Doc]:
    spec: Doc = {
        "nodePoolName": pool.name,
        "machineType": pool.instance_type,
        "scaling": {"minCount": pool.min, "maxCount": pool.max},
        "management": {"autoRepair": True, "autoUpgrade": True},
    }
    if pool.labels:
        spec["kubernetesLabels"] = dict(pool.labels)
    if pool.taints:
        spec["kubernetesTaints"] = [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints]
    infra = obj(GCP, "GCPManagedMachinePool", meta(cluster, pool_name(cluster, pool)), spec)
    version = pinned_version(cluster.kubernetes_version)
    return [machine_pool(cluster, pool, infra, {"replicas": pool.min}, version), infra]
