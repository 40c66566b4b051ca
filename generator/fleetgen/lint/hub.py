"""Hub rules: what members outside the hub need to reach it."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import WARNING, Issue
from .registry import Context, flag, rule


@rule(
    "karmada-external-server",
    fix="set hub.karmada.externalServer to the Karmada API server's address as reachable from the edge sites",
)
def karmada_external_server(ctx: Context) -> Iterator[Issue]:
    """A pull-mode Karmada member exists, but `hub.karmada.externalServer` is not set.

    A pull-mode (outbound-only) member joins with `karmadactl register <host:port>`, run on the
    member, and its karmada-agent keeps dialling that address. `hub.karmada.server` is what Argo CD
    on the hub uses, usually a hub-internal name (`*.svc.cluster.local`) an edge site cannot
    resolve. The register command needs the externally reachable endpoint, and the Karmada API
    server's certificate must carry that name.
    """
    fleet = ctx.fleet
    if fleet.karmada_server is None or fleet.karmada_external_server is not None:
        return
    pulled = [c for c in fleet.clusters if c.registered and c.karmada_member and c.argocd_mode == "pull"]
    if pulled:
        names = ", ".join(c.name for c in pulled)
        yield flag(
            ("hub", "karmada", "server"),
            f"pull-mode Karmada members ({names}) register from outside the hub, but hub.karmada has no "
            "externalServer; they cannot reach the hub-internal server",
            related=tuple((*c.path, "argocd", "mode") for c in pulled),
        )


@rule(
    "principal-unreachable",
    WARNING,
    fix="set hub.provider (aws, gcp or azure) so the principal's Service becomes an internal load balancer, and give "
    "each edge site a private route to the hub's network (VPN, interconnect); or expose the principal yourself "
    "(an Ingress or Gateway passing TLS through: the agents authenticate with mTLS) and suppress this finding",
)
def principal_unreachable(ctx: Context) -> Iterator[Issue]:
    """A registered pull-mode cluster exists, but `hub.provider` is not set: the argocd-agent principal is ClusterIP.

    A pull-mode cluster's agent dials the principal from its own site (argocd-agent's agent connects
    out to `principal.address`; nothing ever connects in). Without `hub.provider` the principal's
    Service in `bootstrap/argocd-agent-principal/values.yaml` is `ClusterIP` (the chart's
    `principal-grpc-service.yaml` uses `service.type` as given), reachable only inside the hub, so
    the agent never connects and no Application reaches the cluster. With `hub.provider` it is the
    provider's internal load balancer: still not internet-facing, reachable over the site's private
    route to the hub's network.
    """
    fleet = ctx.fleet
    if fleet.hub_provider is not None:
        return
    pulled = [c for c in fleet.clusters if c.registered and c.argocd_mode == "pull"]
    if pulled:
        names = ", ".join(c.name for c in pulled)
        yield flag(
            ("hub", "name"),
            f"pull-mode clusters ({names}) dial the argocd-agent principal from their sites, but without "
            "hub.provider its Service is ClusterIP, reachable only inside the hub",
            related=tuple((*c.path, "argocd", "mode") for c in pulled),
        )
