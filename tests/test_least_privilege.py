"""Every identity's effective permissions, computed from the repo's rendered tree with tests/rbac.py.

The expectations are written by hand from fleet.yaml: which namespaces Argo CD deploys to on each
cluster (its ApplicationSets and fleetgen's ``monitoring``), which identities exist where, and the
named cluster-scoped objects fleetgen keeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import lint_text
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

READ = ("get", "list", "watch")
READ_WRITE = (*READ, "create", "update", "patch", "delete")
# The monitoring dir's kinds (clusters/<c>/monitoring/prometheus.yaml): ServiceAccount, Prometheus,
# the headless sidecar Service, the NetworkPolicy. No RBAC: Prometheus' ClusterRole/Binding are admin-applied.
MONITORING_KINDS = {
    ("", "serviceaccounts"),
    ("", "services"),
    ("monitoring.coreos.com", "prometheuses"),
    ("networking.k8s.io", "networkpolicies"),
}
# What a set's namespace gets (the example's sets have no extraResources), written out by hand.
SET_KINDS = {
    ("", "configmaps"),
    ("", "persistentvolumeclaims"),
    ("", "pods"),
    ("", "secrets"),
    ("", "serviceaccounts"),
    ("", "services"),
    ("apps", "daemonsets"),
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("batch", "cronjobs"),
    ("batch", "jobs"),
    ("monitoring.coreos.com", "podmonitors"),
    ("monitoring.coreos.com", "prometheusrules"),
    ("monitoring.coreos.com", "servicemonitors"),
    ("networking.k8s.io", "ingresses"),
    ("networking.k8s.io", "networkpolicies"),
    ("policy", "poddisruptionbudgets"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "roles"),
}
# Read only, in every deploy namespace: what Argo CD's resource tree and health checks look at (not Endpoints or
# EndpointSlices: Argo CD's default resource.exclusions never lists them).
OBSERVED_KINDS = {
    ("", "events"),
    ("", "pods"),
    ("apps", "controllerrevisions"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
}
PROMETHEUS_PERMISSIONS = {
    ("*", verb, group, resource, "*")
    for group, resource in (
        ("", "nodes"),
        ("", "nodes/metrics"),
        ("", "services"),
        ("", "endpoints"),
        ("", "pods"),
        ("discovery.k8s.io", "endpointslices"),
    )
    for verb in READ
} | {("*", "get", "nonResourceURL", "/metrics", "*")}

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
    sets = DEPLOY[cluster] - {"monitoring"}
    for who in identities(rbac):
        argocd = who in (ARGOCD, ARGOCD_SA)
        assert not rbac.allowed(who, "list", "", "secrets"), who  # cluster-wide list
        for ns in PROBE_NAMESPACES:
            # written only where a set deploys; read in every deploy namespace of a cluster where one does
            # (Argo CD's cache needs a kind readable in all of the cluster Secret's namespaces, or in none)
            readable = argocd and ns in DEPLOY[cluster] and bool(sets)
            for verb in ("get", "list", "watch"):
                assert rbac.allowed(who, verb, "", "secrets", namespace=ns, name="s") == readable, (who, verb, ns)
            written = argocd and ns in sets
            assert rbac.allowed(who, "create", "", "secrets", namespace=ns) == written, (who, ns)


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_every_deploy_namespace_of_a_spoke_reads_the_same_kinds(cluster):
    """What Argo CD's cache needs: a kind it may list in one namespace of the cluster Secret and not in another
    is dropped for the whole cluster (gitops-engine pkg/cache/cluster.go)."""
    rbac = spoke(cluster)
    kinds = MONITORING_KINDS | SET_KINDS | OBSERVED_KINDS | {("", "namespaces"), ("", "nodes"), ("", "endpoints")}
    for who in identities(rbac):
        readable = [
            {kind for kind in kinds if rbac.allowed(who, "list", *kind, namespace=ns)} for ns in sorted(DEPLOY[cluster])
        ]
        assert all(r == readable[0] for r in readable), (who, readable)


def argo_cd_permissions(cluster: str) -> set[tuple[str, str, str, str, str]]:
    """By hand: write each deploy namespace's kinds; read, in every deploy namespace alike, the kinds written in
    any of them and what lies beneath; read Namespaces."""
    out = {("*", verb, "", "namespaces", "*") for verb in READ}
    written = {ns: MONITORING_KINDS if ns == "monitoring" else SET_KINDS for ns in DEPLOY[cluster]}
    read = set().union(*written.values()) | OBSERVED_KINDS
    for ns, kinds in written.items():
        out |= {(ns, verb, group, resource, "*") for group, resource in kinds for verb in READ_WRITE[3:]}
        out |= {(ns, verb, group, resource, "*") for group, resource in read for verb in READ}
    return out


def writes(permissions: set[tuple[str, str, str, str, str]]) -> set[tuple[str, str, str, str, str]]:
    return {p for p in permissions if p[1] not in READ}


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_every_rule_of_every_identity_is_the_hand_written_one(cluster):
    """Exhaustive, not sampled: each identity's grants spelled out equal the expectation, reads and writes."""
    rbac = spoke(cluster)
    expected = {ARGOCD: argo_cd_permissions(cluster), ARGOCD_SA: argo_cd_permissions(cluster)}
    expected[PROMETHEUS] = PROMETHEUS_PERMISSIONS
    for who in identities(rbac):
        got = rbac.permissions(who)
        assert writes(got) == writes(expected[who]), who  # the write rules first, for a readable failure
        assert got == expected[who], who


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_no_cluster_scoped_writes(cluster):
    """Through the evaluator: no cluster-scoped write at all, not even Namespace create (access.yaml creates the
    deploy namespaces; CreateNamespace=true only reads a namespace that exists)."""
    rbac = spoke(cluster)
    for who in identities(rbac):
        assert cluster_writes(rbac, who) == set(), who


@pytest.mark.parametrize("cluster", sorted(DEPLOY))
def test_argo_cd_cannot_bind_escalate_or_write_cluster_rbac(cluster):
    """RBAC objects outside a set's namespace come only from access.yaml, applied by an admin.

    Argo CD may write Roles/RoleBindings only in the namespaces of its sets (the API server's
    escalation check caps them at what it holds there); never in ``monitoring``, never cluster-wide,
    and it has no ``bind``, ``escalate`` or ``impersonate`` anywhere.
    """
    rbac = spoke(cluster)
    group = "rbac.authorization.k8s.io"
    for who in identities(rbac):
        for verb in ("bind", "escalate", "impersonate", *WRITE):
            for kind in ("clusterroles", "clusterrolebindings"):
                for name in ("fleet-prometheus", "cluster-admin", "x"):
                    assert not rbac.allowed(who, verb, group, kind, name=name), (who, verb, kind, name)
            for ns in PROBE_NAMESPACES:
                for kind in ("roles", "rolebindings"):
                    sets = DEPLOY[cluster] - {"monitoring"}
                    may = verb in READ_WRITE[3:] and who in (ARGOCD, ARGOCD_SA) and ns in sets
                    assert rbac.allowed(who, verb, group, kind, namespace=ns, name="r") == may, (who, verb, kind, ns)
        for user in ("system:admin", "system:serviceaccount:kube-system:x"):
            assert not rbac.allowed(who, "impersonate", "", "users", name=user), who
        assert not rbac.allowed(who, "impersonate", "", "groups", name="system:masters"), who


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
        assert cluster_writes(rbac, who) == set(), who
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
        if argocd and extra:  # uniform reads: what `tools` gets is readable in every deploy namespace too
            for ns in DEPLOY[cluster]:
                assert rbac.allowed(who, "list", "", "configmaps", namespace=ns), ns
                assert not rbac.allowed(who, "create", "", "configmaps", namespace=ns) or ns != "monitoring"


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
    # exhaustive, by hand: read Namespaces and the taint policies; keep the two named ones; in
    # `production` read/write exactly workloads[].resources' kinds (Deployment, Service) and the policies
    names = ("fleet-cluster-not-ready", "fleet-cluster-unreachable")
    expected = {("*", verb, "", "namespaces", "*") for verb in READ}
    expected |= {("*", verb, "policy.karmada.io", "clustertaintpolicies", "*") for verb in READ}
    expected |= {
        ("*", verb, "policy.karmada.io", "clustertaintpolicies", name)
        for verb in ("update", "patch", "delete")
        for name in names
    }
    namespaced = {
        ("apps", "deployments"),
        ("", "services"),
        ("policy.karmada.io", "propagationpolicies"),
        ("policy.karmada.io", "overridepolicies"),
    }
    expected |= {("production", verb, group, resource, "*") for group, resource in namespaced for verb in READ_WRITE}
    got = rbac.permissions(who)
    assert writes(got) == writes(expected)
    assert got == expected
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


def test_every_namespace_fleetgen_itself_uses_on_spokes_is_deny_listed(example_text):
    """The namespaces of fleetgen's own spoke objects (not a set's) are refused to sets and workloads.

    Taken from the rendered tree, so a new infrastructure namespace fails here until the deny-list has it.
    """
    own: set[str] = set()
    for cluster in sorted(DEPLOY):
        sets = DEPLOY[cluster] - {"monitoring"}
        for doc in load_documents(sorted((RENDERED / "clusters" / cluster).rglob("*.yaml"))):
            meta = doc.get("metadata") or {}
            ns = meta["name"] if doc.get("kind") == "Namespace" else meta.get("namespace")
            if ns and ns not in sets:
                own.add(ns)
    assert own == {"monitoring", "kube-system"}  # Prometheus and its sidecar; the docker token's ServiceAccount
    line = "    namespace: production\n"
    head, _, workloads = example_text.partition("\nworkloads:\n")
    assert line in head and line in workloads
    for ns in sorted(own):
        moved = f"    namespace: {ns}\n"
        in_a_set = example_text.replace(line, moved, 1)
        in_a_workload = head + "\nworkloads:\n" + workloads.replace(line, moved, 1)
        for text in (in_a_set, in_a_workload):
            found = [f for f in lint_text(text) if f.rule == "system-namespace"]
            assert len(found) == 1 and repr(ns) in found[0].message, (ns, found)
