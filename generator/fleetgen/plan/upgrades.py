"""Kubernetes upgrade waves: which clusters move, in what order, one minor at a time.

Control planes move one minor per step and never down (upstream-notes.md, "Kubernetes versions");
upgrades are promoted through ``fleet.environments`` in order, and production (the last
environment) goes one region at a time so a bad release cannot take every region at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import versions
from ..model import Fleet
from ..rollout import environment_rank, region_key

Step = tuple[str, str]  # (from, to)


@dataclass(frozen=True)
class Wave:
    """One upgrade wave: ``clusters`` move from ``source`` to ``target`` together."""

    number: int
    clusters: tuple[str, ...]
    source: str
    target: str

    def as_json(self) -> dict[str, Any]:
        return {"wave": self.number, "clusters": list(self.clusters), "from": self.source, "to": self.target}


def _numeric(version: str) -> tuple[int, int, int]:
    """(major, minor, patch); a bare "X.Y" counts as patch 0, so "1.30" -> "1.30.2" is a patch change."""
    major, minor, *patch = versions.parse(version)
    return major, minor, patch[0] if patch else 0


def steps(current: str, desired: str) -> list[Step]:
    """The upgrade path from ``current`` to ``desired``: one step per minor, or one patch step."""
    cur, want = _numeric(current), _numeric(desired)
    if want <= cur:
        return []
    if want[0] != cur[0] or want[1] == cur[1]:
        return [(current, desired)]
    hops = [f"{cur[0]}.{minor}" for minor in range(cur[1] + 1, want[1])] + [desired]
    return list(zip([current, *hops[:-1]], hops, strict=True))


def _groups(fleet: Fleet, current: Mapping[str, str]) -> dict[tuple, list[str]]:
    """Clusters per (environment index, target, region, source, from, to), the wave order."""
    groups: dict[tuple, list[str]] = {}
    for cluster in fleet.clusters:
        if cluster.name not in current:
            continue  # a new cluster is created at its version, not upgraded
        for old, new in steps(current[cluster.name], cluster.kubernetes_version):
            key = (
                environment_rank(fleet, cluster),
                _numeric(new),
                region_key(fleet, cluster),
                _numeric(old),
                old,
                new,
            )
            groups.setdefault(key, []).append(cluster.name)
    return groups


def upgrade_waves(fleet: Fleet, current: Mapping[str, str]) -> tuple[Wave, ...]:
    """Ordered waves taking the rendered versions to fleet.yaml's.

    Environments go in promotion order; inside one, every step to a lower version comes first, so a
    two-minor jump is two waves; production waves hold one region each, regions sorted.
    """
    groups = _groups(fleet, current)
    return tuple(
        Wave(number, tuple(sorted(groups[key])), key[-2], key[-1]) for number, key in enumerate(sorted(groups), start=1)
    )
