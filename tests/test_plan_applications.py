"""The Applications Argo CD runs for the fleet's sets: cluster-generator selector semantics, pull mode."""

from __future__ import annotations

from typing import Any

import pytest
from fleetgen.plan.applications import applications

from tests.test_plan_split import fleet

CLUSTERS = [
    {"name": "alpha", "labels": {"tier": "standard"}},
    {"name": "beta", "labels": {"tier": "edge"}, "region": "r2"},
    {"name": "gamma", "environment": "staging"},  # no tier label at all
    {"name": "pending", "labels": {"tier": "standard"}, "server": None},
]


def appset(selector: dict[str, Any], apps: list[dict[str, str]] | None = None, name: str = "set") -> dict:
    return {
        "name": name,
        "clusters": selector,
        "apps": apps or [{"name": "app", "path": "apps/{{cluster}}/app"}],
        "namespace": "apps",
    }


def targeted(selector: dict[str, Any]) -> list[str]:
    return [a.cluster for a in applications(fleet(CLUSTERS, applicationSets=[appset(selector)]))]


@pytest.mark.parametrize(
    "selector, clusters",
    [
        ({"matchLabels": {"tier": "standard"}}, ["alpha"]),
        ({"matchLabels": {"environment": "production", "region": "r2"}}, ["beta"]),
        ({"matchLabels": {"provider": "docker", "name": "gamma"}}, ["gamma"]),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["edge", "gpu"]}]}, ["beta"]),
        # NotIn and DoesNotExist match clusters that lack the key.
        (
            {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["edge"]}]},
            ["alpha", "gamma"],
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, ["alpha", "beta"]),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, ["gamma"]),
        (
            {
                "matchLabels": {"environment": "production"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["edge"]}],
            },
            ["alpha"],
        ),
        ({"matchLabels": {"tier": "none-such"}}, []),
    ],
)
def test_selector_semantics_over_cluster_labels(selector, clusters):
    assert targeted(selector) == clusters


def test_clusters_without_server_generate_nothing():
    assert "pending" not in targeted({"matchLabels": {"tier": "standard"}})
    assert "pending" not in targeted({})


def test_empty_selector_targets_every_registered_cluster_and_never_in_cluster():
    # The rendered ApplicationSet narrows the selector to fleetgen's own Secrets, so Argo CD's
    # local in-cluster (added only for an empty selector) never appears.
    assert targeted({}) == ["alpha", "beta", "gamma"]


def test_pull_mode_clusters_deploy_through_the_agent_resource_proxy():
    clusters = [{"name": "edge", "argocd": {"mode": "pull"}}, {"name": "core"}]
    entries = [a.as_json() for a in applications(fleet(clusters, applicationSets=[appset({})]))]
    assert [(e["name"], e["server"]) for e in entries] == [
        ("core-app", "https://core.example"),
        ("edge-app", "https://argocd-agent-resource-proxy.argocd.svc:9090?agentName=edge"),
    ]


def test_entries_name_server_path_and_order():
    sets = [
        appset({"matchLabels": {"tier": "standard"}}, name="zeta"),
        appset(
            {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
            apps=[{"name": "web", "path": "charts/web"}, {"name": "api", "path": "clusters/{{cluster}}/api"}],
            name="mesh",
        ),
    ]
    entries = [a.as_json() for a in applications(fleet(CLUSTERS, applicationSets=sets))]
    assert [(e["applicationSet"], e["name"]) for e in entries] == [
        ("mesh", "alpha-api"),
        ("mesh", "alpha-web"),
        ("mesh", "beta-api"),
        ("mesh", "beta-web"),
        ("zeta", "alpha-app"),
    ]
    assert entries[2] == {
        "applicationSet": "mesh",
        "name": "beta-api",
        "cluster": "beta",
        "server": "https://beta.example",
        "path": "clusters/beta/api",
        "namespace": "apps",
    }


def test_example_fleet_applications(example_fleet):
    entries = [a.as_json() for a in applications(example_fleet)]
    by_set: dict[str, list[str]] = {}
    for e in entries:
        by_set.setdefault(e["applicationSet"], []).append(e["name"])
    # gpu-inference-us-central1 has no server; tier NotIn [gpu] keeps the edge cluster.
    assert by_set["production-services"] == [
        "prod-ap-south-1-production-services",
        "prod-eu-west-1-production-services",
        "prod-us-east-1-production-services",
    ]
    assert {e["cluster"] for e in entries if e["applicationSet"] == "platform-charts"} == {
        "edge-store-042",
        "prod-ap-south-1",
        "prod-eu-west-1",
        "prod-us-east-1",
    }
    edge = next(e for e in entries if e["cluster"] == "edge-store-042")
    assert edge["server"] == "https://argocd-agent-resource-proxy.argocd.svc:9090?agentName=edge-store-042"
    eu = next(e for e in entries if e["name"] == "prod-eu-west-1-production-services")
    assert eu["path"] == "clusters/prod-eu-west-1/production-services"
    assert eu["server"] == "https://9B7D22AF.gr7.eu-west-1.eks.amazonaws.com"
