"""Every identity's effective permissions, computed from the repo's rendered tree with tests/rbac.py.

The expectations are written by hand from fleet.yaml: which namespaces Argo CD deploys to on each
cluster (its ApplicationSets and fleetgen's ``monitoring``), which identities exist where, and the
named cluster-scoped objects fleetgen keeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .rbac import ALL_VERBS, WRITE, Cluster, Identity, identity_of, load_documents

RENDERED = Path(__file__).resolve().parents[1] / "rendered"
ARGOCD = Identity.group("fleetgen:argocd-manager")
ARGOCD_SA = Identity.service_account("kube-system", "fleetgen-argocd-manager")
PROMETHEUS = Identity.service_account("monitoring", "fleet-prometheus")
KARMADA_ARGOCD = Identity.group("fleetgen:argocd-karmada")

# Where Argo CD deploys, by hand from fleet.yaml: production-services (production, tier standard),
# platform-charts (production, tier not gpu), both into `production`; monitoring everywhere.
DEPLOY = {
    "prod-us-east-1": {"monitoring", "production"},
    "prod-eu-west-1": {"monitoring", "production"},
    "prod-ap-south-1": {"monitoring", "production"},
    "staging-us-east-1": {"monitoring"},
    "analytics-westeurope": {"monitoring"},
    "gpu-inference-us-central1": {"monitoring"},
    "dev-local": {"monitoring"},
    "edge-store-042": {"monitoring", "production"},
}
# Who is bound on each spoke. EKS/GKE/AKS: the group only; docker: group + the token's ServiceAccount;
# edge (pull mode): no Argo CD identity at all, only Prometheus'.
BOUND = {
    c: {("Group", "", "fleetgen:argocd-manager"), ("ServiceAccount", "monitoring", "fleet-prometheus")} for c in DEPLOY
}
BOUND["dev-local"] |= {("ServiceAccount", "kube-system", "fleetgen-argocd-manager")}
BOUND["edge-store-042"] = {("ServiceAccount", "monitoring", "fleet-prometheus")}
CREATES_NAMESPACES = {"prod-us-east-1", "prod-eu-west-1", "prod-ap-south-1"}

PROBE_NAMESPACES = (
    "default",
    "kube-system",
    "kube-public",
    "argocd",
    "karmada-cluster",
    "karmada-system",
    "cilium-secrets",
    "monitoring",
    "production",
    "team-x",
)
CLUSTER_SCOPED = (
    ("", "namespaces"),
    ("", "nodes"),
    ("", "persistentvolumes"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"),
    ("storage.k8s.io", "storageclasses"),
    ("certificates.k8s.io", "certificatesigningrequests"),
    ("policy.karmada.io", "clustertaintpolicies"),
    ("cluster.karmada.io", "clusters"),
)
NAMES = ("", "fleet-prometheus", "cluster-admin", "fleet-cluster-not-ready", "fleet-cluster-unreachable", "kube-system")
DANGEROUS_SUBRESOURCES = (
    ("pods", "exec"),
    ("pods", "attach"),
    ("pods", "portforward"),
    ("services", "proxy"),
    ("serviceaccounts", "token"),
    ("pods", "ephemeralcontainers"),
)


def spoke(cluster: str) -> Cluster:
    return Cluster(load_documents(sorted((RENDERED / "clusters" / cluster).rglob("*.yaml"))))


def karmada() -> Cluster:
    return Cluster(load_documents([RENDERED / "bootstrap" / "karmada-access.yaml"]))


def identities(rbac: Cluster) -> list[Identity]:
    return [identity_of(s) for s in sorted(rbac.subjects())]


def cluster_writes(rbac: Cluster, who: Identity) -> set[tuple[str, str, str, str]]:
    return {
        (verb, group, resource, name)
        for group, resource in CLUSTER_SCOPED
        for verb in (*WRITE, "escalate", "bind")
        for name in NAMES
        if rbac.allowed(who, verb, group, resource, name=name)
    }


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_the_identities_bound_on_each_spoke(cluster):
    assert spoke(cluster).subjects() == BOUND[cluster]


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_no_node_proxy_exec_attach_or_tokens_for_anyone(cluster):
    rbac = spoke(cluster)
    for who in identities(rbac):
        for verb in ALL_VERBS:
            assert not rbac.allowed(who, verb, "", "nodes", subresource="proxy", name="node-1"), (who, verb)
            for ns in PROBE_NAMESPACES:
                for resource, sub in DANGEROUS_SUBRESOURCES:
                    assert not rbac.allowed(who, verb, "", resource, subresource=sub, namespace=ns, name="x"), (
                        who,
                        verb,
                        resource,
                        sub,
                        ns,
                    )


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_secrets_only_in_the_namespaces_argo_cd_deploys_to(cluster):
    rbac = spoke(cluster)
    for who in identities(rbac):
        argocd = who in (ARGOCD, ARGOCD_SA)
        assert not rbac.allowed(who, "list", "", "secrets"), who  # cluster-wide list
        for ns in PROBE_NAMESPACES:
            # monitoring holds no Secret (its Role lists exactly the monitoring dir's kinds)
            expected = argocd and ns in DEPLOY[cluster] - {"monitoring"}
            for verb in ("get", "list", "watch"):
                assert rbac.allowed(who, verb, "", "secrets", namespace=ns, name="s") == expected, (who, verb, ns)


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_cluster_scoped_writes_are_only_fleetgens_named_objects(cluster):
    rbac = spoke(cluster)
    for who in identities(rbac):
        assert cluster_writes(rbac, who) == fleetgens_cluster_writes(cluster, who), who


def fleetgens_cluster_writes(cluster: str, who: Identity) -> set[tuple[str, str, str, str]]:
    """By hand: Argo CD keeps fleet-prometheus by name, and creates namespaces where a set uses CreateNamespace."""
    if who not in (ARGOCD, ARGOCD_SA):
        return set()
    named = {
        (verb, "rbac.authorization.k8s.io", kind, "fleet-prometheus")
        for verb in ("update", "patch", "delete")
        for kind in ("clusterroles", "clusterrolebindings")
    }
    create_ns = {("create", "", "namespaces", name) for name in NAMES}
    return named | (create_ns if cluster in CREATES_NAMESPACES else set())


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_argo_cd_writes_only_in_its_deploy_namespaces(cluster):
    rbac = spoke(cluster)
    for who in identities(rbac):
        for ns in PROBE_NAMESPACES:
            writes = rbac.allowed(who, "create", "apps", "deployments", namespace=ns) or rbac.allowed(
                who, "create", "", "configmaps", namespace=ns
            )
            expected = who in (ARGOCD, ARGOCD_SA) and ns in DEPLOY[cluster]
            if expected and ns == "monitoring":  # exactly the monitoring dir's kinds there
                assert rbac.allowed(who, "create", "monitoring.coreos.com", "prometheuses", namespace=ns)
                assert not rbac.allowed(who, "create", "apps", "deployments", namespace=ns)
                continue
            assert writes == expected, (who, ns)


# The repo's fleet with an extraManifests entry for the production spokes (prod-*, gpu-inference-us-central1;
# edge-store-042 is pull mode, without an Argo CD identity):
# a ConfigMap and a Role/RoleBinding in `tools`, and a ClusterRole by name.
SPOKE_EXTRA = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: contacts, namespace: tools}
data: {oncall: platform-team}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: tools}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: tools}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: tools-readers}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: tools-aggregate}
rules: []
"""
WITH_EXTRAS = {"prod-us-east-1", "prod-eu-west-1", "prod-ap-south-1", "gpu-inference-us-central1", "edge-store-042"}


@pytest.fixture(scope="module")
def with_extras(tmp_path_factory) -> Path:
    """The repo's fleet.yaml rendered with SPOKE_EXTRA copied to its production spokes."""
    from click.testing import CliRunner
    from fleetgen.main import cli

    base = tmp_path_factory.mktemp("extras")
    (base / "manifests").mkdir()
    (base / "manifests/tools.yaml").write_text(SPOKE_EXTRA)
    text = (RENDERED.parent / "fleet.yaml").read_text()
    entry = (
        "extraManifests:\n  - source: manifests/tools.yaml\n    clusters: {matchLabels: {environment: production}}\n"
    )
    (base / "fleet.yaml").write_text(text + entry)
    result = CliRunner().invoke(cli, ["render", str(base / "fleet.yaml")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return base / "rendered"


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_extra_manifests_add_exactly_their_kinds_namespace_and_named_objects(with_extras, cluster):
    rbac = Cluster(load_documents(sorted((with_extras / "clusters" / cluster).rglob("*.yaml"))))
    extra = cluster in WITH_EXTRAS
    bound = BOUND[cluster] | ({("Group", "", "tools-readers")} if extra else set())
    assert rbac.subjects() == bound
    for who in identities(rbac):
        argocd = who in (ARGOCD, ARGOCD_SA)
        # tools-aggregate is not among NAMES: cluster_writes stays exactly what it was without extras
        assert cluster_writes(rbac, who) == fleetgens_cluster_writes(cluster, who), who
        for verb in ("update", "patch", "delete"):
            allowed = rbac.allowed(who, verb, "rbac.authorization.k8s.io", "clusterroles", name="tools-aggregate")
            assert allowed == (argocd and extra), (who, verb)
        for verb in ALL_VERBS:  # the extras' RoleBinding grants its group nothing dangerous either
            for ns in (*PROBE_NAMESPACES, "tools"):
                for resource, sub in DANGEROUS_SUBRESOURCES:
                    assert not rbac.allowed(who, verb, "", resource, subresource=sub, namespace=ns, name="x")
        # in `tools`: exactly the documents' kinds (ConfigMap, Role, RoleBinding), no Secret, no workload
        writes = {
            (group, resource)
            for group, resource in (
                ("", "configmaps"),
                ("", "secrets"),
                ("apps", "deployments"),
                ("rbac.authorization.k8s.io", "roles"),
                ("rbac.authorization.k8s.io", "rolebindings"),
            )
            if rbac.allowed(who, "create", group, resource, namespace="tools", name="x")
        }
        tools = {
            ("", "configmaps"),
            ("rbac.authorization.k8s.io", "roles"),
            ("rbac.authorization.k8s.io", "rolebindings"),
        }
        assert writes == (tools if argocd and extra else set()), who
        reads = rbac.allowed(who, "get", "", "configmaps", namespace="tools", name="contacts")
        assert reads == ((argocd and extra) or (who == Identity.group("tools-readers") and extra)), who


def test_prometheus_reads_for_discovery_only():
    rbac = spoke("prod-us-east-1")
    assert rbac.allowed(PROMETHEUS, "list", "", "pods", namespace="production")
    assert rbac.allowed(PROMETHEUS, "get", "", "nodes", subresource="metrics", name="n")
    assert not rbac.allowed(PROMETHEUS, "get", "", "configmaps", namespace="production", name="c")


def test_karmada_identity():
    rbac = karmada()
    assert rbac.subjects() == {("Group", "", "fleetgen:argocd-karmada")}
    who = KARMADA_ARGOCD
    taints = {
        (verb, "policy.karmada.io", "clustertaintpolicies", name)
        for verb in ("update", "patch", "delete")
        for name in ("fleet-cluster-not-ready", "fleet-cluster-unreachable")
    }
    assert cluster_writes(rbac, who) == taints
    # the members' join credentials, the Works Karmada applies with them, the Cluster objects
    for verb in ALL_VERBS:
        assert not rbac.allowed(who, verb, "", "secrets", namespace="karmada-cluster", name="karmada-prod-us-east-1")
        assert not rbac.allowed(who, verb, "work.karmada.io", "works", namespace="karmada-es-prod-us-east-1")
        assert not rbac.allowed(who, verb, "cluster.karmada.io", "clusters", name="prod-us-east-1")
    # exactly the kinds workloads[].resources lists, plus fleetgen's policies, in `production`
    assert rbac.allowed(who, "create", "apps", "deployments", namespace="production")
    assert rbac.allowed(who, "create", "", "services", namespace="production")
    assert rbac.allowed(who, "patch", "policy.karmada.io", "propagationpolicies", namespace="production", name="p")
    assert not rbac.allowed(who, "create", "", "secrets", namespace="production")
    assert not rbac.allowed(who, "create", "apps", "deployments", namespace="default")
    assert not rbac.allowed(who, "create", "rbac.authorization.k8s.io", "rolebindings", namespace="production")


def test_the_evaluator_knows_wildcards_reach_subresources():
    """The evaluator itself: a ``*`` rule reaches pods/exec and nodes/proxy, a named resource does not."""
    wide = Cluster(
        [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "r"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": "r"},
                "roleRef": {"kind": "ClusterRole", "name": "r"},
                "subjects": [{"kind": "Group", "name": "g"}],
            },
        ]
    )
    who = Identity.group("g")
    assert wide.allowed(who, "get", "", "nodes", subresource="proxy", name="n")
    assert wide.allowed(who, "get", "", "pods", subresource="exec", namespace="kube-system", name="p")
    narrow = Cluster(
        [
            {**wide.cluster_roles["r"], "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
            *wide.bindings,
        ]
    )
    assert narrow.allowed(who, "get", "", "pods", namespace="x", name="p")
    assert not narrow.allowed(who, "get", "", "pods", subresource="exec", namespace="x", name="p")
