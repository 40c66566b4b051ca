"""Karmada's replica division, reproduced exactly so `plan` can preview it.

Followed from karmada-io/karmada (v1.16+, static weights since PR #6793):
- ``pkg/util/helper/webstermethod.go`` ``AllocateWebsterSeats`` / ``WebsterPriorityQueue.Less``:
  one seat at a time to the highest ``votes / (2*seats + 1)`` (float64), ties to a tie-breaker.
- ``pkg/util/helper/binding.go`` ``Dispenser.AllocateByWeight`` and ``tieBreakerByUID``: on equal
  priority the cluster with fewer seats wins, then the name order: ascending for an empty UID,
  otherwise descending when FNV-1a-32 of the UID is odd, ascending when even.
- ``pkg/scheduler/core/division_algorithm.go`` ``getStaticWeightInfoList``: a cluster takes the
  highest weight of the staticWeightList entries it matches; clusters with weight 0 are left out;
  when no candidate has a weight, every candidate gets weight 1.
- ``pkg/scheduler/core/assignment.go`` ``assignByStaticWeightStrategy``: the dispenser starts from
  an empty result (``NewDispenser(replicas, nil, ...)`` in every revision read, including the
  Webster branch of PR #6793), so every scheduling pass, the one after a failed cluster is evicted
  included, divides all replicas afresh among the current candidates (unlike the dynamic-weight
  strategies, which keep the previous result and add to it); ``assignByDuplicatedStrategy`` gives
  every candidate the full replica count. Karmada drops zero-replica clusters from the binding
  (``removeZeroReplicasCluster``); the plan keeps them, listed with 0.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from ..model import Cluster, Fleet, Workload
from ..selectors import matches

FNV32_OFFSET = 0x811C9DC5
FNV32_PRIME = 0x01000193


def fnv1a_32(text: str) -> int:
    """FNV-1a 32-bit hash of the UTF-8 bytes (Go's ``hash/fnv.New32a``)."""
    value = FNV32_OFFSET
    for byte in text.encode():
        value = ((value ^ byte) * FNV32_PRIME) & 0xFFFFFFFF
    return value


def names_descending(uid: str) -> bool:
    """Karmada's tieBreakerByUID: an empty UID sorts names ascending; otherwise an odd hash descends."""
    return bool(uid) and fnv1a_32(uid) & 1 == 1


def webster(replicas: int, votes: Mapping[str, int], descending: bool = False) -> dict[str, int]:
    """Seats per party, allocated one at a time to the highest ``votes / (2*seats + 1)``.

    Priorities are compared as floats, as Karmada's Go code does. Ties go to fewer seats, then to
    the first name in the tie order; ``max`` keeps the first of equal keys, so parties are visited
    in that order.
    """
    seats = dict.fromkeys(votes, 0)
    order = sorted(votes, reverse=descending)
    for _ in range(replicas if votes else 0):
        winner = max(order, key=lambda name: (votes[name] / (2 * seats[name] + 1), -seats[name]))
        seats[winner] += 1
    return seats


def effective_weights(weights: Mapping[str, int]) -> dict[str, int]:
    """Clusters without a positive weight get nothing, unless none has one: then all weigh 1."""
    positive = {name: w for name, w in weights.items() if w > 0}
    return positive or dict.fromkeys(weights, 1)


def split(replicas: int, weights: Mapping[str, int], uid: str = "") -> dict[str, int]:
    """Karmada's static-weight division of ``replicas`` over ``weights``; every cluster listed."""
    seats = webster(replicas, effective_weights(weights), names_descending(uid))
    return {name: seats.get(name, 0) for name in sorted(weights)}


def uncertain(replicas: int, weights: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """Clusters whose count depends on the UID's tie order: ``{cluster: (min, max)}``."""
    votes = effective_weights(weights)
    ascending, descending = webster(replicas, votes, False), webster(replicas, votes, True)
    return {
        name: (min(ascending[name], descending[name]), max(ascending[name], descending[name]))
        for name in sorted(votes)
        if ascending[name] != descending[name]
    }


Entry = tuple[Collection[str], int]  # a staticWeightList entry: the cluster names it targets, its weight


def cluster_weights(candidates: Iterable[str], entries: Iterable[Entry]) -> dict[str, int]:
    """Per candidate, the highest weight among the staticWeightList entries naming it (0 if none)."""
    entries = list(entries)
    return {name: max((w for names, w in entries if name in names), default=0) for name in candidates}


# ---------------------------------------------------------------- the fleet's workloads


def selected_clusters(fleet: Fleet, workload: Workload) -> list[Cluster]:
    """Karmada members (registered, ``karmada.member``) matched by the workload's cluster affinity."""
    members = (c for c in fleet.clusters if c.registered and c.karmada_member)
    return [c for c in members if matches(workload.clusters, c.labels)]


def _weights(workload: Workload, candidates: Iterable[str]) -> dict[str, int]:
    # fleet.yaml weights render as one staticWeightList entry per cluster (clusterNames: [name]).
    return cluster_weights(candidates, (((name,), w) for name, w in workload.weights.items()))


def assign(workload: Workload, candidates: Iterable[str], uid: str = "") -> dict[str, int]:
    """Replicas per candidate: Duplicated (no weights) gives each the total, else the static split."""
    names = sorted(candidates)
    if not workload.weights:
        return dict.fromkeys(names, workload.replicas)
    return split(workload.replicas, _weights(workload, names), uid)


def placements(
    fleet: Fleet, uids: Mapping[str, str] = {}
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, tuple[int, int]]]]:
    """Every workload's split over its selected clusters, and the clusters a UID could change.

    A workload with a known UID is split in that UID's tie order and is never uncertain; without
    one the split uses the empty-UID order (ascending), and ``uncertain`` names the clusters whose
    count differs in the other order. Duplicated workloads are never uncertain.
    """
    placed: dict[str, dict[str, int]] = {}
    unsure: dict[str, dict[str, tuple[int, int]]] = {}
    for workload in fleet.workloads:
        names = [c.name for c in selected_clusters(fleet, workload)]
        placed[workload.name] = assign(workload, names, uids.get(workload.name, ""))
        if workload.weights and workload.name not in uids:
            ranges = uncertain(workload.replicas, _weights(workload, names))
            if ranges:
                unsure[workload.name] = ranges
    return placed, unsure


def failover(fleet: Fleet, failed: Collection[str], uids: Mapping[str, str] = {}) -> dict[str, dict[str, int]]:
    """Each workload's placement once ``failed`` clusters are evicted and no longer candidates.

    Karmada re-divides all replicas among the remaining candidates (the static-weight dispenser
    starts empty), so the result is the same split as for a fleet without those clusters.
    """
    return {
        workload.name: assign(
            workload,
            (c.name for c in selected_clusters(fleet, workload) if c.name not in failed),
            uids.get(workload.name, ""),
        )
        for workload in fleet.workloads
    }
