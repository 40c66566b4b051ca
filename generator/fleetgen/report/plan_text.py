"""``fleetgen plan`` for people: the plan (``fleetgen.plan.Plan``) as text or markdown; the runbook's plan delta.

Both views show the same facts in the contract's order: applications, placements (with the
UID-dependent ranges), failover when clusters were failed, pending registrations, upgrade waves.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..plan import Plan, Wave
from ..plan.adoption import NOT_ADOPTABLE
from ..plan.delta import PlanDelta

ARROW = "→"


def split_line(counts: Mapping[str, int], unsure: Mapping[str, tuple[int, int]] = {}) -> str:
    """``prod-a 30, prod-b 20 (19–21 by UID)`` — every cluster, zeros included."""
    parts = []
    for cluster, n in counts.items():
        bounds = unsure.get(cluster)
        parts.append(f"{cluster} {n}" + (f" ({bounds[0]}–{bounds[1]} by UID)" if bounds else ""))
    return ", ".join(parts) or "no cluster selected"


def failover_line(before: Mapping[str, int], after: Mapping[str, int]) -> str:
    """Where replicas go: ``prod-a 30 → lost, prod-b 20 → 40``; unchanged clusters shown plainly."""
    parts = []
    for cluster in sorted(set(before) | set(after)):
        old, new = before.get(cluster), after.get(cluster)
        if new is None:
            parts.append(f"{cluster} {old} {ARROW} lost")
        elif old != new:
            parts.append(f"{cluster} {'—' if old is None else old} {ARROW} {new}")
        else:
            parts.append(f"{cluster} {new}")
    return ", ".join(parts) or "no cluster selected"


def wave_line(wave: Wave) -> str:
    return f"wave {wave.number}: {wave.source} {ARROW} {wave.target}: {', '.join(wave.clusters)}"


# ---------------------------------------------------------------- text


def _text_applications(plan: Plan) -> list[str]:
    apps = plan.applications
    lines = [f"Applications ({len(apps)})"]
    current = None
    for app in apps:
        if app.application_set != current:
            current = app.application_set
            lines.append(f"  {current}")
        lines.append(f"    {app.name}: {app.path} {ARROW} {app.server} ({app.namespace})")
    return lines if apps else [*lines, "  none"]


# The title of the placements a diff shows: the counts are those of fleet.yaml (REPLICAS_NOTE).
PLACEMENTS_TITLE = "Placements (Karmada, dividing workloads[].replicas)"
# Karmada divides each resource's own spec.replicas (pkg/resourceinterpreter/default/native/replica.go), which
# lives with the workload's manifests; the plan divides fleet.yaml's workloads[].replicas as Karmada would.
REPLICAS_NOTE = (
    "divided from workloads[].replicas; Karmada divides each resource's own spec.replicas: keep the two equal"
)


def _text_placements(plan: Plan, failed: Collection[str]) -> list[str]:
    lines = ["Placements (Karmada)"]
    lines += [f"  {w}: {split_line(c, plan.uncertain.get(w, {}))}" for w, c in plan.placements.items()]
    lines += [f"  ({REPLICAS_NOTE})"] if plan.placements else []
    if plan.failover is not None:
        lines.append(f"Failover (lost: {', '.join(sorted(failed))})")
        lines += [f"  {w}: {failover_line(plan.placements.get(w, {}), after)}" for w, after in plan.failover.items()]
    return lines if plan.placements else [lines[0], "  no workloads"]


def _text_rest(plan: Plan) -> list[str]:
    pending = plan.pending
    lines = [f"Pending registration ({len(pending)}): {', '.join(pending) or 'none'}", "Upgrade waves"]
    waves = [f"  {wave_line(w)}" for w in plan.upgrades]
    return lines + (waves or ["  none: every cluster is at its version"]) + _text_adoptions(plan) + _text_rollouts(plan)


def step_label(step: Mapping[str, Any]) -> str:
    if step["environment"] is None:
        return "pull mode, syncs on its own"
    return step["environment"] + (f"/{step['region']}" if step["region"] else "")


def _text_rollouts(plan: Plan) -> list[str]:
    """RollingSync steps per set (Argo CD progressive sync; needs --enable-progressive-syncs)."""
    lines = []
    for name, steps in plan.rollouts.items():
        lines.append(f"RollingSync {name}")
        lines += [f"  step {s['step']} ({step_label(s)}): {', '.join(s['applications']) or 'none'}" for s in steps]
    return lines


def _text_adoptions(plan: Plan) -> list[str]:
    """Existing clusters Cluster API takes over: new hub/capi files that create nothing."""
    out = []
    if plan.adoptions:
        out += [
            f"Cluster API adoption ({len(plan.adoptions)}): {', '.join(plan.adoptions)}",
            "  existing clusters: Cluster API takes them over by name, creating nothing (README, "
            '"Adopting an existing fleet")',
        ]
    if plan.not_adoptable:
        out += [
            f"Not adoptable ({len(plan.not_adoptable)}): {', '.join(plan.not_adoptable)}",
            f"  {NOT_ADOPTABLE}",
        ]
    return out


def text(plan: Plan, failed: Collection[str] = ()) -> str:
    return "\n".join([*_text_applications(plan), *_text_placements(plan, failed), *_text_rest(plan)]) + "\n"


# ---------------------------------------------------------------- markdown


def cell(value: Any) -> str:
    """A table cell: pipes escaped, never a line break."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def _md_applications(plan: Plan) -> list[str]:
    apps = plan.applications
    rows = [[a.application_set, f"`{a.name}`", a.cluster, f"`{a.path}`", a.namespace] for a in apps]
    header = ["ApplicationSet", "Application", "cluster", "path", "namespace"]
    body = table(header, rows) if rows else ["none"]
    return [f"### Applications ({len(apps)})", "", *body, ""]


def _md_placements(plan: Plan, failed: Collection[str]) -> list[str]:
    rows = [
        [w, c, n, "–".join(map(str, plan.uncertain.get(w, {}).get(c, ()))) or ""]
        for w, counts in plan.placements.items()
        for c, n in counts.items()
    ]
    body = table(["workload", "cluster", "replicas", "range by UID"], rows) if rows else ["no workloads"]
    lines = ["### Placements (Karmada)", "", *body, *(["", f"_{REPLICAS_NOTE}_"] if rows else []), ""]
    if plan.failover is not None:
        moves = [[w, failover_line(plan.placements.get(w, {}), after)] for w, after in plan.failover.items()]
        lost = ", ".join(sorted(failed))
        lines += [f"### Failover (lost: {lost})", "", *table(["workload", "replicas"], moves), ""]
    return lines


def _md_rest(plan: Plan) -> list[str]:
    pending = ", ".join(f"`{c}`" for c in plan.pending) or "none"
    waves = [[w.number, w.source, w.target, ", ".join(w.clusters)] for w in plan.upgrades]
    adopting = (
        [
            f"### Cluster API adoption ({len(plan.adoptions)})",
            "",
            "Existing clusters Cluster API takes over by name; nothing is created: "
            + ", ".join(f"`{c}`" for c in plan.adoptions),
            "",
        ]
        if plan.adoptions
        else []
    ) + (
        [
            f"### Not adoptable ({len(plan.not_adoptable)})",
            "",
            NOT_ADOPTABLE + ": " + ", ".join(f"`{c}`" for c in plan.not_adoptable),
            "",
        ]
        if plan.not_adoptable
        else []
    )
    steps = [
        [name, s["step"], step_label(s), ", ".join(s["applications"])]
        for name, rolled in plan.rollouts.items()
        for s in rolled
    ]
    rolling = (
        ["### RollingSync steps", "", *table(["applicationSet", "step", "group", "applications"], steps), ""]
        if steps
        else []
    )
    return [
        f"### Pending registration ({len(plan.pending)})",
        "",
        pending,
        "",
        "### Upgrade waves",
        "",
        *(table(["wave", "from", "to", "clusters"], waves) if waves else ["none"]),
        "",
        *adopting,
        *rolling,
    ]


def markdown(plan: Plan, failed: Collection[str] = ()) -> str:
    lines = ["## fleetgen plan", "", *_md_applications(plan), *_md_placements(plan, failed), *_md_rest(plan)]
    return "\n".join(lines)


# ---------------------------------------------------------------- the runbook's plan delta


def delta_text(delta: PlanDelta) -> str:
    """What an edit of fleet.yaml changes in the plan, one line per change (the runbook commands)."""
    lines = [*_delta_applications(delta), *_delta_placements(delta)]
    lines += [f"+ pending registration: {c}" for c in delta.pending_added]
    lines += [f"- pending registration: {c}" for c in delta.pending_resolved]
    if delta.upgrades is not None:
        lines += waves_text(delta.upgrades)
    if not lines:
        return "plan: no change\n"
    return "plan changes:\n" + "".join(f"  {line}\n" for line in lines)


def waves_text(waves: Sequence[Wave]) -> list[str]:
    if not waves:
        return ["upgrade waves: none left (every rendered cluster is at its fleet.yaml version)"]
    return ["upgrade waves (rendered tree -> fleet.yaml):"] + [
        f"  wave {w.number}: {w.source} -> {w.target}: {', '.join(w.clusters)}" for w in waves
    ]


def _delta_applications(delta: PlanDelta) -> list[str]:
    """Lines ordered by Application name (then set), like the rest of the runbook's output."""
    lines = [
        (
            (b.name, b.application_set),
            f"+ application {b.name} ({b.application_set}): {b.path} -> "
            f"{b.cluster} [{b.server}] namespace {b.namespace}",
        )
        for b in delta.applications_added
    ]
    lines += [
        ((a.name, a.application_set), f"- application {a.name} ({a.application_set})")
        for a in delta.applications_removed
    ]
    for a, b in delta.applications_changed:
        old, new = a.as_json(), b.as_json()
        changed = ", ".join(f"{k} {old[k]} -> {new[k]}" for k in old if old[k] != new[k])
        lines.append(((a.name, a.application_set), f"~ application {a.name}: {changed}"))
    return [line for _, line in sorted(lines)]


def _delta_placements(delta: PlanDelta) -> list[str]:
    def count(n: int | None) -> Any:
        return "-" if n is None else n

    return [
        f"~ workload {workload} replicas: " + ", ".join(f"{c} {count(o)} -> {count(n)}" for c, (o, n) in moves.items())
        for workload, moves in delta.placements.items()
    ]
