"""Karmada's static-weight division, checked against Karmada's own unit-test results.

Sources (karmada-io/karmada, v1.16+):
- pkg/util/helper/webstermethod_test.go at f3c4376: ExampleAllocateWebsterSeats, TestAllocateWebsterSeats
  (an earlier revision of that test broke ties by votes; the released code breaks them by seats);
- pkg/util/helper/binding_test.go: Test_dispenser_AllocateByWeight with its evenUID/oddUID, and
  TestDispenseReplicasByTargetClusters.
"""

from __future__ import annotations

import json
from functools import reduce
from typing import Any

import pytest
from fleetgen.model import Fleet
from fleetgen.plan.split import (
    cluster_weights,
    failover,
    fnv1a_32,
    names_descending,
    placements,
    split,
    uncertain,
    webster,
)

from tests.conftest import fleet_from_text

# The UIDs Karmada's binding_test.go uses for its tie-breaking cases.
EVEN_UID = "4858ca61-3ff8-4095-8267-f3d059d8074c"
ODD_UID = "d43fdeeb-d750-4e2b-bee3-64eb94534f4c"


def fleet(clusters: list[dict[str, Any]], **sections: Any) -> Fleet:
    """A small valid fleet: ``clusters`` entries need ``name``; anything else overrides the defaults."""
    data = {
        "apiVersion": "fleetgen/v1alpha1",
        "kind": "Fleet",
        "name": "t",
        "repo": {"url": "https://example.com/r.git"},
        "hub": {"name": "hub", "karmada": {"server": "https://karmada.example:5443"}},
        "network": {"mesh": "none"},
        "clusters": [_cluster(i, c) for i, c in enumerate(clusters, start=1)],
        **sections,
    }
    return fleet_from_text(json.dumps(data))  # JSON is YAML


def _cluster(index: int, spec: dict[str, Any]) -> dict[str, Any]:
    base = {
        "environment": "production",
        "region": "r1",
        "kubernetesVersion": "1.30",
        "server": f"https://{spec['name']}.example",
        "provider": {"type": "docker"},
        "network": {"pods": f"10.{index}.0.0/16", "services": f"10.{100 + index}.0.0/20"},
    }
    merged = {**base, **spec}
    return {k: v for k, v in merged.items() if v is not None}  # server=None: not registered yet


def workload(name: str, replicas: int, weights: dict[str, int] | None = None, **selector: Any) -> dict:
    out = {
        "name": name,
        "namespace": "apps",
        "source": {"path": f"workloads/{name}"},
        "resources": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name}],
        "clusters": selector or {"matchLabels": {"environment": "production"}},
        "replicas": replicas,
    }
    return {**out, "weights": weights} if weights else out


def independent_fnv1a_32(text: str) -> int:
    return reduce(lambda h, b: ((h ^ b) * 16777619) % 2**32, text.encode(), 2166136261)


# ---------------------------------------------------------------- the hash and tie order


def test_fnv1a_32_matches_reference_vectors_and_an_independent_implementation():
    assert fnv1a_32("") == 0x811C9DC5
    assert fnv1a_32("a") == 0xE40C292C
    for uid in (EVEN_UID, ODD_UID, "order-service", "x"):
        assert fnv1a_32(uid) == independent_fnv1a_32(uid)


def test_uid_parity_chooses_the_name_order():
    assert independent_fnv1a_32(EVEN_UID) % 2 == 0 and not names_descending(EVEN_UID)
    assert independent_fnv1a_32(ODD_UID) % 2 == 1 and names_descending(ODD_UID)
    # The empty string hashes odd, but Karmada special-cases an empty UID to ascending.
    assert independent_fnv1a_32("") % 2 == 1 and not names_descending("")


# ---------------------------------------------------------------- Webster, Karmada's results


def test_webster_example_from_karmada():
    assert webster(4, {"Alpha": 1200, "Beta": 900, "Gamma": 400}) == {"Alpha": 2, "Beta": 1, "Gamma": 1}


@pytest.mark.parametrize(
    "seats, expected",
    [
        (1, (1, 0, 0, 0)),
        (2, (1, 1, 0, 0)),
        (3, (2, 1, 0, 0)),
        (4, (2, 1, 1, 0)),
        (5, (2, 2, 1, 0)),
        (6, (2, 2, 1, 1)),  # A (100000/5) ties D (20000/1): D has fewer seats
        (7, (3, 2, 1, 1)),
        (8, (3, 3, 1, 1)),
    ],
)
def test_webster_classic_rounds_from_karmada(seats, expected):
    votes = {"PartyA": 100000, "PartyB": 80000, "PartyC": 30000, "PartyD": 20000}
    assert tuple(webster(seats, votes).values()) == expected


@pytest.mark.parametrize(
    "replicas, weights, expected",
    [
        (60, {"a": 3, "b": 2, "c": 1}, {"a": 30, "b": 20, "c": 10}),
        (10, {"a": 3, "b": 2, "c": 1}, {"a": 5, "b": 3, "c": 2}),
        (7, {"a": 1, "b": 1, "c": 1}, {"a": 3, "b": 2, "c": 2}),
        (13, {"member1": 1, "member2": 2, "member3": 3}, {"member1": 2, "member2": 4, "member3": 7}),
        (12, {"member1": 1, "member2": 1, "member3": 1}, {"member1": 4, "member2": 4, "member3": 4}),
        (1, {"A": 2, "B": 1}, {"A": 1, "B": 0}),
        (2, {"A": 2, "B": 1}, {"A": 1, "B": 1}),  # 2/3 vs 1/1: not a tie; the small cluster gets its first
        (3, {"A": 2, "B": 1}, {"A": 2, "B": 1}),
        (5, {"A": 170, "B": 110, "C": 60}, {"A": 2, "B": 2, "C": 1}),
        (6, {"A": 170, "B": 110, "C": 60}, {"A": 3, "B": 2, "C": 1}),
        (2, {"big": 3, "small": 1}, {"big": 1, "small": 1}),  # 3/3 == 1/1: fewer seats wins the tie
    ],
)
def test_split_known_karmada_results(replicas, weights, expected):
    assert split(replicas, weights) == expected


def test_uid_dependent_ties_follow_karmada():
    assert split(5, {"A": 1, "B": 1}, ODD_UID) == {"A": 2, "B": 3}
    assert split(5, {"A": 1, "B": 1}, EVEN_UID) == {"A": 3, "B": 2}
    assert split(5, {"A": 1, "B": 1}) == {"A": 3, "B": 2}
    assert split(7, {"a": 1, "b": 1, "c": 1}, ODD_UID) == {"a": 2, "b": 2, "c": 3}


def test_zero_replicas_lists_every_cluster_with_zero():
    assert split(0, {"a": 3, "b": 1}) == {"a": 0, "b": 0}
    assert split(5, {}) == {}


def test_clusters_without_weight_get_nothing_unless_no_cluster_has_one():
    assert split(6, {"a": 1, "b": 0}) == {"a": 6, "b": 0}
    assert split(7, {"a": 0, "b": 0, "c": 0}) == {"a": 3, "b": 2, "c": 2}


def test_a_cluster_matching_several_entries_takes_the_highest_weight():
    entries = [(("a", "b"), 1), (("a",), 3), (("c",), 2)]
    assert cluster_weights(["a", "b", "d"], entries) == {"a": 3, "b": 1, "d": 0}
    assert split(8, cluster_weights(["a", "b"], entries)) == {"a": 6, "b": 2}


def test_uncertain_names_the_clusters_a_uid_can_change():
    assert uncertain(7, {"a": 1, "b": 1, "c": 1}) == {"a": (2, 3), "c": (2, 3)}
    assert uncertain(60, {"a": 3, "b": 2, "c": 1}) == {}
    assert uncertain(6, {"a": 1, "b": 0}) == {}


# ---------------------------------------------------------------- the fleet's workloads


def test_example_fleet_placements(example_fleet):
    placed, unsure = placements(example_fleet)
    assert placed == {
        "order-service": {"prod-ap-south-1": 10, "prod-eu-west-1": 20, "prod-us-east-1": 30},
        "store-inventory": {"edge-store-042": 2},
    }
    assert unsure == {}


def test_only_registered_karmada_members_are_selected():
    f = fleet(
        [
            {"name": "a"},
            {"name": "b", "karmada": {"member": False}},
            {"name": "c", "server": None},
            {"name": "d"},
        ],
        workloads=[workload("dup", 4), workload("web", 4, {"a": 1, "b": 5, "c": 5})],
    )
    placed, _ = placements(f)
    assert placed["dup"] == {"a": 4, "d": 4}
    assert placed["web"] == {"a": 4, "d": 0}  # d is selected but has no weight


def test_workload_selector_restricts_the_candidates():
    f = fleet(
        [{"name": "a", "labels": {"tier": "edge"}}, {"name": "b"}],
        workloads=[workload("w", 3, matchExpressions=[{"key": "tier", "operator": "DoesNotExist"}])],
    )
    assert placements(f)[0] == {"w": {"b": 3}}


def test_unresolved_ties_are_uncertain_until_a_uid_is_given():
    equal = workload("w", 7, {"a": 1, "b": 1, "c": 1})
    f = fleet([{"name": "a"}, {"name": "b"}, {"name": "c"}], workloads=[equal])
    placed, unsure = placements(f)
    assert placed == {"w": {"a": 3, "b": 2, "c": 2}}
    assert unsure == {"w": {"a": (2, 3), "c": (2, 3)}}
    placed, unsure = placements(f, {"w": ODD_UID})
    assert placed == {"w": {"a": 2, "b": 2, "c": 3}}
    assert unsure == {}


def test_failover_moves_the_lost_clusters_replicas(example_fleet):
    moved = failover(example_fleet, {"prod-us-east-1"})
    assert moved["order-service"] == {"prod-ap-south-1": 20, "prod-eu-west-1": 40}
    assert moved["store-inventory"] == {"edge-store-042": 2}
    assert failover(example_fleet, {"edge-store-042"})["store-inventory"] == {}


def test_failover_of_every_weighted_cluster_falls_back_to_equal_weights():
    f = fleet([{"name": "a"}, {"name": "b"}, {"name": "c"}], workloads=[workload("w", 5, {"a": 1})])
    assert placements(f)[0]["w"] == {"a": 5, "b": 0, "c": 0}
    assert failover(f, {"a"}) == {"w": {"b": 3, "c": 2}}
    assert failover(f, {"a"}, {"w": ODD_UID}) == {"w": {"b": 2, "c": 3}}
