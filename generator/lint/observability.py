"""Observability rules: the Thanos labels that keep each cluster's series apart."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Issue, issue
from .registry import Context, rule


@rule("replica-label", fix="set replicaLabel to the HA-copy label (prometheus_replica), never the cluster label")
def replica_label(ctx: Context) -> Iterator[Issue]:
    """The Thanos replica label equals the cluster label.

    The Querier deduplicates series that differ only in the replica label and drops it: with
    `--query.replica-label=cluster` every cluster's series are merged into one and the per-cluster
    data is lost. The replica label must name the HA copy; the cluster label stays an identity.
    """
    thanos = ctx.fleet.thanos
    if thanos.replica_label == thanos.cluster_label:
        yield issue("replica-label", ("observability", "thanos", "replicaLabel"),
                    f"replicaLabel {thanos.replica_label!r} equals clusterLabel: Thanos would merge all clusters' "
                    "series into one")
