"""fleetgen.render.access: spoke RBAC for Argo CD, derived from where it deploys (see test_least_privilege)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from fleetgen.render import access, argocd, observability, projects, targets

from tests.conftest import ROOT, fleet_from_text

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
    """Argo CD's RBAC (and the Namespaces), without Prometheus' RBAC that access.yaml also carries."""
    return [d for d in docs if d["metadata"].get("labels") == access.LABELS]


def test_every_document_passes_the_upstream_schema(example_fleet, upstream):
    for f in access.render(example_fleet):
        for doc in f.documents:
            assert upstream(doc) == [], (f.path, doc["kind"])


def test_one_file_per_cluster_registered_or_not_and_one_for_karmada(example_fleet):
    paths = [f.path for f in access.render(example_fleet)]
    expected = [f"clusters/{c.name}/access.yaml" for c in example_fleet.clusters]
    assert paths == [*expected, "bootstrap/karmada-access.yaml"]


def test_never_system_masters(example_fleet):
    assert "system:masters" not in json.dumps([f.documents for f in access.render(example_fleet)])


def test_subjects_are_the_group_plus_the_service_account_only_where_its_token_is_used(example_fleet):
    group = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "fleetgen:argocd-manager"}
    account = {"kind": "ServiceAccount", "name": "fleetgen-argocd-manager", "namespace": "kube-system"}
    expected = {"dev-local": [group, account], "edge-store-042": None}  # docker: token; pull: no identity
    for c in example_fleet.clusters:
        docs = docs_for(example_fleet, c.name)
        bindings = own(of_kind(docs, "ClusterRoleBinding") + of_kind(docs, "RoleBinding"))
        want = expected.get(c.name, [group])
        assert [b["subjects"] for b in bindings] == ([want] * len(bindings) if want else []), c.name
        assert bool(of_kind(docs, "ServiceAccount")) == (c.name == "dev-local")


def test_no_rule_uses_a_resource_or_verb_wildcard(example_fleet):
    for f in access.render(example_fleet):
        for doc in of_kind(f.documents, "ClusterRole") + of_kind(f.documents, "Role"):
            for rule in doc["rules"]:
                assert "*" not in rule.get("resources", []) + rule["verbs"] + rule.get("apiGroups", []), rule
                assert "nonResourceURLs" not in rule or doc["metadata"]["name"] == "fleet-prometheus"


def test_namespaces_carry_pod_security_labels(example_fleet):
    for f in access.render(example_fleet):
        for ns in of_kind(f.documents, "Namespace"):
            labels = ns["metadata"]["labels"]
            assert {k: v for k, v in labels.items() if k.startswith("pod-security")} == {
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/audit": "baseline",
                "pod-security.kubernetes.io/warn": "baseline",
            }
    strict = fleet_from_text(FLEET.replace("CREATE", "true") + "security: {podSecurity: restricted}\n")
    [ns, *_] = of_kind(docs_for(strict, "a"), "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_every_role_namespace_is_created_before_its_role(example_fleet):
    for f in access.render(example_fleet):
        created: set[str] = set()
        for doc in f.documents:
            if doc["kind"] == "Namespace":
                created.add(doc["metadata"]["name"])
            if doc["kind"] in ("Role", "RoleBinding"):
                assert doc["metadata"]["namespace"] in created, (f.path, doc["kind"])


def test_role_bindings_point_at_the_deploy_role_in_their_namespace(example_fleet):
    docs = docs_for(example_fleet, "prod-us-east-1")
    bindings = of_kind(docs, "RoleBinding")
    assert bindings
    for binding in bindings:
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": access.DEPLOY_ROLE,
        }


@pytest.mark.parametrize("create_namespace", [False, True])
def test_namespaces_are_never_created_by_argo_cd_access_yaml_creates_them(create_namespace):
    """CreateNamespace=true or not: Argo CD only GETs a namespace that exists (gitops-engine autoCreateNamespace,
    controller/sync_namespace.go), and access.yaml creates every namespace it deploys to."""
    fleet = small(create_namespace)
    for cluster, namespaces in (("a", ["api", "monitoring", "web"]), ("b", ["api", "monitoring"])):
        docs = docs_for(fleet, cluster)
        assert argocd.deploy_namespaces(fleet, fleet.cluster(cluster)) == namespaces
        if cluster == "b":  # not registered, yet push mode: the identity is there for when it registers
            assert own(of_kind(docs, "ClusterRole"))
        [role] = own(of_kind(docs, "ClusterRole"))
        assert not any("create" in r["verbs"] for r in role["rules"]), role["rules"]
        created = [d["metadata"]["name"] for d in of_kind(docs, "Namespace")]
        assert created == namespaces


def test_prometheus_cluster_rbac_is_admin_applied_and_never_synced_by_argo_cd(example_fleet):
    """RBAC objects live only in access.yaml: Argo CD's identity holds no RBAC rule at all on a spoke."""
    for cluster in example_fleet.clusters:
        docs = docs_for(example_fleet, cluster.name)
        rbac_kinds = {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
        synced = [d for d in observability.spoke_documents(example_fleet, cluster) if d["kind"] in rbac_kinds]
        assert synced == [], cluster.name
        assert [d["kind"] for d in docs if d["metadata"]["name"] == "fleet-prometheus"] == [
            "ClusterRole",
            "ClusterRoleBinding",
        ], cluster.name
        for role in own(of_kind(docs, "ClusterRole")):
            assert {g for r in role["rules"] for g in r["apiGroups"]} == {""}, cluster.name
            assert {res for r in role["rules"] for res in r["resources"]} == {"namespaces"}, cluster.name
    # the monitoring dir holds namespaced objects only, so neither project names a spoke cluster-scoped object
    platform = next(
        d for f in projects.render(example_fleet) for d in f.documents if d["metadata"]["name"] == "fleet-platform"
    )
    names = {e.get("name") for e in platform["spec"]["clusterResourceWhitelist"]}
    assert "fleet-prometheus" not in names


def test_render_is_deterministic(example_text):
    assert access.render(fleet_from_text(example_text)) == access.render(fleet_from_text(example_text))


def test_extra_resources_extend_only_their_sets_namespace():
    extra = "    extraResources: [{group: cert-manager.io, resource: certificates}]\n"
    text = FLEET.replace("CREATE", "false").replace("    namespace: web\n", "    namespace: web\n" + extra)
    fleet = fleet_from_text(text)
    roles = {r["metadata"]["namespace"]: r for r in of_kind(docs_for(fleet, "a"), "Role")}
    write = {"apiGroups": ["cert-manager.io"], "resources": ["certificates"], "verbs": list(access.WRITE_VERBS)}
    read = {"apiGroups": ["cert-manager.io"], "resources": ["certificates"], "verbs": list(access.READ_VERBS)}
    assert write in roles["web"]["rules"]
    assert write not in roles["api"]["rules"]
    assert read in roles["web"]["rules"] and read in roles["api"]["rules"]  # reads are the same in every namespace


@pytest.mark.parametrize("resource", ["*", "pods/exec", "Certificates"])
def test_extra_resources_cannot_be_wildcards_or_subresources(resource):
    from fleetgen.load import load_text
    from fleetgen.schema import validate

    text = FLEET.replace("CREATE", "false").replace(
        "    namespace: web\n", f"    namespace: web\n    extraResources: [{{group: '', resource: '{resource}'}}]\n"
    )
    doc, _ = load_text(text, "fleet.yaml")
    assert [e.rule for e in validate(doc)] == ["schema"]


PSA = ("enforce", "audit", "warn")


def namespaces_in(files) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (f.path, d["metadata"]["name"]): d["metadata"].get("labels") or {}
        for f in files
        for d in f.documents
        if d.get("kind") == "Namespace"
    }


def test_every_namespace_in_the_rendered_tree_carries_pod_security_labels():
    """Hub (Cluster API, observability, agent), spokes and Karmada: the committed tree, listed by hand."""
    root = ROOT / "rendered"
    files = [
        access.File(str(p.relative_to(root)), tuple(d for d in yaml.safe_load_all(p.read_text()) if d))
        for p in sorted(root.rglob("*.yaml"))
    ]
    found = namespaces_in(files)
    clusters = (
        "analytics-westeurope",
        "dev-local",
        "gpu-inference-us-central1",
        "prod-ap-south-1",
        "prod-eu-west-1",
        "prod-us-east-1",
        "staging-us-east-1",
    )
    expected = {(f"hub/capi/{c}.yaml", c) for c in clusters}  # Cluster API objects of each provisioned cluster
    expected |= {(f"clusters/{c}/access.yaml", "monitoring") for c in (*clusters, "edge-store-042")}
    expected |= {(f"clusters/{c}/access.yaml", "production") for c in ("prod-ap-south-1", "prod-eu-west-1")}
    expected |= {
        ("clusters/prod-us-east-1/access.yaml", "production"),
        ("clusters/edge-store-042/access.yaml", "production"),
    }
    expected |= {
        ("hub/observability/namespace.yaml", "monitoring"),
        ("hub/argocd/clusters/edge-store-042.yaml", "edge-store-042"),  # the agent namespace
        ("bootstrap/karmada-access.yaml", "production"),
    }
    assert set(found) == expected
    for where, labels in found.items():
        assert {k: labels.get(k) for k in (f"pod-security.kubernetes.io/{m}" for m in PSA)} == {
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/audit": "baseline",
            "pod-security.kubernetes.io/warn": "baseline",
        }, where


def test_the_pod_security_level_reaches_every_namespace_of_every_target(example_text):
    fleet = fleet_from_text(example_text + "security: {podSecurity: restricted}\n")
    found = namespaces_in([f for target in targets() for f in target(fleet)])
    assert len(found) == 22  # the 22 of the committed tree above
    for where, labels in found.items():
        assert [labels.get(f"pod-security.kubernetes.io/{m}") for m in PSA] == ["restricted"] * 3, where
