"""Karmada policies: where each workload runs, how it differs per cluster, and when it moves.

Everything here is applied to the Karmada API server (``karmada/`` in the rendered tree).

Placement uses ``clusterAffinity.clusterNames``, resolved at render time, never a
``labelSelector``: the workload's selector is written over fleet.yaml's cluster labels, and
Karmada ``Cluster`` objects do not carry them (``karmadactl join``/``register`` set only
provider, region and zones). A label selector would match nothing, or whatever labels someone
added by hand. The names are the registered Karmada members the selector matches now; a
cluster that registers later joins on the next render, which ``check`` reports as stale.
An empty ``clusterNames`` would mean *every* cluster to Karmada, so a workload (or override
rule) that matches no member is not rendered at all.

Failover needs three pieces, all rendered or documented here:
  * NoExecute ``clusterTolerations`` on *every* PropagationPolicy, for both taints fleetgen's
    own ClusterTaintPolicies add. Karmada's taint manager (pkg/controllers/cluster/
    taint_manager.go, ``needEvictionWithCurrentTime``) evicts a binding at once from a cluster
    with any NoExecute taint its placement does not tolerate, and since v1.15 nothing adds
    default tolerations (karmada-webhook's ``--default-*-toleration-seconds`` were removed in
    commit cd1ae695f). So a taint fleetgen adds must be tolerated by every policy fleetgen
    renders: the seconds are ``failover.notReadySeconds``/``unreachableSeconds``, and
    ``DEFAULT_TOLERATION_SECONDS`` (300, the removed webhook default and Kubernetes'
    DefaultTolerationSeconds) for what fleet.yaml leaves out.
  * ``ClusterTaintPolicy`` objects that put the NoExecute taints on clusters: since v1.14 the
    cluster controller only manages the NoSchedule variants.
  * controller flags, listed in ``FAILOVER_FLAGS``.
``spec.failover.cluster.purgeMode: Gracefully`` pins graceful migration (new replicas become
healthy before the old ones are removed) whatever the controller's
``--no-execute-taint-eviction-purge-mode`` says. ``spec.failover.application`` is not
rendered: it reacts to the *application's* health, which fleet.yaml does not describe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..model import Cluster, Fleet, Override, Patch, Resource, Workload
from ..overriders import override_resources, unsupported_reason
from ..selectors import select
from . import File

POLICY_API = "policy.karmada.io/v1alpha1"
NOT_READY_TAINT = "cluster.karmada.io/not-ready"
UNREACHABLE_TAINT = "cluster.karmada.io/unreachable"
# What a workload without `failover` seconds tolerates: karmada-webhook's default before v1.15.
DEFAULT_TOLERATION_SECONDS = 300

# Path `karmadactl init` writes the Karmada API server kubeconfig to.
KARMADA_KUBECONFIG = "/etc/karmada/karmada-apiserver.config"
# `karmadactl token create --print-register-command` prints both values; never written to git.
BOOTSTRAP_TOKEN_VAR = "$KARMADA_BOOTSTRAP_TOKEN"
CA_CERT_HASH_VAR = "$KARMADA_CA_CERT_HASH"

FAILOVER_FLAGS: Mapping[str, tuple[str, ...]] = {
    # Failover is Beta and off by default (pkg/features/features.go); without it neither the
    # ClusterTaintPolicy controller nor taint-based eviction runs.
    # --enable-no-execute-taint-eviction defaults to false (options/failover.go): NoExecute
    # taints would otherwise only block scheduling. Gracefully is the flag's default, spelled
    # out so the rendered policies and the controller agree.
    "karmada-controller-manager": (
        "--feature-gates=Failover=true",
        "--enable-no-execute-taint-eviction=true",
        "--no-execute-taint-eviction-purge-mode=Gracefully",
    ),
    # Without it the webhook rejects any ClusterTaintPolicy whose taints have effect NoExecute.
    "karmada-webhook": ("--allow-no-execute-taint-policy=true",),
}


def render(fleet: Fleet) -> list[File]:
    if not fleet.workloads:
        return []
    members = karmada_members(fleet)
    files = [File("karmada/cluster-taint-policy.yaml", tuple(cluster_taint_policies()))]
    for workload in fleet.workloads:
        documents = workload_documents(workload, members)
        if documents:
            files.append(File(f"karmada/workloads/{workload.name}.yaml", tuple(documents)))
    return files


def karmada_members(fleet: Fleet) -> list[Cluster]:
    """Clusters that are (or will be, once joined) Karmada members: registered and not opted out."""
    return [c for c in fleet.clusters if c.registered and c.karmada_member]


def placement(workload: Workload, members: Sequence[Cluster]) -> list[str]:
    return sorted(c.name for c in select(workload.clusters, members))


def workload_documents(workload: Workload, members: Sequence[Cluster]) -> list[dict[str, Any]]:
    """PropagationPolicy, then the overrides; nothing when the workload lands on no member."""
    names = placement(workload, members)
    if not names:
        return []
    placed = [c for c in members if c.name in names]
    candidates = [
        propagation_policy(workload, names),
        *override_policies(workload, placed),
        global_service_policy(workload),
    ]
    return [doc for doc in candidates if doc is not None]


# ---------------------------------------------------------------- PropagationPolicy


def propagation_policy(workload: Workload, names: list[str]) -> dict[str, Any]:
    place: dict[str, Any] = {
        "clusterAffinity": {"clusterNames": names},
        "clusterTolerations": cluster_tolerations(workload),
    }
    place["replicaScheduling"] = replica_scheduling(workload, names)
    spec: dict[str, Any] = {"resourceSelectors": resource_selectors(workload, workload.resources), "placement": place}
    if workload.failover is not None:
        spec["failover"] = {"cluster": {"purgeMode": "Gracefully"}}
    return _policy("PropagationPolicy", workload.name, workload.namespace, spec)


def resource_selectors(workload: Workload, resources: Sequence[Resource]) -> list[dict[str, str]]:
    return [
        {"apiVersion": r.api_version, "kind": r.kind, "name": r.name, "namespace": workload.namespace}
        for r in resources
    ]


def replica_scheduling(workload: Workload, names: list[str]) -> dict[str, Any]:
    """Static weights -> Divided/Weighted; no weights -> every cluster runs the full count."""
    if not workload.weights:
        return {"replicaSchedulingType": "Duplicated"}
    scheduling: dict[str, Any] = {"replicaSchedulingType": "Divided", "replicaDivisionPreference": "Weighted"}
    # Weights for clusters outside the placement would never match a feasible cluster (lint:
    # unknown-cluster). With none left Karmada weighs every placed cluster 1, which is what
    # omitting weightPreference says.
    entries = [
        {"targetCluster": {"clusterNames": [name]}, "weight": workload.weights[name]}
        for name in names
        if name in workload.weights
    ]
    if entries:
        scheduling["weightPreference"] = {"staticWeightList": entries}
    return scheduling


def cluster_tolerations(workload: Workload) -> list[dict[str, Any]]:
    """Both taints of ``cluster_taint_policies``, always: an untolerated NoExecute taint evicts at once."""
    failover = workload.failover
    pairs = (
        (NOT_READY_TAINT, failover.not_ready_seconds if failover else None),
        (UNREACHABLE_TAINT, failover.unreachable_seconds if failover else None),
    )
    return [
        {
            "key": key,
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": DEFAULT_TOLERATION_SECONDS if seconds is None else seconds,
        }
        for key, seconds in pairs
    ]


# ---------------------------------------------------------------- OverridePolicy


def override_policies(workload: Workload, placed: Sequence[Cluster]) -> list[dict[str, Any]]:
    """One OverridePolicy per set of ``kinds``: a policy's rules apply to every resource it selects.

    Overrides without ``kinds`` stay in the policy named after the workload (every resource); those
    naming kinds go to ``<workload>-for-<kinds>``, selecting only those resources. Karmada applies
    the policies matching a resource in name order when they select it equally (by name here;
    pkg/util/overridemanager/overridemanager.go ``getOverridersFromOverridePolicies``), so the
    workload-wide overrides come first.
    """
    groups: dict[tuple[str, ...], list[Override]] = {}
    for override in workload.overrides:
        groups.setdefault(override.kinds, []).append(override)
    policies = []
    for kinds in sorted(groups):
        resources = override_resources(workload, kinds)
        rules = [rule for o in groups[kinds] if (rule := override_rule(o, placed)) is not None]
        if resources and rules:
            spec = {"resourceSelectors": resource_selectors(workload, resources), "overrideRules": rules}
            policies.append(_policy("OverridePolicy", override_policy_name(workload, kinds), workload.namespace, spec))
    return policies


def override_policy_name(workload: Workload, kinds: Sequence[str]) -> str:
    return "-".join([workload.name, *(["for", *(k.lower() for k in kinds)] if kinds else [])])


def override_rule(override: Override, placed: Sequence[Cluster]) -> dict[str, Any] | None:
    """One rule per fleet override, restricted to clusters the workload is placed on."""
    names = sorted(c.name for c in select(override.clusters, placed))
    plaintext = [plaintext_overrider(p) for p in override.patches if unsupported_reason(p) is None]
    if not names or not plaintext:
        return None
    return {"targetCluster": {"clusterNames": names}, "overriders": {"plaintext": plaintext}}


def plaintext_overrider(patch: Patch) -> dict[str, Any]:
    """RFC 6902 op -> Karmada plaintext overrider: the same JSON pointer, ``op`` becomes ``operator``."""
    overrider: dict[str, Any] = {"path": patch.path, "operator": patch.op}
    if patch.op != "remove":
        overrider["value"] = patch.value
    return overrider


def global_service_policy(workload: Workload) -> dict[str, Any] | None:
    """Cilium global-service annotations on the workload's Services, in every cluster it runs in."""
    services = [r for r in workload.resources if r.api_version == "v1" and r.kind == "Service"]
    if workload.global_service is None or not services:
        return None
    # No targetCluster: ClusterMesh needs the same annotated Service in each cluster.
    rule = {
        "overriders": {"annotationsOverrider": [{"operator": "add", "value": global_service_annotations(workload)}]}
    }
    spec = {"resourceSelectors": resource_selectors(workload, services), "overrideRules": [rule]}
    return _policy("OverridePolicy", f"{workload.name}-global-service", workload.namespace, spec)


def global_service_annotations(workload: Workload) -> dict[str, str]:
    gs = workload.global_service
    assert gs is not None
    shared = "true" if gs.shared else "false"
    annotations = {"service.cilium.io/global": "true", "service.cilium.io/shared": shared}
    if gs.affinity is not None:
        annotations["service.cilium.io/affinity"] = gs.affinity
    return annotations


# ---------------------------------------------------------------- ClusterTaintPolicy


def cluster_taint_policies() -> list[dict[str, Any]]:
    """NoExecute taints on the Ready condition, swapped the way Karmada swaps its NoSchedule ones.

    Two policies, not one: a policy adds *all* its taints when *all* its addOnConditions hold,
    so a single policy cannot put not-ready on False and unreachable on Unknown. Each taint is
    removed as soon as Ready leaves its status (True, or the other failure), so the two never
    coexist and each toleration counts from when its own taint appeared. No targetClusters:
    every member is covered, and a cluster leaving the fleet does not keep a stale taint.
    """
    return [
        _taint_policy("fleet-cluster-not-ready", NOT_READY_TAINT, "False"),
        _taint_policy("fleet-cluster-unreachable", UNREACHABLE_TAINT, "Unknown"),
    ]


def _taint_policy(name: str, key: str, ready_status: str) -> dict[str, Any]:
    return {
        "apiVersion": POLICY_API,
        "kind": "ClusterTaintPolicy",
        "metadata": {"name": name},
        "spec": {
            "addOnConditions": [_ready_condition("In", ready_status)],
            "removeOnConditions": [_ready_condition("NotIn", ready_status)],
            "taints": [{"key": key, "effect": "NoExecute"}],
        },
    }


def _ready_condition(operator: str, status: str) -> dict[str, Any]:
    return {"conditionType": "Ready", "operator": operator, "statusValues": [status]}


def _policy(kind: str, name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": POLICY_API, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


# ---------------------------------------------------------------- joining members


def member_commands(fleet: Fleet) -> list[tuple[str, str]]:
    """(cluster, command) that makes each member known to Karmada; empty without a Karmada server.

    Push members (Argo CD mode push) are joined from wherever both kubeconfigs are at hand;
    pull members (edge, outbound only) run ``register`` on the member itself, which installs
    karmada-agent. Flags as in pkg/karmadactl/join and pkg/karmadactl/register.
    """
    if fleet.karmada_server is None:
        return []
    endpoint = karmada_endpoint(register_server(fleet))
    return [
        (c.name, register_command(c, endpoint) if c.argocd_mode == "pull" else join_command(c))
        for c in karmada_members(fleet)
    ]


def register_server(fleet: Fleet) -> str:
    """Where a pull member dials: ``hub.karmada.externalServer``; ``server`` is the hub-internal name.

    Lint (karmada-external-server) requires the external one once a pull member exists, so the
    fallback only serves fleets without pull members.
    """
    return fleet.karmada_external_server or str(fleet.karmada_server)


def karmada_endpoint(server: str) -> str:
    """``register`` takes the API server as host:port, without a scheme."""
    parts = urlsplit(server)
    return f"{parts.hostname}:{parts.port or 443}"


def join_command(cluster: Cluster) -> str:
    return " ".join(
        [
            f"karmadactl join {cluster.name}",
            f"--kubeconfig={KARMADA_KUBECONFIG}",
            f"--cluster-kubeconfig={cluster.name}.kubeconfig",
            *_location_flags(cluster),
        ]
    )


def register_command(cluster: Cluster, endpoint: str) -> str:
    return " ".join(
        [
            f"karmadactl register {endpoint}",
            f'--token="{BOOTSTRAP_TOKEN_VAR}"',
            f'--discovery-token-ca-cert-hash="{CA_CERT_HASH_VAR}"',
            f"--cluster-name={cluster.name}",
            f"--kubeconfig={cluster.name}.kubeconfig",
            *_location_flags(cluster),
        ]
    )


def _location_flags(cluster: Cluster) -> list[str]:
    """Provider and region land in Cluster.spec, where Karmada spread constraints can use them."""
    flags = [f"--cluster-provider={cluster.provider.type}"] if cluster.provider.type != "imported" else []
    return [*flags, f"--cluster-region={cluster.region}"]
