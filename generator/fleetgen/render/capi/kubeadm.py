"""vSphere (CAPV v1.16) and Docker (CAPD): KubeadmControlPlane, machine templates, a MachineDeployment per pool."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ...model import Cluster, NodePool, Taint
from .common import (
    BOOTSTRAP,
    CLUSTER_AUTOSCALER,
    CLUSTER_NAME_LABEL,
    CONTROL_PLANE,
    CORE,
    Doc,
    autoscaler_annotations,
    autoscaler_labels,
    autoscaler_replicas,
    health_check,
    meta,
    obj,
    pool_name,
    ref,
    semver,
    with_pools,
)
from .networking import cluster_configuration

# ------------------------------------------------------------------ kubeadm (vSphere, Docker)

VSPHERE = "infrastructure.cluster.x-k8s.io/v1beta2"
DOCKER = "infrastructure.cluster.x-k8s.io/v1beta2"
_EC2_SIZES = {
    "medium": (2, 4),
    "large": (2, 8),
    "xlarge": (4, 16),
    "2xlarge": (8, 32),
    "4xlarge": (16, 64),
    "8xlarge": (32, 128),
    "12xlarge": (48, 192),
    "16xlarge": (64, 256),
}
_DEFAULT_SIZE = (2, 8)
_CONTROL_PLANE_SIZE = "2x8"
VSPHERE_NETWORK = "VM Network"  # vSphere's default port group; the fleet format names no network
_NO_LABELS: Mapping[str, str] = MappingProxyType({})
_RESTRICTED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")
_KUBELET_ALLOWED_DOMAINS = ("node.kubernetes.io", "kubelet.kubernetes.io")


def vsphere_size(instance_type: str) -> tuple[int, int]:
    """(CPUs, GiB) from ``4x16`` or an EC2-style size suffix; CAPV needs at least 2 CPUs."""
    explicit = re.fullmatch(r"(\d+)x(\d+)", instance_type)
    cpus, gib = (
        (int(explicit[1]), int(explicit[2]))
        if explicit
        else _EC2_SIZES.get(instance_type.rsplit(".", 1)[-1], _DEFAULT_SIZE)
    )
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
        taint_list = [{"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect} for t in taints]
        if taint_list:
            out["taints"] = taint_list
        return {"nodeRegistration": out}

    def commands(self) -> Doc:
        return {"preKubeadmCommands": list(self.pre_commands)} if self.pre_commands else {}


def kubeadm(
    cluster: Cluster, infra: Doc, machine_template: Callable[[str, str], Doc], nodes: KubeadmNodes
) -> tuple[Doc, Doc, list[Doc]]:
    """KubeadmControlPlane + its machine template, then per pool templates and a MachineDeployment."""
    cp_template = machine_template(f"{cluster.name}-control-plane", _CONTROL_PLANE_SIZE)
    config: Doc = {"clusterConfiguration": cluster_configuration(cluster, nodes.cluster_configuration)}
    if nodes.registration()["nodeRegistration"]:
        config.update(initConfiguration=nodes.registration(), joinConfiguration=nodes.registration())
    config.update(nodes.commands())
    spec = {
        "replicas": nodes.control_plane_replicas,
        "version": semver(cluster.kubernetes_version),
        "machineTemplate": {"spec": {"infrastructureRef": ref(cp_template)}},
        "kubeadmConfigSpec": config,
    }
    control_plane = obj(CONTROL_PLANE, "KubeadmControlPlane", meta(cluster, cluster.name), spec)
    pools = with_pools(cluster, lambda pool: kubeadm_pool(cluster, pool, machine_template, nodes))
    return infra, control_plane, [cp_template, *pools, health_check(cluster)]


def kubeadm_pool(
    cluster: Cluster, pool: NodePool, machine_template: Callable[[str, str], Doc], nodes: KubeadmNodes
) -> list[Doc]:
    name = pool_name(cluster, pool)
    registration = nodes.registration(pool.labels, pool.taints)
    join = {"joinConfiguration": registration} if registration["nodeRegistration"] else {}
    join.update(nodes.commands())
    config = {
        "apiVersion": BOOTSTRAP,
        "kind": "KubeadmConfigTemplate",
        "metadata": meta(cluster, name),
        "spec": {"template": {"spec": join}},
    }
    template = machine_template(name, pool.instance_type)
    machine = {
        "bootstrap": {"configRef": ref(config)},
        "clusterName": cluster.name,
        "infrastructureRef": ref(template),
        "version": semver(cluster.kubernetes_version),
    }
    spec = {
        "clusterName": cluster.name,
        **autoscaler_replicas(pool),
        "selector": {"matchLabels": {}},
        "template": {"metadata": {"labels": {CLUSTER_NAME_LABEL: cluster.name}}, "spec": machine},
    }
    labels = autoscaler_labels(pool, CLUSTER_AUTOSCALER)
    deployment = obj(CORE, "MachineDeployment", meta(cluster, name, autoscaler_annotations(pool), labels), spec)
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
    cluster_configuration={"controllerManager": {"extraArgs": [{"name": "cloud-provider", "value": "external"}]}},
)
# The hub reaches a CAPD cluster through its load balancer published on the Docker host; kind
# nodes share the host's disk, so (as CAPD's own templates do) disk pressure must not evict.
_DOCKER_NODES = KubeadmNodes(
    control_plane_replicas=1,
    kubelet_args={"eviction-hard": "nodefs.available<0%,nodefs.inodesFree<0%,imagefs.available<0%"},
    cluster_configuration={"apiServer": {"certSANs": ["localhost", "127.0.0.1", "0.0.0.0", "host.docker.internal"]}},
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
        machine = {
            "cloneMode": "linkedClone",
            "datacenter": provider.datacenter,
            "diskGiB": 25,
            "memoryMiB": gib * 1024,
            "network": network,
            "numCPUs": cpus,
            "os": "Linux",
            "powerOffMode": "trySoft",
            "server": provider.server,
            "template": provider.template,
        }
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
