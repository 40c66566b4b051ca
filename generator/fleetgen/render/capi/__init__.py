"""Cluster API objects: ``hub/capi/<cluster>.yaml`` for every provisioned cluster.

One file holds everything Cluster API needs for one cluster, in the API versions the
providers serve today: core kinds ``cluster.x-k8s.io/v1beta2`` (CAPI v1.14), CAPA
``v1beta2``, CAPG ``v1beta1``, CAPZ ``v1beta1`` AzureASOManaged* (the AzureManaged* kinds
are deprecated), CAPV ``v1beta2``, CAPD ``v1beta2``. Refs are v1beta2 ``{apiGroup, kind,
name}`` and are built from the referenced documents themselves, so they cannot drift.

Decisions (each checked against the provider source):

- Namespace: one per cluster, named after the cluster and rendered first in the file, so
  each file owns its Namespace and the objects of one cluster never share a namespace.
- Labels: every object carries ``cluster.x-k8s.io/cluster-name``; the Cluster and the
  Namespace also carry the fleet labels, unprefixed keys as ``fleetgen.io/<key>``.
- Versions, in the form each consumer requires: KubeadmControlPlane and Machine versions
  must be full semver (``v1.30.0``; CAPI's webhook matches ``KubeSemver``); when the fleet
  gives only ``MAJOR.MINOR`` the patch is ``.0``, the first release of every minor, which
  kindest/node images and image-builder templates exist for; pin ``1.30.4`` in fleet.yaml
  to pick another. EKS takes ``v1.30``: EKS versions are minors and CAPA compares only
  major.minor. GKE takes ``1.30.4``: CAPG compares it with the running ``1.30.4-gke.N`` minus
  its suffix and updates the cluster on every reconcile until they match, so a bare minor never
  converges (lint ``gke-version``; a minor is still rendered as given, never invented).
  AKS gets the fleet version in ``AzureASOManagedControlPlane.spec.version``, which CAPZ
  copies into the ManagedCluster. Managed MachinePools carry a version only where the cloud
  accepts it: always for EKS (CAPA uses its minor), for AKS only when the fleet pins a patch
  (``1.30.0`` is not an AKS release), never for GKE (its auto-upgrade moves nodes past any pin);
  otherwise nodes follow the control plane.
- Replicas: no autoscaled pool (min < max) of any provider carries ``spec.replicas``: an
  autoscaler owns it (the cluster-autoscaler for EKS MachinePools and kubeadm
  MachineDeployments, GKE's and AKS's own autoscalers otherwise; CAPZ even writes AKS's live
  count back into it), so a value in git would be reverted by Argo CD's self-heal forever. The
  ``cluster-api-autoscaler-node-group-min-size``/``max-size`` annotations make CAPI's defaulting
  webhook seed ``replicas`` with the min on create (AKS needs a count inside [min, max]); the
  label ``fleetgen.io/autoscaler`` says which autoscaler owns the pool, so the
  cluster-autoscaler can be limited to its own pools. Fixed pools (min == max) carry ``replicas``.
- Networks: the Cluster carries the fleet pod and service CIDRs. CAPA sends the service
  CIDR to EKS; CAPZ copies both into the ManagedCluster (so they are not repeated there);
  GKE gets them as VPC-native ranges on the GCPManagedControlPlane (IPv4 only). ``network.nodes``
  becomes the EKS VPC CIDR, the GKE subnet's primary range and the AKS VNet and node subnet.
  IPv6 pods make the EKS VPC dual-stack (``ipv6: {}``, so CAPA creates an ``ipFamily: ipv6`` cluster)
  with the ``vpc-cni`` add-on CAPA requires for it; ``network.nodeMask`` reaches kube-controller-manager
  on kubeadm clusters (``networking.py``). Lint ``ip-family`` and ``node-mask`` hold the rest.
- AKS: the first node pool is the System pool. With ``network.mesh: cilium`` the cluster is
  BYO-CNI (``networkPlugin: none``) so the fleet's own Cilium can run; otherwise Azure CNI
  overlay. Every ASO resource names its subscription's credential Secret
  (``aso-credential-<subscriptionID>``, created in the cluster namespace outside git).
- EKS: CAPA assumes clusterawsadm's role in the cluster's account through the account's
  AWSClusterRoleIdentity (``hub/capi-identities/aws.yaml``); Argo CD's ``roleARN`` gets an
  access entry into the group fleetgen's spoke RBAC binds; with Cilium the VPC CNI is removed.
- vSphere (``vsphere.py``, ``vsphere_cloud.py``, ``vsphere_csi.py``): the control-plane endpoint is
  the fleet ``server`` (port 6443 when it names none: the API server's port), served by kube-vip static pods on the
  control-plane VMs as in CAPV's templates, or by an external load balancer
  (``provider.loadBalancer: external``). VMs are placed where ``provider.datastore`` /
  ``storagePolicyName`` / ``resourcePool`` / ``folder`` / ``network`` say; ``thumbprint`` lets CAPV
  verify vCenter. CAPV uses its own manager credentials. Nodes run ``cloud-provider=external``: a
  ClusterResourceSet delivers the vSphere CPI with the credentials Secret the operator creates on
  the hub, a second one the vSphere CSI driver (CAPV's vendored manifest; a default StorageClass
  only with ``storagePolicyName``) with its own operator-made Secret. Machine size comes from
  ``instanceType``: ``<cpus>x<GiB>`` (``4x16``) or an EC2-style size suffix (``xlarge`` = 4 CPUs /
  16 GiB); anything else is a lint error.
- Kubeadm node labels go to ``--node-labels`` except those in kubelet-restricted
  namespaces (``kubernetes.io``/``k8s.io`` other than ``node.kubernetes.io`` and the well-known
  keys), which the kubelet refuses; ``node-role.kubernetes.io/*`` and the other domains Cluster API
  syncs go on the MachineDeployment's Machine template; taints go to ``nodeRegistration.taints``.
- A MachineHealthCheck only for kubeadm clusters (vSphere, Docker), selecting every Machine of
  the cluster; managed pools (EKS, GKE, AKS) have no Machines, so a check there would do nothing.
- Nothing here is a credential: no identity secrets, account keys or tokens are rendered.
"""

from __future__ import annotations

from collections.abc import Callable

from ...model import Cluster
from .. import File
from .aws import aws, eks_ami_type, identities
from .azure import aks_pool_names, azure
from .common import (
    CAPI_DIR,
    MAX_SIZE,
    MIN_SIZE,
    Doc,
    content_named,
    core_cluster,
    gke_version,
    minor_version,
    namespace,
    semver,
)
from .gcp import gcp
from .kubeadm import docker, vsphere
from .vsphere import vsphere_size

__all__ = [
    "content_named",
    "PROVIDERS",
    "render",
    "cluster_documents",
    "MIN_SIZE",
    "MAX_SIZE",
    "semver",
    "minor_version",
    "gke_version",
    "eks_ami_type",
    "aks_pool_names",
    "vsphere_size",
]

PROVIDERS: dict[str, Callable[[Cluster, str], tuple[Doc, Doc, list[Doc]]]] = {
    "aws": aws,
    "gcp": gcp,
    "azure": azure,
    "vsphere": vsphere,
    "docker": docker,
}


IDENTITIES = "hub/capi-identities/aws.yaml"  # outside hub/capi/, where every name is a cluster's


def render(fleet) -> list[File]:
    """One file per provisioned cluster (``imported`` clusters render nothing), plus the AWS identities."""
    return [*(f for c in fleet.clusters for f in cluster_files(fleet, c)), *fleet_files(fleet)]


def cluster_files(fleet, cluster: Cluster) -> list[File]:
    """One provisioned cluster's file (a render unit of ``fleetgen.units``)."""
    return (
        [File(f"{CAPI_DIR}{cluster.name}.yaml", tuple(cluster_documents(cluster, fleet.mesh, fleet.pod_security)))]
        if cluster.provisioned
        else []
    )


def fleet_files(fleet) -> list[File]:
    """The AWS identities every provisioned AWS cluster names."""
    aws_identities = identities([c for c in fleet.clusters if c.provisioned])
    return [File(IDENTITIES, tuple(aws_identities))] if aws_identities else []


def hub_cluster_scoped(fleet) -> list[Doc]:
    """The cluster-scoped objects rendered here (AWS identities), for the platform AppProject's whitelist."""
    return identities([c for c in fleet.clusters if c.provisioned])


def cluster_documents(cluster: Cluster, mesh: str, pod_security: str) -> list[Doc]:
    """Namespace, Cluster, then the provider's objects (kubeadm providers end with a MachineHealthCheck)."""
    infra, control_plane, rest = PROVIDERS[cluster.provider.type](cluster, mesh)
    return [namespace(cluster, pod_security), core_cluster(cluster, infra, control_plane), infra, control_plane, *rest]
