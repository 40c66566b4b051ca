"""Observability rules: the Thanos labels that keep each cluster's series apart."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import WARNING, Issue
from ..versions import image_version, release
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


PROMETHEUS_3_SIDECAR = (0, 37, 0)  # the first Thanos whose sidecar reads Prometheus 3's configuration


@rule(
    "thanos-version",
    fix="use Thanos v0.37.0 or newer in observability.thanos.image (quay.io/thanos/thanos:v0.38.0)",
)
def thanos_version(ctx: Context) -> Iterator[Issue]:
    """The Thanos image is older than v0.37.0, whose sidecar never starts next to Prometheus 3.

    fleetgen's Prometheus objects leave `spec.version` to prometheus-operator, whose v0.93 default is
    Prometheus 3 (`pkg/operator/defaults.go`). Before v0.37.0 the sidecar reads the external labels by
    parsing Prometheus' whole global configuration with Prometheus 2's types, which fail on Prometheus 3's
    default scrape protocol `PrometheusText1.0.0` (Thanos `pkg/promclient/promclient.go`, fixed by
    thanos-io/thanos#7893 in v0.37.0). The sidecar retries forever: it never serves the StoreAPI and never
    uploads a block, so the Querier sees no data from any cluster. The same image runs the sidecars, the
    Querier and the store gateways.
    """
    image = ctx.fleet.thanos.image
    version = image_version(image)
    if version is not None and release(version) < PROMETHEUS_3_SIDECAR:
        yield flag(
            ("observability", "thanos", "image"),
            f"Thanos {version} ({image}): its sidecar cannot read the configuration of Prometheus 3, which "
            "prometheus-operator runs by default, and never starts serving",
        )
