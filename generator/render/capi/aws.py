"""AWS (CAPA v2.11, EKS): AWSManagedCluster, AWSManagedControlPlane, MachinePool + AWSManagedMachinePool."""

from __future__ import annotations

import re

from ...model import Cluster, NodePool
from ..security import eks_endpoint_access
from .common import (
    CONTROL_PLANE,
    Doc,
    autoscaler_annotations,
    autoscaler_replicas,
    machine_pool,
    meta,
    minor_version,
    obj,
    pool_name,
    semver,
    with_pools,
)

# ------------------------------------------------------------------ AWS (CAPA, EKS)

AWS = "infrastructure.cluster.x-k8s.io/v1beta2"
_EKS_TAINT_EFFECTS = {"NoSchedule": "no-schedule", "NoExecute": "no-execute", "PreferNoSchedule": "prefer-no-schedule"}
_EKS_AMI_TYPES = {
    (False, ""): "AL2023_x86_64_STANDARD",
    (True, ""): "AL2023_ARM_64_STANDARD",
    (False, "nvidia"): "AL2023_x86_64_NVIDIA",
    (True, "nvidia"): "AL2023_ARM_64_NVIDIA",
    (False, "neuron"): "AL2023_x86_64_NEURON",
}


def eks_ami_type(instance_type: str) -> str:
    """AL2023 AMI family for an EC2 type (AL2, CAPA's default, has no AMIs for EKS >= 1.33).

    Graviton families carry a ``g`` after the generation digit (m7g, c6gn, t4g, g5g);
    NVIDIA families are p* and g<digit>*; Inferentia/Trainium (inf*, trn*) are Neuron.
    """
    family = instance_type.split(".")[0].lower()
    arm = re.fullmatch(r"[a-z]+\d+g[a-z]*", family) is not None
    nvidia, neuron = re.match(r"(p|g)\d", family), re.match(r"(inf|trn)\d", family)
    accelerator = "nvidia" if nvidia else "neuron" if neuron else ""
    return _EKS_AMI_TYPES.get((arm, accelerator), _EKS_AMI_TYPES[(False, "")])


def aws(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    infra = obj(AWS, "AWSManagedCluster", meta(cluster, cluster.name), {})
    spec = {
        "eksClusterName": cluster.name,
        "region": cluster.region,
        "version": minor_version(cluster.kubernetes_version),
        "endpointAccess": eks_endpoint_access(cluster.provider.endpoint_access),
    }
    control_plane = obj(CONTROL_PLANE, "AWSManagedControlPlane", meta(cluster, cluster.name), spec)
    return infra, control_plane, with_pools(cluster, lambda pool: eks_pool(cluster, pool))


def eks_pool(cluster: Cluster, pool: NodePool) -> list[Doc]:
    spec: Doc = {
        "eksNodegroupName": pool.name,
        "amiType": eks_ami_type(pool.instance_type),
        "instanceType": pool.instance_type,
        "scaling": {"minSize": pool.min, "maxSize": pool.max},
    }
    if pool.labels:
        spec["labels"] = dict(pool.labels)
    if pool.taints:
        spec["taints"] = [{"key": t.key, "value": t.value, "effect": _EKS_TAINT_EFFECTS[t.effect]} for t in pool.taints]
    infra = obj(AWS, "AWSManagedMachinePool", meta(cluster, pool_name(cluster, pool)), spec)
    version = semver(cluster.kubernetes_version)
    scaled_by = autoscaler_annotations(pool)
    return [machine_pool(cluster, pool, infra, autoscaler_replicas(pool), version, scaled_by), infra]
