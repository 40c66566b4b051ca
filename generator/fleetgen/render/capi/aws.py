"""AWS (CAPA v2.11, EKS): AWSManagedCluster, AWSManagedControlPlane, MachinePool + AWSManagedMachinePool.

Field meanings are decided in CAPA v2.11.1 by ``controlplane/eks/api/v1beta2/awsmanagedcontrolplane_types.go``,
``controlplane/eks/webhooks/awsmanagedcontrolplane_webhook.go`` (access entries need
``authenticationMode`` api or api_and_config_map; the mode only ratchets up),
``pkg/cloud/services/eks/cluster.go`` (what CreateCluster receives) and
``pkg/cloud/services/network/vpc.go`` (a VPC without ``cidrBlock`` is 10.0.0.0/16).
"""

from __future__ import annotations

import re

from ...model import Cluster, NodePool
from ..security import SPOKE_GROUP, eks_endpoint_access
from .common import (
    CLUSTER_AUTOSCALER,
    CONTROL_PLANE,
    Doc,
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
# clusterawsadm's role in every account it bootstraps: "controllers" + DefaultNameSuffix
# (cmd/clusterawsadm/cloudformation/bootstrap/template.go, iam/api/v1beta1/types.go).
CAPA_CONTROLLER_ROLE = "controllers.cluster-api-provider-aws.sigs.k8s.io"
# The singleton CAPA creates at start-up (AutoControllerIdentityCreator, on by default).
CONTROLLER_IDENTITY = {"kind": "AWSClusterControllerIdentity", "name": "default"}
# api_and_config_map: access entries work and a cluster created in config_map mode may move to
# it (the webhook refuses downgrades, and a move straight to api would drop CAPA's aws-auth).
AUTHENTICATION_MODE = "api_and_config_map"
# An IPv6 cluster must name its add-ons, with vpc-cni at v1.10.2 or later (webhook validateEKSAddons).
VPC_CNI_ADDON = "vpc-cni"
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


def identity_name(account_id: str) -> str:
    return f"aws-{account_id}"


def partition(role_arn: str) -> str:
    """``aws``, ``aws-cn`` or ``aws-us-gov``: the second field of an ARN."""
    return role_arn.split(":")[1]


def role_identity(account_id: str, role_arn: str, namespaces: list[str]) -> Doc:
    """One AWSClusterRoleIdentity per account: CAPA assumes clusterawsadm's role there.

    ``allowedNamespaces.list`` names the clusters' namespaces (nil would allow none).
    """
    spec = {
        "allowedNamespaces": {"list": sorted(namespaces)},
        "roleARN": f"arn:{partition(role_arn)}:iam::{account_id}:role/{CAPA_CONTROLLER_ROLE}",
        "sourceIdentityRef": dict(CONTROLLER_IDENTITY),
    }
    metadata = {"name": identity_name(account_id)}
    return {"apiVersion": AWS, "kind": "AWSClusterRoleIdentity", "metadata": metadata, "spec": spec}


def identities(clusters: list[Cluster]) -> list[Doc]:
    """AWSClusterRoleIdentity per AWS account of the provisioned EKS clusters, sorted by account."""
    by_account: dict[str, list[Cluster]] = {}
    for c in clusters:
        if c.provider.type == "aws":
            by_account.setdefault(c.provider.account_id, []).append(c)
    return [
        role_identity(account, members[0].provider.role_arn, [c.name for c in members])
        for account, members in sorted(by_account.items())
    ]


def access_entries(cluster: Cluster) -> list[Doc]:
    """Argo CD's IAM role maps to the spoke group fleetgen binds (render/access.py), no access policy."""
    return [{"principalARN": cluster.provider.role_arn, "type": "standard", "kubernetesGroups": [SPOKE_GROUP]}]


def aws(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    infra = obj(AWS, "AWSManagedCluster", meta(cluster, cluster.name), {})
    spec: Doc = {
        "eksClusterName": cluster.name,
        "identityRef": {"kind": "AWSClusterRoleIdentity", "name": identity_name(cluster.provider.account_id)},
        "region": cluster.region,
        "version": minor_version(cluster.kubernetes_version),
        "endpointAccess": eks_endpoint_access(cluster.provider.endpoint_access),
        "accessConfig": {"authenticationMode": AUTHENTICATION_MODE},
        "accessEntries": access_entries(cluster),
    }
    vpc = eks_vpc(cluster)
    if vpc:
        spec["network"] = {"vpc": vpc}
    if cluster.network.pods.version == 6 and cluster.provider.vpc_cni_version:
        spec["addons"] = [{"name": VPC_CNI_ADDON, "version": cluster.provider.vpc_cni_version}]
    if mesh == "cilium":
        spec["vpcCni"] = {"disable": True}  # CAPA deletes aws-node; Cilium is the CNI
    control_plane = obj(CONTROL_PLANE, "AWSManagedControlPlane", meta(cluster, cluster.name), spec)
    return infra, control_plane, with_pools(cluster, lambda pool: eks_pool(cluster, pool))


def eks_vpc(cluster: Cluster) -> Doc:
    """The managed VPC: ``network.nodes`` as its IPv4 range; IPv6 pods make it dual-stack and the cluster IPv6.

    ``ipv6: {}`` has CAPA ask for an Amazon-provided /56 (``pkg/cloud/services/network/vpc.go``
    ``AmazonProvidedIpv6CidrBlock``) and create the cluster with ``ipFamily: ipv6``
    (``pkg/cloud/services/eks/cluster.go``: ``IsIPv6Enabled``); the family is immutable (webhook). Pods
    then take addresses from the VPC's /56 through the VPC CNI, and EKS picks the service range itself,
    so ``network.pods``/``services`` only choose the family there.
    """
    vpc: Doc = {"cidrBlock": str(cluster.network.nodes)} if cluster.network.nodes is not None else {}
    if cluster.network.pods.version == 6:
        vpc["ipv6"] = {}
    return vpc


def eks_pool(cluster: Cluster, pool: NodePool) -> list[Doc]:
    """No ``roleName``: CAPA gives the node group clusterawsadm's ``eks-nodegroup`` role, which must exist in the
    account. Its managed policies are also what Cilium's ENI operator calls EC2 with (docs/controllers/capi.md)."""
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
    return [machine_pool(cluster, pool, infra, version, CLUSTER_AUTOSCALER), infra]
