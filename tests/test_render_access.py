"""generator.render.access: spoke RBAC for Argo CD — read everywhere, write only where it deploys."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator.render import access, argocd, observability
from tests.conftest import fleet_from_text

READ_VERBS = {"get", "list", "watch"}

FLEET = """
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: access
repo: {url: "https://git.example.com/fleet"}
hub: {name: hub}
network: {mesh: none}
defaults: {kubernetesVersion: "1.30", provider: {type: imported}}
clusters:
  - name: a
    environment: production
    region: r1
    labels: {tier: standard}
    server: https://a.example.com
    network: {pods: 10.0.0.0/16, services: 10.100.0.0/16}
  - name: b
    environment: staging
    region: r1
    labels: {tier: edge}
    network: {pods: 10.1.0.0/16, services: 10.101.0.0/16}
applicationSets:
  - name: web
    clusters: {matchLabels: {tier: standard}}
    apps: [{name: web, path: apps/web}]
    namespace: web
    syncPolicy: {createNamespace: false}
  - name: api
    clusters: {matchExpressions: [{key: tier, operator: Exists}]}
    apps: [{name: api, path: apps/api}]
    namespace: api
    syncPolicy: {createNamespace: CREATE}
"""


def small(create_namespace: bool = False):
    return fleet_from_text(FLEET.replace("CREATE", "true" if create_namespace else "false"))


def docs_for(fleet, cluster: str) -> list[dict[str, Any]]:
    files = {f.path: f for f in access.render(fleet)}
    return list(files[f"clusters/{cluster}/access.yaml"].documents)


def of_kind(docs, kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def own(docs) -> list[dict[str, Any]]:
    """fleetgen's RBAC, without the monitoring objects it pre-creates for Argo CD to adopt."""
    return [d for d in docs if d["metadata"].get("labels") == access.LABELS]


def test_every_document_passes_the_upstream_schema(example_fleet, upstream):
    for f in access.render(example_fleet):
        for doc in f.documents:
            assert upstream(doc) == [], (f.path, doc["kind"])


def test_one_file_per_cluster_registered_or_not(example_fleet):
    paths = [f.path for f in access.render(example_fleet)]
    assert paths == [f"clusters/{c.name}/access.yaml" for c in example_fleet.clusters]


def test_never_system_masters(example_fleet):
    assert "system:masters" not in json.dumps([f.documents for f in access.render(example_fleet)])


def test_subjects_are_the_dedicated_group_and_service_account(example_fleet):
    for f in access.render(example_fleet):
        for binding in own(of_kind(f.documents, "ClusterRoleBinding") + of_kind(f.documents, "RoleBinding")):
            assert binding["subjects"] == [
                {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "fleetgen:argocd-manager"},
                {"kind": "ServiceAccount", "name": "fleetgen-argocd-manager", "namespace": "kube-system"},
            ]


def test_cluster_role_reads_everything_and_writes_nothing_unnamed(example_fleet):
    for f in access.render(example_fleet):
        [role] = own(of_kind(f.documents, "ClusterRole"))
        assert {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]} in role["rules"]
        for rule in role["rules"]:
            writes = set(rule["verbs"]) - READ_VERBS
            namespace_create = rule.get("resources") == ["namespaces"] and writes == {"create"}
            by_name = bool(rule.get("resourceNames")) and "create" not in writes
            assert not writes or namespace_create or by_name, rule


def test_write_access_only_in_the_namespaces_argo_deploys_to(example_fleet):
    docs = docs_for(example_fleet, "prod-us-east-1")
    roles = of_kind(docs, "Role")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["monitoring", "production"]
    write = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["create", "update", "patch", "delete"]}]
    assert all(r["rules"] == write for r in roles)
    gpu = docs_for(example_fleet, "gpu-inference-us-central1")  # selected by no set: monitoring only
    assert [r["metadata"]["namespace"] for r in of_kind(gpu, "Role")] == ["monitoring"]


def test_every_role_namespace_is_created_before_its_role(example_fleet):
    for f in access.render(example_fleet):
        created: set[str] = set()
        for doc in f.documents:
            if doc["kind"] == "Namespace":
                created.add(doc["metadata"]["name"])
            if doc["kind"] in ("Role", "RoleBinding"):
                assert doc["metadata"]["namespace"] in created, (f.path, doc["kind"])


def test_role_bindings_point_at_the_write_role_in_their_namespace(example_fleet):
    docs = docs_for(example_fleet, "edge-store-042")
    for binding in of_kind(docs, "RoleBinding"):
        ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": access.WRITE_ROLE}
        assert binding["roleRef"] == ref


@pytest.mark.parametrize("create_namespace", [False, True])
def test_namespace_create_only_when_a_matching_set_creates_namespaces(create_namespace):
    fleet = small(create_namespace)
    for cluster, namespaces in (("a", ["api", "monitoring", "web"]), ("b", ["api", "monitoring"])):
        docs = docs_for(fleet, cluster)
        assert access.deploy_namespaces(fleet, fleet.cluster(cluster)) == namespaces
        [role] = own(of_kind(docs, "ClusterRole"))
        creates = {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create"]} in role["rules"]
        assert creates == create_namespace


def test_monitoring_cluster_objects_are_precreated_and_kept_by_name(example_fleet):
    cluster = example_fleet.cluster("prod-us-east-1")
    docs = docs_for(example_fleet, cluster.name)
    spoke = observability.spoke_documents(example_fleet, cluster)
    monitoring = [d for d in spoke if "namespace" not in d["metadata"]]
    assert monitoring and all(d in docs for d in monitoring)
    [role] = own(of_kind(docs, "ClusterRole"))
    for doc in monitoring:
        rule = next(r for r in role["rules"] if r.get("resourceNames") == [doc["metadata"]["name"]]
                    and r["resources"] == [doc["kind"].lower() + "s"])
        assert rule["verbs"] == ["update", "patch", "delete"]
    assert argocd.spoke_cluster_scoped(example_fleet, cluster) == monitoring


def test_render_is_deterministic(example_text):
    assert access.render(fleet_from_text(example_text)) == access.render(fleet_from_text(example_text))
