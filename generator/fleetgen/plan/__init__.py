"""The plan: what the controllers will do with this fleet, as one JSON-ready value.

Shape (fleet-format.md, "What commands must print for machines"):
``applications``, ``placements``, ``uncertain``, ``failover`` (only when clusters are failed),
``pending``, ``upgrades``, in that order; ``rollouts`` (RollingSync steps) only when a set has them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..model import Fleet
from .applications import applications, rollouts
from .split import failover, placements
from .upgrades import upgrade_waves

__all__ = ["build_plan", "pending"]


def pending(fleet: Fleet) -> list[str]:
    """Clusters still waiting for an API endpoint: no Argo CD Secret, no Karmada membership yet."""
    return sorted(c.name for c in fleet.clusters if not c.registered)


def build_plan(
    fleet: Fleet,
    current_versions: Mapping[str, str],
    failed: Collection[str] = (),
    uids: Mapping[str, str] = {},
) -> dict[str, Any]:
    """The contract's plan object; ``current_versions`` are the versions the rendered tree holds."""
    placed, unsure = placements(fleet, uids)
    plan: dict[str, Any] = {
        "applications": applications(fleet),
        "placements": placed,
        "uncertain": {w: {c: list(bounds) for c, bounds in ranges.items()} for w, ranges in unsure.items()},
    }
    if failed:
        plan["failover"] = failover(fleet, set(failed), uids)
    plan["pending"] = pending(fleet)
    plan["upgrades"] = upgrade_waves(fleet, current_versions)
    rolling = rollouts(fleet)
    if rolling:  # only when a set uses RollingSync
        plan["rollouts"] = rolling
    return plan
