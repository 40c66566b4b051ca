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
    """The clusters ``selector`` matches (``matches``, unrolled: lint runs it per set and workload)."""
    wanted = tuple(selector.match_labels.items())
    exprs = selector.match_expressions
    if not exprs and len(wanted) == 1:
        ((key, value),) = wanted  # the common case
        return [c for c in clusters if c.labels.get(key) == value]
    out = []
    for c in clusters:
        labels = c.labels
        for k, v in wanted:
            if labels.get(k) != v:
                break
        else:
            for r in exprs:
                if not requirement_matches(r, labels):
                    break
            else:
                out.append(c)
    return out
