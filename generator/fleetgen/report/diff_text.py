"""``fleetgen diff --format text``: the review for a terminal, and the line builders markdown reuses.

Document lines: ``+`` added, ``-`` removed, ``~`` changed; field lines under a changed document:
``~ path: old → new``, ``+ path: value`` (field added), ``- path: value`` (field removed); a comma-separated list
of names too long to show whole (argocd-agent's allowed namespaces) as the names it gains and loses.
A change made identically to several documents of one kind in a cluster: ``~ group/Kind in N documents``,
the change once, then ``in N documents: namespace/name, …`` (the first 30 and how many more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from ..destroy import Destruction
from ..diff import (
    ABSENT,
    Change,
    DocumentDiff,
    FleetDiff,
    Items,
    Repeated,
    Shared,
    counts,
    group_shared,
    list_items,
    per_cluster,
    show,
)
from ..plan.adoption import RELEASE_WARNING
from ..plan.applications import Application
from ..plan.delta import PlanDelta
from ..plan.upgrades import Wave
from .plan_text import PLACEMENTS_TITLE

ARROW = "→"
VALUE_LIMIT = 200  # characters of one value; a long string or a whole added mapping is cut with "…"
MARK = {"added": "+", "removed": "-", "changed": "~"}


def change_line(change: Change, limit: int = VALUE_LIMIT) -> str:
    if change.old is ABSENT:
        return f"+ {change.path}: {show(change.new, limit)}"
    if change.new is ABSENT:
        return f"- {change.path}: {show(change.old, limit)}"
    items = list_items(change)
    if items is not None and max(len(show(change.old)), len(show(change.new))) > limit:  # cut: show what changed
        return f"~ {change.path}: {items_line(items)}"
    return f"~ {change.path}: {show(change.old, limit)} {ARROW} {show(change.new, limit)}"


def items_line(items: Items) -> str:
    """``comma-separated list of 3 → 4 items: + c; - a`` (the first 30 names of each side), then the names repeated
    a different number of times and whether the names kept changed order."""
    head = f"comma-separated list of {items.old_count} {ARROW} {items.new_count} items"
    parts = [f"{mark} {cluster_list(names)}" for mark, names in (("+", items.added), ("-", items.removed)) if names]
    if items.recounted:
        parts.append(f"repeated a different number of times: {cluster_list(items.recounted)}")
    if items.reordered:
        parts.append("the names kept are in another order")
    return f"{head}: {'; '.join(parts)}" if parts else f"{head}: the same names"


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


FILES_SHOWN = 3  # files named for a change made to several documents; the rest are counted


def where_files(item: Repeated, name: Callable[[str], str] = str) -> str:
    """The files the documents are in (each through ``name``), the first FILES_SHOWN and how many more."""
    files = item.files
    more = f" and {len(files) - FILES_SHOWN} more files" if len(files) > FILES_SHOWN else ""
    return ", ".join(name(f) for f in files[:FILES_SHOWN]) + more


def repeated_head(item: Repeated) -> str:
    return f"{MARK[item.status]} {item.kind} in {len(item.documents)} documents"


def repeated_lines(item: Repeated, limit: int = VALUE_LIMIT) -> list[str]:
    """One change made to several documents of a cluster: the change once, then which documents."""
    body = [f"    {change_line(c, limit)}" for c in item.changes]
    names = f"    in {len(item.documents)} documents: {cluster_list(item.names)}"
    return [f"{repeated_head(item)}  ({where_files(item)})", *body, names]


def entry_lines(entry: DocumentDiff | Repeated) -> list[str]:
    return repeated_lines(entry) if isinstance(entry, Repeated) else document_lines(entry)


def summary(docs: Iterable[DocumentDiff]) -> str:
    n = counts(docs)
    return ", ".join(f"{n[k]} {k}" for k in ("added", "removed", "changed"))


# ---------------------------------------------------------------- what is destroyed, first

DESTROY_SHOWN = 20  # items of each kind named in the headline; the rest are counted


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def destroy_headline(d: Destruction) -> str:
    """``Destroys: 1 cluster, 2 Applications (1 with its resources), …`` or ``Destroys nothing``."""
    if not d.any:
        return "Destroys nothing: no cluster, Application, placement, mesh peer or manifest is deleted"
    with_resources = sum(a.deletes_resources for a in d.applications)
    parts = [
        _plural(len(d.clusters), "cluster") if d.clusters else "",
        _plural(len(d.rebuilt), "running cluster") + " not adoptable (built again beside it)" if d.rebuilt else "",
        f"{_plural(len(d.applications), 'Argo CD Application')} ({with_resources} with their resources)"
        if d.applications
        else "",
        f"{_plural(len(d.replicas), 'Karmada placement')} losing replicas" if d.replicas else "",
        _plural(len(d.peers), "mesh peer") if d.peers else "",
        _plural(d.removed_documents, "manifest") + " removed" if d.removed_documents else "",
    ]
    return "Destroys: " + ", ".join(p for p in parts if p)


def destroy_items(d: Destruction) -> list[str]:
    """One line per destructive action, each kind cut to DESTROY_SHOWN with a count of the rest."""
    kinds = [
        [f"cluster {c}: Cluster API deletes it with its machines and infrastructure" for c in d.clusters],
        [f"cluster {c}: not adoptable, Cluster API builds a second cluster in its place" for c in d.rebuilt],
        [
            f"Application {a.name} ({a.source}): deleted, "
            + ("its resources are deleted too" if a.deletes_resources else "its resources are left in place")
            + f" ({a.why})"
            for a in d.applications
        ],
        [f"placement {w} on {c}: {old} {ARROW} {new} replicas" for w, c, old, new in d.replicas],
        [f"mesh peer {p}: removed from the ClusterMesh of {_plural(n, 'cluster')}" for p, n in d.peers.items()],
    ]
    out = []
    for lines in kinds:
        out += lines[:DESTROY_SHOWN]
        if len(lines) > DESTROY_SHOWN:
            out.append(f"… and {len(lines) - DESTROY_SHOWN} more")
    if d.kept_applications:
        out.append(f"kept by the ApplicationSet's applicationsSync policy: {cluster_list(d.kept_applications, 10)}")
    return out


# ---------------------------------------------------------------- plan delta


def app_line(app: Application) -> str:
    return f"{app.name} ({app.application_set}): {app.path} {ARROW} {app.server}"


def moved(old: int | None, new: int | None) -> str:
    return f"{'—' if old is None else old} {ARROW} {'—' if new is None else new}"


def placement_line(workload: str, moves: Mapping[str, tuple[int | None, int | None]]) -> str:
    return f"{workload}: " + ", ".join(f"{c} {moved(o, n)}" for c, (o, n) in moves.items())


def wave_line(wave: Wave) -> str:
    return f"wave {wave.number}: {wave.source} {ARROW} {wave.target}: {', '.join(wave.clusters)}"


def plan_lines(plan: PlanDelta) -> list[str]:
    lines = [f"  + {app_line(a)}" for a in plan.applications_added]
    lines += [f"  - {app_line(a)}" for a in plan.applications_removed]
    lines += [f"  ~ {app_line(old)}  now: {app_line(new)}" for old, new in plan.applications_changed]
    out = ["Applications", *lines] if lines else []
    if plan.placements:
        out += [PLACEMENTS_TITLE, *(f"  {placement_line(w, m)}" for w, m in plan.placements.items())]
    if plan.pending_added:
        out.append(f"Newly pending registration: {', '.join(plan.pending_added)}")
    if plan.pending_resolved:
        out.append(f"Registered since the base: {', '.join(plan.pending_resolved)}")
    if plan.upgrades:
        out += ["Upgrade waves", *(f"  {wave_line(w)}" for w in plan.upgrades)]
    if plan.adopted:
        out.append(f"Cluster API adoption (existing clusters, not new ones): {', '.join(plan.adopted)}")
        out += [f"  {name}: finds the {plan.adoption[name]}" for name in plan.adopted]
    if plan.not_adoptable:
        out.append(f"Not adoptable, Cluster API builds a second cluster: {', '.join(plan.not_adoptable)}")
        out += [f"  {name}: {plan.adoption[name]}; keep it external" for name in plan.not_adoptable]
    out += [f"Released from Cluster API: {name}: {RELEASE_WARNING.format(name=name)}" for name in plan.released]
    return out


# ---------------------------------------------------------------- the report


def manifest_lines(documents: tuple[DocumentDiff, ...]) -> list[str]:
    shared, rest = group_shared(documents)
    out = [f"Manifests: {summary(documents)}"]
    if shared:
        out.append("  the same change in several clusters")
        out += [f"    {line}" for item in shared for line in shared_lines(item)]
    for cluster, changes in per_cluster(rest).items():
        out.append(f"  {cluster}")
        out += [f"    {line}" for entry in changes.entries for line in entry_lines(entry)]
    return out


def render(result: FleetDiff) -> str:
    head = [
        f"fleetgen diff against {result.base_line}",
        destroy_headline(result.destroys),
        *(f"  {line}" for line in destroy_items(result.destroys)),
        *(f"note: {n}" for n in result.notes),
    ]
    if result.empty:
        return "\n".join([*head, "no differences: the plan and the rendered manifests are unchanged"]) + "\n"
    body = plan_lines(result.plan) or ["Plan: unchanged"]
    body += manifest_lines(result.documents) if result.documents else ["Manifests: unchanged"]
    return "\n".join([*head, *body]) + "\n"
