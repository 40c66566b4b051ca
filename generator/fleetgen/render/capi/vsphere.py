"""vSphere (CAPV v1.16): VSphereCluster, VSphereMachineTemplates and the kube-vip control-plane VIP.

Field meanings are CAPV's (``api/govmomi/v1beta2/types.go`` ``VirtualMachineCloneSpec``,
``vspherecluster_types.go``); where CAPV falls back when a field is empty is in
``pkg/services/govmomi/vcenter/clone.go`` and ``pkg/services/vimmachine.go``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ...emit import dump
from ...errors import FleetgenError
from ...machines import API_SERVER_PORT, vsphere_size
from ...model import Cluster, Provider
from .common import PRUNE_LAST, Doc, meta, obj, version_parts

VSPHERE = "infrastructure.cluster.x-k8s.io/v1beta2"
DEFAULT_NETWORK = "VM Network"  # vSphere's default port group, CAPV's templates' VSPHERE_NETWORK example
CONTROL_PLANE_SIZE = "2x8"
# kube-vip exactly as CAPV v1.16.1's templates pin it (templates/cluster-template.yaml).
KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip:v0.6.4"
KUBE_VIP_MANIFEST = "/etc/kubernetes/manifests/kube-vip.yaml"
KUBE_VIP_HOSTS = "/etc/kube-vip.hosts"


def endpoint(server: str) -> Doc:
    """``{host, port}`` of an https URL; no port means the API server's own 6443 (kubeadm's bindPort)."""
    parsed = urlsplit(server)
    return {"host": parsed.hostname or "", "port": parsed.port or API_SERVER_PORT}


def vsphere_cluster(cluster: Cluster) -> Doc:
    """``server`` and ``thumbprint`` are what CAPV connects with (controllers/vspherecluster_reconciler.go)."""
    provider = cluster.provider
    spec: Doc = {"server": provider.server}
    if provider.thumbprint:
        spec["thumbprint"] = provider.thumbprint  # VSphereVMs inherit it (pkg/services/vimmachine.go)
    if cluster.server:
        spec["controlPlaneEndpoint"] = endpoint(cluster.server)
    return obj(VSPHERE, "VSphereCluster", meta(cluster, cluster.name), spec)


def placement(provider: Provider) -> Doc:
    """Only the placement fields fleet.yaml gives: an empty string is invalid (minLength 1) in CAPV's CRD."""
    fields = {
        "datastore": provider.datastore,
        "folder": provider.folder,
        "resourcePool": provider.resource_pool,
        "storagePolicyName": provider.storage_policy,
    }
    return {k: v for k, v in fields.items() if v}


def machine_template(cluster: Cluster, name: str, instance_type: str) -> Doc:
    provider = cluster.provider
    size = vsphere_size(instance_type)
    if size is None:  # lint's vsphere-instance-type error, rendered only when that finding was suppressed
        raise FleetgenError(
            f"cannot render a vSphere machine of {cluster.name}: instanceType {instance_type!r} names no size "
            "(vsphere-instance-type); fix it instead of suppressing the finding"
        )
    cpus, gib = size
    device = {"dhcp4": True, "networkName": provider.network or DEFAULT_NETWORK}
    machine = {
        "cloneMode": "linkedClone",
        "datacenter": provider.datacenter,
        "diskGiB": 25,
        "memoryMiB": gib * 1024,
        "network": {"devices": [device]},
        "numCPUs": cpus,
        "os": "Linux",
        "powerOffMode": "trySoft",
        "server": provider.server,
        "template": provider.template,
        **placement(provider),
    }
    spec = {"template": {"spec": dict(sorted(machine.items()))}}
    # named after its content (common.content_named), the old one pruned last
    return obj(VSPHERE, "VSphereMachineTemplate", meta(cluster, name, dict(PRUNE_LAST)), spec)


# ------------------------------------------------------------------ kube-vip


def kube_vip_address(cluster: Cluster) -> str | None:
    """The VIP kube-vip announces: the host of ``server`` when it is an IPv4 address."""
    host = urlsplit(cluster.server or "").hostname or ""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return None


def _kube_vip_pod(address: str) -> Doc:
    """The static pod CAPV's templates write (ARP mode, leader election, control plane and Services)."""
    env = {
        "vip_arp": "true",
        "port": str(API_SERVER_PORT),
        "vip_interface": "",
        "vip_cidr": "32",
        "cp_enable": "true",
        "cp_namespace": "kube-system",
        "vip_ddns": "false",
        "svc_enable": "true",
        "svc_leasename": "plndr-svcs-lock",
        "svc_election": "true",
        "vip_leaderelection": "true",
        "vip_leasename": "plndr-cp-lock",
        "vip_leaseduration": "15",
        "vip_renewdeadline": "10",
        "vip_retryperiod": "2",
        "address": address,
        "prometheus_server": ":2112",
    }
    container = {
        "args": ["manager"],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "image": KUBE_VIP_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "name": "kube-vip",
        "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
        "volumeMounts": [
            {"mountPath": "/etc/kubernetes/admin.conf", "name": "kubeconfig"},
            {"mountPath": "/etc/hosts", "name": "etchosts"},
        ],
    }
    volumes = [
        {"hostPath": {"path": "/etc/kubernetes/admin.conf"}, "name": "kubeconfig"},
        {"hostPath": {"path": KUBE_VIP_HOSTS, "type": "File"}, "name": "etchosts"},
    ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "kube-vip", "namespace": "kube-system"},
        "spec": {"containers": [container], "hostNetwork": True, "volumes": volumes},
    }


def kube_vip(cluster: Cluster) -> Doc:
    """KubeadmConfigSpec additions of the control plane: the static pod, its hosts file, and the init workaround.

    From kubeadm 1.29 ``admin.conf`` gets its rights only once ``kubeadm init`` has run, so the
    first control-plane node's kube-vip must use ``super-admin.conf`` to win the VIP that init
    itself waits for (kube-vip/kube-vip#684). CAPV runs a script for that; fleetgen knows the
    version, so the command is written only for 1.29+, and only acts on the init node (the one
    with ``/run/kubeadm/kubeadm.yaml``, where CABPK puts the init configuration). Once init has
    run, a post command points that kube-vip back at ``admin.conf`` (CAPV's template leaves it on
    ``super-admin.conf``, whose ``system:masters`` bypasses RBAC for the machine's lifetime): by
    then kubeadm has bound ``admin.conf``'s group ``kubeadm:cluster-admins``, and the kubelet
    restarts the static pod from its changed manifest (the VIP moves for a few seconds).
    """
    address = kube_vip_address(cluster)
    if cluster.provider.load_balancer != "kube-vip" or address is None:
        return {}
    files = [
        {
            "content": dump([_kube_vip_pod(address)]),
            "owner": "root:root",
            "path": KUBE_VIP_MANIFEST,
            "permissions": "0644",
        },
        {
            "content": "127.0.0.1 localhost kubernetes\n",
            "owner": "root:root",
            "path": KUBE_VIP_HOSTS,
            "permissions": "0644",
        },
    ]
    out: Doc = {"files": files}
    if version_parts(cluster.kubernetes_version)[:2] >= (1, 29):
        out["preKubeadmCommands"] = [
            f"if [ -f /run/kubeadm/kubeadm.yaml ]; then sed -i 's#path: /etc/kubernetes/admin.conf#"
            f"path: /etc/kubernetes/super-admin.conf#' {KUBE_VIP_MANIFEST}; fi"
        ]
        out["postKubeadmCommands"] = [
            f"if [ -f /run/kubeadm/kubeadm.yaml ]; then sed -i 's#path: /etc/kubernetes/super-admin.conf#"
            f"path: /etc/kubernetes/admin.conf#' {KUBE_VIP_MANIFEST}; fi"
        ]
    return out
