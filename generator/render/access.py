"""Spoke RBAC for Argo CD: ``clusters/<cluster>/access.yaml``, applied once by hand at bootstrap.

The identity Argo CD uses on a spoke is bound to a dedicated group, ``fleetgen:argocd-manager``,
and to the ServiceAccount ``kube-system/fleetgen-argocd-manager``; never ``system:masters``,
which bypasses RBAC and admission and cannot be revoked. EKS maps Argo CD's IAM role to the
group through an access entry (``kubernetesGroups: [fleetgen:argocd-manager]``, no
AmazonEKSClusterAdminPolicy). GKE and AKS name groups by Google group e-mail or Entra object id,
which fleet.yaml does not carry, so there the operator adds that subject to the bindings. The
ServiceAccount is the identity for clusters without cloud IAM (vSphere, Docker, imported): its
token goes into the Argo CD cluster Secret out of git (see argocd.py). In pull mode the agent's
own application controller acts locally under the RBAC of its install; these bindings are what
a namespaced agent install binds to.

What it may do:

* read everything cluster-wide (get/list/watch; Argo CD's cluster cache watches all kinds);
* create Namespaces, only when a set delivered to the cluster uses CreateNamespace;
* write (create/update/patch/delete) only in the namespaces Argo CD deploys to on this
  cluster: those of the ApplicationSets whose selector matches it, and ``monitoring``;
* update/patch/delete, by name only, the cluster-scoped objects of the cluster's monitoring
  dir (Prometheus' ClusterRole and ClusterRoleBinding). RBAC cannot limit ``create`` by name,
  so those objects are created here, at bootstrap, and Argo CD adopts them.

The target namespaces are rendered as Namespace objects: a Role needs its namespace to exist
before Argo CD ever syncs. Re-apply the file when the set of namespaces changes.
"""

from __future__ import annotations

from typing import Any

from ..model import Cluster, Fleet
from ..selectors import matches
from . import File
from .argocd import api_group, delivered_sets, spoke_cluster_scoped

RBAC = "rbac.authorization.k8s.io"
RBAC_API = f"{RBAC}/v1"
GROUP = "fleetgen:argocd-manager"
SERVICE_ACCOUNT = "fleetgen-argocd-manager"
SERVICE_ACCOUNT_NAMESPACE = "kube-system"
READ_ROLE = "fleetgen:argocd-manager:read"
WRITE_ROLE = "fleetgen:argocd-manager:write"
READ_VERBS = ["get", "list", "watch"]
WRITE_VERBS = ["create", "update", "patch", "delete"]
LABELS = {"app.kubernetes.io/managed-by": "fleetgen"}


def render(fleet: Fleet) -> list[File]:
    return [File(f"clusters/{c.name}/access.yaml", tuple(access_documents(fleet, c))) for c in fleet.clusters]


def access_documents(fleet: Fleet, cluster: Cluster) -> list[dict[str, Any]]:
    adopted = spoke_cluster_scoped(fleet, cluster)
    read = [read_cluster_role(fleet, cluster, adopted), _binding("ClusterRoleBinding", READ_ROLE)]
    docs = [service_account(), *read, *adopted]
    for namespace in deploy_namespaces(fleet, cluster):
        docs += [_namespace(namespace), write_role(namespace), _binding("RoleBinding", WRITE_ROLE, namespace)]
    return docs


def deploy_namespaces(fleet: Fleet, cluster: Cluster) -> list[str]:
    """Namespaces Argo CD deploys to on ``cluster``: every delivered set whose selector matches it."""
    return sorted({a.namespace for a in delivered_sets(fleet) if matches(a.clusters, cluster.labels)})


def creates_namespaces(fleet: Fleet, cluster: Cluster) -> bool:
    sets = [a for a in delivered_sets(fleet) if matches(a.clusters, cluster.labels)]
    return any(a.sync_policy.create_namespace for a in sets)


def _meta(name: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(LABELS)
    return meta


def service_account() -> dict[str, Any]:
    meta = _meta(SERVICE_ACCOUNT, SERVICE_ACCOUNT_NAMESPACE)
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def read_cluster_role(fleet: Fleet, cluster: Cluster, adopted: list[dict[str, Any]]) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": list(READ_VERBS)},
        {"nonResourceURLs": ["*"], "verbs": ["get"]},
    ]
    if creates_namespaces(fleet, cluster):
        rules.append({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create"]})
    rules += [_by_name_rule(doc) for doc in adopted]
    return {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": _meta(READ_ROLE), "rules": rules}


def _by_name_rule(doc: dict[str, Any]) -> dict[str, Any]:
    """Keep one named cluster-scoped object in sync; creating it is left to this file."""
    resource = doc["kind"].lower() + "s"  # ClusterRole -> clusterroles, ClusterRoleBinding -> ...bindings
    names = [doc["metadata"]["name"]]
    verbs = ["update", "patch", "delete"]
    return {"apiGroups": [api_group(doc)], "resources": [resource], "resourceNames": names, "verbs": verbs}


def write_role(namespace: str) -> dict[str, Any]:
    rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": list(WRITE_VERBS)}]
    return {"apiVersion": RBAC_API, "kind": "Role", "metadata": _meta(WRITE_ROLE, namespace), "rules": rules}


def subjects() -> list[dict[str, Any]]:
    return [
        {"kind": "Group", "apiGroup": RBAC, "name": GROUP},
        {"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": SERVICE_ACCOUNT_NAMESPACE},
    ]


def _binding(kind: str, role: str, namespace: str | None = None) -> dict[str, Any]:
    role_kind = "ClusterRole" if kind == "ClusterRoleBinding" else "Role"
    return {
        "apiVersion": RBAC_API,
        "kind": kind,
        "metadata": _meta(role, namespace),
        "subjects": subjects(),
        "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
    }


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name)}
