"""Where Argo CD deploys for a cluster: a model-level fact that the plan, the renderers and the diff share.

A push-mode cluster is known to Argo CD by its API server (the cluster Secret's ``server``). A
pull-mode cluster (argocd-agent, managed mode) is reached through the principal's resource proxy,
``https://argocd-agent-resource-proxy.<ns>.svc:9090?agentName=<agent>``: the server
``argocd-agentctl agent create`` writes into the agent's cluster Secret
(argoproj-labs/argocd-agent ``cmd/ctl/agent.go``).
"""

from __future__ import annotations

from .model import Cluster, Fleet

RESOURCE_PROXY = "argocd-agent-resource-proxy.{namespace}.svc:9090"


def destination_server(fleet: Fleet, cluster: Cluster) -> str:
    """The server Argo CD knows a cluster by: its API, or for pull mode the principal's resource proxy."""
    if cluster.argocd_mode == "pull":
        proxy = RESOURCE_PROXY.format(namespace=fleet.argocd_namespace)
        return f"https://{proxy}?agentName={cluster.name}"
    return str(cluster.server)
