"""``fleetgen diff --format json``: the review as one machine-readable object.

Shape: ``{"base", "base_commit", "merge_base", "notes", "manifests": [{"cluster", "id", "file", "status",
"changes": [{"path", "old", "new"}], "patch": [RFC 6902 ops]}], "plan": {"applications": {"added", "removed",
"changed"}, "placements": {WORKLOAD: {CLUSTER: {"old", "new"}}}, "pending": {"added", "registered"}, "upgrades":
[...], "lifecycle": {"adopted", "notAdoptable", "released"}}}``. ``base`` is the ref as given, ``base_commit``
the commit compared with, ``merge_base`` whether that commit is the merge base of the ref and HEAD (the default)
or the ref itself (``--no-merge-base``).
``destroy`` is what the change deletes: ``{"count", "clusters", "applications": [{"name", "source",
"deletesResources", "why"}], "keptApplications", "replicas": [{"workload", "cluster", "old", "new"}], "peers":
{PEER: CLUSTERS}, "removedDocuments", "notAdoptable"}`` (running clusters switched to ``managed`` that
Cluster API cannot adopt and builds again: counted, so ``--fail-on destroy`` fails on them).
``repeated`` (beside ``manifests``, which still lists every document with all its changes)
groups the changes made identically (same ``path``, ``old`` and ``new``) to several documents of one kind
and status in one cluster: ``[{"cluster", "kind", "status", "count", "changes": [{"path", "old", "new"}],
"documents": [{"id", "file"}]}]``, every document named (the text and markdown reports abbreviate the list).
A field added or removed simply lacks ``old`` or ``new``; a placement that did not exist is null. A change whose
both sides are comma-separated lists of names (argocd-agent's ``principal.allowedNamespaces``) also has
``"items": {"added", "removed", "recounted", "reordered"}``: the names gained (in the new order) and lost (in the
old order), the names on both sides repeated a different number of times, and whether the names kept changed
order.
``patch`` (changed documents) is the same change as RFC 6902 operations, as ``kubectl patch
--type json`` and jsonpatch take them.
"""

from __future__ import annotations

import json
from typing import Any

from ..destroy import Destruction
from ..diff import ABSENT, Change, FleetDiff, Repeated, group_repeated, list_items


def _change_json(change: Change) -> dict:
    out: dict[str, Any] = {"path": change.path}
    if change.old is not ABSENT:
        out["old"] = change.old
    if change.new is not ABSENT:
        out["new"] = change.new
    items = list_items(change)
    if items is not None:
        out["items"] = {
            "added": list(items.added),
            "removed": list(items.removed),
            "recounted": list(items.recounted),
            "reordered": items.reordered,
        }
    return out


def destroy_json(d: Destruction) -> dict[str, Any]:
    return {
        "count": d.count,
        "clusters": list(d.clusters),
        "applications": [
            {"name": a.name, "source": a.source, "deletesResources": a.deletes_resources, "why": a.why}
            for a in d.applications
        ],
        "keptApplications": list(d.kept_applications),
        "replicas": [{"workload": w, "cluster": c, "old": o, "new": n} for w, c, o, n in d.replicas],
        "peers": dict(d.peers),
        "removedDocuments": d.removed_documents,
        "notAdoptable": list(d.rebuilt),
    }


def repeated_json(item: Repeated) -> dict[str, Any]:
    return {
        "cluster": item.cluster,
        "kind": item.kind,
        "status": item.status,
        "count": len(item.documents),
        "changes": [_change_json(c) for c in item.changes],
        "documents": [{"id": d.ident, "file": d.file} for d in item.documents],
    }


def as_json(result: FleetDiff) -> dict[str, Any]:
    """The machine-readable diff; a field added or removed simply lacks ``old`` or ``new``."""
    plan = result.plan
    return {
        "base": result.base,
        "base_commit": result.against.commit if result.against else None,
        "merge_base": result.against.merge_base if result.against else None,
        "notes": list(result.notes),
        "destroy": destroy_json(result.destroys),
        "manifests": [
            {
                "cluster": d.cluster,
                "id": d.ident,
                "file": d.file,
                "status": d.status,
                "changes": [_change_json(c) for c in d.changes],
                "patch": list(d.patch),
            }
            for d in result.documents
        ],
        "repeated": [repeated_json(r) for r in group_repeated(result.documents)[0]],
        "plan": {
            "applications": {
                "added": [a.as_json() for a in plan.applications_added],
                "removed": [a.as_json() for a in plan.applications_removed],
                "changed": [{"old": o.as_json(), "new": n.as_json()} for o, n in plan.applications_changed],
            },
            "placements": {
                w: {c: {"old": o, "new": n} for c, (o, n) in moves.items()} for w, moves in plan.placements.items()
            },
            "pending": {"added": list(plan.pending_added), "registered": list(plan.pending_resolved)},
            "upgrades": [w.as_json() for w in plan.upgrades or ()],
            "lifecycle": {
                "adopted": list(plan.adopted),
                "notAdoptable": list(plan.not_adoptable),
                "released": list(plan.released),
            },
        },
    }


def render(result: FleetDiff) -> str:
    return json.dumps(as_json(result), indent=2, ensure_ascii=False, default=str) + "\n"
