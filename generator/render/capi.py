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
  major.minor. GKE takes ``1.30`` / ``1.30.4`` (GKE version aliases; CAPG strips the ``v``).
  AKS gets the fleet version in ``AzureASOManagedControlPlane.spec.version``, which CAPZ
  copies into the ManagedCluster. Managed MachinePools carry a version only where the cloud
  accepts it: always for EKS (CAPA uses its minor), for GKE/AKS only when the fleet pins a
  patch (``1.30.0`` is not a GKE or AKS release); otherwise nodes follow the control plane.
- Replicas: pools scaled by the cluster-autoscaler (EKS MachinePools, kubeadm
  MachineDeployments) carry the ``cluster-api-autoscaler-node-group-min-size``/``max-size``
  annotations and no ``spec.replicas``: CAPI's defaulting webhook sets replicas to the min
  size on create, and Argo CD then never reverts the autoscaler. Fixed pools (min == max)
  carry ``replicas``. GKE and AKS pools are scaled by the cloud's own autoscaler
  (``scaling.minCount/maxCount``; ``enableAutoScaling/minCount/maxCount``) and carry
  ``replicas: min`` only to seed the initial node count (CAPG and CAPZ stop sizing the pool
  from it once autoscaling is on).
- Networks: the Cluster carries the fleet pod and service CIDRs. CAPA sends the service
  CIDR to EKS; CAPZ copies both into the ManagedCluster (so they are not repeated there);
  GKE gets them as VPC-native ranges on the GCPManagedControlPlane (IPv4 only).
- AKS: the first node pool is the System pool. With ``network.mesh: cilium`` the cluster is
  BYO-CNI (``networkPlugin: none``) so the fleet's own Cilium can run; otherwise Azure CNI
  overlay. ASO credentials come from the ``aso-credential`` Secret of the namespace or the
  global ASO credential, both managed outside git. ``subscriptionID`` lives there too.
- vSphere: the control-plane endpoint is the fleet ``server`` (an external load balancer,
  as in CAPV's external-loadbalancer flavor); CAPV uses its own manager credentials; nodes
  run ``cloud-provider=external``, so vSphere CPI/CSI must be delivered to the cluster.
  Machine size comes from ``instanceType``: ``<cpus>x<GiB>`` (``4x16``) or an EC2-style
  size suffix (``xlarge`` = 4 CPUs / 16 GiB); anything else gets 2 CPUs / 8 GiB.
- Kubeadm node labels go to ``--node-labels`` except those in kubelet-restricted
  namespaces (``kubernetes.io``/``k8s.io`` other than ``node.kubernetes.io``), which the
  kubelet refuses; taints go to ``nodeRegistration.taints``.
- A MachineHealthCheck per cluster selects every Machine of the cluster (kubeadm control
  plane and workers; managed pools have no Machines).
- Nothing here is a credential: no identity secrets, account keys or tokens are rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ..model import Cluster, NodePool, Taint
from . import File

CORE = "cluster.x-k8s.io/v1beta2"
INFRA_GROUP = "infrastructure.cluster.x-k8s.io"
CONTROL_PLANE_GROUP = "controlplane.cluster.x-k8s.io"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1beta2"
CONTROL_PLANE = f"{CONTROL_PLANE_GROUP}/v1beta2"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
MIN_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"
MAX_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size"
LABEL_PREFIX = "fleetgen.io/"
DEFAULT_PATCH = 0

Doc = dict[str, Any]


def render(fleet) -> list[File]:
    """One file per provisioned cluster (``imported`` clusters render nothing)."""
    return [
        File(f"hub/capi/{c.name}.yaml", tuple(cluster_documents(c, fleet.mesh)))
        for c in fleet.clusters
        if c.provisioned
    ]


def cluster_documents(cluster: Cluster, mesh: str) -> list[Doc]:
    """Namespace, Cluster, the provider's objects, then the MachineHealthCheck."""
    infra, control_plane, rest = PROVIDERS[cluster.provider.type](cluster, mesh)
    return [namespace(cluster), core_cluster(cluster, infra, control_plane), infra, control_plane, *rest,
            health_check(cluster)]


# ------------------------------------------------------------------ shared pieces


def ref(doc: Doc) -> dict[str, str]:
    """A v1beta2 reference to ``doc``: group (no version), kind, name."""
    group = doc["apiVersion"].rsplit("/", 1)[0]
    return {"apiGroup": group, "kind": doc["kind"], "name": doc["metadata"]["name"]}


def fleet_labels(cluster: Cluster) -> dict[str, str]:
    """Fleet labels as valid label keys: prefixed keys stay, plain ones get ``fleetgen.io/``."""
    labels = {k if "/" in k else LABEL_PREFIX + k: v for k, v in cluster.labels.items()}
    return dict(sorted({CLUSTER_NAME_LABEL: cluster.name, **labels}.items()))


def meta(cluster: Cluster, name: str, annotations: dict[str, str] | None = None) -> Doc:
    out: Doc = {"name": name, "namespace": cluster.name, "labels": {CLUSTER_NAME_LABEL: cluster.name}}
    if annotations:
        out["annotations"] = annotations
    return out


def obj(api_version: str, kind: str, metadata: Doc, spec: Doc) -> Doc:
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def namespace(cluster: Cluster) -> Doc:
    metadata = {"name": cluster.name, "labels": fleet_labels(cluster)}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def core_cluster(cluster: Cluster, infra: Doc, control_plane: Doc) -> Doc:
    metadata = {"name": cluster.name, "namespace": cluster.name, "labels": fleet_labels(cluster)}
    network = {
        "pods": {"cidrBlocks": [str(cluster.network.pods)]},
        "services": {"cidrBlocks": [str(cluster.network.services)]},
    }
    spec = {"clusterNetwork": network, "controlPlaneRef": ref(control_plane), "infrastructureRef": ref(infra)}
    return obj(CORE, "Cluster", metadata, spec)


def health_check(cluster: Cluster) -> Doc:
    """Replace Machines whose Node is not Ready for 5 minutes, unless 40% or more are."""
    checks = {
        "nodeStartupTimeoutSeconds": 600,
        "unhealthyNodeConditions": [
            {"type": "Ready", "status": "Unknown", "timeoutSeconds": 300},
            {"type": "Ready", "status": "False", "timeoutSeconds": 300},
        ],
    }
    spec = {
        "clusterName": cluster.name,
        "selector": {"matchLabels": {CLUSTER_NAME_LABEL: cluster.name}},
        "checks": checks,
        "remediation": {"triggerIf": {"unhealthyLessThanOrEqualTo": "40%"}},
    }
    return obj(CORE, "MachineHealthCheck", meta(cluster, f"{cluster.name}-node-unhealthy"), spec)


def pool_name(cluster: Cluster, pool: NodePool) -> str:
    return f"{cluster.name}-{pool.name}"


def autoscaled(pool: NodePool) -> bool:
    return pool.min < pool.max


def autoscaler_annotations(pool: NodePool) -> dict[str, str]:
    return {MAX_SIZE: str(pool.max), MIN_SIZE: str(pool.min)}


def autoscaler_replicas(pool: NodePool) -> Doc:
    """``replicas`` only for fixed pools; CAPI defaults it to the min-size annotation otherwise."""
    return {} if autoscaled(pool) else {"replicas": pool.min}


# ------------------------------------------------------------------ versions


def version_parts(version: str) -> tuple[int, int, int | None]:
    parts = [int(p) for p in version.lstrip("v").split(".")]
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None


def semver(version: str) -> str:
    """``v1.30.0`` from ``1.30`` (patch ``DEFAULT_PATCH``), ``v1.30.4`` from ``1.30.4``."""
    major, minor, patch = version_parts(version)
    return f"v{major}.{minor}.{DEFAULT_PATCH if patch is None else patch}"


def minor_version(version: str, prefix: str = "v") -> str:
    major, minor, _ = version_parts(version)
    return f"{prefix}{major}.{minor}"


def pinned_version(version: str) -> str | None:
    """The exact version when the fleet pins a patch, else None (let the cloud pick)."""
    return semver(version) if version_parts(version)[2] is not None else None


def gke_version(version: str) -> str:
    return (pinned_version(version) or minor_version(version)).lstrip("v")


# ------------------------------------------------------------------ managed pools


def machine_pool(cluster: Cluster, pool: NodePool, infra: Doc, replicas: Doc, version: str | None,
                 annotations: dict[str, str] | None = None) -> Doc:
    """A MachinePool whose nodes the cloud bootstraps (no bootstrap config, empty data secret)."""
    template_spec: Doc = {"bootstrap": {"dataSecretName": ""}, "clusterName": cluster.name,
                          "infrastructureRef": ref(infra)}
    if version:
        template_spec["version"] = version
    spec = {"clusterName": cluster.name, **replicas, "template": {"spec": template_spec}}
    return obj(CORE, "MachinePool", meta(cluster, pool_name(cluster, pool), annotations), spec)


def with_pools(cluster: Cluster, pool_docs: Callable[[NodePool], list[Doc]]) -> list[Doc]:
    return [doc for pool in cluster.node_pools for doc in pool_docs(pool)]


# ------------------------------------------------------------------ AWS (CAPA, EKS)

AWS = "infrastructure.cluster.x-k8s.io/v1beta2"
_EKS_TAINT_EFFECTS = {
    "NoSchedule": "no-schedule", "NoExecute": "no-execute", "PreferNoSchedule": "prefer-no-schedule"}
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
    spec = {"eksClusterName": cluster.name, "region": cluster.region,
            "version": minor_version(cluster.kubernetes_version)}
    control_plane = obj(CONTROL_PLANE, "AWSManagedControlPlane", meta(cluster, cluster.name), spec)
    return infra, control_plane, with_pools(cluster, lambda pool: eks_pool(cluster, pool))


def eks_pool(cluster: Cluster, pool: NodePool) -> list[Doc]:
    spec: Doc = {"eksNodegroupName": pool.name, "amiType": eks_ami_type(pool.instance_type),
                 "instanceType": pool.instance_type, "scaling": {"minSize": pool.min, "maxSize": pool.max}}
    if pool.labels:
        spec["labels"] = dict(pool.labels)
    if pool.taints:
        spec["taints"] = [
            {"key": t.key, "value": t.value, "effect": _EKS_TAINT_EFFECTS[t.effect]} for t in pool.taints]
    infra = obj(AWS, "AWSManagedMachinePool", meta(cluster, pool_name(cluster, pool)), spec)
    version = semver(cluster.kubernetes_version)
    scaled_by = autoscaler_annotations(pool)
    return [machine_pool(cluster, pool, infra, autoscaler_replicas(pool), version, scaled_by), infra]


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
        spec["clusterNetwork"] = {"useIPAliases": True, "pod": {"cidrBlock": str(cluster.network.pods)},
                                  "service": {"cidrBlock": str(cluster.network.services)}}
    control_plane = obj(GCP, "GCPManagedControlPlane", meta(cluster, cluster.name), spec)
    return infra, control_plane, with_pools(cluster, lambda pool: gke_pool(cluster, pool))


def gke_pool(cluster: Cluster, pool: NodePool) -> list[Doc]:
    spec: Doc = {"nodePoolName": pool.name, "machineType": pool.instance_type,
                 "scaling": {"minCount": pool.min, "maxCount": pool.max},
                 "management": {"autoRepair": True, "autoUpgrade": True}}
    if pool.labels:
        spec["kubernetesLabels"] = dict(pool.labels)
    if pool.taints:
        spec["kubernetesTaints"] = [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints]
    infra = obj(GCP, "GCPManagedMachinePool", meta(cluster, pool_name(cluster, pool)), spec)
    version = pinned_version(cluster.kubernetes_version)
    return [machine_pool(cluster, pool, infra, {"replicas": pool.min}, version), infra]


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
        names.append(name if name not in names else f"{name[:AKS_POOL_NAME_MAX - 2]}{i:02d}")
    return names


def azure(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    group_spec = {"azureName": cluster.provider.resource_group or cluster.name, "location": cluster.region}
    group = {"apiVersion": ASO_RESOURCES, "kind": "ResourceGroup", "metadata": {"name": cluster.name},
             "spec": group_spec}
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
    network = {"networkPlugin": "none"} if mesh == "cilium" else {
        "networkPlugin": "azure", "networkPluginMode": "overlay"}
    spec = {"dnsPrefix": cluster.name, "identity": {"type": "SystemAssigned"}, "location": cluster.region,
            "networkProfile": network, "owner": {"name": cluster.name},
            "servicePrincipalProfile": {"clientId": "msi"}}
    return {"apiVersion": ASO_CONTAINER_SERVICE, "kind": "ManagedCluster", "metadata": {"name": cluster.name},
            "spec": spec}


def aks_taint(taint: Taint) -> str:
    return f"{taint.key}={taint.value}:{taint.effect}" if taint.value else f"{taint.key}:{taint.effect}"


def aks_pool(cluster: Cluster, pool: NodePool, azure_name: str, system: bool) -> list[Doc]:
    mode = "System" if system else "User"
    spec: Doc = {"azureName": azure_name, "mode": mode, "owner": {"name": cluster.name},
                 "type": "VirtualMachineScaleSets", "vmSize": pool.instance_type}
    if autoscaled(pool):
        spec.update(enableAutoScaling=True, minCount=pool.min, maxCount=pool.max)
    if pool.labels:
        spec["nodeLabels"] = dict(pool.labels)
    if pool.taints:
        spec["nodeTaints"] = [aks_taint(t) for t in pool.taints]
    agent_pool = {"apiVersion": ASO_CONTAINER_SERVICE, "kind": "ManagedClustersAgentPool",
                  "metadata": {"name": pool_name(cluster, pool)}, "spec": spec}
    infra_meta = meta(cluster, pool_name(cluster, pool))
    infra = obj(AZURE, "AzureASOManagedMachinePool", infra_meta, {"resources": [agent_pool]})
    version = pinned_version(cluster.kubernetes_version)
    return [machine_pool(cluster, pool, infra, {"replicas": pool.min}, version), infra]


# ------------------------------------------------------------------ kubeadm (vSphere, Docker)

VSPHERE = "infrastructure.cluster.x-k8s.io/v1beta2"
DOCKER = "infrastructure.cluster.x-k8s.io/v1beta2"
_EC2_SIZES = {"medium": (2, 4), "large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32), "4xlarge": (16, 64),
              "8xlarge": (32, 128), "12xlarge": (48, 192), "16xlarge": (64, 256)}
_DEFAULT_SIZE = (2, 8)
_CONTROL_PLANE_SIZE = "2x8"
VSPHERE_NETWORK = "VM Network"  # vSphere's default port group; the fleet format names no network
_NO_LABELS: Mapping[str, str] = MappingProxyType({})
_RESTRICTED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")
_KUBELET_ALLOWED_DOMAINS = ("node.kubernetes.io", "kubelet.kubernetes.io")


def vsphere_size(instance_type: str) -> tuple[int, int]:
    """(CPUs, GiB) from ``4x16`` or an EC2-style size suffix; CAPV needs at least 2 CPUs."""
    explicit = re.fullmatch(r"(\d+)x(\d+)", instance_type)
    cpus, gib = (int(explicit[1]), int(explicit[2])) if explicit else _EC2_SIZES.get(
        instance_type.rsplit(".", 1)[-1], _DEFAULT_SIZE)
    return max(cpus, 2), max(gib, 1)


def kubelet_settable(key: str) -> bool:
    """The kubelet refuses --node-labels in kubernetes.io/k8s.io namespaces except its own."""
    domain = key.split("/", 1)[0] if "/" in key else ""
    restricted = any(domain == d or domain.endswith("." + d) for d in _RESTRICTED_LABEL_DOMAINS)
    allowed = any(domain == d or domain.endswith("." + d) for d in _KUBELET_ALLOWED_DOMAINS)
    return not restricted or allowed


@dataclass(frozen=True)
class KubeadmNodes:
    """What a kubeadm-based provider puts into every node's bootstrap config."""

    control_plane_replicas: int
    kubelet_args: Mapping[str, str] = field(default_factory=dict)
    node_name: str = ""
    pre_commands: tuple[str, ...] = ()
    cluster_configuration: Mapping[str, Any] = field(default_factory=dict)

    def registration(self, labels: Mapping[str, str] = _NO_LABELS, taints: Iterable[Taint] = ()) -> Doc:
        node_labels = ",".join(f"{k}={v}" for k, v in labels.items() if kubelet_settable(k))
        args = {**self.kubelet_args, **({"node-labels": node_labels} if node_labels else {})}
        out: Doc = {"name": self.node_name} if self.node_name else {}
        if args:
            out["kubeletExtraArgs"] = [{"name": k, "value": v} for k, v in sorted(args.items())]
        taint_list = [{"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect}
                      for t in taints]
        if taint_list:
            out["taints"] = taint_list
        return {"nodeRegistration": out}

    def commands(self) -> Doc:
        return {"preKubeadmCommands": list(self.pre_commands)} if self.pre_commands else {}


def kubeadm(cluster: Cluster, infra: Doc, machine_template: Callable[[str, str], Doc],
            nodes: KubeadmNodes) -> tuple[Doc, Doc, list[Doc]]:
    """KubeadmControlPlane + its machine template, then per pool templates and a MachineDeployment."""
    cp_template = machine_template(f"{cluster.name}-control-plane", _CONTROL_PLANE_SIZE)
    config: Doc = {"clusterConfiguration": dict(nodes.cluster_configuration)} if nodes.cluster_configuration \
        else {}
    if nodes.registration()["nodeRegistration"]:
        config.update(initConfiguration=nodes.registration(), joinConfiguration=nodes.registration())
    config.update(nodes.commands())
    spec = {"replicas": nodes.control_plane_replicas, "version": semver(cluster.kubernetes_version),
            "machineTemplate": {"spec": {"infrastructureRef": ref(cp_template)}}, "kubeadmConfigSpec": config}
    control_plane = obj(CONTROL_PLANE, "KubeadmControlPlane", meta(cluster, cluster.name), spec)
    pools = with_pools(cluster, lambda pool: kubeadm_pool(cluster, pool, machine_template, nodes))
    return infra, control_plane, [cp_template, *pools]


def kubeadm_pool(cluster: Cluster, pool: NodePool, machine_template: Callable[[str, str], Doc],
                 nodes: KubeadmNodes) -> list[Doc]:
    name = pool_name(cluster, pool)
    registration = nodes.registration(pool.labels, pool.taints)
    join = {"joinConfiguration": registration} if registration["nodeRegistration"] else {}
    join.update(nodes.commands())
    config = {"apiVersion": BOOTSTRAP, "kind": "KubeadmConfigTemplate", "metadata": meta(cluster, name),
              "spec": {"template": {"spec": join}}}
    template = machine_template(name, pool.instance_type)
    machine = {"bootstrap": {"configRef": ref(config)}, "clusterName": cluster.name,
               "infrastructureRef": ref(template), "version": semver(cluster.kubernetes_version)}
    spec = {"clusterName": cluster.name, **autoscaler_replicas(pool), "selector": {"matchLabels": {}},
            "template": {"metadata": {"labels": {CLUSTER_NAME_LABEL: cluster.name}}, "spec": machine}}
    deployment = obj(CORE, "MachineDeployment", meta(cluster, name, autoscaler_annotations(pool)), spec)
    return [deployment, template, config]


# CAPV flavors set the VM's hostname from the vSphere metadata before kubeadm runs.
_VSPHERE_HOSTNAME_COMMANDS = (
    'hostnamectl set-hostname "{{ ds.meta_data.hostname }}"',
    'echo "::1         ipv6-localhost ipv6-loopback localhost6 localhost6.localdomain6" >/etc/hosts',
    'echo "127.0.0.1   {{ ds.meta_data.hostname }} {{ local_hostname }} localhost localhost.localdomain'
    ' localhost4 localhost4.localdomain4" >>/etc/hosts',
)
_VSPHERE_NODES = KubeadmNodes(
    control_plane_replicas=3,
    kubelet_args={"cloud-provider": "external"},
    node_name="{{ local_hostname }}",
    pre_commands=_VSPHERE_HOSTNAME_COMMANDS,
    cluster_configuration={
        "controllerManager": {"extraArgs": [{"name": "cloud-provider", "value": "external"}]}},
)
# The hub reaches a CAPD cluster through its load balancer published on the Docker host; kind
# nodes share the host's disk, so (as CAPD's own templates do) disk pressure must not evict.
_DOCKER_NODES = KubeadmNodes(
    control_plane_replicas=1,
    kubelet_args={"eviction-hard": "nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%"},
    cluster_configuration={
        "apiServer": {"certSANs": ["localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal"]}},
)


def vsphere(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    provider = cluster.provider
    spec: Doc = {"server": provider.server}
    if cluster.server:
        spec["controlPlaneEndpoint"] = endpoint(cluster.server)
    infra = obj(VSPHERE, "VSphereCluster", meta(cluster, cluster.name), spec)

    def machine_template(name: str, instance_type: str) -> Doc:
        cpus, gib = vsphere_size(instance_type)
        network = {"devices": [{"dhcp4": True, "networkName": VSPHERE_NETWORK}]}
        machine = {"cloneMode": "linkedClone", "datacenter": provider.datacenter, "diskGiB": 25,
                   "memoryMiB": gib * 1024, "network": network,
                   "numCPUs": cpus, "os": "Linux", "powerOffMode": "trySoft", "server": provider.server,
                   "template": provider.template}
        return obj(VSPHERE, "VSphereMachineTemplate", meta(cluster, name), {"template": {"spec": machine}})

    return kubeadm(cluster, infra, machine_template, _VSPHERE_NODES)


def endpoint(server: str) -> Doc:
    """``{host, port}`` of an https URL (port 443 when the URL names none)."""
    parsed = urlsplit(server)
    return {"host": parsed.hostname or "", "port": parsed.port or 443}


def docker(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    infra = obj(DOCKER, "DockerCluster", meta(cluster, cluster.name), {})

    def machine_template(name: str, instance_type: str) -> Doc:
        return obj(DOCKER, "DockerMachineTemplate", meta(cluster, name), {"template": {"spec": {}}})

    return kubeadm(cluster, infra, machine_template, _DOCKER_NODES)


PROVIDERS: dict[str, Callable[[Cluster, str], tuple[Doc, Doc, list[Doc]]]] = {
    "aws": aws,
    "gcp": gcp,
    "azure": azure,
    "vsphere": vsphere,
    "docker": docker,
}

