"""vSphere (CAPV v1.16) and Docker (CAPD): KubeadmControlPlane, machine templates, a MachineDeployment per pool."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...machines import capi_synced, kubelet_settable
from ...model import Cluster, NodePool, Taint
from .common import (
    BOOTSTRAP,
    CLUSTER_AUTOSCALER,
    CLUSTER_NAME_LABEL,
    CONTROL_PLANE,
    CORE,
    PRUNE_LAST,
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
from .vsphere import CONTROL_PLANE_SIZE, kube_vip, machine_template, vsphere_cluster
from .vsphere_cloud import cpi_addons
from .vsphere_csi import csi_addons

# ------------------------------------------------------------------ kubeadm (vSphere, Docker)

DOCKER = "infrastructure.cluster.x-k8s.io/v1beta2"
_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class KubeadmNodes:
    """What a kubeadm-based provider puts into every node's bootstrap config."""

    control_plane_replicas: int
    kubelet_args: Mapping[str, str] = field(default_factory=dict)
    node_name: str = ""
    pre_commands: tuple[str, ...] = ()
    cluster_configuration: Mapping[str, Any] = field(default_factory=dict)

    def registration(self, labels: Mapping[str, str] = _EMPTY, taints: Iterable[Taint] = ()) -> Doc:
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
    cluster: Cluster,
    infra: Doc,
    machine_template: Callable[[str, str], Doc],
    nodes: KubeadmNodes,
    control_plane_only: Mapping[str, Any] = _EMPTY,
    addons: Iterable[Doc] = (),
) -> tuple[Doc, Doc, list[Doc]]:
    """KubeadmControlPlane + its machine template, then per pool templates and a MachineDeployment.

    ``control_plane_only`` adds ``files``, ``preKubeadmCommands`` and ``postKubeadmCommands`` to control-plane machines
    (vSphere's kube-vip); ``addons`` (vSphere's ClusterResourceSets: CPI, CSI) follow the health check.
    """
    cp_template = machine_template(f"{cluster.name}-control-plane", CONTROL_PLANE_SIZE)
    config: Doc = {"clusterConfiguration": cluster_configuration(cluster, nodes.cluster_configuration)}
    if control_plane_only.get("files"):
        config["files"] = list(control_plane_only["files"])
    if nodes.registration()["nodeRegistration"]:
        config.update(initConfiguration=nodes.registration(), joinConfiguration=nodes.registration())
    commands = [*nodes.pre_commands, *control_plane_only.get("preKubeadmCommands", ())]
    if commands:
        config["preKubeadmCommands"] = commands
    if control_plane_only.get("postKubeadmCommands"):
        config["postKubeadmCommands"] = list(control_plane_only["postKubeadmCommands"])
    spec = {
        "replicas": nodes.control_plane_replicas,
        "version": semver(cluster.kubernetes_version),
        "machineTemplate": {"spec": {"infrastructureRef": ref(cp_template)}},
        "kubeadmConfigSpec": config,
    }
    control_plane = obj(CONTROL_PLANE, "KubeadmControlPlane", meta(cluster, cluster.name), spec)
    pools = with_pools(cluster, lambda pool: kubeadm_pool(cluster, pool, machine_template, nodes))
    return infra, control_plane, [cp_template, *pools, health_check(cluster), *addons]


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
        "metadata": meta(cluster, name, dict(PRUNE_LAST)),  # named after its content: common.content_named
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
        "template": {"metadata": {"labels": machine_labels(cluster, pool)}, "spec": machine},
    }
    labels = autoscaler_labels(pool, CLUSTER_AUTOSCALER)
    deployment = obj(CORE, "MachineDeployment", meta(cluster, name, autoscaler_annotations(pool), labels), spec)
    return [deployment, template, config]


def machine_labels(cluster: Cluster, pool: NodePool) -> dict[str, str]:
    """The Machines' labels: the cluster name, plus the pool labels Cluster API syncs onto Nodes.

    The kubelet refuses to set ``node-role.kubernetes.io/*`` itself; CAPI copies it (and the
    node-restriction / node.cluster.x-k8s.io domains) from the Machine, whose labels come from the
    MachineDeployment template through its MachineSet, in place, without a rollout.
    """
    synced = {k: v for k, v in pool.labels.items() if capi_synced(k)}
    return dict(sorted({CLUSTER_NAME_LABEL: cluster.name, **synced}.items()))


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
    def template(name: str, instance_type: str) -> Doc:
        return machine_template(cluster, name, instance_type)

    addons = [*cpi_addons(cluster), *csi_addons(cluster)]
    return kubeadm(cluster, vsphere_cluster(cluster), template, _VSPHERE_NODES, kube_vip(cluster), addons)


def docker(cluster: Cluster, mesh: str) -> tuple[Doc, Doc, list[Doc]]:
    infra = obj(DOCKER, "DockerCluster", meta(cluster, cluster.name), {})

    def machine_template(name: str, instance_type: str) -> Doc:
        metadata = meta(cluster, name, dict(PRUNE_LAST))  # named after its content: common.content_named
        return obj(DOCKER, "DockerMachineTemplate", metadata, {"template": {"spec": {}}})

    return kubeadm(cluster, infra, machine_template, _DOCKER_NODES)
