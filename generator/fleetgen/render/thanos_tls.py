"""Mutual TLS for Thanos StoreAPI gRPC, and NetworkPolicies around it. Certificates are referenced, never stored.

Every StoreAPI hop is mTLS: the hub Querier dials spoke sidecars across regions and the hub store
gateway in-cluster, and its ``--grpc-client-tls-*`` flags apply to every endpoint it dials
(thanos docs/components/query.md), so every server it dials speaks TLS and asks for a client
certificate:

* spoke sidecars: prometheus-operator's ``spec.thanos.grpcServerTlsConfig`` (only ``certFile``,
  ``keyFile``, ``caFile`` are honoured; ``caFile`` becomes ``--grpc-server-tls-client-ca``, which
  makes the sidecar require and verify client certificates) with the files of the Secret that
  ``spec.secrets`` makes a pod volume (``secret-<name>``). The operator mounts that volume into the
  ``prometheus`` container only (v0.93.0 ``pkg/prometheus/common.go`` ``BuildCommonVolumes``); the
  ``thanos-sidecar`` container gets only ``spec.thanos.volumeMounts`` and its storage
  (``pkg/prometheus/server/statefulset.go`` ``createThanosContainer``), so the same path is mounted
  there too: without it the sidecar cannot load its certificate and exits at start;
* the hub store gateway: ``--grpc-server-tls-cert/-key/-client-ca``;
* the Querier: ``--grpc-client-tls-secure`` with its client certificate and the CA, and
  ``--grpc-client-server-name``: it dials pod IPs (``dns+`` discovery) and in-cluster Service names,
  so it verifies one name that every StoreAPI server certificate carries (``server_name``), not
  the dialled host.

The Secrets (``tls.crt``, ``tls.key``, ``ca.crt``: the layout cert-manager writes) are created
outside git, e.g. by cert-manager from one fleet CA; see docs/rotation.md for renewal.
"""

from __future__ import annotations

from typing import Any

SERVER_SECRET = "thanos-grpc-server-tls"  # spokes (sidecar) and hub (store gateway)
CLIENT_SECRET = "thanos-grpc-client-tls"  # hub Querier
OPERATOR_SECRETS_DIR = "/etc/prometheus/secrets"  # prometheus-operator mounts spec.secrets here
TLS_DIR = "/etc/thanos-tls"  # not below /etc/thanos, the objstore Secret mount
PROMETHEUS = "fleet"  # the spokes' Prometheus object (observability.py renders it)
# The labels prometheus-operator puts on a Prometheus' pods (pkg/prometheus/server/statefulset.go).
PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": PROMETHEUS}


def sidecar_volume_mounts() -> list[dict[str, str]]:
    """The server Secret's pod volume (prometheus-operator names ``spec.secrets`` volumes ``secret-<name>``,
    ``pkg/k8s/resource_namer.go``) in the sidecar container, where ``sidecar_server_tls`` points."""
    return [{"name": f"secret-{SERVER_SECRET}", "mountPath": f"{OPERATOR_SECRETS_DIR}/{SERVER_SECRET}"}]


def sidecar_server_tls() -> dict[str, str]:
    base = f"{OPERATOR_SECRETS_DIR}/{SERVER_SECRET}"
    return {"certFile": f"{base}/tls.crt", "keyFile": f"{base}/tls.key", "caFile": f"{base}/ca.crt"}


def server_args() -> list[str]:
    return [
        f"--grpc-server-tls-cert={TLS_DIR}/tls.crt",
        f"--grpc-server-tls-key={TLS_DIR}/tls.key",
        f"--grpc-server-tls-client-ca={TLS_DIR}/ca.crt",
    ]


def server_name(fleet_name: str) -> str:
    """The DNS name every StoreAPI server certificate (sidecars, store gateways) must carry."""
    return f"thanos-storeapi.{fleet_name}.internal"


def client_args(fleet_name: str) -> list[str]:
    return [
        "--grpc-client-tls-secure",
        f"--grpc-client-tls-cert={TLS_DIR}/tls.crt",
        f"--grpc-client-tls-key={TLS_DIR}/tls.key",
        f"--grpc-client-tls-ca={TLS_DIR}/ca.crt",
        f"--grpc-client-server-name={server_name(fleet_name)}",
    ]


def tls_volume(secret: str) -> dict[str, Any]:
    return {"name": "grpc-tls", "secret": {"secretName": secret}}


def tls_mount() -> dict[str, Any]:
    return {"name": "grpc-tls", "mountPath": TLS_DIR, "readOnly": True}


def _policy(name: str, namespace: str, pods: dict[str, str], ingress: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"podSelector": {"matchLabels": pods}, "policyTypes": ["Ingress"], "ingress": ingress},
    }


def spoke_policy(namespace: str, grpc_port: int, dialled: bool) -> dict[str, Any]:
    """Prometheus pods: the web port from their own namespace; StoreAPI only where the hub dials it.

    Where the hub dials (``observability.dialled``: a registered push-mode EKS or GKE spoke), the sidecar
    port is open to any source: the caller is outside
    the cluster, so the client certificate (mTLS above) is what admits it.
    """
    ingress: list[dict[str, Any]] = [{"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 9090}]}]
    if dialled:
        ingress.append({"ports": [{"protocol": "TCP", "port": grpc_port}]})
    return _policy("fleet-prometheus", namespace, dict(PROMETHEUS_POD), ingress)


def store_policy(
    name: str, namespace: str, store: dict[str, str], querier: dict[str, str], grpc_port: int, http_port: int
) -> dict[str, Any]:
    """Hub store gateway: StoreAPI from the Querier's pods only, its HTTP port from its namespace."""
    ingress = [
        {"from": [{"podSelector": {"matchLabels": querier}}], "ports": [{"protocol": "TCP", "port": grpc_port}]},
        {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": http_port}]},
    ]
    return _policy(name, namespace, store, ingress)
