"""Safe-exposure building blocks shared by the render targets.

* Pod Security Admission labels for every Namespace fleetgen creates
  (kubernetes.io/docs/concepts/security/pod-security-admission: ``enforce``, ``audit``, ``warn``).
* Internal load-balancer annotations per provider, for Services the hub exposes to other clusters.
* The argocd-agent principal's Helm values (``bootstrap/argocd-agent-principal/values.yaml``, chart
  argocd-agent-principal 0.3.2 / argocd-agent v0.8.1, install/helm-repo/argocd-agent-principal):
  mTLS with client certificates required and the certificate subject matched to the agent name,
  no self-generated certificates or JWT key, TLS 1.3, and the gRPC Service an internal load
  balancer (``hub.provider``) or ClusterIP. The chart's defaults are a public LoadBalancer on 443
  and ``principal.tls.clientCert.require: false``.
"""

from __future__ import annotations

from typing import Any

from ..model import Fleet
from . import File

# The group Argo CD's identity has on push-mode spokes: bound by access.py, mapped by EKS access entries.
SPOKE_GROUP = "fleetgen:argocd-manager"

PSA_MODES = ("enforce", "audit", "warn")
PRINCIPAL_VALUES = "bootstrap/argocd-agent-principal/values.yaml"
# external-dns publishes a Service's addresses under the hostname this annotation names (its source/service.go).
EXTERNAL_DNS_HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"
# Provider -> annotations that keep a LoadBalancer Service off the internet (VPC/VNet only): the
# clustermesh-apiserver and the argocd-agent principal.
INTERNAL_LB: dict[str, dict[str, str]] = {
    # AWS Load Balancer Controller reads the scheme (its default is internal, but an explicit value
    # also survives a changed default); the in-tree cloud-provider-aws, which EKS uses without
    # that controller, reads only aws-load-balancer-internal (any value but "false" is internal).
    "aws": {
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    },
    "gcp": {"networking.gke.io/load-balancer-type": "Internal"},
    "azure": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"},
}
PUBLIC_LB: dict[str, dict[str, str]] = {
    # The AWS Load Balancer Controller makes internal NLBs unless told otherwise.
    "aws": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"},
}


# fleet.yaml provider.endpointAccess -> CAPA AWSManagedControlPlane spec.endpointAccess. Unset, CAPA passes
# nil to EKS (pkg/cloud/services/eks/cluster.go makeVpcConfig), and EKS defaults to a public endpoint only.
EKS_ENDPOINT_ACCESS: dict[str, dict[str, bool]] = {
    "private": {"public": False, "private": True},
    "public": {"public": True, "private": False},
    "public-and-private": {"public": True, "private": True},
}


def eks_endpoint_access(mode: str) -> dict[str, bool]:
    return dict(EKS_ENDPOINT_ACCESS[mode])


def psa_labels(level: str) -> dict[str, str]:
    return {f"pod-security.kubernetes.io/{mode}": level for mode in PSA_MODES}


def namespace(fleet: Fleet, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A Namespace fleetgen creates: its own labels, then the fleet's Pod Security level."""
    meta: dict[str, Any] = {"name": name, "labels": {**(labels or {}), **psa_labels(fleet.pod_security)}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def internal_service(provider: str | None) -> dict[str, Any]:
    """Service values: an internal LoadBalancer on a known provider, else reachable in-cluster only."""
    if provider in INTERNAL_LB:
        return {"type": "LoadBalancer", "annotations": dict(INTERNAL_LB[provider])}
    return {"type": "ClusterIP", "annotations": {}}


def principal_values(fleet: Fleet, agent_namespaces: list[str]) -> dict[str, Any]:
    service = internal_service(fleet.hub_provider)
    return {
        "service": {"type": service["type"], "port": 443, "targetPort": 8443, "annotations": service["annotations"]},
        "principal": {
            # Listening on all interfaces is safe only with mTLS, which the next keys require.
            "listen": {"host": ""},
            "namespace": fleet.argocd_namespace,
            "allowedNamespaces": ",".join(agent_namespaces),
            "namespaceCreate": {"enable": False},
            "auth": "mtls:CN=([^,]+)",
            "tls": {
                "server": {"allowGenerate": False},
                "clientCert": {"require": True, "matchSubject": True},
                "insecurePlaintext": False,
                "minVersion": "tls1.3",
            },
            "jwt": {"allowGenerate": False},
        },
    }


def render(fleet: Fleet) -> list[File]:
    """The principal's values, when some cluster is in pull mode (its agent namespace is its name)."""
    agents = sorted(c.name for c in fleet.clusters if c.registered and c.argocd_mode == "pull")
    return [File(PRINCIPAL_VALUES, (principal_values(fleet, agents),))] if agents else []
