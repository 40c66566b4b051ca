"""Kubernetes label-selector semantics, as Argo CD's cluster generator and Karmada apply them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import Cluster, Requirement, Selector


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool:
    """k8s.io/apimachinery labels.Requirement.Matches: NotIn and DoesNotExist match an absent key."""
    if req.operator == "In":
        return req.key in labels and labels[req.key] in req.values
    if req.operator == "NotIn":
        return req.key not in labels or labels[req.key] not in req.values
    if req.operator == "Exists":
        return req.key in labels
    return req.key not in labels  # DoesNotExist


def matches(selector: Selector, labels: Mapping[str, str]) -> bool:
    """All matchLabels equal and every expression true. An empty selector matches everything."""
    if any(labels.get(k) != v for k, v in selector.match_labels.items()):
        return False
    return all(requirement_matches(r, labels) for r in selector.match_expressions)


def select(selector: Selector, clusters: Iterable[Cluster]) -> list[Cluster]:
    if selector.match_expressions or len(selector.match_labels) != 1:
        return [c for c in clusters if matches(selector, c.labels)]
    ((key, value),) = selector.match_labels.items()  # the common case, inline: lint runs it per workload
    return [c for c in clusters if c.labels.get(key) == value]
