"""fleetgen's rollout order, one home for upgrade waves (plan/upgrades.py) and RollingSync steps
(render/argocd_sync.py): environments in promotion order (``fleet.environments``), and the last
environment (production) one region at a time, regions sorted, so a bad change cannot reach every
production region at once."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Cluster, Fleet


def region_key(fleet: Fleet, cluster: Cluster) -> str:
    """The cluster's region in the last environment; "" elsewhere (the environment moves as one)."""
    return cluster.region if cluster.environment == fleet.environments[-1] else ""


def environment_rank(fleet: Fleet, cluster: Cluster) -> int:
    """Promotion position; an environment outside ``environments`` (a schema error) goes last."""
    return (
        fleet.environments.index(cluster.environment)
        if cluster.environment in fleet.environments
        else len(fleet.environments)
    )


def rollout_groups(fleet: Fleet, clusters: Iterable[Cluster]) -> list[tuple[str, str]]:
    """(environment, region or "") of ``clusters``, in rollout order, each once."""
    keys = {(environment_rank(fleet, c), c.environment, region_key(fleet, c)) for c in clusters}
    return [(environment, region) for _, environment, region in sorted(keys)]
