"""kubeadm cluster rules (vSphere, Docker): what CAPV, kubeadm, kube-vip and the kubelet need from fleet.yaml."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from ..findings import WARNING, Issue
from ..machines import API_SERVER_PORT, capi_synced, kubelet_settable, vsphere_size
from ..model import Cluster
from .registry import Context, flag, rule

KUBEADM_PROVIDERS = ("vsphere", "docker")


def _vsphere(ctx: Context) -> Iterator[Cluster]:
    """The vSphere clusters Cluster API creates (an ``external`` one has no CAPV objects)."""
    return (c for c in ctx.fleet.of_provider("vsphere") if c.provisioned)


@rule(
    "vsphere-thumbprint",
    WARNING,
    fix="set provider.thumbprint to vCenter's SHA-1 fingerprint "
    "(govc about.cert -k -thumbprint, or openssl x509 -fingerprint -sha1)",
)
def vsphere_thumbprint(ctx: Context) -> Iterator[Issue]:
    """A vSphere cluster has no `provider.thumbprint`, so CAPV does not verify vCenter's certificate.

    CAPV opens its vCenter session without TLS verification when `VSphereCluster.spec.thumbprint`
    is empty (`pkg/session/session.go` `newClient`: `insecure := thumbprint == ""`), and every
    VSphereVM inherits the cluster's thumbprint (`pkg/services/vimmachine.go`): anyone on the path
    to vCenter can read CAPV's credentials. The vSphere cloud controller fleetgen delivers uses the
    same thumbprint, or verifies against the node's system trust store without one.
    """
    for c in _vsphere(ctx):
        if not c.provider.thumbprint:
            yield flag(
                (*c.path, "provider", "server"),
                f"vSphere cluster {c.name!r} has no provider.thumbprint: CAPV connects to "
                f"{c.provider.server} without verifying its TLS certificate",
            )


@rule("vsphere-placement", WARNING, fix="set provider.datastore (or storagePolicyName) and provider.resourcePool")
def vsphere_placement(ctx: Context) -> Iterator[Issue]:
    """A vSphere cluster leaves the VMs' datastore or resource pool to govmomi's defaults.

    Without `datastore` or `storagePolicyName` CAPV asks govmomi for the datacenter's default
    datastore, and without `resourcePool` for the default resource pool
    (`pkg/services/govmomi/vcenter/clone.go`: `DefaultDatastore`, `ResourcePoolOrDefault`). Both
    fail ("default datastore resolves to multiple instances") as soon as the datacenter has more
    than one datastore or compute cluster, which is every production vCenter: the VMs are never
    created. Name them (`defaults.provider` can hold them for every cluster).
    """
    for c in _vsphere(ctx):
        p = c.provider
        missing = [] if p.datastore or p.storage_policy else ["datastore (or storagePolicyName)"]
        missing += [] if p.resource_pool else ["resourcePool"]
        if missing:
            yield flag(
                (*c.path, "provider", "datacenter"),
                f"vSphere cluster {c.name!r} names no {' and no '.join(missing)}: CAPV falls back to "
                f"govmomi's defaults, which fail when datacenter {p.datacenter!r} has more than one",
            )


@rule("vsphere-instance-type", fix="write the size as <CPUs>x<GiB> (4x16) or an EC2-style size (m6i.xlarge)")
def vsphere_instance_type(ctx: Context) -> Iterator[Issue]:
    """A vSphere node pool's `instanceType` names no machine size.

    vSphere has no instance types: fleetgen reads `<CPUs>x<GiB>` (`4x16` = 4 vCPUs, 16 GiB) or an
    EC2-style size suffix (`xlarge` = 4 vCPUs, 16 GiB) into the VSphereMachineTemplate's
    `numCPUs`/`memoryMiB`. Anything else would be a guess, so it is an error.
    """
    for c in _vsphere(ctx):
        for pool in c.node_pools:
            if vsphere_size(pool.instance_type) is None:
                yield flag(
                    (*pool.path, "instanceType"),
                    f"instanceType {pool.instance_type!r} of pool {pool.name!r} ({c.name}) is no vSphere "
                    "size: write <CPUs>x<GiB> (4x16) or an EC2-style size (m6i.xlarge)",
                )


def _host_port(server: str) -> tuple[str, int | None]:
    parsed = urlsplit(server)
    return parsed.hostname or "", parsed.port


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


@rule(
    "control-plane-vip",
    fix="give server as https://<free IPv4 address>:6443, or set provider.loadBalancer: "
    "external and run a load balancer in front of the control-plane VMs",
)
def control_plane_vip(ctx: Context) -> Iterator[Issue]:
    """A vSphere cluster's kube-vip cannot serve its `server`.

    With `provider.loadBalancer: kube-vip` (the default, as in CAPV's templates) every
    control-plane VM runs kube-vip as a static pod, which announces the host of `server` by ARP
    and hands connections to the API server on that VM's port 6443. The host must therefore be
    an IPv4 address (a free one in the VMs' network), and a port other than 6443 has nothing
    listening behind it.
    """
    for c in _vsphere(ctx):
        if c.provider.load_balancer != "kube-vip" or not c.server:
            continue
        host, port = _host_port(c.server)
        if not _is_ipv4(host):
            yield flag(
                (*c.path, "server"),
                f"kube-vip announces an IPv4 address, but the server of {c.name!r} names {host!r}",
            )
        elif port not in (None, API_SERVER_PORT):
            yield flag(
                (*c.path, "server"),
                f"server of {c.name!r} uses port {port}, but behind kube-vip the API server listens on "
                f"{API_SERVER_PORT}",
            )


@rule("endpoint-port", WARNING, fix="write the port: https://<host>:6443 (or the port your load balancer serves)")
def endpoint_port(ctx: Context) -> Iterator[Issue]:
    """A vSphere cluster's `server` has no port.

    A kubeadm API server listens on 6443, and fleetgen renders `controlPlaneEndpoint.port: 6443`
    for a `server` without a port (what kubelets and Cluster API dial). Argo CD and Karmada use the
    URL as written, i.e. port 443, where nothing answers unless a load balancer maps 443 to 6443.
    """
    for c in _vsphere(ctx):
        if c.server and _host_port(c.server)[1] is None:
            yield flag(
                (*c.path, "server"),
                f"server {c.server} of {c.name!r} has no port: Cluster API gets {API_SERVER_PORT}, "
                "Argo CD and Karmada dial 443",
            )


@rule(
    "node-label-dropped",
    fix="use a label the kubelet may set (no kubernetes.io/k8s.io prefix) or one Cluster API "
    "syncs (node-role.kubernetes.io/*, node-restriction.kubernetes.io/*, node.cluster.x-k8s.io/*)",
)
def node_label_dropped(ctx: Context) -> Iterator[Issue]:
    """A kubeadm node pool has a label that can never reach its Nodes.

    A kubeadm node gets its pool labels two ways: the kubelet's `--node-labels`, which may not
    hold `kubernetes.io`/`k8s.io` labels other than its own (`kubelet.kubernetes.io`,
    `node.kubernetes.io` and a few well-known keys; NodeRestriction), and Cluster API, which copies
    `node-role.kubernetes.io/*`, `node-restriction.kubernetes.io/*` and `node.cluster.x-k8s.io/*`
    from the Machine to the Node (CAPI `util/labels/helpers.go` `GetManagedLabels`); fleetgen puts
    those on the MachineDeployment's Machine template. Any other label in those namespaces is set
    by neither.
    """
    for c in ctx.fleet.of_provider(*KUBEADM_PROVIDERS):
        if not c.provisioned:
            continue
        for pool in c.node_pools:
            for key in pool.labels:
                if not kubelet_settable(key) and not capi_synced(key):
                    yield flag(
                        (*pool.path, "labels", key),
                        f"label {key!r} of pool {pool.name!r} ({c.name}) reaches no Node: the kubelet refuses "
                        "it and Cluster API does not sync it",
                    )
