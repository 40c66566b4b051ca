"""AppProjects by trust, evaluated the way Argo CD's controller evaluates them at sync.

``permitted`` is written from argo-cd v3.5 pkg/apis/application/v1alpha1 (AppProject.IsGroupKindNamePermitted,
isResourceInList, isNamedResourceInList, IsDestinationPermitted) and controller/sync.go
validateSyncPermissions: a namespaced object needs its group/kind in ``namespaceResourceWhitelist`` (absent =
every kind, empty = none) and its (server, namespace) among ``destinations``; a cluster-scoped object needs a
``clusterResourceWhitelist`` entry (absent or empty = none) whose glob group/kind, and name if given, match.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from fleetgen.render import projects as project_target
from fleetgen.render import targets

from tests.conftest import fleet_from_text

FLEET = """
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: trust
repo: {url: "https://git.example.com/fleet"}
hub: {name: hub, karmada: {server: "https://karmada.example.com:5443"}}
network: {mesh: none}
defaults: {kubernetesVersion: "1.30", provider: {type: imported}}
clusters:
  - name: a
    environment: production
    region: r1
    server: https://a.example.com
    network: {pods: 10.0.0.0/16, services: 10.100.0.0/16}
  - name: edge
    environment: production
    region: r1
    server: https://10.9.0.1:6443
    argocd: {mode: pull}
    network: {pods: 10.1.0.0/16, services: 10.101.0.0/16}
applicationSets:
  - name: web
    clusters: {matchLabels: {environment: production}}
    apps: [{name: web, path: apps/web}]
    namespace: web
workloads:
  - name: orders
    namespace: shop
    source: {path: workloads/orders}
    resources:
      - {apiVersion: apps/v1, kind: Deployment, name: orders}
      - {apiVersion: v1, kind: Service, name: orders}
    clusters: {matchLabels: {environment: production}}
"""
KARMADA = "https://karmada.example.com:5443"
EDGE = "https://argocd-agent-resource-proxy.argocd.svc:9090?agentName=edge"


def projects() -> dict[str, dict[str, Any]]:
    docs = [d for f in project_target.render(fleet_from_text(FLEET)) for d in f.documents]
    return {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "AppProject"}


def _in(group: str, kind: str, name: str, items: list[dict[str, str]], named: bool) -> bool:
    for item in items:
        if fnmatchcase(kind, item["kind"]) and fnmatchcase(group, item["group"]):
            if not named or not item.get("name") or fnmatchcase(name, item["name"]):
                return True
    return False


def permitted(spec: dict[str, Any], server: str, obj: dict[str, Any], namespaced: bool) -> bool:
    group = obj["apiVersion"].rpartition("/")[0]
    kind, name, ns = obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace", "")
    if not namespaced:
        return _in(group, kind, name, spec.get("clusterResourceWhitelist") or [], True)
    whitelist = spec.get("namespaceResourceWhitelist")
    if whitelist is not None and not _in(group, kind, name, whitelist, False):
        return False
    return any(fnmatchcase(server, d["server"]) and fnmatchcase(ns, d["namespace"]) for d in spec["destinations"])


def obj(api: str, kind: str, name: str, namespace: str = "") -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def test_a_workload_manifest_needing_a_cluster_role_binding_is_refused():
    """What a team's workloads/orders might hold, judged by fleet-workloads on Karmada."""
    spec = projects()["fleet-workloads"]
    assert permitted(spec, KARMADA, obj("apps/v1", "Deployment", "orders", "shop"), True)
    assert permitted(spec, KARMADA, obj("v1", "Service", "orders", "shop"), True)
    refused = [
        (obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "orders-admin"), False),
        (obj("rbac.authorization.k8s.io/v1", "ClusterRole", "orders"), False),
        (obj("v1", "Namespace", "karmada-cluster"), False),
        (obj("policy.karmada.io/v1alpha1", "ClusterPropagationPolicy", "all"), False),
        (obj("work.karmada.io/v1alpha1", "Work", "w", "karmada-es-a"), True),  # applied with the join credential
        (obj("v1", "Secret", "token", "karmada-cluster"), True),
        (obj("v1", "Secret", "s", "shop"), True),  # not in workloads[].resources
        (obj("apps/v1", "Deployment", "orders", "kube-system"), True),
    ]
    for o, namespaced in refused:
        assert not permitted(spec, KARMADA, o, namespaced), o
    assert "sourceNamespaces" not in spec


def test_platform_project_trusts_no_other_namespace_and_names_its_cluster_objects():
    spec = projects()["fleet-platform"]
    assert "sourceNamespaces" not in spec
    # no RBAC on spokes at all: Prometheus' ClusterRole is in the admin-applied access.yaml
    prom = obj("rbac.authorization.k8s.io/v1", "ClusterRole", "fleet-prometheus")
    assert not permitted(spec, "https://a.example.com", prom, False)
    taint = obj("policy.karmada.io/v1alpha1", "ClusterTaintPolicy", "fleet-cluster-not-ready")
    assert permitted(spec, KARMADA, taint, False)
    assert not permitted(spec, "https://a.example.com", obj("rbac.authorization.k8s.io/v1", "ClusterRole", "x"), False)
    crb = obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "cluster-admin-for-me")
    assert not permitted(spec, "https://a.example.com", crb, False)
    # on Karmada only the workload namespaces, never the execution spaces
    assert permitted(spec, KARMADA, obj("policy.karmada.io/v1alpha1", "PropagationPolicy", "orders", "shop"), True)
    assert not permitted(spec, KARMADA, obj("work.karmada.io/v1alpha1", "Work", "w", "karmada-es-a"), True)


def test_agent_projects_are_limited_to_their_agent_and_keep_teams_out_of_monitoring():
    """Argo CD checks each object by its own namespace: a set's chart under a project that also allows
    `monitoring` could write there (the Thanos object store Secret is in reach of a Pod it creates)."""
    found = projects()
    own, apps = found["fleet-agent-edge"], found["fleet-agent-edge.apps"]
    for spec in (own, apps):
        assert spec["sourceNamespaces"] == ["edge"]
        assert {d["server"] for d in spec["destinations"]} == {EDGE}
        assert not permitted(spec, "https://a.example.com", obj("apps/v1", "Deployment", "web", "web"), True)
        assert not permitted(spec, EDGE, obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "x"), False)
        assert not permitted(spec, EDGE, obj("rbac.authorization.k8s.io/v1", "ClusterRole", "fleet-prometheus"), False)
    assert permitted(apps, EDGE, obj("apps/v1", "Deployment", "web", "web"), True)
    assert not permitted(apps, EDGE, obj("v1", "Pod", "thief", "monitoring"), True)
    # a set's chart may not adopt (and, pruning, delete) a Namespace other than its own
    assert not permitted(apps, EDGE, obj("v1", "Namespace", "monitoring"), False)
    assert permitted(own, EDGE, obj("monitoring.coreos.com/v1", "Prometheus", "fleet", "monitoring"), True)
    assert not permitted(own, EDGE, obj("apps/v1", "Deployment", "web", "web"), True)
    # no other project trusts the agent namespace
    trusting = [n for n, s in found.items() if "edge" in s.get("sourceNamespaces", [])]
    assert sorted(trusting) == ["fleet-agent-edge", "fleet-agent-edge.apps"]


def test_the_agent_project_is_its_clusters_render_unit():
    """Only a registered pull-mode cluster has one; the other projects are the fleet-wide unit."""
    fleet = fleet_from_text(FLEET)
    a, edge = fleet.clusters
    assert project_target.cluster_files(fleet, a) == []
    (own,) = project_target.cluster_files(fleet, edge)
    assert own.path == "hub/argocd/projects/fleet-agent-edge.yaml"
    assert [d["metadata"]["name"] for d in own.documents] == ["fleet-agent-edge", "fleet-agent-edge.apps"]
    environments = [f"hub/argocd/projects/{e}.yaml" for e in ("development", "production", "staging")]  # defaults
    assert [f.path for f in project_target.fleet_files(fleet)] == sorted(
        [
            "bootstrap/root-app.yaml",
            "hub/argocd/projects/fleet-platform.yaml",
            "hub/argocd/projects/fleet-workloads.yaml",
        ]
        + environments
    )
    pending = fleet_from_text(FLEET.replace("    server: https://10.9.0.1:6443\n", ""))  # not registered yet
    assert project_target.cluster_files(pending, pending.clusters[1]) == []


def test_the_evaluator_itself():
    """Absent namespaceResourceWhitelist permits every kind; an empty cluster whitelist permits none."""
    spec = {"destinations": [{"server": "*", "namespace": "a*"}]}
    assert permitted(spec, "s", obj("v1", "Secret", "x", "abc"), True)
    assert not permitted(spec, "s", obj("v1", "Secret", "x", "b"), True)
    assert not permitted({**spec, "namespaceResourceWhitelist": []}, "s", obj("v1", "Secret", "x", "abc"), True)
    assert not permitted({**spec, "clusterResourceWhitelist": []}, "s", obj("v1", "Namespace", "x"), False)


HUB = "https://kubernetes.default.svc"


def test_fleet_root_may_write_only_the_hub_namespaces_fleetgen_renders_into(example_fleet):
    """Every namespaced document under hub/ of the example fleet passes fleet-platform; kube-system does not."""
    files = [f for target in targets() for f in target(example_fleet)]
    [platform] = [d for f in files for d in f.documents if f.path.endswith("projects/fleet-platform.yaml")]
    spec = platform["spec"]
    hub_docs = [d for f in files if f.path.startswith("hub/") for d in f.documents]
    namespaced = [d for d in hub_docs if d["metadata"].get("namespace")]
    assert len(namespaced) >= 80  # 86 in the committed tree: Cluster API, Argo CD, Thanos objects
    for doc in namespaced:
        assert permitted(spec, HUB, doc, True), (doc["kind"], doc["metadata"])
    # by hand: the Argo CD and Querier namespaces, the 7 provisioned clusters, the edge's agent namespace
    hub = sorted(d["namespace"] for d in spec["destinations"] if d["server"] == HUB)
    assert hub == [
        "analytics-westeurope",
        "argocd",
        "dev-local",
        "edge-store-042",
        "gpu-inference-us-central1",
        "monitoring",
        "prod-ap-south-1",
        "prod-eu-west-1",
        "prod-us-east-1",
        "staging-us-east-1",
    ]
    for ns in ("kube-system", "karmada-system", "capi-system", "default", "argocd-extra"):
        assert not permitted(spec, HUB, obj("v1", "Secret", "s", ns), True), ns
