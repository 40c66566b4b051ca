"""Upgrade waves (promotion order, one production region per wave, one minor per step) and the plan."""

from __future__ import annotations

import json

import pytest
from fleetgen.plan import build_plan, pending
from fleetgen.plan.upgrades import steps, upgrade_waves

from tests.test_plan_split import fleet, workload


@pytest.mark.parametrize(
    "current, desired, expected",
    [
        ("1.29", "1.30", [("1.29", "1.30")]),
        ("1.29", "1.31", [("1.29", "1.30"), ("1.30", "1.31")]),
        ("1.28.4", "1.31.2", [("1.28.4", "1.29"), ("1.29", "1.30"), ("1.30", "1.31.2")]),
        ("1.30", "1.30.2", [("1.30", "1.30.2")]),  # a patch change, not a minor step
        ("1.30.1", "1.30.3", [("1.30.1", "1.30.3")]),
        ("1.30", "1.30", []),
        ("1.30", "1.30.0", []),
        ("1.30.2", "1.30", []),
        ("1.31", "1.30", []),  # never down: that is lint's version-downgrade
    ],
)
def test_steps(current, desired, expected):
    assert steps(current, desired) == expected


PROMOTION = [
    {"name": "dev", "environment": "development", "region": "local", "kubernetesVersion": "1.31"},
    {"name": "stage-a", "environment": "staging", "region": "us-east-1", "kubernetesVersion": "1.31"},
    {"name": "stage-b", "environment": "staging", "region": "eu-west-1", "kubernetesVersion": "1.31"},
    {"name": "prod-us", "environment": "production", "region": "us-east-1", "kubernetesVersion": "1.31"},
    {"name": "prod-us-2", "environment": "production", "region": "us-east-1", "kubernetesVersion": "1.31"},
    {"name": "prod-eu", "environment": "production", "region": "eu-west-1", "kubernetesVersion": "1.31"},
    {"name": "prod-new", "environment": "production", "region": "ap-south-1", "kubernetesVersion": "1.31"},
]


def waves(current: dict[str, str]) -> list[tuple[list[str], str, str]]:
    return [(list(w.clusters), w.source, w.target) for w in upgrade_waves(fleet(PROMOTION), current)]


def test_environments_in_promotion_order_and_one_production_region_per_wave():
    current = dict.fromkeys(["dev", "stage-a", "stage-b", "prod-us", "prod-us-2", "prod-eu"], "1.30")
    assert waves(current) == [
        (["dev"], "1.30", "1.31"),
        (["stage-a", "stage-b"], "1.30", "1.31"),  # not production: regions move together
        (["prod-eu"], "1.30", "1.31"),
        (["prod-us", "prod-us-2"], "1.30", "1.31"),
    ]


def test_a_two_minor_jump_is_two_waves_after_the_environment_earlier_steps():
    current = {"stage-a": "1.29", "stage-b": "1.30", "prod-us": "1.29", "prod-eu": "1.29"}
    assert waves(current) == [
        (["stage-a"], "1.29", "1.30"),
        (["stage-a", "stage-b"], "1.30", "1.31"),
        (["prod-eu"], "1.29", "1.30"),
        (["prod-us"], "1.29", "1.30"),
        (["prod-eu"], "1.30", "1.31"),
        (["prod-us"], "1.30", "1.31"),
    ]


def test_new_clusters_and_clusters_at_their_version_are_not_upgraded():
    assert waves({"prod-us": "1.31", "prod-eu": "1.31.0"}) == []


def test_waves_are_numbered_from_one():
    f = fleet(PROMOTION)
    current = {"stage-a": "1.30", "prod-us": "1.30"}
    numbered = upgrade_waves(f, current)
    assert [w.number for w in numbered] == [1, 2]
    assert numbered[0].as_json() == {"wave": 1, "clusters": ["stage-a"], "from": "1.30", "to": "1.31"}
    assert upgrade_waves(f, {"stage-a": "1.31"}) == ()


# ---------------------------------------------------------------- the assembled plan


def test_pending_lists_clusters_without_server(example_fleet):
    assert pending(example_fleet) == ["dev-local", "gpu-inference-us-central1"]


def test_plan_shape_without_failures(example_fleet):
    plan = build_plan(example_fleet, {"staging-us-east-1": "1.30"}).as_json()
    assert list(plan) == ["applications", "placements", "uncertain", "pending", "upgrades"]
    order = plan["placements"]["order-service"]
    assert order == {"prod-ap-south-1": 10, "prod-eu-west-1": 20, "prod-us-east-1": 30}
    assert plan["uncertain"] == {}
    assert plan["pending"] == ["dev-local", "gpu-inference-us-central1"]
    assert plan["upgrades"] == [{"wave": 1, "clusters": ["staging-us-east-1"], "from": "1.30", "to": "1.31"}]
    json.dumps(plan)  # JSON-ready as is


def test_plan_shape_with_failures_and_uids():
    f = fleet(
        [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d", "server": None}],
        workloads=[workload("w", 7, {"a": 1, "b": 1, "c": 1})],
    )
    plan = build_plan(f, {}, failed=["c"]).as_json()
    assert list(plan) == ["applications", "placements", "uncertain", "failover", "pending", "upgrades"]
    assert plan["uncertain"] == {"w": {"a": [2, 3], "c": [2, 3]}}
    assert plan["failover"] == {"w": {"a": 4, "b": 3}}
    assert plan["pending"] == ["d"]
    resolved = build_plan(f, {}, uids={"w": "d43fdeeb-d750-4e2b-bee3-64eb94534f4c"}).as_json()
    assert resolved["placements"] == {"w": {"a": 2, "b": 2, "c": 3}}
    assert resolved["uncertain"] == {}
