"""Provider rules: what the cloud controllers need from fleet.yaml to bring a cluster up and let Argo CD in."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Issue
from ..machines import gke_initial_replicas, gke_regional
from ..model import Cluster
from ..versions import parse
from .registry import Context, flag, rule

CLOUDS = ("aws", "gcp", "azure")


def ca_command(cluster: Cluster) -> str:
    """The CLI call that prints the cluster's CA bundle as base64 PEM, ready for caData."""
    name, region, provider = cluster.name, cluster.region, cluster.provider
    if provider.type == "aws":
        return (
            f"aws eks describe-cluster --name {name} --region {region} "
            "--query cluster.certificateAuthority.data --output text"
        )
    if provider.type == "gcp":
        return (
            f"gcloud container clusters describe {name} --location {region} --project {provider.project} "
            "--format 'value(masterAuth.clusterCaCertificate)'"
        )
    return (
        f"az aks get-credentials --resource-group {provider.resource_group or name} --name {name} "
        "--file - | yq '.clusters[0].cluster.\"certificate-authority-data\"'"
    )


@rule("ca-data", fix="copy the API server's CA bundle (base64 PEM) into caData; the message names the command")
def ca_data(ctx: Context) -> Iterator[Issue]:
    """A push-mode cluster on EKS, GKE or AKS has a `server` but no `caData`.

    EKS, GKE and AKS API servers present certificates signed by a per-cluster CA that no system
    trust store holds, so Argo CD's connection fails with "x509: certificate signed by unknown
    authority" and nothing is ever synced. The CA is public: put its base64 PEM into `caData`
    (the message gives the provider's CLI call; for a cluster Cluster API created it is also the
    `certificate-authority-data` of the `<cluster>-kubeconfig` Secret on the hub).
    """
    for c in ctx.fleet.of_provider(*CLOUDS):
        if c.registered and c.argocd_mode == "push" and not c.ca_data:
            yield flag(
                (*c.path, "server"),
                f"{c.provider.type} cluster {c.name!r} has no caData: Argo CD cannot verify {c.server}",
                hint=f"set caData to the output of: {ca_command(c)}",
            )


def role_account(role_arn: str) -> str:
    """The account id field of an IAM ARN (``arn:aws:iam::<account>:role/<name>``)."""
    return role_arn.split(":")[4]


@rule("account-mismatch", fix="use the role of the cluster's own account, or correct accountID")
def account_mismatch(ctx: Context) -> Iterator[Issue]:
    """An EKS cluster's `roleARN` belongs to another AWS account than its `accountID`.

    Cluster API creates the cluster in `accountID` (through the AWSClusterRoleIdentity of that
    account), and the cluster's access entry maps `roleARN` into it. An access entry for a role
    of another account is accepted only if that role can also be assumed there, which is
    rarely the intent: usually one of the two values was copied from another cluster.
    """
    for c in ctx.fleet.of_provider("aws"):
        p = c.provider
        if p.role_arn and p.account_id and role_account(p.role_arn) != p.account_id:
            yield flag(
                (*c.path, "provider", "roleARN"),
                f"roleARN of cluster {c.name!r} is in account {role_account(p.role_arn)}, but its accountID "
                f"is {p.account_id}",
                related=((*c.path, "provider", "accountID"),),
            )


@rule("gke-version", fix='pin the GKE patch release, e.g. kubernetesVersion: "1.30.5"')
def gke_version(ctx: Context) -> Iterator[Issue]:
    """A GKE cluster's `kubernetesVersion` has no patch number, so Cluster API never converges.

    CAPG compares `spec.version` with GKE's running master version stripped of its `-gke.N`
    suffix (`1.30.5`) and calls UpdateCluster on every reconcile while they differ; a minor
    (`1.30`) never equals a running version, so the control plane never becomes ready and the
    kubeconfig is never written. Give the `MAJOR.MINOR.PATCH` GKE runs (`gcloud container
    get-server-config`). An `external` cluster has no CAPG object, so its version is not checked.
    """
    for c in ctx.fleet.of_provider("gcp"):
        if c.provisioned and len(parse(c.kubernetes_version)) < 3:
            yield flag(
                (*c.path, "kubernetesVersion"),
                f"GKE cluster {c.name!r} has version {c.kubernetes_version!r}: CAPG needs MAJOR.MINOR.PATCH",
            )


@rule(
    "vsphere-server",
    fix="set server to the control-plane endpoint Cluster API needs before the cluster exists: "
    "the free IPv4 address kube-vip announces (https://10.0.0.10:6443), or an external load "
    "balancer with provider.loadBalancer: external",
)
def vsphere_server(ctx: Context) -> Iterator[Issue]:
    """A managed vSphere cluster has no `server`: Cluster API has no control-plane endpoint for it.

    On vSphere nothing allocates the API server's address: CAPV takes it from the VSphereCluster's
    `spec.controlPlaneEndpoint` (cluster-api-provider-vsphere `apis/v1beta1/vspherecluster_types.go`;
    the VSphereCluster controller waits for it, and kubeadm bakes it into every certificate and
    kubeconfig), which fleetgen renders from `server`. Without it the cluster never comes up. An
    `external` cluster is not created by Cluster API and needs no endpoint before it is registered.
    """
    for c in ctx.fleet.of_provider("vsphere"):
        if c.provisioned and c.server is None:
            yield flag(c.path, f"vSphere cluster {c.name!r} has no server")


@rule("aks-system-pool", fix="give the first node pool min ≥ 1: AKS refuses a System pool that can scale to zero")
def aks_system_pool(ctx: Context) -> Iterator[Issue]:
    """The first node pool of an AKS cluster, its System pool, may scale to zero.

    fleetgen renders an AKS cluster's first node pool with `mode: System`, which carries CoreDNS
    and the other kube-system pods; AKS rejects a System pool whose autoscaler minimum is 0
    (Azure docs, "Use system node pools in AKS": system pools need at least one node), so the
    AzureManagedMachinePool never reconciles.
    """
    for c in ctx.fleet.of_provider("azure"):
        if c.node_pools and c.node_pools[0].min < 1:
            yield flag(
                (*c.node_pools[0].path, "min"),
                f"the first node pool of AKS cluster {c.name!r} is its System pool and needs min ≥ 1",
                hint="AKS refuses a System pool that can scale to zero",
            )


BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")  # PreferNoSchedule only steers the scheduler
# Taint keys each managed cluster's DNS tolerates with `operator: Exists` (so any value and effect):
# CoreDNS's `CriticalAddonsOnly` (kubernetes cluster/addons/dns/coredns/coredns.yaml.base; EKS's CoreDNS
# add-on and AKS's CoreDNS carry it, AKS's docs taint dedicated System pools with it), and on GKE
# kube-dns's `CriticalAddonsOnly` (cluster/addons/dns/kube-dns/kube-dns.yaml.base) plus GKE's
# `components.gke.io/gke-managed-components`.
DNS_TOLERATED = {
    "aws": frozenset({"CriticalAddonsOnly"}),
    "gcp": frozenset({"CriticalAddonsOnly", "components.gke.io/gke-managed-components"}),
    "azure": frozenset({"CriticalAddonsOnly"}),
}


@rule(
    "untainted-pool",
    fix="add a node pool without NoSchedule/NoExecute taints (it may scale from 0 where the cloud autoscales)",
)
def untainted_pool(ctx: Context) -> Iterator[Issue]:
    """Every node pool of an EKS, GKE or AKS cluster Cluster API creates has a NoSchedule or NoExecute taint.

    A pod runs only on a node whose NoSchedule/NoExecute taints it all tolerates. Cluster DNS
    tolerates system taints only (`CriticalAddonsOnly` in kubernetes'
    `cluster/addons/dns/coredns/coredns.yaml.base` and EKS's CoreDNS add-on, plus GKE's own
    `components.gke.io/gke-managed-components` for kube-dns, the control-plane taint for kubeadm's
    CoreDNS), and fleetgen's Prometheus and the workloads fleetgen delivers tolerate none. With
    only tainted pools (a GPU pool's `nvidia.com/gpu`, say) those pods stay Pending, and the
    autoscaler adds no node for them because no pool would fit: the cluster never serves DNS.
    A pool whose blocking taints are all keys cluster DNS tolerates (`DNS_TOLERATED`: operator
    `Exists`, any effect) still runs DNS there, as AKS's dedicated System pool with
    `CriticalAddonsOnly=true:NoSchedule` does (Azure docs, "Use system node pools in AKS"): the
    finding then names that pool and says only that pods without tolerations run nowhere.
    The untainted pool that fixes it may start at `min: 0` where an autoscaler scales it.
    fleetgen's own Cilium startup taint on GKE pools is not counted: it is not in fleet.yaml, the
    autoscaler ignores it, and cilium-operator removes it from every ready node. vSphere and Docker
    clusters are not checked: their kubeadm control-plane nodes run CoreDNS (it tolerates the
    control-plane taint), so a tainted worker pool there is a dedicated cluster, not a dead one.
    """
    for c in ctx.fleet.of_provider(*CLOUDS):
        pools = c.node_pools
        tainted = all(any(t.effect in BLOCKING_EFFECTS for t in p.taints) for p in pools)
        if c.provisioned and pools and tainted:
            tolerated = DNS_TOLERATED[c.provider.type]
            dns = [p for p in pools if all(t.key in tolerated for t in p.taints if t.effect in BLOCKING_EFFECTS)]
            if dns:
                keys = sorted({t.key for t in dns[0].taints if t.effect in BLOCKING_EFFECTS})
                yield flag(
                    pools[0].path[:-1],
                    f"every node pool of cluster {c.name!r} has a NoSchedule or NoExecute taint: pods without "
                    f"tolerations (Prometheus, workloads) can run nowhere (cluster DNS runs on pool "
                    f"{dns[0].name!r}, it tolerates {', '.join(keys)})",
                )
                continue
            yield flag(
                pools[0].path[:-1],
                f"every node pool of cluster {c.name!r} has a NoSchedule or NoExecute taint: cluster DNS and "
                "pods without tolerations (Prometheus, workloads) can run nowhere",
            )


@rule(
    "gke-regional-pool",
    fix="give the pool a min and max that admit a multiple of 3 nodes (3 per zone is min 3 or max ≥ 3), or put the "
    "cluster in one zone (region: us-central1-a)",
)
def gke_regional_pool(ctx: Context) -> Iterator[Issue]:
    """A node pool of a regional GKE cluster cannot hold a multiple of 3 nodes, so CAPG never creates the cluster.

    A regional GKE pool runs the same number of nodes in each of its 3 zones. CAPG's preflight check
    (`cloud/services/shared/machinepool.go` `ManagedMachinePoolPreflightCheck`, run for every pool
    before CreateCluster) refuses a MachinePool whose `replicas` is not a multiple of 3, and then
    neither the cluster nor any pool is created. fleetgen creates an autoscaled pool with its `min`
    raised to the next multiple of 3, so that multiple must not exceed `max`; a fixed pool
    (`min == max`) must itself be a multiple of 3. A zone (`us-central1-a`, two dashes) has no such
    limit.
    """
    for c in ctx.fleet.of_provider("gcp"):
        if not (c.provisioned and gke_regional(c.region)):
            continue
        for pool in c.node_pools:
            if pool.min <= pool.max and gke_initial_replicas(c.region, pool.min, pool.max) is None:
                yield flag(
                    (*pool.path, "min"),
                    f"GKE pool {pool.name!r} of regional cluster {c.name!r} (region {c.region}) spreads its nodes "
                    f"over 3 zones, but no multiple of 3 lies within min {pool.min} and max {pool.max}",
                )
