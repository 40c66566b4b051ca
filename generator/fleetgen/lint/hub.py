"""Hub rules: what members outside the hub need to reach it."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Issue
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
