"""``fleetgen diff --format text``: the review for a terminal, and the line builders markdown reuses.

Document lines: ``+`` added, ``-`` removed, ``~`` changed; field lines under a changed document:
``~ path: old → new``, ``+ path: value`` (field added), ``- path: value`` (field removed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..diff import (
    ABSENT,
    Change,
    DocumentDiff,
    FleetDiff,
    PlanDelta,
    Shared,
    by_cluster,
    counts,
    group_shared,
    show,
)

ARROW = "→"
VALUE_LIMIT = 200  # characters of one value; a long string or a whole added mapping is cut with "…"
MARK = {"added": "+", "removed": "-", "changed": "~"}


def change_line(change: Change, limit: int = VALUE_LIMIT) -> str:
    if change.old is ABSENT:
        return f"+ {change.path}: {show(change.new, limit)}"
    if change.new is ABSENT:
        return f"- {change.path}: {show(change.old, limit)}"
    return f"~ {change.path}: {show(change.old, limit)} {ARROW} {show(change.new, limit)}"


def document_lines(doc: DocumentDiff, limit: int = VALUE_LIMIT) -> list[str]:
    """The document's line, then its field changes indented under it."""
    head = f"{MARK[doc.status]} {doc.ident}  ({doc.file})"
    return [head, *(f"    {change_line(c, limit)}" for c in doc.changes)]


def cluster_list(clusters: Iterable[str], shown: int = 30) -> str:
    names = list(clusters)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def shared_lines(item: Shared, limit: int = VALUE_LIMIT) -> list[str]:
    """One change seen in several clusters: the change once, then where."""
    head = f"{MARK[item.status]} {item.ident}"
    body = [f"    {change_line(c, limit)}" for c in item.changes]
    return [head, *body, f"    in {len(item.clusters)} clusters: {cluster_list(item.clusters)}"]


def summary(docs: Iterable[DocumentDiff]) -> str:
    n = counts(docs)
    return ", ".join(f"{n[k]} {k}" for k in ("added", "removed", "changed"))


# ---------------------------------------------------------------- plan delta


def app_line(app: Mapping[str, Any]) -> str:
    return f"{app['name']} ({app['applicationSet']}): {app['path']} {ARROW} {app['server']}"


def moved(old: int | None, new: int | None) -> str:
    return f"{'—' if old is None else old} {ARROW} {'—' if new is None else new}"


def placement_line(workload: str, moves: Mapping[str, tuple[int | None, int | None]]) -> str:
    return f"{workload}: " + ", ".join(f"{c} {moved(o, n)}" for c, (o, n) in moves.items())


def wave_line(wave: Mapping[str, Any]) -> str:
    return f"wave {wave['wave']}: {wave['from']} {ARROW} {wave['to']}: {', '.join(wave['clusters'])}"


def plan_lines(plan: PlanDelta) -> list[str]:
    lines = [f"  + {app_line(a)}" for a in plan.applications_added]
    lines += [f"  - {app_line(a)}" for a in plan.applications_removed]
    lines += [f"  ~ {app_line(old)}  now: {app_line(new)}" for old, new in plan.applications_changed]
    out = (["Applications", *lines] if lines else [])
    if plan.placements:
        out += ["Placements (Karmada)", *(f"  {placement_line(w, m)}" for w, m in plan.placements.items())]
    if plan.pending_added:
        out.append(f"Newly pending registration: {', '.join(plan.pending_added)}")
    if plan.pending_resolved:
        out.append(f"Registered since the base: {', '.join(plan.pending_resolved)}")
    if plan.upgrades:
        out += ["Upgrade waves", *(f"  {wave_line(w)}" for w in plan.upgrades)]
    return out


# ---------------------------------------------------------------- the report


def manifest_lines(documents: tuple[DocumentDiff, ...]) -> list[str]:
    shared, rest = group_shared(documents)
    out = [f"Manifests: {summary(documents)}"]
    if shared:
        out.append("  the same change in several clusters")
        out += [f"    {line}" for item in shared for line in shared_lines(item)]
    for cluster, docs in by_cluster(rest).items():
        out.append(f"  {cluster}")
        out += [f"    {line}" for doc in docs for line in document_lines(doc)]
    return out


def render(result: FleetDiff) -> str:
    head = [f"fleetgen diff against {result.base_line}", *(f"note: {n}" for n in result.notes)]
    if result.empty:
        return "\n".join([*head, "no differences: the plan and the rendered manifests are unchanged"]) + "\n"
    body = plan_lines(result.plan) or ["Plan: unchanged"]
    body += manifest_lines(result.documents) if result.documents else ["Manifests: unchanged"]
    return "\n".join([*head, *body]) + "\n"
