"""Argo CD's RBAC on each spoke (``clusters/<cluster>/access.yaml``), applied once by hand at bootstrap.

Grants are derived from the fleet, never wildcards that reach subresources. Kubernetes RBAC
matches ``resources: ["*"]`` against every subresource too (``nodes/proxy``, ``pods/exec``,
``pods/attach``, ``services/proxy``: pkg/apis/rbac/v1/evaluation_helpers.go ResourceMatches),
and a rule naming ``pods`` matches no subresource. So every rule here names resources.

The identity is the group ``fleetgen:argocd-manager`` (EKS maps Argo CD's IAM role to it with an
access entry; on GKE and AKS the operator adds the Google group e-mail or Entra object id to the
bindings) and, only where the cluster Secret's credential is merged out of git (vSphere, Docker,
imported), the ServiceAccount ``kube-system/fleetgen-argocd-manager`` whose token that is. Pull-mode
clusters get no Argo CD identity at all: the argocd-agent's own application controller applies
there under the RBAC of its install.

Workloads (``workloads[]``) reach members through Karmada, which applies them with its own join
credential, so they need no Argo CD grant on spokes; Argo CD's grants for them are on the Karmada
API server (``bootstrap/karmada-access.yaml``, below), limited to their namespaces and listed kinds.

What it may do on a push-mode spoke:

* in each namespace Argo CD deploys to (the ApplicationSets whose selector matches the cluster,
  and fleetgen's ``monitoring``): write the namespaced kinds deployed there, and read, in every one
  of these namespaces alike, every kind written in any of them (``uniform_reads``: Argo CD's cache
  drops a kind it may list in one namespace of the cluster but not in another). For
  ``monitoring`` those are exactly the kinds of the rendered monitoring dir; for a set's namespace
  the kinds in ``DEPLOYABLE`` (workload kinds, config, Secrets, Services, RBAC, monitors). Argo CD
  may create Roles and RoleBindings, but the API server's escalation check limits them to what
  this identity already holds;
* in each namespace the cluster's extra manifests (``extraManifests[].clusters``) name: read and
  write exactly the kinds of those documents there (added to the above where a set deploys too);
* read the kinds Argo CD's resource tree shows beneath them (``OBSERVED``: events, pods, replica
  sets; not Endpoints/EndpointSlices, which Argo CD's default ``resource.exclusions`` never lists);
* cluster-wide: get/list/watch Namespaces, never create: this file creates every namespace Argo CD
  deploys to, and CreateNamespace=true only GETs a namespace that exists; for the cluster's extra
  manifests' cluster-scoped objects, get/list/watch their
  kinds (Argo CD's cache lists whole kinds) and update/patch/delete those named objects only (RBAC
  cannot limit ``create`` by name, so they are created here, at bootstrap, and Argo CD adopts them);
  ``escalate`` on exactly the extra ClusterRoles and Roles and ``bind`` on exactly the roles the
  extra bindings refer to, by name, without which the API server's escalation check refuses Argo
  CD's every write of them (the first sync adds its tracking annotation); extra Roles are created
  here too, for the same reason as the cluster-scoped objects.
  No RBAC of fleetgen's own: Prometheus' ClusterRole and ClusterRoleBinding (``fleet-prometheus``)
  are in this file, applied by an admin, and never in a tree Argo CD syncs: keeping them would need
  update on RBAC objects, which the API server allows only with ``escalate``/``bind`` or by holding
  every permission they grant (nodes, ``/metrics``).

The Argo CD cluster Secret lists the same namespaces (``namespaces``) with ``clusterResources:
"true"`` (argo-cd util/db/cluster.go), so Argo CD watches nothing else. Set
``resource.respectRBAC: normal`` in ``argocd-cm`` so the controller skips the kinds it may not list
instead of failing (argo-cd docs/operator-manual/declarative-setup.md "Auto respect RBAC").

Every namespace fleetgen creates carries Pod Security Admission labels (``enforce``, ``audit``,
``warn`` at ``security.podSecurity``, default ``baseline``). Re-apply the file when the set of
namespaces changes. Removing a set drops its namespace from the cluster Secret's ``namespaces`` at
once (git), so Argo CD stops acting there; its Role, applied by hand, is deleted by hand
(``kubectl -n <ns> delete role,rolebinding fleetgen:argocd-manager:deploy``, docs/rotation.md).
``kubectl apply --prune`` does not do it: it only prunes in the namespaces the file still names, and
its default allowlist would prune Namespaces (with everything in them) but not Roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model import Cluster, Fleet
from ..selectors import matches
from ..upstream import api_group
from . import File
from .argocd import (
    MONITORING_NAMESPACE,
    auth_config,
    delivered_sets,
    deploy_namespaces,
    extra_cluster_scoped,
    extra_namespaced_kinds,
)
from .karmada import cluster_taint_policies
from .observability import prometheus_cluster_rbac, spoke_documents
from .projects import karmada_namespaces
from .security import SPOKE_GROUP, namespace

RBAC = "rbac.authorization.k8s.io"
RBAC_API = f"{RBAC}/v1"
GROUP = SPOKE_GROUP
SERVICE_ACCOUNT = "fleetgen-argocd-manager"
SERVICE_ACCOUNT_NAMESPACE = "kube-system"
CLUSTER_ROLE = "fleetgen:argocd-manager:cluster"
DEPLOY_ROLE = "fleetgen:argocd-manager:deploy"
READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = ("create", "update", "patch", "delete")
LABELS = {"app.kubernetes.io/managed-by": "fleetgen"}

# Namespaced kinds an ApplicationSet may deploy (API group -> resources). No subresources.
DEPLOYABLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("configmaps", "persistentvolumeclaims", "pods", "secrets", "serviceaccounts", "services")),
    ("apps", ("daemonsets", "deployments", "replicasets", "statefulsets")),
    ("autoscaling", ("horizontalpodautoscalers",)),
    ("batch", ("cronjobs", "jobs")),
    ("monitoring.coreos.com", ("podmonitors", "prometheusrules", "servicemonitors")),
    ("networking.k8s.io", ("ingresses", "networkpolicies")),
    ("policy", ("poddisruptionbudgets",)),
    (RBAC, ("rolebindings", "roles")),
)
# Read only: what Argo CD's resource tree and health checks look at beneath deployed objects. Not Endpoints or
# EndpointSlices: Argo CD v3's default argocd-cm excludes both from its cache (manifests/base/config/argocd-cm.yaml
# ``resource.exclusions``), so it never lists them.
OBSERVED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("", ("events", "pods")),
    ("apps", ("controllerrevisions", "replicasets", "statefulsets")),
)
IRREGULAR_PLURALS = {"endpoints": "endpoints"}
Kinds = Sequence[tuple[str, Iterable[str]]]  # (API group, resources) pairs, as DEPLOYABLE
KARMADA_ACCESS = "bootstrap/karmada-access.yaml"
KARMADA_GROUP = "fleetgen:argocd-karmada"
KARMADA_POLICIES = ("policy.karmada.io", ("overridepolicies", "propagationpolicies"))


def render(fleet: Fleet) -> list[File]:
    return [*(f for c in fleet.clusters for f in cluster_files(fleet, c)), *fleet_files(fleet)]


def cluster_files(fleet: Fleet, cluster: Cluster) -> list[File]:
    """One cluster's RBAC file (a render unit of ``fleetgen.units``)."""
    return [File(f"clusters/{cluster.name}/access.yaml", tuple(access_documents(fleet, cluster)))]


def fleet_files(fleet: Fleet) -> list[File]:
    return (
        [File(KARMADA_ACCESS, tuple(karmada_access_documents(fleet)))]
        if fleet.karmada_server and fleet.workloads
        else []
    )


def access_documents(fleet: Fleet, cluster: Cluster) -> list[dict[str, Any]]:
    adopted = extra_cluster_scoped(fleet, cluster)
    namespaces = deploy_namespaces(fleet, cluster)
    docs = [namespace_object(fleet, ns) for ns in namespaces]
    members = subjects(fleet, cluster)
    if members:
        if any(s["kind"] == "ServiceAccount" for s in members):
            docs.insert(0, service_account())
        docs += [cluster_role(fleet, cluster, adopted), binding("ClusterRoleBinding", CLUSTER_ROLE, members)]
        written = {ns: namespace_kinds(fleet, cluster, ns) for ns in namespaces}
        read = uniform_reads(written)
        for ns in namespaces:
            docs += [
                deploy_role(fleet, cluster, ns, read, written[ns]),
                binding("RoleBinding", DEPLOY_ROLE, members, ns),
            ]
        # Argo CD could create these only if it held every permission they grant (escalation check)
        adopted = adopted + extra_rbac(fleet, cluster, "Role")
    return docs + prometheus_cluster_rbac() + adopted


def has_argocd_identity(cluster: Cluster) -> bool:
    """Hub Argo CD acts on push-mode clusters only; pull-mode spokes are served by their agent."""
    return cluster.argocd_mode == "push"


def plural(kind: str) -> str:
    """A kind's resource name, as the API server's default REST mapping spells it."""
    lower = kind.lower()
    if lower in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[lower]
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(LABELS)
    return meta


def service_account() -> dict[str, Any]:
    meta = _meta(SERVICE_ACCOUNT, SERVICE_ACCOUNT_NAMESPACE)
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def rules_for(table: Iterable[tuple[str, Iterable[str]]], verbs: Iterable[str]) -> list[dict[str, Any]]:
    """One rule per API group, resources sorted: merged from ``table``, no wildcard anywhere."""
    merged: dict[str, set[str]] = {}
    for group, resources in table:
        merged.setdefault(group, set()).update(resources)
    return [{"apiGroups": [g], "resources": sorted(merged[g]), "verbs": list(verbs)} for g in sorted(merged)]


def cluster_role(fleet: Fleet, cluster: Cluster, adopted: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = [("", ["namespaces"]), *((api_group(d), [plural(d["kind"])]) for d in adopted)]
    rules = rules_for(kinds, READ_VERBS) + [by_name_rule(doc) for doc in adopted]
    rules += bind_rules([d for d in adopted if d["kind"] == "ClusterRoleBinding"])
    return {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _meta(CLUSTER_ROLE), "rules": rules}


def by_name_rule(doc: dict[str, Any]) -> dict[str, Any]:
    """Keep one named cluster-scoped object in sync; creating it is left to the bootstrap file.

    An adopted ClusterRole also gets ``escalate`` by name: every update of a role (Argo CD's first
    sync adds its tracking annotation) passes the API server's escalation check only with
    ``escalate`` on that role's name or holding every permission it grants, cluster-wide
    (kubernetes ``pkg/registry/rbac/clusterrole/policybased/storage.go`` ``Update`` →
    ``RoleEscalationAuthorized``, ``pkg/registry/rbac/escalation_check.go``: the request's name is
    matched, so ``resourceNames`` limits it to this one object).
    """
    resource = plural(doc["kind"])
    names = [doc["metadata"]["name"]]
    verbs = ["update", "patch", "delete"]
    if is_role(doc):
        verbs.append("escalate")
    return {"apiGroups": [api_group(doc)], "resources": [resource], "resourceNames": names, "verbs": verbs}


def is_role(doc: dict[str, Any]) -> bool:
    return api_group(doc) == RBAC and doc["kind"] in ("ClusterRole", "Role")


def extra_rbac(fleet: Fleet, cluster: Cluster, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
    """The cluster's extra documents of the RBAC ``kind`` (in ``namespace`` if given), in their order."""
    return [
        d
        for d in fleet.spoke_extras(cluster.name)
        if api_group(d) == RBAC
        and d["kind"] == kind
        and (namespace is None or d["metadata"].get("namespace") == namespace)
    ]


def bind_rules(bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``bind`` on exactly the roles ``bindings`` refer to: the API server writes a binding only for a
    client with ``bind`` on its ``roleRef`` (by kind and name, checked in the binding's namespace) or
    holding every permission of that role (``pkg/registry/rbac/escalation_check.go``
    ``BindingAuthorized``; ``…/clusterrolebinding/policybased/storage.go`` and the RoleBinding one).
    A ``roleRef`` that is not a Role or ClusterRole by name gets none (the schema check reports it)."""
    refs = set()
    for doc in bindings:
        ref = doc.get("roleRef")
        if isinstance(ref, dict) and ref.get("kind") in ("ClusterRole", "Role") and isinstance(ref.get("name"), str):
            refs.add((plural(ref["kind"]), ref["name"]))
    return [
        {"apiGroups": [RBAC], "resources": [resource], "resourceNames": [name], "verbs": ["bind"]}
        for resource, name in sorted(refs)
    ]


def namespace_kinds(fleet: Fleet, cluster: Cluster, namespace: str) -> list[tuple[str, tuple[str, ...]]]:
    """What Argo CD writes in ``namespace``: the monitoring dir's kinds there; where a set delivered to
    ``cluster`` deploys, DEPLOYABLE plus the sets' ``extraResources``; and the kinds of the cluster's
    extra manifests in that namespace (only those, in a namespace nothing else deploys to)."""
    extra = [(group, (plural(kind),)) for group, kind in extra_namespaced_kinds(fleet, cluster, namespace)]
    if namespace != MONITORING_NAMESPACE:
        sets = [a for a in delivered_sets(fleet) if a.namespace == namespace and matches(a.clusters, cluster.labels)]
        deployed = [*DEPLOYABLE, *((group, (resource,)) for a in sets for group, resource in a.extra_resources)]
        return [*(deployed if sets else []), *extra]
    # the cluster's own monitoring dir (not another cluster's: a file reads only its own cluster, so
    # fleetgen.units can reuse it when another cluster changes)
    monitoring = [
        (api_group(d), (plural(d["kind"]),)) for d in spoke_documents(fleet, cluster) if "namespace" in d["metadata"]
    ]
    return [*monitoring, *extra]


def uniform_reads(written: Mapping[str, Kinds]) -> Kinds:
    """What Argo CD may read in every namespace of the cluster (``written``: namespace -> the kinds written
    there): each kind written in any of them, and OBSERVED.

    Argo CD's cluster cache lists a namespaced kind once per namespace of the cluster Secret, and the first
    list that is forbidden drops the kind for the whole cluster while the other namespaces' watches keep
    running (gitops-engine ``pkg/cache/cluster.go`` ``startMissingWatches``/``sync``, Argo CD v3.5.1, with
    ``resource.respectRBAC: normal``; without it the whole cache fails). A kind readable in ``production``
    but not in ``monitoring`` therefore disappears from Argo CD's view: its objects are judged cluster-scoped
    against the project (``controller/state.go``), status Unknown. So every namespace reads the same kinds;
    writes stay per namespace."""
    return [*(kind for kinds in written.values() for kind in kinds), *OBSERVED]


def deploy_role(fleet: Fleet, cluster: Cluster, namespace: str, read: Kinds, written: Kinds) -> dict[str, Any]:
    """Argo CD's Role in ``namespace``: ``read`` (the same in every namespace of the cluster, see
    ``uniform_reads``), writes of ``written``, the kinds deployed here; for the extra manifests' Roles there (adopted:
    access.yaml creates them, since ``escalate`` by name cannot authorize a create, whose request has no
    name) ``escalate`` by name, and for their RoleBindings ``bind`` on the roles they refer to."""
    rules = rules_for(read, READ_VERBS) + rules_for(written, WRITE_VERBS)
    roles = sorted({d["metadata"]["name"] for d in extra_rbac(fleet, cluster, "Role", namespace)})
    if roles:
        rules.append({"apiGroups": [RBAC], "resources": ["roles"], "resourceNames": roles, "verbs": ["escalate"]})
    rules += bind_rules(extra_rbac(fleet, cluster, "RoleBinding", namespace))
    return {"apiVersion": RBAC_API, "kind": "Role", "metadata": _meta(DEPLOY_ROLE, namespace), "rules": rules}


def subjects(fleet: Fleet, cluster: Cluster) -> list[dict[str, Any]]:
    """Who the bindings name on ``cluster``; empty where hub Argo CD never acts."""
    if not has_argocd_identity(cluster):
        return []
    out: list[dict[str, Any]] = [{"kind": "Group", "apiGroup": RBAC, "name": GROUP}]
    if auth_config(cluster) is None:  # the out-of-git token in the cluster Secret is this account's
        out.append({"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": SERVICE_ACCOUNT_NAMESPACE})
    return out


def binding(kind: str, role: str, members: list[dict[str, Any]], namespace: str | None = None) -> dict[str, Any]:
    role_kind = "ClusterRole" if kind == "ClusterRoleBinding" else "Role"
    return {
        "apiVersion": RBAC_API,
        "kind": kind,
        "metadata": _meta(role, namespace),
        "subjects": members,
        "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
    }


def namespace_object(fleet: Fleet, name: str) -> dict[str, Any]:
    return namespace(fleet, name, dict(LABELS))


# ---------------------------------------------------------------- Karmada


def karmada_access_documents(fleet: Fleet) -> list[dict[str, Any]]:
    """Argo CD's RBAC on the Karmada API server, applied there once by hand at bootstrap.

    The group ``fleetgen:argocd-karmada`` (the subject of the client certificate merged into the
    ``karmada`` cluster Secret) may write the workloads' listed kinds and fleetgen's policies in the
    workload namespaces, and keep fleetgen's ClusterTaintPolicies by name. Nothing in
    ``karmada-es-*`` (Works, which Karmada applies to members with its join credential), nothing in
    ``karmada-cluster`` (the members' credentials), no Cluster objects and no RBAC.
    """
    taints = cluster_taint_policies()
    members = [{"kind": "Group", "apiGroup": RBAC, "name": KARMADA_GROUP}]
    namespaces = karmada_namespaces(fleet)
    kinds = [("", ["namespaces"]), *((api_group(d), [plural(d["kind"])]) for d in taints)]
    rules = rules_for(kinds, READ_VERBS) + [by_name_rule(d) for d in taints]
    role = {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _meta(CLUSTER_ROLE), "rules": rules}
    docs = [namespace_object(fleet, ns) for ns in namespaces]
    docs += [role, binding("ClusterRoleBinding", CLUSTER_ROLE, members)]
    written = {ns: [KARMADA_POLICIES, *workload_kinds(fleet, ns)] for ns in namespaces}
    read = [kind for kinds in written.values() for kind in kinds]  # the same in every namespace: uniform_reads
    for ns in namespaces:
        rules = rules_for(read, READ_VERBS) + rules_for(written[ns], WRITE_VERBS)
        docs += [
            {"apiVersion": RBAC_API, "kind": "Role", "metadata": _meta(DEPLOY_ROLE, ns), "rules": rules},
            binding("RoleBinding", DEPLOY_ROLE, members, ns),
        ]
    return docs + taints


def workload_kinds(fleet: Fleet, namespace: str) -> list[tuple[str, tuple[str, ...]]]:
    """The kinds ``workloads[].resources`` lists for the workloads of ``namespace``."""
    return [
        (r.api_version.rpartition("/")[0], (plural(r.kind),))
        for w in fleet.workloads
        if w.namespace == namespace
        for r in w.resources
    ]
