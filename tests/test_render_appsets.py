"""ApplicationSets as teams write them: sync options, retry, ignoreDifferences, Helm values and
parameters, and RollingSync in fleetgen's rollout order. Expected documents are written out by hand
from argoproj/argo-cd v3.5 (pkg/apis/application/v1alpha1/types.go, applicationset_types.go,
applicationset/progressivesync/progressive_sync.go)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from fleetgen.main import cli
from fleetgen.render import argocd

from tests.conftest import fleet_from_text
from tests.test_render_argocd import go_render

HEADER = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: teams
repo: {url: "https://git.example.com/fleet"}
hub: {name: hub}
network: {mesh: none}
defaults: {kubernetesVersion: "1.30", provider: {type: imported}}
clusters:
  - {name: dev-a, environment: development, region: us-east-1, server: "https://dev-a.example.com",
     network: {pods: 10.0.0.0/16, services: 10.100.0.0/20}}
  - {name: stage-a, environment: staging, region: us-east-1, server: "https://stage-a.example.com",
     network: {pods: 10.1.0.0/16, services: 10.101.0.0/20}}
  - {name: prod-us1, environment: production, region: us-east-1, server: "https://prod-us1.example.com",
     network: {pods: 10.2.0.0/16, services: 10.102.0.0/20}}
  - {name: prod-eu, environment: production, region: eu-west-1, server: "https://prod-eu.example.com",
     network: {pods: 10.3.0.0/16, services: 10.103.0.0/20}}
  - {name: prod-us2, environment: production, region: us-east-1, server: "https://prod-us2.example.com",
     network: {pods: 10.4.0.0/16, services: 10.104.0.0/20}}
  - {name: edge-p, environment: production, region: us-west-2, server: "https://edge-p.example.com",
     argocd: {mode: pull}, network: {pods: 10.5.0.0/16, services: 10.105.0.0/20}}
  - {name: prod-new, environment: production, region: ap-south-1, network: {pods: 10.6.0.0/16, services: 10.106.0.0/20}}
applicationSets:
  - name: web
    clusters: {}
    namespace: web
    strategy: RollingSync
    apps:
      - name: web
        path: charts/web
        helm:
          valueFiles: ["values/{{cluster}}.yaml"]
          values: {image: {tag: "1.2"}, "{{ evil }}": "x{{ .name }}y", replicas: 2}
          parameters: [{name: "ingress.host", value: "{{ .server }}", forceString: true}]
    ignoreDifferences:
      - {group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}
      - {kind: ConfigMap, name: "cfg-{{x}}", jqPathExpressions: [".data.stamp"]}
    syncPolicy:
      syncOptions: [ServerSideApply=true, RespectIgnoreDifferences=true]
      retry: {limit: 5, backoff: {duration: 10s, factor: 2, maxDuration: 3m}}
  - name: duo
    clusters: {matchLabels: {environment: staging}}
    namespace: duo
    apps:
      - {name: api, path: charts/api, helm: {values: {mode: "{{ blue }}"}}}
      - {name: db, path: charts/db}
"""


@pytest.fixture(scope="module")
def teams():
    return fleet_from_text(HEADER)


def doc_of(fleet, name: str) -> list[dict[str, Any]]:
    return next(f.documents for f in argocd.render(fleet) if f.path == f"hub/argocd/applicationsets/{name}.yaml")


def controller_render(value: Any, params: dict[str, Any], labels: dict[str, str]) -> Any:
    """Argo CD's deeplyReplace: every string and every map key; ``index .metadata.labels "k"`` reads labels."""
    if isinstance(value, dict):
        return {controller_render(k, params, labels): controller_render(v, params, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [controller_render(v, params, labels) for v in value]
    if not isinstance(value, str):
        return value
    for key in ("environment", "region"):
        value = value.replace(f'{{{{index .metadata.labels "{key}"}}}}', labels[key])
    return go_render(value, params)


def generated(fleet, appset: dict[str, Any]) -> list[dict[str, Any]]:
    """The Applications the cluster generator makes from the push-mode cluster Secrets it selects."""
    out = []
    for cluster in fleet.clusters:
        if cluster.registered and cluster.argocd_mode == "push":
            params = {"name": cluster.name, "server": cluster.server}
            out.append(controller_render(appset["spec"]["template"], params, dict(cluster.labels)))
    return out


def steps_of(appset: dict[str, Any], apps: list[dict[str, Any]]) -> list[list[str]]:
    """progressive_sync.go buildAppDependencyList: every matchExpression must hold on the Application's labels."""

    def selected(step, labels):
        return all(e["operator"] == "In" and labels.get(e["key"]) in e["values"] for e in step["matchExpressions"])

    return [
        sorted(a["metadata"]["name"] for a in apps if selected(step, a["metadata"].get("labels", {})))
        for step in appset["spec"]["strategy"]["rollingSync"]["steps"]
    ]


def test_rolling_sync_steps_follow_promotion_order_then_one_production_region_at_a_time(teams):
    appset = doc_of(teams, "web")[0]
    assert appset["spec"]["strategy"] == {
        "type": "RollingSync",
        "rollingSync": {
            "steps": [
                {"matchExpressions": [{"key": "fleetgen.io/environment", "operator": "In", "values": ["development"]}]},
                {"matchExpressions": [{"key": "fleetgen.io/environment", "operator": "In", "values": ["staging"]}]},
                {
                    "matchExpressions": [
                        {"key": "fleetgen.io/environment", "operator": "In", "values": ["production"]},
                        {"key": "fleetgen.io/region", "operator": "In", "values": ["eu-west-1"]},
                    ]
                },
                {
                    "matchExpressions": [
                        {"key": "fleetgen.io/environment", "operator": "In", "values": ["production"]},
                        {"key": "fleetgen.io/region", "operator": "In", "values": ["us-east-1"]},
                    ]
                },
            ]
        },
    }
    assert appset["spec"]["template"]["metadata"]["labels"] == {
        "fleetgen.io/environment": '{{index .metadata.labels "environment"}}',
        "fleetgen.io/region": '{{index .metadata.labels "region"}}',
    }
    # each generated Application lands in exactly one step, in rollout order
    assert steps_of(appset, generated(teams, appset)) == [
        ["dev-a-web"],
        ["stage-a-web"],
        ["prod-eu-web"],
        ["prod-us1-web", "prod-us2-web"],
    ]


def test_template_carries_sync_options_retry_ignore_differences_and_helm_escaped(teams):
    template = doc_of(teams, "web")[0]["spec"]["template"]
    spec = template["spec"]
    assert spec["syncPolicy"] == {
        "automated": {"prune": True, "selfHeal": True},
        "syncOptions": ["CreateNamespace=true", "ServerSideApply=true", "RespectIgnoreDifferences=true"],
        "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}},
    }
    assert spec["ignoreDifferences"] == [
        {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
        {"kind": "ConfigMap", "name": 'cfg-{{"{{"}}x}}', "jqPathExpressions": [".data.stamp"]},
    ]
    assert spec["source"]["helm"] == {
        "valueFiles": ["values/{{.name}}.yaml"],
        "parameters": [{"name": "ingress.host", "value": '{{"{{"}} .server }}', "forceString": True}],
        "valuesObject": {"image": {"tag": "1.2"}, '{{"{{"}} evil }}': 'x{{"{{"}} .name }}y', "replicas": 2},
    }
    # what the controller writes for prod-eu: the user's strings back, literally
    app = next(a for a in generated(teams, doc_of(teams, "web")[0]) if a["metadata"]["name"] == "prod-eu-web")
    assert app["metadata"]["labels"] == {"fleetgen.io/environment": "production", "fleetgen.io/region": "eu-west-1"}
    assert app["spec"]["source"]["helm"] == {
        "valueFiles": ["values/prod-eu.yaml"],
        "parameters": [{"name": "ingress.host", "value": "{{ .server }}", "forceString": True}],
        "valuesObject": {"image": {"tag": "1.2"}, "{{ evil }}": "x{{ .name }}y", "replicas": 2},
    }
    assert app["spec"]["ignoreDifferences"][1]["name"] == "cfg-{{x}}"


def test_pull_mode_applications_get_the_same_fields_unescaped(teams):
    (pulled,) = [d for d in doc_of(teams, "web") if d["kind"] == "Application"]
    assert pulled["metadata"]["name"] == "edge-p-web"
    assert pulled["spec"]["source"]["helm"]["valuesObject"] == {
        "image": {"tag": "1.2"},
        "{{ evil }}": "x{{ .name }}y",
        "replicas": 2,
    }
    assert pulled["spec"]["source"]["helm"]["valueFiles"] == ["values/edge-p.yaml"]
    assert pulled["spec"]["ignoreDifferences"][1] == {
        "kind": "ConfigMap",
        "name": "cfg-{{x}}",
        "jqPathExpressions": [".data.stamp"],
    }
    assert pulled["spec"]["syncPolicy"]["retry"]["limit"] == 5


def test_matrix_elements_carry_each_apps_helm_block_for_the_template_patch(teams):
    appset = doc_of(teams, "duo")[0]
    elements = appset["spec"]["generators"][0]["matrix"]["generators"][1]["list"]["elements"]
    assert [e["helm"] for e in elements] == [{"valuesObject": {"mode": '{{"{{"}} blue }}'}}, {}]
    assert appset["spec"]["templatePatch"] == (
        "{{- if .helm }}\nspec:\n  source:\n    helm: {{ toJson .helm }}\n{{- else }}\n{}\n{{- end }}\n"
    )
    assert "strategy" not in appset["spec"] and "labels" not in appset["spec"]["template"]["metadata"]


def test_every_document_validates_strictly(teams, upstream):
    for f in argocd.render(teams):
        for doc in f.documents:
            assert upstream(doc) == [], (f.path, doc["metadata"]["name"])


def test_plan_shows_the_rolling_sync_steps(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(HEADER)
    result = CliRunner().invoke(cli, ["plan", str(fleet), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rollouts"] == {
        "web": [
            {"step": 0, "environment": None, "region": None, "applications": ["edge-p-web"]},
            {"step": 1, "environment": "development", "region": None, "applications": ["dev-a-web"]},
            {"step": 2, "environment": "staging", "region": None, "applications": ["stage-a-web"]},
            {"step": 3, "environment": "production", "region": "eu-west-1", "applications": ["prod-eu-web"]},
            {
                "step": 4,
                "environment": "production",
                "region": "us-east-1",
                "applications": ["prod-us1-web", "prod-us2-web"],
            },
        ]
    }
    text = CliRunner().invoke(cli, ["plan", str(fleet)]).output
    assert (
        "RollingSync web\n  step 0 (pull mode, syncs on its own): edge-p-web\n"
        "  step 1 (development): dev-a-web\n  step 2 (staging): stage-a-web\n"
        "  step 3 (production/eu-west-1): prod-eu-web\n"
        "  step 4 (production/us-east-1): prod-us1-web, prod-us2-web\n"
    ) in text


def test_rendered_readme_names_the_progressive_sync_flag(teams):
    from fleetgen.render import index

    (readme,) = [f for f in index.render(teams) if f.path == "README.md"]
    text = readme.text
    assert (
        "5. `strategy: RollingSync` (`web`) needs the ApplicationSet controller's `--enable-progressive-syncs` "
        '(or `applicationsetcontroller.enable.progressive.syncs: "true"` in `argocd-cmd-params-cm`)'
    ) in text


# ---------------------------------------------------------------- multiple sources (helm.valuesRepo)

SOURCES = (
    HEADER.split("applicationSets:")[0]
    + """\
applicationSets:
  - name: chart
    clusters: {matchExpressions: [{key: name, operator: In, values: [stage-a, edge-p]}]}
    namespace: chart
    apps:
      - name: web
        path: charts/web
        repoURL: https://git.example.com/charts
        helm:
          valueFiles: [values.yaml]
          valuesRepo: {repoURL: "https://git.example.com/values", valueFiles: ["{{cluster}}/web.yaml"]}
  - name: pair
    clusters: {matchLabels: {environment: staging}}
    namespace: pair
    apps:
      - name: api
        path: charts/api
        helm: {valuesRepo: {repoURL: "https://git.example.com/values", revision: v3, valueFiles: [api.yaml]}}
      - {name: db, path: charts/db}
"""
)


@pytest.fixture(scope="module")
def sources():
    return fleet_from_text(SOURCES)


def test_values_repo_makes_a_second_source_with_ref(sources):
    template = doc_of(sources, "chart")[0]["spec"]["template"]
    assert "source" not in template["spec"]
    assert template["spec"]["sources"] == [
        {
            "repoURL": "https://git.example.com/charts",
            "targetRevision": "main",
            "path": "charts/web",
            "helm": {"valueFiles": ["values.yaml", "$values/{{.name}}/web.yaml"]},
        },
        {"repoURL": "https://git.example.com/values", "targetRevision": "main", "ref": "values"},
    ]
    (app,) = [a for a in generated(sources, doc_of(sources, "chart")[0]) if a["metadata"]["name"] == "stage-a-web"]
    assert app["spec"]["sources"][0]["helm"]["valueFiles"] == ["values.yaml", "$values/stage-a/web.yaml"]


def test_pull_mode_application_gets_the_same_sources(sources):
    (pulled,) = [d for d in doc_of(sources, "chart") if d["kind"] == "Application"]
    assert pulled["spec"]["sources"] == [
        {
            "repoURL": "https://git.example.com/charts",
            "targetRevision": "main",
            "path": "charts/web",
            "helm": {"valueFiles": ["values.yaml", "$values/edge-p/web.yaml"]},
        },
        {"repoURL": "https://git.example.com/values", "targetRevision": "main", "ref": "values"},
    ]
    assert "source" not in pulled["spec"]


def test_matrix_element_sources_replace_the_template_source(sources, upstream):
    appset = doc_of(sources, "pair")[0]
    elements = appset["spec"]["generators"][0]["matrix"]["generators"][1]["list"]["elements"]
    api, db = elements
    assert api["sources"] == [
        {
            "repoURL": "https://git.example.com/fleet",
            "targetRevision": "main",
            "path": "charts/api",
            "helm": {"valueFiles": ["$values/api.yaml"]},
        },
        {"repoURL": "https://git.example.com/values", "targetRevision": "v3", "ref": "values"},
    ]
    assert (db["sources"], db["helm"]) == ([], {})
    assert appset["spec"]["templatePatch"] == (
        "{{- if .sources }}\nspec:\n  source: null\n  sources: {{ toJson .sources }}\n"
        "{{- else if .helm }}\nspec:\n  source:\n    helm: {{ toJson .helm }}\n"
        "{{- else }}\n{}\n{{- end }}\n"
    )
    # the api Application for stage-a once the patch is merged (strategic merge: null deletes source)
    cluster = sources.cluster("stage-a")
    row = {"name": cluster.name, "server": cluster.server, **api}
    app = controller_render(appset["spec"]["template"], row, dict(cluster.labels))
    del app["spec"]["source"]
    app["spec"]["sources"] = controller_render(api["sources"], row, dict(cluster.labels))
    assert app["metadata"]["name"] == "stage-a-api"
    merged = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {**app["metadata"], "namespace": "argocd"},
        "spec": app["spec"],
    }
    assert upstream(merged) == []


def test_projects_allow_the_values_repository(sources):
    from fleetgen.render import projects

    docs = [d for f in projects.render(sources) for d in f.documents if d["kind"] == "AppProject"]
    staging = next(d for d in docs if d["metadata"]["name"] == "staging")
    assert "https://git.example.com/values" in staging["spec"]["sourceRepos"]


def test_multi_source_documents_validate_strictly(sources, upstream):
    for f in argocd.render(sources):
        for doc in f.documents:
            assert upstream(doc) == [], (f.path, doc["metadata"]["name"])
