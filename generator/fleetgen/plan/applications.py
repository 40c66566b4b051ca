"""The Applications Argo CD will run for the fleet's ApplicationSets, as the rendered tree has them.

Cluster generator semantics (argoproj/argo-cd ``applicationset/generators/cluster.go``,
``ClusterGenerator.GenerateParams``): the selector is a Kubernetes label selector over the labels
of the cluster Secrets, which carry every cluster label (user labels plus the automatic name,
environment, region and provider). A cluster without ``server`` has no Secret, so it gets
nothing. Several apps render a Matrix of Clusters x List: the same (cluster, app) pairs.

What the render target (``render/argocd.py``) makes of a set: the ApplicationSet's selector is
the user's narrowed to this fleet's push-mode Secrets, so it is never empty and Argo CD never adds
its local ``in-cluster`` (``ignoreLocalClusters``); pull-mode clusters (argocd-agent) get the
same ``<cluster>-<app>`` Applications written out plainly, with the principal's resource proxy as
their destination. Both kinds are listed here, each with the server Argo CD deploys to.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ..destinations import destination_server
from ..model import Fleet
from ..rollout import region_key, rollout_groups
from ..selectors import select


@dataclass(frozen=True)
class Application:
    """One Application Argo CD will run; identified by ``(application_set, name)``."""

    application_set: str
    name: str
    cluster: str
    server: str
    path: str
    namespace: str

    @property
    def key(self) -> tuple[str, str]:
        return self.application_set, self.name

    def as_json(self) -> dict[str, Any]:
        """The contract's shape (fleet-format.md): keys in this order."""
        return {
            "applicationSet": self.application_set,
            "name": self.name,
            "cluster": self.cluster,
            "server": self.server,
            "path": self.path,
            "namespace": self.namespace,
        }


def applications(fleet: Fleet) -> tuple[Application, ...]:
    """One entry per (selected registered cluster, app) of every set, sorted by (applicationSet, name)."""
    registered = [c for c in fleet.clusters if c.registered]
    servers = {c.name: destination_server(fleet, c) for c in registered}  # once a cluster, not once an app
    entries = [
        Application(appset.name, f"{name}-{app.name}", name, servers[name], app.path.replace("{{cluster}}", name), ns)
        for appset in fleet.application_sets
        for ns in (appset.namespace,)
        for name in (c.name for c in select(appset.clusters, registered))
        for app in appset.apps
    ]
    return tuple(sorted(entries, key=_BY_KEY))


_BY_KEY = attrgetter("application_set", "name")  # Application.key, read in C (13,000 at 5,000 clusters)


def rollouts(fleet: Fleet) -> dict[str, list[dict[str, Any]]]:
    """Per RollingSync set, its steps in order: environment, region (last environment only) and the
    Applications the step syncs (render/appset_spec.py renders the same groups). Pull-mode clusters'
    Applications are plain ones outside the ApplicationSet: they sync on their own, listed as step 0."""
    out: dict[str, list[dict[str, Any]]] = {}
    for appset in fleet.application_sets:
        if appset.strategy != "RollingSync":
            continue
        selected = select(appset.clusters, [c for c in fleet.clusters if c.registered])
        push = [c for c in selected if c.argocd_mode == "push"]
        steps = []
        for number, (environment, region) in enumerate(rollout_groups(fleet, push), start=1):
            names = [
                f"{c.name}-{app.name}"
                for c in push
                for app in appset.apps
                if (c.environment, region_key(fleet, c)) == (environment, region)
            ]
            steps.append(
                {"step": number, "environment": environment, "region": region or None, "applications": sorted(names)}
            )
        pulled = sorted(f"{c.name}-{app.name}" for c in selected if c.argocd_mode == "pull" for app in appset.apps)
        if pulled:
            steps.insert(0, {"step": 0, "environment": None, "region": None, "applications": pulled})
        out[appset.name] = steps
    return out
