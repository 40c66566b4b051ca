"""``fleetgen diff --format json``: the review as one machine-readable object.

Shape: ``{"base", "base_commit", "merge_base", "notes", "manifests": [{"cluster", "id", "file", "status",
"changes": [{"path", "old", "new"}], "patch": [RFC 6902 ops]}], "plan": {"applications": {"added", "removed",
"changed"}, "placements": {WORKLOAD: {CLUSTER: {"old", "new"}}}, "pending": {"added", "registered"}, "upgrades":
[...]}}``. ``base`` is the ref as given, ``base_commit`` the commit compared with, ``merge_base`` whether that
commit is the merge base of the ref and HEAD (the default) or the ref itself (``--no-merge-base``).
A field added or removed simply lacks ``old`` or ``new``; a placement that did not exist is null.
``patch`` (changed documents) is the same change as RFC 6902 operations, as ``kubectl patch
--type json`` and jsonpatch take them.
"""

from __future__ import annotations

import json
from typing import Any

from ..diff import ABSENT, Change, FleetDiff


def _change_json(change: Change) -> dict:
    out: dict[str, Any] = {"path": change.path}
    if change.old is not ABSENT:
        out["old"] = change.old
    if change.new is not ABSENT:
        out["new"] = change.new
    return out


def as_json(result: FleetDiff) -> dict[str, Any]:
    """The machine-readable diff; a field added or removed simply lacks ``old`` or ``new``."""
    plan = result.plan
    return {
        "base": result.base,
        "base_commit": result.against.commit if result.against else None,
        "merge_base": result.against.merge_base if result.against else None,
        "notes": list(result.notes),
        "manifests": [{"cluster": d.cluster, "id": d.ident, "file": d.file, "status": d.status,
                       "changes": [_change_json(c) for c in d.changes], "patch": list(d.patch)}
                      for d in result.documents],
        "plan": {
            "applications": {"added": list(plan.applications_added),
                             "removed": list(plan.applications_removed),
                             "changed": [{"old": o, "new": n} for o, n in plan.applications_changed]},
            "placements": {w: {c: {"old": o, "new": n} for c, (o, n) in moves.items()}
                           for w, moves in plan.placements.items()},
            "pending": {"added": list(plan.pending_added), "registered": list(plan.pending_resolved)},
            "upgrades": list(plan.upgrades),
        },
    }


def render(result: FleetDiff) -> str:
    return json.dumps(as_json(result), indent=2, ensure_ascii=False, default=str) + "\n"
