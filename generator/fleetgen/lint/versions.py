"""Version rules: skew inside an environment, promotion order, and safe steps from the rendered tree."""

from __future__ import annotations

from collections.abc import Iterator

from .. import versions as v
from ..findings import Issue
from ..model import Cluster
from .registry import Context, flag, rule


def _by_environment(clusters: tuple[Cluster, ...]) -> dict[str, list[Cluster]]:
    out: dict[str, list[Cluster]] = {}
    for c in clusters:
        out.setdefault(c.environment, []).append(c)
    return out


def _version_path(c: Cluster) -> tuple:
    return (*c.path, "kubernetesVersion")


@rule("version-skew", fix="bring the environment's clusters within one minor of each other")
def version_skew(ctx: Context) -> Iterator[Issue]:
    """Clusters of one environment run versions more than one minor apart.

    An environment is tested as one: workloads promoted through it must work on every cluster in
    it, and upgrades move one minor at a time, so a wider spread means an untested combination.
    """
    for env, clusters in sorted(_by_environment(ctx.fleet.clusters).items()):
        oldest = min(clusters, key=lambda c: (v.minor(c.kubernetes_version), c.name))
        for c in clusters:
            if v.minors_between(oldest.kubernetes_version, c.kubernetes_version) > 1:
                yield flag(
                    _version_path(c),
                    f"cluster {c.name!r} runs {c.kubernetes_version}, more than one minor ahead of "
                    f"{oldest.name!r} ({oldest.kubernetes_version}) in environment {env!r}",
                    related=(_version_path(oldest),),
                )


@rule("promotion-order", fix="upgrade the earlier environment first")
def promotion_order(ctx: Context) -> Iterator[Issue]:
    """A later environment runs a newer minor than an earlier environment has reached.

    Upgrades are promoted through `environments` in order: production must never run a version
    that staging (and every environment before it) has not run first.
    """
    groups = _by_environment(ctx.fleet.clusters)
    ceiling: Cluster | None = None  # the lowest "newest cluster" among the earlier environments
    for env in ctx.fleet.environments:
        clusters = groups.get(env, [])
        for c in clusters:
            if ceiling and v.minors_between(ceiling.kubernetes_version, c.kubernetes_version) > 0:
                yield flag(
                    _version_path(c),
                    f"cluster {c.name!r} ({env}) runs {c.kubernetes_version}, newer than environment "
                    f"{ceiling.environment!r} has reached ({ceiling.kubernetes_version} on {ceiling.name!r})",
                    related=(_version_path(ceiling),),
                )
        if clusters:
            newest = max(clusters, key=lambda c: (v.minor(c.kubernetes_version), c.name))
            if ceiling is None or v.minors_between(newest.kubernetes_version, ceiling.kubernetes_version) > 0:
                ceiling = newest


@rule("upgrade-skip", fix="upgrade one minor per change: set the previous minor first, render, roll out")
def upgrade_skip(ctx: Context) -> Iterator[Issue]:
    """A cluster's version is more than one minor ahead of what the rendered tree holds.

    Kubernetes control planes upgrade one minor at a time; Cluster API and the managed services
    refuse (or break on) a skipped minor. Compared with the versions recorded in the rendered tree.
    """
    for c in ctx.fleet.clusters:
        current = (ctx.rendered_versions or {}).get(c.name)
        if current and v.minors_between(current, c.kubernetes_version) > 1:
            yield flag(
                _version_path(c),
                f"cluster {c.name!r} would jump from {current} to {c.kubernetes_version}: more than one minor",
            )


@rule("version-downgrade", fix="restore the rendered version; control planes cannot be downgraded")
def version_downgrade(ctx: Context) -> Iterator[Issue]:
    """A cluster's version is older than what the rendered tree holds.

    Kubernetes control planes never move down: etcd's storage versions and the managed services
    do not support it, so the change can only fail or break the cluster.
    """
    for c in ctx.fleet.clusters:
        current = (ctx.rendered_versions or {}).get(c.name)
        if current and v.older(c.kubernetes_version, current):
            yield flag(_version_path(c), f"cluster {c.name!r} would go down from {current} to {c.kubernetes_version}")
