"""The plan: what the controllers will do with this fleet, as one typed, frozen value.

``Plan.as_json`` is the contract's shape (fleet-format.md, "What commands must print for machines"):
``applications``, ``placements``, ``uncertain``, ``failover`` (only when clusters are failed),
``pending``, ``upgrades``, in that order; ``rollouts`` (RollingSync steps) only when a set has them,
``adoptions`` when Cluster API adopts clusters and ``notAdoptable`` when it would build a second cluster
in place of a running one (vSphere, Docker: ``plan/adoption.py``).
Reporters (``report/plan_text.py``, the diff reports) render it; ``plan/delta.py`` compares two.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..model import Fleet
from .applications import Application, applications, rollouts
from .split import failover, placements
from .upgrades import Wave, upgrade_waves

__all__ = ["Application", "Plan", "Wave", "build_plan", "pending"]

Counts = Mapping[str, Mapping[str, int]]  # workload -> cluster -> replicas


@dataclass(frozen=True)
class Plan:
    applications: tuple[Application, ...]
    placements: Counts
    uncertain: Mapping[str, Mapping[str, tuple[int, int]]]  # workload -> cluster -> (low, high) by UID
    pending: tuple[str, ...]
    upgrades: tuple[Wave, ...]
    failover: Counts | None = None  # only when clusters were failed
    adoptions: tuple[str, ...] = field(default=())  # existing clusters Cluster API takes over
    not_adoptable: tuple[str, ...] = field(default=())  # existing clusters Cluster API would build again
    # RollingSync set -> its steps ({step, environment, region, applications}), plan/applications.rollouts
    rollouts: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "applications": [a.as_json() for a in self.applications],
            "placements": {w: dict(counts) for w, counts in self.placements.items()},
            "uncertain": {w: {c: list(bounds) for c, bounds in r.items()} for w, r in self.uncertain.items()},
        }
        if self.failover is not None:
            out["failover"] = {w: dict(counts) for w, counts in self.failover.items()}
        out["pending"] = list(self.pending)
        out["upgrades"] = [w.as_json() for w in self.upgrades]
        if self.rollouts:  # only when a set uses RollingSync
            out["rollouts"] = {name: [dict(step) for step in steps] for name, steps in self.rollouts.items()}
        if self.adoptions:  # only then, like failover: the contract's keys stay as they are
            out["adoptions"] = list(self.adoptions)
        if self.not_adoptable:
            out["notAdoptable"] = list(self.not_adoptable)
        return out


def pending(fleet: Fleet) -> list[str]:
    """Clusters still waiting for an API endpoint: no Argo CD Secret, no Karmada membership yet."""
    return sorted(c.name for c in fleet.clusters if not c.registered)


def build_plan(
    fleet: Fleet,
    current_versions: Mapping[str, str],
    failed: Collection[str] = (),
    uids: Mapping[str, str] = {},
    adoptions: tuple[Collection[str], Collection[str]] = ((), ()),
) -> Plan:
    """The plan; ``current_versions`` are the versions the rendered tree holds; ``adoptions`` is
    (adopted, not adoptable), ``plan.adoption.adoptions``."""
    placed, unsure = placements(fleet, uids)
    return Plan(
        applications=applications(fleet),
        placements=placed,
        uncertain=unsure,
        pending=tuple(pending(fleet)),
        upgrades=upgrade_waves(fleet, current_versions),
        failover=failover(fleet, set(failed), uids) if failed else None,
        adoptions=tuple(adoptions[0]),
        not_adoptable=tuple(adoptions[1]),
        rollouts=rollouts(fleet),
    )
