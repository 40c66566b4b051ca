"""The Applications Argo CD's ApplicationSet controller will generate from the fleet's sets.

Cluster generator semantics (argoproj/argo-cd ``applicationset/generators/cluster.go``,
``ClusterGenerator.GenerateParams``): the selector is a Kubernetes label selector over the labels
of the cluster Secrets, which carry every cluster label (user labels plus the automatic name,
environment, region and provider). A cluster without ``server`` has no Secret, so it generates
nothing. The local ``in-cluster`` has no Secret either and is added only when the selector is
empty (``ignoreLocalClusters`` is true as soon as matchLabels or matchExpressions is set).
Several apps render a Matrix of Clusters x List, which yields the same (cluster, app) pairs.
"""

from __future__ import annotations

from typing import Any

from ..model import ApplicationSet, Fleet
from ..selectors import select

IN_CLUSTER_NAME = "in-cluster"  # argoappsetv1alpha1.KubernetesInClusterName
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"  # argoappsetv1alpha1.KubernetesInternalAPIServerAddr


def targets(fleet: Fleet, appset: ApplicationSet) -> list[tuple[str, str]]:
    """(cluster name, server) pairs the set's cluster generator yields, sorted by name."""
    pairs = [(c.name, c.server) for c in select(appset.clusters, fleet.clusters) if c.server is not None]
    if appset.clusters.empty and IN_CLUSTER_NAME not in {name for name, _ in pairs}:
        pairs.append((IN_CLUSTER_NAME, IN_CLUSTER_SERVER))
    return sorted(pairs)


def applications(fleet: Fleet) -> list[dict[str, Any]]:
    """One entry per (cluster, app) of every set, sorted by (applicationSet, name)."""
    entries = [
        {
            "applicationSet": appset.name,
            "name": f"{cluster}-{app.name}",
            "cluster": cluster,
            "server": server,
            "path": app.path.replace("{{cluster}}", cluster),
            "namespace": appset.namespace,
        }
        for appset in fleet.application_sets
        for cluster, server in targets(fleet, appset)
        for app in appset.apps
    ]
    return sorted(entries, key=lambda e: (e["applicationSet"], e["name"]))
