"""GCP (CAPG v1.12, GKE): GCPManagedCluster, GCPManagedControlPlane, MachinePool + GCPManagedMachinePool.

Checked against CAPG v1.12.0: ``cloud/services/container/clusters/reconcile.go`` creates the
cluster in ``*spec.network.name`` (dereferenced without a nil check, so the name is always
rendered) and its subnet in the cluster's region, and compares ``spec.version`` with the running
master version stripped of ``-gke.N``: only ``MAJOR.MINOR.PATCH`` can ever compare equal (lint
``gke-version``). ``exp/api/v1beta1/types.go`` (ConvertToSdkAutoscaling) always enables GKE's
autoscaler with ``scaling`` as total min/max; ``cloud/services/container/nodepools/reconcile.go``
never resizes an autoscaled pool from ``replicas``. With ``network.mesh: cilium`` every pool also
carries Cilium's agent-not-ready NoExecute taint (Cilium's GKE guide), under a key the cluster
autoscaler leaves out of its scale-up simulation (``render/cilium.py`` AGENT_NOT_READY_TAINT), which
cilium-operator removes from each Node once its agent runs; CAPG compares the pool's configured
taints, not the Nodes', so the removal starts no update.
"""

from __future__ import annotations

from ...errors import FleetgenError
from ...machines import gke_initial_replicas, gke_regional
from ...model import Cluster, NodePool
from ..cilium import AGENT_NOT_READY_TAINT
from .common import (
    Doc,
    autoscaled,
    gke_version,
    machine_pool,
    meta,
    obj,
    pool_name,
    with_pools,
)

# ------------------------------------------------------------------ GCP (CAPG, GKE)

GCP = "infrastructure.cluster.x-k8s.io/v1beta1"
GKE_CLUSTER_NAME_MAX = 40  # CAPG webhook limit on spec.clusterName


def gcp(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    project = cluster.provider.project
    infra_spec = {"project": project, "region": cluster.region, "network": gke_network(cluster)}
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
    return infra, control_plane, with_pools(cluster, lambda pool: gke_pool(cluster, pool, mesh))


def gke_pool(cluster: Cluster, pool: NodePool, mesh: str) -> list[Doc]:
    spec: Doc = {
        "nodePoolName": pool.name,
        "machineType": pool.instance_type,
        "scaling": {"minCount": pool.min, "maxCount": pool.max},
        "management": {"autoRepair": True, "autoUpgrade": True},
    }
    if pool.labels:
        spec["kubernetesLabels"] = dict(pool.labels)
    taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints]
    if mesh == "cilium":
        taints.append(dict(AGENT_NOT_READY_TAINT))
    if taints:
        spec["kubernetesTaints"] = taints
    infra = obj(GCP, "GCPManagedMachinePool", meta(cluster, pool_name(cluster, pool)), spec)
    # No version: with management.autoUpgrade GKE moves nodes to newer patches, and CAPG would
    # "update" a pinned pool back on every reconcile (nodepools/reconcile.go). Nodes follow the
    # control plane's version instead.
    return [machine_pool(cluster, pool, infra, None, scaled_by="gke", replicas=regional_replicas(cluster, pool)), infra]


def regional_replicas(cluster: Cluster, pool: NodePool) -> int | None:
    """The ``replicas`` an autoscaled pool of a regional cluster is created with; None elsewhere (a fixed pool
    carries its count anyway, a zonal one gets the webhook's default).

    CAPI's webhook would default replicas to the min, which CAPG's preflight refuses unless it is a multiple
    of the zones: the GKE cluster would never be created. CAPG creates the pool with replicas / zones nodes
    per zone (ConvertToSdkNodePool), then GKE's autoscaler owns the count; nothing writes replicas back
    (CAPG never resizes an autoscaled pool from it), so the value in git is stable."""
    if not gke_regional(cluster.region) or not autoscaled(pool):
        return None
    initial = gke_initial_replicas(cluster.region, pool.min, pool.max)
    if initial is None:  # lint's gke-regional-pool error, rendered only when that finding was suppressed
        raise FleetgenError(
            f"cannot render GKE pool {pool.name!r} of {cluster.name}: no multiple of 3 nodes lies within its min "
            "and max, and CAPG would create neither the pool nor the cluster (gke-regional-pool); fix the pool "
            "instead of suppressing the finding"
        )
    return initial


def gke_network(cluster: Cluster) -> Doc:
    """A VPC per cluster; with ``network.nodes`` in custom mode with one subnet holding the nodes.

    GKE adds the pod and service ranges (``clusterNetwork``) to that subnet as secondary ranges.
    Without it the VPC is in auto mode, whose per-region subnets are the same in every project.
    """
    if cluster.network.nodes is None:
        return {"name": cluster.name}
    subnet = {"name": cluster.name, "cidrBlock": str(cluster.network.nodes), "region": cluster.region}
    return {"name": cluster.name, "autoCreateSubnetworks": False, "subnets": [subnet]}
