"""Observability rules: the Thanos labels that keep each cluster's series apart."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import WARNING, Issue
from .registry import Context, flag, rule


@rule("replica-label", fix="set replicaLabel to the HA-copy label (prometheus_replica), never the cluster label")
def replica_label(ctx: Context) -> Iterator[Issue]:
    """The Thanos replica label equals the cluster label.

    The Querier deduplicates series that differ only in the replica label and drops it: with
    `--query.replica-label=cluster` every cluster's series are merged into one and the per-cluster
    data is lost. The replica label must name the HA copy; the cluster label stays an identity.
    """
    thanos = ctx.fleet.thanos
    if thanos.replica_label == thanos.cluster_label:
        yield flag(
            ("observability", "thanos", "replicaLabel"),
            f"replicaLabel {thanos.replica_label!r} equals clusterLabel: Thanos would merge all clusters' "
            "series into one",
        )


SIDECAR_GRPC_PORT = 10901  # prometheus-operator's Thanos sidecar gRPC port


@rule(
    "sidecar-endpoint-port",
    WARNING,
    fix="keep port 10901 in sidecarEndpoint, or publish each sidecar replica yourself under that name and port",
)
def sidecar_endpoint_port(ctx: Context) -> Iterator[Issue]:
    """`observability.thanos.sidecarEndpoint` names a port other than the sidecar's own gRPC port.

    The Querier resolves the name with `dns+` and dials every address it gets on the template's
    port. The headless `thanos-sidecar` Service each spoke renders publishes the Prometheus pod
    IPs, and clients of a headless Service connect to the pods directly: only the sidecar's own
    port (10901) answers there. Another port works only if the platform publishes the sidecars
    some other way, one address per replica.
    """
    port = int(ctx.fleet.thanos.sidecar_endpoint.rpartition(":")[2])
    if port != SIDECAR_GRPC_PORT:
        yield flag(
            ("observability", "thanos", "sidecarEndpoint"),
            f"sidecarEndpoint port {port} is not the sidecar's gRPC port {SIDECAR_GRPC_PORT}, the only port "
            "the headless thanos-sidecar Service's pod addresses answer on",
            severity=WARNING,
        )
