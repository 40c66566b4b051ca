"""The one plan delta: what the controllers will do differently under one fleet than under another.

Both plans are built against the same version baseline (``versions``: what the clusters run, e.g.
the rendered tree's lock, or the base fleet's own versions for a review), so only the fleet differs.
Applications are identified the way Argo CD does, by ``(applicationSet, name)``: an Application that
moves to another ApplicationSet is deleted by one and created by the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model import Fleet
from . import Counts, Plan, build_plan
from .adoption import adopted_by, lifecycle_changes
from .applications import Application
from .upgrades import Wave

Moves = Mapping[str, Mapping[str, tuple[int | None, int | None]]]  # workload -> cluster -> (old, new)


@dataclass(frozen=True)
class PlanDelta:
    applications_added: tuple[Application, ...] = ()
    applications_removed: tuple[Application, ...] = ()
    applications_changed: tuple[tuple[Application, Application], ...] = ()  # (old, new) with the same key
    placements: Moves = field(default_factory=dict)
    pending_added: tuple[str, ...] = ()
    pending_resolved: tuple[str, ...] = ()  # registered since the base (a server was added)
    upgrades: tuple[Wave, ...] | None = None  # the waves after the change; None when they did not change
    adopted: tuple[str, ...] = ()  # existing clusters Cluster API takes over (external -> managed)
    not_adoptable: tuple[str, ...] = ()  # external -> managed, but built again (vSphere, Docker)
    adoption: Mapping[str, str] = field(default_factory=dict)  # cluster -> what its provider finds or builds
    released: tuple[str, ...] = ()  # clusters Cluster API stops managing (managed -> external)

    @property
    def empty(self) -> bool:
        return not (
            self.applications_added
            or self.applications_removed
            or self.applications_changed
            or self.placements
            or self.pending_added
            or self.pending_resolved
            or self.upgrades is not None
            or self.adopted
            or self.not_adoptable
            or self.released
        )


def plan_delta(base: Fleet | None, head: Fleet, versions: Mapping[str, str]) -> PlanDelta:
    """How the plan of ``head`` differs from that of ``base`` (None: nothing yet), both against ``versions``."""
    new = build_plan(head, versions)
    old = build_plan(base, versions) if base is not None else Plan((), {}, {}, (), ())  # nothing yet
    added, removed, changed = application_changes(old.applications, new.applications)
    adopted, not_adoptable, released = lifecycle_changes(base, head)
    gone = {c.name for c in base.clusters if head.cluster(c.name) is None} if base else set()
    return PlanDelta(
        applications_added=added,
        applications_removed=removed,
        applications_changed=changed,
        placements=placement_changes(old.placements, new.placements),
        pending_added=tuple(sorted(set(new.pending) - set(old.pending))),
        pending_resolved=tuple(sorted(set(old.pending) - set(new.pending) - gone)),
        upgrades=None if new.upgrades == old.upgrades else new.upgrades,
        adopted=adopted,
        not_adoptable=not_adoptable,
        adoption={c.name: adopted_by(c) for c in head.clusters if c.name in {*adopted, *not_adoptable}},
        released=released,
    )


def application_changes(
    old: tuple[Application, ...], new: tuple[Application, ...]
) -> tuple[tuple[Application, ...], tuple[Application, ...], tuple[tuple[Application, Application], ...]]:
    """(added, removed, changed (old, new)), each sorted by (applicationSet, name)."""
    before, after = {a.key: a for a in old}, {a.key: a for a in new}
    added = tuple(after[k] for k in sorted(after.keys() - before.keys()))
    removed = tuple(before[k] for k in sorted(before.keys() - after.keys()))
    changed = tuple((before[k], after[k]) for k in sorted(before.keys() & after.keys()) if before[k] != after[k])
    return added, removed, changed


def placement_changes(old: Counts, new: Counts) -> dict[str, dict[str, tuple[int | None, int | None]]]:
    """``{workload: {cluster: (old, new)}}`` for every count that differs; None where not placed."""
    out: dict[str, dict[str, tuple[int | None, int | None]]] = {}
    for workload in sorted(set(old) | set(new)):
        before, after = old.get(workload, {}), new.get(workload, {})
        moved = {
            c: (before.get(c), after.get(c)) for c in sorted(set(before) | set(after)) if before.get(c) != after.get(c)
        }
        if moved:
            out[workload] = moved
    return out
