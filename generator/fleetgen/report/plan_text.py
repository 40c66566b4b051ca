"""``fleetgen plan`` for people: the plan object (``fleetgen.plan.build_plan``) as text or markdown.

Both views show the same facts in the contract's order: applications, placements (with the
UID-dependent ranges), failover when clusters were failed, pending registrations, upgrade waves.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

ARROW = "→"


def split_line(counts: Mapping[str, int], unsure: Mapping[str, list[int]] = {}) -> str:
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


def wave_line(wave: Mapping[str, Any]) -> str:
    return f"wave {wave['wave']}: {wave['from']} {ARROW} {wave['to']}: {', '.join(wave['clusters'])}"


# ---------------------------------------------------------------- text


def _text_applications(plan: Mapping[str, Any]) -> list[str]:
    apps = plan["applications"]
    lines = [f"Applications ({len(apps)})"]
    current = None
    for app in apps:
        if app["applicationSet"] != current:
            current = app["applicationSet"]
            lines.append(f"  {current}")
        lines.append(f"    {app['name']}: {app['path']} {ARROW} {app['server']} ({app['namespace']})")
    return lines if apps else [*lines, "  none"]


def _text_placements(plan: Mapping[str, Any], failed: Collection[str]) -> list[str]:
    lines = ["Placements (Karmada)"]
    lines += [f"  {w}: {split_line(c, plan['uncertain'].get(w, {}))}" for w, c in plan["placements"].items()]
    if "failover" in plan:
        lines.append(f"Failover (lost: {', '.join(sorted(failed))})")
        lines += [f"  {w}: {failover_line(plan['placements'].get(w, {}), after)}"
                  for w, after in plan["failover"].items()]
    return lines if plan["placements"] else [lines[0], "  no workloads"]


def _text_rest(plan: Mapping[str, Any]) -> list[str]:
    pending = plan["pending"]
    lines = [f"Pending registration ({len(pending)}): {', '.join(pending) or 'none'}", "Upgrade waves"]
    waves = [f"  {wave_line(w)}" for w in plan["upgrades"]]
    return lines + (waves or ["  none: every cluster is at its version"]) + _text_adoptions(plan) + _text_rollouts(plan)


def step_label(step: Mapping[str, Any]) -> str:
    if step["environment"] is None:
        return "pull mode, syncs on its own"
    return step["environment"] + (f"/{step['region']}" if step["region"] else "")


def _text_rollouts(plan: Mapping[str, Any]) -> list[str]:
    """RollingSync steps per set (Argo CD progressive sync; needs --enable-progressive-syncs)."""
    lines = []
    for name, steps in (plan.get("rollouts") or {}).items():
        lines.append(f"RollingSync {name}")
        lines += [f"  step {s['step']} ({step_label(s)}): {', '.join(s['applications']) or 'none'}" for s in steps]
    return lines


def _text_adoptions(plan: Mapping[str, Any]) -> list[str]:
    """Existing clusters Cluster API takes over: new hub/capi files that create nothing."""
    if not plan.get("adoptions"):
        return []
    return [f"Cluster API adoption ({len(plan['adoptions'])}): {', '.join(plan['adoptions'])}",
            "  existing clusters: Cluster API takes them over by name, creating nothing (README, "
            "\"Adopting an existing fleet\")"]


def text(plan: Mapping[str, Any], failed: Collection[str] = ()) -> str:
    return "\n".join([*_text_applications(plan), *_text_placements(plan, failed), *_text_rest(plan)]) + "\n"


# ---------------------------------------------------------------- markdown


def cell(value: Any) -> str:
    """A table cell: pipes escaped, never a line break."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]


def _md_applications(plan: Mapping[str, Any]) -> list[str]:
    apps = plan["applications"]
    rows = [[a["applicationSet"], f"`{a['name']}`", a["cluster"], f"`{a['path']}`", a["namespace"]]
            for a in apps]
    header = ["ApplicationSet", "Application", "cluster", "path", "namespace"]
    body = table(header, rows) if rows else ["none"]
    return [f"### Applications ({len(apps)})", "", *body, ""]


def _md_placements(plan: Mapping[str, Any], failed: Collection[str]) -> list[str]:
    rows = [[w, c, n, "–".join(map(str, plan["uncertain"].get(w, {}).get(c, []))) or ""]
            for w, counts in plan["placements"].items() for c, n in counts.items()]
    body = table(["workload", "cluster", "replicas", "range by UID"], rows) if rows else ["no workloads"]
    lines = ["### Placements (Karmada)", "", *body, ""]
    if "failover" in plan:
        moves = [[w, failover_line(plan["placements"].get(w, {}), after)]
                 for w, after in plan["failover"].items()]
        lost = ", ".join(sorted(failed))
        lines += [f"### Failover (lost: {lost})", "", *table(["workload", "replicas"], moves), ""]
    return lines


def _md_rest(plan: Mapping[str, Any]) -> list[str]:
    pending = ", ".join(f"`{c}`" for c in plan["pending"]) or "none"
    waves = [[w["wave"], w["from"], w["to"], ", ".join(w["clusters"])] for w in plan["upgrades"]]
    adopting = [f"### Cluster API adoption ({len(plan['adoptions'])})", "",
                "Existing clusters Cluster API takes over by name; nothing is created: "
                + ", ".join(f"`{c}`" for c in plan["adoptions"]), ""] if plan.get("adoptions") else []
    steps = [[name, s["step"], step_label(s), ", ".join(s["applications"])]
             for name, rolled in (plan.get("rollouts") or {}).items() for s in rolled]
    rolling = ["### RollingSync steps", "", *table(["applicationSet", "step", "group", "applications"], steps),
               ""] if steps else []
    return [f"### Pending registration ({len(plan['pending'])})", "", pending, "", "### Upgrade waves", "",
            *(table(["wave", "from", "to", "clusters"], waves) if waves else ["none"]), "", *adopting, *rolling]


def markdown(plan: Mapping[str, Any], failed: Collection[str] = ()) -> str:
    lines = ["## fleetgen plan", "", *_md_applications(plan), *_md_placements(plan, failed), *_md_rest(plan)]
    return "\n".join(lines)
