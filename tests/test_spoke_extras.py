"""fleet.yaml ``extraManifests[].clusters``: hand-written manifests copied to each selected spoke's
``clusters/<cluster>/extra``, synced there by ``fleet-spoke-extra`` (push) or ``<cluster>-extra`` (pull),
with Argo CD's RBAC and the projects' whitelists computed from exactly the documents' kinds and namespaces.

Every expected value below is written by hand from the fleet and the manifest in this file.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from fleetgen.tree import digest

from .lintcase import run_case
from .rbac import Cluster, Identity, load_documents
from .test_extra_manifests import run

BASE = (Path(__file__).parent / "fleets" / "base.yaml").read_text()
# base.yaml's production clusters are prod-a (aws, push) and prod-b (gcp, push); stage-a (staging) has no
# server. edge-1 is a registered pull-mode production site.
EDGE = """\
  - name: edge-1
    environment: production
    region: us-east-1
    labels: {tier: edge}
    server: https://10.200.0.10:6443
    provider: {type: imported}
    argocd: {mode: pull}
    karmada: {member: false}
    network: {pods: 10.3.0.0/16, services: 10.103.0.0/16, meshID: 4}
applicationSets:
"""
FLEET = (
    BASE.replace("applicationSets:\n", EDGE).replace("hub:\n  name: hub\n", "hub:\n  name: hub\n  provider: aws\n", 1)
    + """\
extraManifests:
  - source: manifests/spoke
    clusters: {matchLabels: {environment: production}}
"""
)
TOOLS = """\
# tooling every production spoke runs
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: tools-reader
rules:
  - {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: contacts
  namespace: tools
data:
  oncall: platform-team
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: reader
  namespace: tools
"""
HEADER = (
    "# copied by fleetgen from manifests/spoke/tools.yaml (fleet.yaml extraManifests) — edit the source, "
    "not this copy\n"
)
ARGOCD = Identity.group("fleetgen:argocd-manager")
PROXY = "https://argocd-agent-resource-proxy.argocd.svc:9090?agentName=edge-1"


def repo(tmp_path: Path, fleet: str = FLEET, tools: str = TOOLS) -> Path:
    """fleet.yaml and manifests/spoke/tools.yaml in ``tmp_path``."""
    manifests = tmp_path / "manifests" / "spoke"  # tmp_path itself is created when missing
    manifests.mkdir(parents=True)
    (manifests / "tools.yaml").write_text(tools)
    (tmp_path / "fleet.yaml").write_text(fleet)
    return tmp_path / "fleet.yaml"


def rendered(tmp_path: Path, fleet: str = FLEET, tools: str = TOOLS) -> Path:
    path = repo(tmp_path, fleet, tools)
    result = run("render", str(path))
    assert result.exit_code == 0, result.output
    return tmp_path / "rendered"


def docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def findings(path: Path, *args: str) -> list[dict]:
    return json.loads(run("lint", str(path), "--format", "json", *args).output)["findings"]


def test_each_selected_cluster_gets_an_owned_copy_and_the_hub_none(tmp_path):
    out = rendered(tmp_path)
    copies = sorted(p.relative_to(out).as_posix() for p in out.rglob("tools.yaml"))
    assert copies == [
        "clusters/edge-1/extra/manifests/spoke/tools.yaml",
        "clusters/prod-a/extra/manifests/spoke/tools.yaml",
        "clusters/prod-b/extra/manifests/spoke/tools.yaml",
    ]  # staging's stage-a is not selected; nothing under hub/extra
    data = (out / copies[1]).read_bytes()
    assert data == (HEADER + TOOLS).encode()
    lock = json.loads((out / ".fleetgen.lock").read_text())["files"]
    assert [lock[c] for c in copies] == [digest(data)] * 3
    assert run("check", str(tmp_path / "fleet.yaml"), "--schemas").exit_code == 0
    validated = run("validate-rendered", str(out))
    assert validated.exit_code == 0, validated.output


def test_push_clusters_get_the_application_set_and_pull_clusters_an_application(tmp_path):
    out = rendered(tmp_path)
    appset, pulled = docs(out / "hub/argocd/applicationsets/fleet-spoke-extra.yaml")
    assert appset == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "fleet-spoke-extra", "namespace": "argocd"},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [
                {
                    "clusters": {
                        "selector": {
                            "matchLabels": {"fleetgen.io/argocd-mode": "push", "fleetgen.io/fleet": "test-fleet"},
                            "matchExpressions": [{"key": "name", "operator": "In", "values": ["prod-a", "prod-b"]}],
                        }
                    }
                }
            ],
            "template": {
                "metadata": {"name": "{{.name}}-extra"},
                "spec": {
                    "project": "fleet-extra",
                    "source": {
                        "repoURL": "https://github.com/example/fleet",
                        "targetRevision": "main",
                        "path": "rendered/clusters/{{.name}}/extra",
                        "directory": {"recurse": True},
                    },
                    "destination": {"server": "{{.server}}", "namespace": ""},
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
                },
            },
            "syncPolicy": {"preserveResourcesOnDeletion": True},
        },
    }
    assert pulled == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": "edge-1-extra",
            "namespace": "edge-1",
            "labels": {"fleetgen.io/application-set": "fleet-spoke-extra"},
        },
        "spec": {
            "project": "fleet-agent-edge-1",
            "source": {
                "repoURL": "https://github.com/example/fleet",
                "targetRevision": "main",
                "path": "rendered/clusters/edge-1/extra",
                "directory": {"recurse": True},
            },
            "destination": {"server": PROXY, "namespace": ""},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def test_the_projects_allow_exactly_the_documents_kinds_and_namespaces(tmp_path):
    out = rendered(tmp_path)
    [extra] = docs(out / "hub/argocd/projects/fleet-extra.yaml")
    assert extra["spec"] == {
        "description": "hand-written extra manifests of the push-mode spokes of fleet test-fleet",
        "sourceRepos": ["https://github.com/example/fleet"],
        "destinations": [
            {"server": "https://a.example.com", "namespace": ""},
            {"server": "https://a.example.com", "namespace": "tools"},
            {"server": "https://b.example.com", "namespace": ""},
            {"server": "https://b.example.com", "namespace": "tools"},
        ],
        "namespaceResourceWhitelist": [{"group": "", "kind": "ConfigMap"}, {"group": "", "kind": "ServiceAccount"}],
        "clusterResourceWhitelist": [
            {"group": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "tools-reader"}
        ],
    }
    [agent] = docs(out / "hub/argocd/projects/fleet-agent-edge-1.yaml")
    assert agent["spec"]["destinations"] == [
        {"server": PROXY, "namespace": ""},
        {"server": PROXY, "namespace": "monitoring"},
        {"server": PROXY, "namespace": "tools"},
    ]
    named = {(e["kind"], e["name"]) for e in agent["spec"]["clusterResourceWhitelist"]}
    # Prometheus' ClusterRole/Binding are in access.yaml, applied by an admin: never in a synced project
    assert named == {("ClusterRole", "tools-reader")}
    # the platform project (fleet-root, the hub) names none of the spokes' extra objects
    assert "tools-reader" not in (out / "hub/argocd/projects/fleet-platform.yaml").read_text()
    # Argo CD watches the extra namespace on the push spokes
    [secret] = docs(out / "hub/argocd/clusters/prod-a.yaml")
    assert secret["stringData"]["namespaces"] == "monitoring,tools,web"


def spoke(out: Path, cluster: str) -> Cluster:
    """Everything applied to the spoke: access.yaml, the monitoring dir and the extra copies."""
    return Cluster(load_documents(sorted((out / "clusters" / cluster).rglob("*.yaml"))))


def test_argo_cd_may_write_exactly_the_extra_kinds_in_their_namespace(tmp_path):
    out = rendered(tmp_path)
    for cluster in ("prod-a", "prod-b"):
        rbac = spoke(out, cluster)
        for verb in ("get", "list", "watch", "create", "update", "patch", "delete"):
            assert rbac.allowed(ARGOCD, verb, "", "configmaps", namespace="tools", name="contacts"), (cluster, verb)
            assert rbac.allowed(ARGOCD, verb, "", "serviceaccounts", namespace="tools", name="reader")
        assert not rbac.allowed(ARGOCD, "deletecollection", "", "configmaps", namespace="tools")
        assert not rbac.allowed(ARGOCD, "create", "", "serviceaccounts", subresource="token", namespace="tools")
        # nothing the documents do not hold is written in `tools`: no Secrets, workloads or RBAC; they are read
        # there as in `web` (Argo CD's cache needs a kind readable in all the cluster Secret's namespaces or none)
        for group, resource in (("", "secrets"), ("apps", "deployments"), ("rbac.authorization.k8s.io", "roles")):
            for verb in ("create", "update"):
                assert not rbac.allowed(ARGOCD, verb, group, resource, namespace="tools", name="x"), (group, resource)
            for ns in ("monitoring", "tools", "web"):
                assert rbac.allowed(ARGOCD, "list", group, resource, namespace=ns), (group, resource, ns)
        # the named ClusterRole by name only, never created (access.yaml creates it at bootstrap) nor another
        for verb in ("update", "patch", "delete"):
            assert rbac.allowed(ARGOCD, verb, "rbac.authorization.k8s.io", "clusterroles", name="tools-reader")
            assert not rbac.allowed(ARGOCD, verb, "rbac.authorization.k8s.io", "clusterroles", name="cluster-admin")
        assert not rbac.allowed(ARGOCD, "create", "rbac.authorization.k8s.io", "clusterroles", name="tools-reader")
        # Argo CD's first sync updates it (tracking annotation): the API server's escalation check passes
        # only with `escalate` on that name (Argo CD holds pods get/list in namespaces, not cluster-wide)
        assert rbac.allowed(ARGOCD, "escalate", "rbac.authorization.k8s.io", "clusterroles", name="tools-reader")
        assert not rbac.allowed(ARGOCD, "escalate", "rbac.authorization.k8s.io", "clusterroles", name="admin")
        assert not rbac.allowed(ARGOCD, "get", "", "pods")  # why: the ClusterRole grants it cluster-wide
        # the tools namespace exists before Argo CD syncs (created by access.yaml, with Pod Security labels)
        [tools] = [d for d in docs(out / f"clusters/{cluster}/access.yaml") if d["metadata"]["name"] == "tools"]
        assert tools["kind"] == "Namespace"
        assert tools["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    # pull mode: no Argo CD identity on the spoke, but the namespace and the adopted ClusterRole are there
    edge = docs(out / "clusters/edge-1/access.yaml")
    assert [(d["kind"], d["metadata"]["name"]) for d in edge] == [
        ("Namespace", "monitoring"),
        ("Namespace", "tools"),
        ("ClusterRole", "fleet-prometheus"),
        ("ClusterRoleBinding", "fleet-prometheus"),
        ("ClusterRole", "tools-reader"),
    ]
    assert ARGOCD not in {Identity(k, n) for k, _, n in spoke(out, "edge-1").subjects()}


RBAC_EXTRAS = (
    TOOLS
    + """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: tools-reader
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tools-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: tools}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: config-reader
  namespace: tools
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: config-reader
  namespace: tools
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: tools}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewers, namespace: tools}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: Group, apiGroup: rbac.authorization.k8s.io, name: tools-team}]
"""
)
RBAC_GROUP = "rbac.authorization.k8s.io"


def test_extra_rbac_passes_the_api_servers_escalation_check_for_exactly_its_objects(tmp_path):
    """kubernetes pkg/registry/rbac: a role is written only with `escalate` on its name
    (RoleEscalationAuthorized, the request's name), a binding only with `bind` on its roleRef's
    kind and name in the binding's namespace (BindingAuthorized), unless the writer holds every
    permission granted. Argo CD holds neither `secrets get` in tools nor `pods get` cluster-wide,
    so without these grants its sync of each object below is Forbidden."""
    out = rendered(tmp_path, tools=RBAC_EXTRAS)
    [cluster_role] = [
        d
        for d in docs(out / "clusters/prod-a/access.yaml")
        if d["kind"] == "ClusterRole" and d["metadata"]["name"] == "fleetgen:argocd-manager:cluster"
    ]
    by_name = [r for r in cluster_role["rules"] if "resourceNames" in r]
    assert by_name == [  # the documents' order: the ClusterRole, then its binding, then the binding's bind
        {
            "apiGroups": [RBAC_GROUP],
            "resources": ["clusterroles"],
            "resourceNames": ["tools-reader"],
            "verbs": ["update", "patch", "delete", "escalate"],
        },
        {
            "apiGroups": [RBAC_GROUP],
            "resources": ["clusterrolebindings"],
            "resourceNames": ["tools-reader"],
            "verbs": ["update", "patch", "delete"],
        },
        {
            "apiGroups": [RBAC_GROUP],
            "resources": ["clusterroles"],
            "resourceNames": ["tools-reader"],
            "verbs": ["bind"],
        },
    ]
    [tools_role] = [
        d
        for d in docs(out / "clusters/prod-a/access.yaml")
        if (d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
        == ("Role", "fleetgen:argocd-manager:deploy", "tools")
    ]
    assert tools_role["rules"][-3:] == [
        {"apiGroups": [RBAC_GROUP], "resources": ["roles"], "resourceNames": ["config-reader"], "verbs": ["escalate"]},
        {"apiGroups": [RBAC_GROUP], "resources": ["clusterroles"], "resourceNames": ["view"], "verbs": ["bind"]},
        {"apiGroups": [RBAC_GROUP], "resources": ["roles"], "resourceNames": ["config-reader"], "verbs": ["bind"]},
    ]
    rbac = spoke(out, "prod-a")
    assert rbac.allowed(ARGOCD, "bind", RBAC_GROUP, "clusterroles", name="tools-reader")
    assert rbac.allowed(ARGOCD, "bind", RBAC_GROUP, "clusterroles", namespace="tools", name="view")
    assert rbac.allowed(ARGOCD, "bind", RBAC_GROUP, "roles", namespace="tools", name="config-reader")
    assert rbac.allowed(ARGOCD, "escalate", RBAC_GROUP, "roles", namespace="tools", name="config-reader")
    # nothing beyond the documents: not `view` cluster-wide, not another role, not outside tools
    assert not rbac.allowed(ARGOCD, "bind", RBAC_GROUP, "clusterroles", name="view")
    assert not rbac.allowed(ARGOCD, "bind", RBAC_GROUP, "clusterroles", namespace="tools", name="cluster-admin")
    assert not rbac.allowed(ARGOCD, "escalate", RBAC_GROUP, "roles", namespace="web", name="config-reader")
    assert not rbac.allowed(ARGOCD, "escalate", RBAC_GROUP, "roles", namespace="tools")  # a create has no name
    # so the Role is created by the admin's access.yaml and adopted; a pull-mode spoke's agent needs neither
    placed = [(d["kind"], d["metadata"]["name"]) for d in docs(out / "clusters/prod-a/access.yaml")][-3:]
    assert placed == [
        ("ClusterRole", "tools-reader"),
        ("ClusterRoleBinding", "tools-reader"),
        ("Role", "config-reader"),
    ]
    edge = [(d["kind"], d["metadata"]["name"]) for d in docs(out / "clusters/edge-1/access.yaml")]
    assert ("Role", "config-reader") not in edge and ("ClusterRoleBinding", "tools-reader") in edge
    validated = run("validate-rendered", str(out))
    assert validated.exit_code == 0, validated.output


def test_a_namespace_only_the_extras_use_gets_only_their_kinds(tmp_path):
    """A second namespace that no set deploys to: its Role lists the one kind there, nothing of DEPLOYABLE."""
    secret_free = TOOLS + "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: ops\n"
    out = rendered(tmp_path, tools=secret_free)
    [role] = [
        d
        for d in docs(out / "clusters/prod-a/access.yaml")
        if d["kind"] == "Role" and d["metadata"]["namespace"] == "ops"
    ]
    written = [r for r in role["rules"] if "create" in r["verbs"]]
    assert written == [{"apiGroups": [""], "resources": ["services"], "verbs": ["create", "update", "patch", "delete"]}]
    [extra] = docs(out / "hub/argocd/projects/fleet-extra.yaml")
    assert {"server": "https://a.example.com", "namespace": "ops"} in extra["spec"]["destinations"]
    assert {"group": "", "kind": "Service"} in extra["spec"]["namespaceResourceWhitelist"]


def test_copies_are_owned_drift_checked_and_removed_with_their_entry(tmp_path):
    out = rendered(tmp_path)
    fleet = tmp_path / "fleet.yaml"
    copy = out / "clusters/prod-b/extra/manifests/spoke/tools.yaml"
    copy.write_text(copy.read_text().replace("platform-team", "someone-else"))
    [finding] = json.loads(run("check", str(fleet), "--format", "json").output)["findings"]
    # the header line, then source line 15 (oncall)
    assert (finding["rule"], finding["line"]) == ("hand-edit", 16)
    assert finding["file"].endswith("clusters/prod-b/extra/manifests/spoke/tools.yaml")
    (out / "clusters/prod-a/extra/mine.yaml").write_text(TOOLS)
    rules = sorted(f["rule"] for f in json.loads(run("check", str(fleet), "--format", "json").output)["findings"])
    assert rules == ["hand-edit", "orphan"]
    (out / "clusters/prod-a/extra/mine.yaml").unlink()
    fleet.write_text(BASE.replace("applicationSets:\n", EDGE))  # the entry removed
    assert run("render", str(fleet)).exit_code == 0
    assert not list(out.rglob("extra"))
    assert not (out / "hub/argocd/applicationsets/fleet-spoke-extra.yaml").exists()
    assert not (out / "hub/argocd/projects/fleet-extra.yaml").exists()
    assert "tools" not in docs(out / "hub/argocd/clusters/prod-a.yaml")[0]["stringData"]["namespaces"]


def test_a_spoke_document_must_say_where_it_goes(tmp_path):
    bad = """\
apiVersion: v1
kind: Namespace
metadata:
  name: tools
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: no-namespace
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
  namespace: tools
"""
    fleet = repo(tmp_path, tools=bad)
    found = [(f["rule"], f["line"], f["column"], f["message"]) for f in findings(fleet)]
    assert {f["file"] for f in findings(fleet)} == {f"{tmp_path.as_posix()}/manifests/spoke/tools.yaml"}
    assert found == [
        (
            "extra-manifest",
            1,
            1,
            "document 0 is a Namespace: a spoke's namespaces are created by fleetgen (clusters/<cluster>/access.yaml,"
            " with Pod Security labels) for the objects that name them; drop it",
        ),
        (
            "extra-manifest",
            6,
            1,
            "document 1 (ConfigMap 'no-namespace') names no metadata.namespace: on a spoke every namespaced object "
            "names its own, and a kind fleetgen does not know to be cluster-scoped counts as namespaced",
        ),
        (
            "extra-manifest",
            11,
            1,
            "document 2 is a ClusterRole, which is cluster-scoped: drop its metadata.namespace",
        ),
    ]
    assert run("render", str(fleet)).exit_code == 1 and not (tmp_path / "rendered").exists()
    # the same documents are fine for the hub, which keeps its own rules (backward compatible)
    hub = BASE + "extraManifests:\n  - source: manifests/spoke\n"
    (tmp_path / "fleet.yaml").write_text(hub)
    assert findings(fleet) == []


def test_placement_findings_in_fleet_yaml(tmp_path):
    (tmp_path / "manifests/spoke").mkdir(parents=True)
    (tmp_path / "manifests/spoke/tools.yaml").write_text(TOOLS)
    (tmp_path / "manifests/spoke/kube.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: kube-system\n"
    )
    text = (
        BASE.replace(
            "    apps: [{name: web, path: apps/web}]", "    apps: [{name: web, path: apps/web}, {name: extra, path: x}]"
        ).replace(
            "applicationSets:\n",
            "applicationSets:\n  - name: own\n    project: fleet-extra  # expect[reserved-project]: fleet-extra\n"
            "    clusters: {matchLabels: {tier: standard}}\n"
            "    apps: [{name: own, path: apps/own}]\n    namespace: own\n",
        )
        + """\
extraManifests:
  - source: manifests/spoke/tools.yaml
    clusters: {matchLabels: {tier: nonexistent}}  # expect[empty-selector]: {matchLabels
  - source: manifests/spoke/kube.yaml  # expect[system-namespace]: manifests/spoke/kube
    clusters: {matchLabels: {name: prod-a}}
  - source: manifests/spoke/tools.yaml
    clusters: {matchLabels: {tier: standard}}
  - source: manifests/spoke/tools.yaml  # expect[extra-manifest]: manifests/spoke/tools
    clusters: {matchLabels: {name: prod-a}}
  - source: manifests/spoke/tools.yaml
    clusters: {matchLabels: {environment: staging}}
  - source: manifests/spoke/tools.yaml
"""
    )
    # the set's app `extra` would generate prod-a-extra and prod-b-extra, which fleet-spoke-extra owns on prod-a
    text = text.replace("{name: extra, path: x}]", "{name: extra, path: x}]  # expect[application-name]: extra, path")
    run_case(tmp_path, text)
    messages = {(f["rule"], f["message"]) for f in findings(tmp_path / "fleet.yaml")}
    assert {m for r, m in messages if r in ("system-namespace", "extra-manifest", "application-name")} == {
        "extra manifest manifests/spoke/kube.yaml (document 0, ConfigMap 'c') deploys into 'kube-system' on the "
        "spokes, a system namespace (kube-*)",
        "manifests/spoke/tools.yaml is already copied to cluster 'prod-a' by an earlier extraManifests entry",
        "applicationSets 'fleet-spoke-extra' and 'services' both generate the Application 'prod-a-extra'"
        " in namespace 'argocd'",
        "applicationSets 'fleet-spoke-extra' and 'services' both generate the Application 'prod-b-extra'"
        " in namespace 'argocd'",
    }
    suppressed = text.replace(
        "# expect[system-namespace]: manifests/spoke/kube", "# fleetgen: ignore[system-namespace]"
    )
    (tmp_path / "fleet.yaml").write_text(suppressed)
    assert "system-namespace" not in {f["rule"] for f in findings(tmp_path / "fleet.yaml")}


def test_fleetgens_own_spoke_objects_and_bad_namespaces_are_refused(tmp_path):
    clash = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: fleet-prometheus
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: fleetgen:argocd-manager:deploy
  namespace: tools
rules: []
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: Tools_1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: fine
  namespace: monitoring
"""
    fleet = repo(tmp_path, tools=clash)
    found = [(f["line"], f["message"], f["hint"]) for f in findings(fleet) if f["rule"] == "extra-manifest"]
    taken = "rename your object, or change fleetgen's through `patches` in fleet.yaml"
    # the bad namespace is found first (per document), and a file with a problem is not checked further
    assert found == [
        (
            14,
            "document 2 (ConfigMap 'c') names the namespace 'Tools_1', which is no DNS-1123 label",
            "give every namespaced object its metadata.namespace and leave Namespaces to fleetgen; "
            "a hub-only manifest goes in an extraManifests entry without clusters",
        )
    ]
    (tmp_path / "manifests/spoke/tools.yaml").write_text(clash.replace("Tools_1", "tools"))
    found = [(f["line"], f["message"], f["hint"]) for f in findings(fleet) if f["rule"] == "extra-manifest"]
    # edge-1 sorts first among the selected clusters; a ConfigMap of its own in `monitoring` is fine
    assert found == [
        (1, "document 0 is an object fleetgen renders on cluster 'edge-1': two owners would fight", taken),
        (7, "document 1 is an object fleetgen renders on cluster 'edge-1': two owners would fight", taken),
    ]
    kept = clash.split("---\n", 2)[2].replace("Tools_1", "tools")
    # `monitoring` is fleetgen's own namespace: a deliberate extra there is a suppressed system-namespace
    assert "system-namespace" in {f["rule"] for f in findings(repo(tmp_path / "refused", tools=kept))}
    suppressed = FLEET.replace(
        "  - source: manifests/spoke\n", "  - source: manifests/spoke  # fleetgen: ignore[system-namespace]\n"
    )
    out = rendered(tmp_path / "kept", fleet=suppressed, tools=kept)
    [role] = [
        d
        for d in docs(out / "clusters/prod-a/access.yaml")
        if d["kind"] == "Role" and d["metadata"]["namespace"] == "monitoring"
    ]
    [core] = [r for r in role["rules"] if "create" in r["verbs"] and r["apiGroups"] == [""]]
    assert core["resources"] == ["configmaps", "serviceaccounts", "services"]  # the monitoring dir's, and the extra
