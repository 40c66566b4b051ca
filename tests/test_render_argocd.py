"""fleetgen.render.argocd: cluster Secrets, projects, ApplicationSets, the root and Karmada Applications."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from fleetgen.render import argocd, projects

from tests.conftest import fleet_from_text

FORBIDDEN_KEYS = ("bearerToken", "password", "keyData", "certData")

SMALL = """
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: small
repo: {url: "https://git.example.com/fleet", revision: stable, renderedDir: out/tree}
hub: {name: hub, argocdNamespace: gitops, karmada: {server: "https://karmada.example.com:5443"}}
network: {mesh: none}
defaults: {kubernetesVersion: "1.30"}
clusters:
  - name: eks-a
    environment: production
    region: us-east-1
    labels: {tier: standard, team: blue}
    server: https://eks-a.example.com
    provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}
    network: {pods: 10.0.0.0/16, services: 10.100.0.0/16}
  - name: gke-b
    environment: production
    region: europe-west1
    labels: {tier: standard}
    server: https://gke-b.example.com
    provider: {type: gcp, project: example-proj-1}
    network: {pods: 10.1.0.0/16, services: 10.101.0.0/16}
  - name: aks-c
    environment: staging
    region: westeurope
    server: https://aks-c.example.com
    provider: {type: azure, subscriptionID: 6f1c2d3e-0000-4000-8000-1234567890ab, resourceGroup: rg}
    network: {pods: 10.2.0.0/16, services: 10.102.0.0/16}
  - name: vs-d
    environment: staging
    region: dc1
    labels: {tier: standard}
    server: https://vs-d.example.com:6443
    provider: {type: vsphere, server: vc.example.com, datacenter: dc1, template: ubuntu}
    network: {pods: 10.3.0.0/16, services: 10.103.0.0/16}
  - name: dock-e
    environment: development
    region: local
    server: https://127.0.0.1:6443
    provider: {type: docker}
    network: {pods: 10.4.0.0/16, services: 10.104.0.0/16}
  - name: edge-f
    environment: production
    region: us-east-1
    labels: {tier: edge}
    server: https://10.9.0.1:6443
    provider: {type: imported}
    argocd: {mode: pull}
    network: {pods: 10.5.0.0/16, services: 10.105.0.0/16}
  - name: pending-g
    environment: production
    region: us-east-1
    labels: {tier: standard}
    provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}
    network: {pods: 10.6.0.0/16, services: 10.106.0.0/16}
applicationSets:
  - name: single
    clusters: {matchLabels: {tier: standard}}
    apps:
      - name: web
        path: "apps/{{cluster}}/{{.server}}/web"
        helm: {valueFiles: ["values/{{cluster}}.yaml", "values/{{\\"{{\\"}}x.yaml"]}
    namespace: web
  - name: multi
    project: production
    clusters:
      matchExpressions: [{key: tier, operator: NotIn, values: [gpu]}]
    apps:
      - {name: api, path: "charts/{{cluster}}/api", helm: {valueFiles: [values.yaml]}}
      - {name: db, path: "charts/{{.name}}/db", repoURL: "https://git.example.com/db", revision: v2}
    namespace: data
    syncPolicy: {createNamespace: false, prune: false, preserveResourcesOnDeletion: false}
workloads:
  - name: orders
    namespace: shop
    source: {path: workloads/orders}
    resources: [{apiVersion: apps/v1, kind: Deployment, name: orders}]
    clusters: {matchLabels: {environment: production}}
"""


@pytest.fixture(scope="module")
def small():
    return fleet_from_text(SMALL)


def documents(files) -> list[dict[str, Any]]:
    return [doc for f in files for doc in f.documents]


def by_path(files) -> dict[str, Any]:
    return {f.path: f for f in files}


def secret_of(files, cluster: str) -> dict[str, Any]:
    docs = by_path(files)[f"hub/argocd/clusters/{cluster}.yaml"].documents
    return next(d for d in docs if d["kind"] == "Secret")


def config_of(secret: dict[str, Any]) -> dict[str, Any] | None:
    raw = secret["stringData"].get("config")
    return None if raw is None else json.loads(raw)


# ---------------------------------------------------------------- a tiny Go text/template evaluator


def go_render(text: str, params: dict[str, Any]) -> str:
    """Evaluate the only actions fleetgen writes: ``{{.key}}`` and ``{{"literal"}}``; anything else fails.

    A missing key raises, as ``missingkey=error`` makes Argo CD do.
    """
    out, i = [], 0
    while (start := text.find("{{", i)) >= 0:
        out.append(text[i:start])
        end = _action_end(text, start + 2)
        action = text[start + 2 : end].strip()
        if action.startswith('"') and action.endswith('"'):
            out.append(json.loads(action))
        elif re.fullmatch(r"\.[A-Za-z]+", action):
            out.append(str(params[action[1:]]))
        else:
            raise ValueError(f"unexpected template action {action!r} in {text!r}")
        i = end + 2
    return "".join(out) + text[i:]


def _action_end(text: str, i: int) -> int:
    quoted = False
    while i < len(text):
        if text[i] == '"':
            quoted = not quoted
        elif not quoted and text.startswith("}}", i):
            return i
        i += 1
    raise ValueError(f"unclosed action in {text!r}")


def go_render_deep(value: Any, params: dict[str, Any]) -> Any:
    """Argo CD renders every string of a template (and of matrix children) on its own."""
    if isinstance(value, dict):
        return {k: go_render_deep(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [go_render_deep(v, params) for v in value]
    return go_render(value, params) if isinstance(value, str) else value


def generated_apps(appset: dict[str, Any], secret: dict[str, Any]) -> list[dict[str, Any]]:
    """What the controller makes of ``appset`` for one cluster Secret (Clusters, or Clusters x List)."""
    params = {"name": secret["stringData"]["name"], "server": secret["stringData"]["server"]}
    generator = appset["spec"]["generators"][0]
    if "matrix" in generator:
        elements = go_render_deep(generator["matrix"]["generators"][1]["list"]["elements"], params)
        rows = [{**params, **element} for element in elements]
    else:
        rows = [params]
    return [go_render_deep(appset["spec"]["template"], row) for row in rows]


def label_selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics, written from apimachinery ``pkg/labels/selector.go``
    (``Requirement.Matches``), independently of fleetgen's own matcher: matchLabels are equalities;
    In needs the key with one of the values, NotIn matches a missing key or another value,
    Exists/DoesNotExist test the key only."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    tests = {
        "In": lambda key, values: key in labels and labels[key] in values,
        "NotIn": lambda key, values: key not in labels or labels[key] not in values,
        "Exists": lambda key, values: key in labels,
        "DoesNotExist": lambda key, values: key not in labels,
    }
    return all(tests[e["operator"]](e["key"], e.get("values", [])) for e in selector.get("matchExpressions") or [])


def selected_secrets(appset: dict[str, Any], secrets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    generator = appset["spec"]["generators"][0]
    clusters = generator["matrix"]["generators"][0] if "matrix" in generator else generator
    selector = clusters["clusters"]["selector"]
    return [s for s in secrets if label_selector_matches(selector, s["metadata"]["labels"])]


# ---------------------------------------------------------------- every document


@pytest.mark.parametrize("which", ["example", "small"])
def test_every_document_passes_the_upstream_schema(which, example_fleet, small, upstream):
    fleet = example_fleet if which == "example" else small
    for doc in documents(argocd.render(fleet)):
        assert upstream(doc) == [], (doc["kind"], doc["metadata"]["name"])


@pytest.mark.parametrize("which", ["example", "small"])
def test_no_credential_anywhere(which, example_fleet, small):
    files = argocd.render(example_fleet if which == "example" else small)
    text = json.dumps(documents(files))
    for key in FORBIDDEN_KEYS:
        assert key not in text
    for doc in documents(files):
        if doc["kind"] == "Secret":
            assert set(doc["stringData"]) <= {"name", "server", "config", "namespaces", "clusterResources"}


def test_render_is_deterministic_and_independent_of_cluster_order(example_text):
    once, twice = argocd.render(fleet_from_text(example_text)), argocd.render(fleet_from_text(example_text))
    assert once == twice
    head, _, rest = example_text.partition("clusters:\n")
    body, sep, tail = rest.partition("\napplicationSets:")
    blocks = ["\n  - name:" + b.rstrip("\n") for b in ("\n" + body).split("\n  - name:")[1:]]
    assert len(blocks) == len(fleet_from_text(example_text).clusters)
    reversed_text = head + "clusters:" + "".join(reversed(blocks)) + "\n" + sep + tail
    assert argocd.render(fleet_from_text(reversed_text)) == once


# ---------------------------------------------------------------- cluster Secrets


def test_only_registered_clusters_have_a_secret(example_fleet, small):
    for fleet in (example_fleet, small):
        paths = by_path(argocd.render(fleet))
        for cluster in fleet.clusters:
            assert (f"hub/argocd/clusters/{cluster.name}.yaml" in paths) == cluster.registered, cluster.name


def test_secret_keeps_argo_cd_inside_the_deploy_namespaces(small):
    files = argocd.render(small)
    # eks-a: tier standard -> single (web); not gpu -> multi (data); monitoring everywhere
    assert secret_of(files, "eks-a")["stringData"]["namespaces"] == "data,monitoring,web"
    assert secret_of(files, "aks-c")["stringData"]["namespaces"] == "data,monitoring"
    for cluster in ("eks-a", "aks-c", "vs-d"):
        assert secret_of(files, cluster)["stringData"]["clusterResources"] == "true"


def test_secret_carries_every_cluster_label_and_fleet_labels(small):
    files = argocd.render(small)
    for cluster in argocd.registered(small, "push"):
        secret = secret_of(files, cluster.name)
        labels = secret["metadata"]["labels"]
        assert dict(cluster.labels).items() <= labels.items()
        assert {"name", "environment", "region", "provider"} <= set(labels)
        assert labels["argocd.argoproj.io/secret-type"] == "cluster"
        assert labels[argocd.FLEET_LABEL] == "small"
        assert labels[argocd.MODE_LABEL] == cluster.argocd_mode
        assert secret["metadata"]["namespace"] == "gitops"
        assert secret["stringData"]["name"] == cluster.name


def test_cloud_clusters_get_credential_free_config(small):
    files = argocd.render(small)
    eks = config_of(secret_of(files, "eks-a"))
    role = "arn:aws:iam::123456789012:role/argocd"
    assert eks["awsAuthConfig"] == {"clusterName": "eks-a", "roleARN": role}
    gke = config_of(secret_of(files, "gke-b"))["execProviderConfig"]
    assert (gke["command"], gke["args"], gke["apiVersion"]) == (
        "argocd-k8s-auth",
        ["gcp"],
        "client.authentication.k8s.io/v1beta1",
    )
    aks = config_of(secret_of(files, "aks-c"))["execProviderConfig"]
    assert aks["args"] == ["azure"] and aks["env"]["AAD_LOGIN_METHOD"] == "workloadidentity"
    raw = secret_of(files, "eks-a")["stringData"]["config"]
    assert raw == json.dumps(eks, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize("cluster", ["vs-d", "dock-e"])
def test_clusters_without_credential_free_form_leave_config_out_of_git(small, cluster):
    secret = secret_of(argocd.render(small), cluster)
    assert "config" not in secret["stringData"]
    assert secret["metadata"]["annotations"][argocd.CREDENTIALS_ANNOTATION] == "out-of-git"


def test_pull_cluster_gets_its_agent_namespace_and_no_secret(small):
    """``argocd-agentctl agent create`` writes cluster-<agent> and exits if it exists (cmd/ctl/agent.go)."""
    files = by_path(argocd.render(small))
    [namespace] = files["hub/argocd/clusters/edge-f.yaml"].documents
    assert namespace["kind"] == "Namespace" and namespace["metadata"]["name"] == "edge-f"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert not any(
        d["kind"] == "Secret" and d["metadata"]["name"] == "cluster-edge-f" for d in documents(argocd.render(small))
    )


def test_a_provisioned_pull_cluster_has_one_hub_namespace(example_text):
    """The agent namespace of a pull-mode cluster Cluster API creates is its Cluster API namespace:
    one Namespace object in the whole hub tree (fleet-root must not sync two definitions of it)."""
    from fleetgen.produce import produce

    pull = example_text.replace(
        "    network: {pods: 10.24.0.0/14", "    argocd: {mode: pull}\n    network: {pods: 10.24.0.0/14", 1
    )
    files = produce(fleet_from_text(pull)).files
    assert "hub/argocd/clusters/prod-ap-south-1.yaml" not in files
    namespaces = [
        (path, doc)
        for path, data in files.items()
        if path.startswith(("hub/", "bootstrap/"))
        for doc in yaml.safe_load_all(data)
        if isinstance(doc, dict) and doc.get("kind") == "Namespace" and doc["metadata"]["name"] == "prod-ap-south-1"
    ]
    assert [path for path, _ in namespaces] == ["hub/capi/prod-ap-south-1.yaml"]
    labels = namespaces[0][1]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["cluster.x-k8s.io/cluster-name"] == "prod-ap-south-1"
    # the agent's project still takes Applications from that namespace only
    for project in yaml.safe_load_all(files["hub/argocd/projects/fleet-agent-prod-ap-south-1.yaml"]):
        assert project["spec"]["sourceNamespaces"] == ["prod-ap-south-1"]


def test_karmada_is_an_argocd_cluster_without_credentials(small, example_fleet):
    secret = by_path(argocd.render(small))["hub/argocd/clusters/karmada.yaml"].documents[0]
    assert secret["stringData"] == {
        "name": "karmada",
        "server": "https://karmada.example.com:5443",
        "namespaces": "shop",
        "clusterResources": "true",
    }
    assert argocd.MODE_LABEL not in secret["metadata"]["labels"]  # no ApplicationSet ever selects it


# ---------------------------------------------------------------- ApplicationSets


def appset_doc(files, name: str) -> dict[str, Any]:
    return by_path(files)[f"hub/argocd/applicationsets/{name}.yaml"].documents[0]


def test_go_template_options(small, example_fleet):
    for fleet in (small, example_fleet):
        for doc in documents(argocd.render(fleet)):
            if doc["kind"] == "ApplicationSet":
                assert doc["spec"]["goTemplate"] is True
                assert doc["spec"]["goTemplateOptions"] == ["missingkey=error"]


def test_one_app_uses_a_cluster_generator_several_a_matrix_of_two(example_fleet):
    files = argocd.render(example_fleet)
    single = appset_doc(files, "production-services")["spec"]["generators"]
    assert len(single) == 1 and set(single[0]) == {"clusters"}
    matrix = appset_doc(files, "platform-charts")["spec"]["generators"]
    assert len(matrix) == 1 and set(matrix[0]) == {"matrix"}
    children = matrix[0]["matrix"]["generators"]
    assert [set(child) for child in children] == [{"clusters"}, {"list"}]
    assert [e["app"] for e in children[1]["list"]["elements"]] == ["api-gateway", "payment-service"]


def test_selector_keeps_the_users_and_adds_fleet_and_push_mode(example_fleet):
    selector = appset_doc(argocd.render(example_fleet), "platform-charts")["spec"]["generators"][0]
    selector = selector["matrix"]["generators"][0]["clusters"]["selector"]
    assert selector["matchLabels"] == {
        "environment": "production",
        argocd.FLEET_LABEL: "example-platform",
        argocd.MODE_LABEL: "push",
    }
    assert selector["matchExpressions"] == [{"key": "tier", "operator": "NotIn", "values": ["gpu"]}]


# Worked out by hand from the fleets: registered push-mode clusters only (edge clusters are pull mode,
# gpu-inference-us-central1 and pending-g have no server); NotIn also matches clusters without a tier.
SELECTED = {
    "example": {
        "platform-charts": ["prod-ap-south-1", "prod-eu-west-1", "prod-us-east-1"],
        "production-services": ["prod-ap-south-1", "prod-eu-west-1", "prod-us-east-1"],
        "fleet-spoke-monitoring": [
            "analytics-westeurope",
            "prod-ap-south-1",
            "prod-eu-west-1",
            "prod-us-east-1",
            "staging-us-east-1",
        ],
    },
    "small": {
        "single": ["eks-a", "gke-b", "vs-d"],
        "multi": ["aks-c", "dock-e", "eks-a", "gke-b", "vs-d"],
        "fleet-spoke-monitoring": ["aks-c", "dock-e", "eks-a", "gke-b", "vs-d"],
    },
}


@pytest.mark.parametrize("which", ["example", "small"])
def test_each_set_selects_exactly_its_registered_push_clusters(which, example_fleet, small):
    fleet = example_fleet if which == "example" else small
    files = argocd.render(fleet)
    secrets = [d for d in documents(files) if d["kind"] == "Secret"]
    chosen = {
        appset.name: sorted(s["stringData"]["name"] for s in selected_secrets(appset_doc(files, appset.name), secrets))
        for appset in argocd.delivered_sets(fleet)
    }
    assert chosen == SELECTED[which]


def test_the_independent_matcher_follows_apimachinery():
    labels = {"tier": "standard", "environment": "production"}
    assert label_selector_matches({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, labels)
    assert not label_selector_matches(
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, labels
    )
    assert label_selector_matches(
        {"matchLabels": {"tier": "standard"}, "matchExpressions": [{"key": "environment", "operator": "Exists"}]},
        labels,
    )
    assert not label_selector_matches({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, labels)


@pytest.mark.parametrize("which", ["example", "small"])
def test_generated_application_names_are_cluster_dash_app(which, example_fleet, small):
    fleet = example_fleet if which == "example" else small
    files = argocd.render(fleet)
    secrets = [d for d in documents(files) if d["kind"] == "Secret"]
    for appset in argocd.delivered_sets(fleet):
        doc = appset_doc(files, appset.name)
        for secret in selected_secrets(doc, secrets):
            names = [app["metadata"]["name"] for app in generated_apps(doc, secret)]
            cluster = secret["stringData"]["name"]
            assert sorted(names) == sorted(f"{cluster}-{app.name}" for app in appset.apps)


def test_template_injection_is_escaped_and_cluster_placeholder_resolved(small):
    files = argocd.render(small)
    eks = secret_of(files, "eks-a")
    [app] = generated_apps(appset_doc(files, "single"), eks)
    source = app["spec"]["source"]
    assert source["path"] == "apps/eks-a/{{.server}}/web"
    assert source["helm"]["valueFiles"] == ["values/eks-a.yaml", 'values/{{"{{"}}x.yaml']
    assert app["spec"]["destination"] == {"server": "https://eks-a.example.com", "namespace": "web"}
    assert (source["repoURL"], source["targetRevision"]) == ("https://git.example.com/fleet", "stable")


def test_matrix_apps_resolve_per_app_fields(small):
    files = argocd.render(small)
    doc = appset_doc(files, "multi")
    apps = {a["metadata"]["name"]: a["spec"] for a in generated_apps(doc, secret_of(files, "gke-b"))}
    assert apps["gke-b-api"]["source"]["path"] == "charts/gke-b/api"
    assert apps["gke-b-db"]["source"] == {
        "repoURL": "https://git.example.com/db",
        "targetRevision": "v2",
        "path": "charts/{{.name}}/db",
    }
    assert apps["gke-b-db"]["syncPolicy"] == {"automated": {"prune": False, "selfHeal": True}}
    elements = doc["spec"]["generators"][0]["matrix"]["generators"][1]["list"]["elements"]
    assert [e["helm"] for e in elements] == [{"valueFiles": ["values.yaml"]}, {}]
    assert "helm: {{ toJson .helm }}" in doc["spec"]["templatePatch"]


def test_pull_clusters_get_plain_applications_in_the_agent_namespace(small):
    files = by_path(argocd.render(small))
    docs = files["hub/argocd/applicationsets/multi.yaml"].documents
    plain = [d for d in docs if d["kind"] == "Application"]
    assert [d["metadata"]["name"] for d in plain] == ["edge-f-api", "edge-f-db"]
    for app in plain:
        assert app["metadata"]["namespace"] == "edge-f"
        assert app["spec"]["project"] == "fleet-agent-edge-f.apps"  # the agent's sets' project, not the set's
        assert app["spec"]["destination"]["server"].endswith("?agentName=edge-f")
    assert plain[0]["spec"]["source"]["path"] == "charts/edge-f/api"
    monitoring = files["hub/argocd/applicationsets/fleet-spoke-monitoring.yaml"].documents
    assert [d["metadata"]["name"] for d in monitoring[1:]] == ["edge-f-monitoring"]
    assert monitoring[1]["spec"]["project"] == "fleet-agent-edge-f"  # fleetgen's own, apart from the sets


def test_spoke_monitoring_set(small):
    files = argocd.render(small)
    doc = appset_doc(files, "fleet-spoke-monitoring")
    [app] = generated_apps(doc, secret_of(files, "vs-d"))
    assert app["metadata"]["name"] == "vs-d-monitoring"
    assert app["spec"]["source"]["path"] == "out/tree/clusters/vs-d/monitoring"
    assert app["spec"]["destination"]["namespace"] == "monitoring"
    assert app["spec"]["project"] == "fleet-platform"


# ---------------------------------------------------------------- projects, root, Karmada


def test_environment_projects(small):
    files = by_path(projects.render(small))
    assert {p for p in files if p.startswith("hub/argocd/projects/")} == {
        f"hub/argocd/projects/{name}.yaml"
        for name in ("development", "staging", "production", "fleet-platform", "fleet-workloads", "fleet-agent-edge-f")
    }
    production = files["hub/argocd/projects/production.yaml"].documents[0]["spec"]
    assert production["sourceRepos"] == ["https://git.example.com/db", "https://git.example.com/fleet"]
    assert production["destinations"] == [  # "single" is in project default; edge-f in its agent project
        {"server": "https://eks-a.example.com", "namespace": "data"},
        {"server": "https://gke-b.example.com", "namespace": "data"},
    ]
    assert "sourceNamespaces" not in production
    assert "clusterResourceWhitelist" not in production  # its only set does not create namespaces
    staging = files["hub/argocd/projects/staging.yaml"].documents[0]["spec"]
    assert staging["destinations"] == [] and "sourceNamespaces" not in staging


def test_platform_project_and_root_application(small):
    files = by_path(projects.render(small))
    project, root = files["bootstrap/root-app.yaml"].documents
    assert files["hub/argocd/projects/fleet-platform.yaml"].documents == (project,)
    destinations = project["spec"]["destinations"]
    # the hub: Argo CD's namespace, the Querier's, each provisioned cluster's Cluster API namespace (all but
    # the imported edge-f, whose agent namespace is its name); never `*`
    hub = sorted(d["namespace"] for d in destinations if d["server"] == "https://kubernetes.default.svc")
    assert hub == ["aks-c", "dock-e", "edge-f", "eks-a", "gitops", "gke-b", "monitoring", "pending-g", "vs-d"]
    assert {"server": "https://karmada.example.com:5443", "namespace": "shop"} in destinations
    assert "sourceNamespaces" not in project["spec"]
    assert root["metadata"] == {"name": "fleet-root", "namespace": "gitops"}
    assert root["spec"]["project"] == "fleet-platform"
    assert root["spec"]["source"]["path"] == "out/tree/hub"
    assert root["spec"]["source"]["directory"] == {"recurse": True}
    assert root["spec"]["destination"]["server"] == "https://kubernetes.default.svc"
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_karmada_applications(small):
    files = by_path(argocd.render(small))
    policies = files["hub/argocd/applications/karmada-policies.yaml"].documents[0]["spec"]
    assert policies["source"]["path"] == "out/tree/karmada"
    assert policies["source"]["directory"] == {"recurse": True}
    assert policies["destination"] == {"server": "https://karmada.example.com:5443", "namespace": "shop"}
    orders = files["hub/argocd/applications/workload-orders.yaml"].documents[0]["spec"]
    assert orders["source"]["path"] == "workloads/orders"
    assert orders["destination"] == {"server": "https://karmada.example.com:5443", "namespace": "shop"}
    assert orders["project"] == "fleet-workloads"


def test_no_karmada_objects_without_a_karmada_server():
    text = SMALL.replace(', karmada: {server: "https://karmada.example.com:5443"}', "")
    text = text[: text.index("workloads:")]
    paths = by_path(argocd.render(fleet_from_text(text)))
    assert not any("karmada" in p or "workload-" in p for p in paths)


def test_go_render_helper_rejects_what_argo_would_execute():
    with pytest.raises(ValueError):
        go_render("{{ .server | quote }}", {"server": "x"})
    with pytest.raises(KeyError):
        go_render("{{.missing}}", {})
    assert go_render(argocd.template_text("a/{{cluster}}/{{ b }}"), {"name": "c"}) == "a/c/{{ b }}"


# ---------------------------------------------------------------- deletion


def controller_finalizers(appset: dict[str, Any]) -> list[str]:
    """argo-cd applicationset/utils/utils.go RenderTemplateParams (v3.5): a generated Application gets
    ``resources-finalizer.argocd.argoproj.io`` when its template has no finalizers and the set's
    ``syncPolicy`` is missing or has ``preserveResourcesOnDeletion`` false."""
    template = appset["spec"]["template"]["metadata"].get("finalizers") or []
    preserve = (appset["spec"].get("syncPolicy") or {}).get("preserveResourcesOnDeletion", False)
    return template or ([] if preserve else ["resources-finalizer.argocd.argoproj.io"])


@pytest.mark.parametrize(
    "name, finalizers",
    [("single", []), ("fleet-spoke-monitoring", []), ("multi", ["resources-finalizer.argocd.argoproj.io"])],
)
def test_generated_applications_keep_their_resources_unless_the_set_opts_out(small, name, finalizers):
    files = argocd.render(small)
    docs = by_path(files)[f"hub/argocd/applicationsets/{name}.yaml"].documents
    assert controller_finalizers(docs[0]) == finalizers
    # Pull-mode Applications, written by fleetgen itself, follow the same setting.
    pulled = [d for d in docs[1:] if d["kind"] == "Application"]
    assert bool(pulled) == (name != "single")  # edge-f (pull) is not tier standard
    assert all(d["metadata"].get("finalizers", []) == finalizers for d in pulled)


def test_example_fleet_deletes_nothing_on_relabel(example_fleet):
    for f in argocd.render(example_fleet):
        for doc in f.documents:
            if doc["kind"] == "ApplicationSet":
                assert controller_finalizers(doc) == [], doc["metadata"]["name"]
            elif doc["kind"] == "Application" and not doc["metadata"]["name"].startswith("workload-"):
                assert "finalizers" not in doc["metadata"], doc["metadata"]["name"]
