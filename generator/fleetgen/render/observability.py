"""Metrics: a Prometheus + Thanos sidecar per cluster, one Thanos Querier (and store gateway) on the hub.

Every spoke Prometheus carries ``<clusterLabel>: <cluster>`` as an external label (identity:
never deduplicated away) and prometheus-operator's replica label (the HA copy: the Querier
deduplicates on it). Each sidecar also uploads 2 h blocks to the object store named by
``objectStorageSecret``; only the Secret's name is ever written.

The Querier dials the sidecars of every registered push-mode spoke through DNS discovery,
``--endpoint=dns+<sidecarEndpoint>``: Thanos resolves the name's A/AAAA records on every
refresh and dials each address (pkg/discovery/dns/provider.go ``Resolve``), so both HA
replicas are queried and deduplicated on the replica label. A plain ``--endpoint=host:port``
is one gRPC target: behind one address (a load balancer) it reaches one replica per
connection, and the other replica's data never appears. ``observability.thanos.sidecarEndpoint``
(a host:port template, default ``thanos-sidecar.{cluster}.{fleet}.internal:10901``) is the name
each spoke publishes; every spoke renders a headless Service ``thanos-sidecar`` selecting its
Prometheus pods on the sidecar's gRPC port and annotated with that name for external-dns,
which publishes one record per pod IP for a headless Service. The hub must be able to route to
those pod IPs, so only spokes whose pod addresses are network addresses are dialled (EKS, GKE:
``model.pods_routable``; the hub reaches their networks by peering). Pull-mode spokes (edge,
outbound only) and spokes whose pods live on an overlay (AKS, vSphere, imported) are not; their
data reaches the hub through the object store, served by a store gateway. The gateways are
rendered whenever the hub is, because they also serve every cluster's history older than
Prometheus' local retention (24 h by default).
Data a pull-mode spoke has not uploaded yet (up to ~2 h) is not visible from the hub.

Per-cluster prefixes. A spoke must not be able to delete another cluster's blocks or forge blocks
labelled as another cluster, so each cluster writes below its own prefix: its
``objectStorageSecret`` (in its own ``monitoring`` namespace, outside git) sets ``prefix: <cluster>``
(thanos docs/storage.md) with a credential the bucket policy limits to ``<cluster>/*``. A store
gateway only finds blocks at the root of its (prefixed) bucket (pkg/block/fetcher.go lists
``<ULID>/meta.json``), so the hub runs one gateway per cluster, ``thanos-store-<cluster>``, reading
``<objectStorageSecret>-<cluster>``: the same prefix with a read-only credential. Each gateway is in
its own hub file, ``hub/observability/stores/<cluster>.yaml``, rendered with that cluster's unit.
"""

from __future__ import annotations

from typing import Any

from ..emit import dump
from ..model import Cluster, Fleet, fill, pods_routable
from ..versions import image_version
from . import File, security, thanos_tls

NAMESPACE = "monitoring"
OBJSTORE_KEY = "objstore.yml"  # key inside objectStorageSecret, as Thanos' own examples name it
QUERIER = "thanos-querier"
STORE = "thanos-store"
STORES_DIR = "hub/observability/stores"  # one file per cluster: <cluster>.yaml
PROMETHEUS = thanos_tls.PROMETHEUS
PROMETHEUS_ACCOUNT = f"{PROMETHEUS}-prometheus"  # its ServiceAccount, ClusterRole and ClusterRoleBinding
GRPC_PORT, HTTP_PORT, QUERIER_SERVICE_PORT = 10901, 10902, 9090
NOBODY = 65534  # the Thanos image runs as nobody
SIDECAR_SERVICE = "thanos-sidecar"


def render(fleet: Fleet) -> list[File]:
    return [*fleet_files(fleet), *(f for c in fleet.clusters for f in cluster_files(fleet, c))]


def fleet_files(fleet: Fleet) -> list[File]:
    """The hub's fleet-wide files: the Querier (which dials every cluster), its namespace and datasource."""
    files = [
        File("hub/observability/namespace.yaml", (namespace(fleet),)),
        File("hub/observability/thanos-querier.yaml", (querier_deployment(fleet), querier_service())),
    ]
    if fleet.grafana_enabled:
        files.append(File("hub/observability/grafana-datasource.yaml", (grafana_datasource(),)))
    return files


def cluster_files(fleet: Fleet, cluster: Cluster) -> list[File]:
    """One cluster's files (a render unit of ``fleetgen.units``): its spoke's monitoring file and its store
    gateway on the hub. A one-cluster edit re-renders these and the Querier's file (whose endpoints name every
    cluster), never the other clusters' gateways."""
    return [
        File(f"clusters/{cluster.name}/monitoring/prometheus.yaml", tuple(spoke_documents(fleet, cluster))),
        File(store_file(cluster.name), tuple(store_documents(fleet, cluster.name))),
    ]


def store_file(cluster: str) -> str:
    """The hub file of one cluster's store gateway (``fleet-root`` syncs ``hub/`` recursively)."""
    return f"{STORES_DIR}/{cluster}.yaml"


def store_documents(fleet: Fleet, cluster: str) -> list[dict[str, Any]]:
    """One cluster's store gateway: StatefulSet, Service, and the NetworkPolicy admitting the Querier only."""
    name = store_name(cluster)
    return [
        store_statefulset(fleet, cluster),
        store_service(name),
        thanos_tls.store_policy(name, NAMESPACE, _selector(name), _selector(QUERIER), GRPC_PORT, HTTP_PORT),
    ]


def dialled(cluster: Cluster) -> bool:
    """The Querier dials this spoke's sidecars: a registered push-mode spoke whose pod addresses the hub can route
    to (``model.pods_routable``). The others' data reaches the hub through the object store and their store
    gateway: an overlay pod address (AKS, vSphere, imported) would leave the endpoint unhealthy forever."""
    return cluster.registered and cluster.argocd_mode == "push" and pods_routable(cluster.provider.type)


def sidecar_endpoints(fleet: Fleet) -> list[str]:
    """Where the Querier dials: every sidecar replica of each dialled spoke, via DNS (A/AAAA)."""
    return [f"dns+{sidecar_address(fleet, c)}" for c in fleet.clusters if dialled(c)]


def sidecar_address(fleet: Fleet, cluster: Cluster) -> str:
    return fill(fleet.thanos.sidecar_endpoint, cluster.name, fleet.name)


def store_name(cluster: str) -> str:
    return f"{STORE}-{cluster}"


def store_objstore_secret(fleet: Fleet, cluster: str) -> str:
    """The hub's read-only object-store config for one cluster's prefix (created outside git)."""
    return f"{fleet.thanos.object_storage_secret}-{cluster}"


def store_endpoints(fleet: Fleet) -> list[str]:
    """One store gateway per cluster prefix: Thanos finds blocks only at its bucket root (block/fetcher.go)."""
    return [f"{store_name(c.name)}.{NAMESPACE}.svc:{GRPC_PORT}" for c in fleet.clusters]


# ---------------------------------------------------------------- hub


def querier_args(fleet: Fleet) -> list[str]:
    endpoints = [*sidecar_endpoints(fleet), *store_endpoints(fleet)]
    return [
        "query",
        f"--grpc-address=0.0.0.0:{GRPC_PORT}",
        f"--http-address=0.0.0.0:{HTTP_PORT}",
        f"--query.replica-label={fleet.thanos.replica_label}",
        *(f"--endpoint={e}" for e in endpoints),
    ]


def querier_deployment(fleet: Fleet) -> dict[str, Any]:
    container = _thanos_container(
        "thanos-query", fleet.thanos.image, [*querier_args(fleet), *thanos_tls.client_args(fleet.name)]
    )
    container["volumeMounts"] = [thanos_tls.tls_mount()]
    volumes = [thanos_tls.tls_volume(thanos_tls.CLIENT_SECRET)]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(QUERIER, "query"),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": _selector(QUERIER)},
            "template": _pod_template(QUERIER, "query", [container], volumes),
        },
    }


def querier_service() -> dict[str, Any]:
    ports = [_service_port("http", QUERIER_SERVICE_PORT, "http"), _service_port("grpc", GRPC_PORT, "grpc")]
    return _service(QUERIER, "query", ports)


def store_args() -> list[str]:
    return [
        "store",
        "--data-dir=/var/thanos/store",
        f"--objstore.config-file=/etc/thanos/{OBJSTORE_KEY}",
        f"--grpc-address=0.0.0.0:{GRPC_PORT}",
        f"--http-address=0.0.0.0:{HTTP_PORT}",
    ]


def store_statefulset(fleet: Fleet, cluster: str) -> dict[str, Any]:
    name = store_name(cluster)
    container = _thanos_container("thanos-store", fleet.thanos.image, [*store_args(), *thanos_tls.server_args()])
    container["volumeMounts"] = [
        {"name": "data", "mountPath": "/var/thanos/store"},
        {"name": "objstore", "mountPath": "/etc/thanos", "readOnly": True},
        thanos_tls.tls_mount(),
    ]
    volumes = [
        # Index headers are rebuilt from the bucket after a restart: a cache, not state.
        {"name": "data", "emptyDir": {}},
        {
            "name": "objstore",
            "secret": {
                "secretName": store_objstore_secret(fleet, cluster),
                "items": [{"key": OBJSTORE_KEY, "path": OBJSTORE_KEY}],
            },
        },
        thanos_tls.tls_volume(thanos_tls.SERVER_SECRET),
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(name, "store"),
        "spec": {
            "serviceName": name,
            "replicas": 1,
            "selector": {"matchLabels": _selector(name)},
            "template": _pod_template(name, "store", [container], volumes),
        },
    }


def store_service(name: str) -> dict[str, Any]:
    ports = [_service_port("grpc", GRPC_PORT, "grpc"), _service_port("http", HTTP_PORT, "http")]
    return _service(name, "store", ports)


def grafana_datasource() -> dict[str, Any]:
    """Provisioning file picked up by the Grafana chart's sidecar (label ``grafana_datasource: "1"``)."""
    provisioning = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Thanos",
                "uid": "thanos",
                "type": "prometheus",
                "access": "proxy",
                "url": f"http://{QUERIER}.{NAMESPACE}.svc:{QUERIER_SERVICE_PORT}",
                "isDefault": True,
                "jsonData": {"prometheusType": "Thanos"},
            }
        ],
    }
    metadata = {"name": "thanos-datasource", "namespace": NAMESPACE, "labels": {"grafana_datasource": "1"}}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {"thanos-datasource.yaml": _yaml_text(provisioning)},
    }


# ---------------------------------------------------------------- spokes


def namespace(fleet: Fleet) -> dict[str, Any]:
    """The hub namespace the Querier, store gateways and datasource live in; nothing else creates it."""
    return security.namespace(fleet, NAMESPACE)


def spoke_documents(fleet: Fleet, cluster: Cluster) -> list[dict[str, Any]]:
    """The spoke's monitoring dir, which Argo CD (or the edge's agent) syncs: namespaced objects only.

    Prometheus' ClusterRole and ClusterRoleBinding are not here: writing RBAC would need ``bind`` and
    ``escalate`` (or holding every permission granted), so the access manifests an admin applies
    carry them (``prometheus_cluster_rbac``, rendered into ``clusters/<c>/access.yaml``).
    """
    return [
        prometheus_service_account(),
        prometheus(fleet, cluster),
        sidecar_service(fleet, cluster),
        thanos_tls.spoke_policy(NAMESPACE, GRPC_PORT, dialled(cluster)),  # the sidecar port is open where dialled
    ]


def sidecar_service(fleet: Fleet, cluster: Cluster) -> dict[str, Any]:
    """Headless: DNS (and external-dns) answers with every sidecar pod, so ``dns+`` finds both replicas.

    Clients of a headless Service connect to the pod IPs themselves, so the port in
    ``sidecarEndpoint`` must be the sidecar's own gRPC port (10901, prometheus-operator's default).

    The selector is the pod labels prometheus-operator sets on a Prometheus' pods
    (pkg/prometheus/server/statefulset.go: app.kubernetes.io/name, operator.prometheus.io/name).
    """
    host = sidecar_address(fleet, cluster).rpartition(":")[0]
    metadata = {"name": SIDECAR_SERVICE, "namespace": NAMESPACE, "annotations": {security.EXTERNAL_DNS_HOSTNAME: host}}
    selector = dict(thanos_tls.PROMETHEUS_POD)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {"clusterIP": "None", "selector": selector, "ports": [_service_port("grpc", GRPC_PORT, "grpc")]},
    }


def prometheus(fleet: Fleet, cluster: Cluster) -> dict[str, Any]:
    thanos = fleet.thanos
    sidecar: dict[str, Any] = {"image": thanos.image}
    if version := image_version(thanos.image):
        sidecar["version"] = version  # the operator needs it to know which sidecar flags exist
    sidecar["objectStorageConfig"] = {"name": thanos.object_storage_secret, "key": OBJSTORE_KEY}
    sidecar["grpcServerTlsConfig"] = thanos_tls.sidecar_server_tls()
    sidecar["volumeMounts"] = thanos_tls.sidecar_volume_mounts()
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Prometheus",
        "metadata": {"name": PROMETHEUS, "namespace": NAMESPACE},
        "spec": {
            "replicas": 2,
            "serviceAccountName": PROMETHEUS_ACCOUNT,
            "secrets": [thanos_tls.SERVER_SECRET],  # the pod volume the sidecar mounts (volumeMounts) for its TLS
            "externalLabels": {thanos.cluster_label: cluster.name},
            "replicaExternalLabelName": thanos.replica_label,
            **select_everything(),
            "thanos": sidecar,
        },
    }


def select_everything() -> dict[str, dict]:
    """Empty selectors select every monitor and rule in every namespace; missing ones select none."""
    kinds = ("serviceMonitor", "podMonitor", "rule")
    return {f"{kind}{scope}Selector": {} for kind in kinds for scope in ("", "Namespace")}


def prometheus_service_account() -> dict[str, Any]:
    metadata = {"name": PROMETHEUS_ACCOUNT, "namespace": NAMESPACE}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}


def prometheus_cluster_rbac() -> list[dict[str, Any]]:
    """What Prometheus needs for Kubernetes service discovery, and nothing more (admin-applied)."""
    name = PROMETHEUS_ACCOUNT
    core = ["nodes", "nodes/metrics", "services", "endpoints", "pods"]
    rules = [
        {"apiGroups": [""], "resources": core, "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]
    rbac = "rbac.authorization.k8s.io"
    subject = {"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}
    return [
        {"apiVersion": f"{rbac}/v1", "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules},
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": name},
            "subjects": [subject],
        },
    ]


# ---------------------------------------------------------------- building blocks


def _labels(name: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component}


def _selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


def _metadata(name: str, component: str) -> dict[str, Any]:
    return {"name": name, "namespace": NAMESPACE, "labels": _labels(name, component)}


def _pod_template(name: str, component: str, containers: list, volumes: list) -> dict[str, Any]:
    spec: dict[str, Any] = {
        # RuntimeDefault seccomp completes what Pod Security "restricted" asks of the pod (security.podSecurity)
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": NOBODY,
            "fsGroup": NOBODY,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": containers,
    }
    if volumes:
        spec["volumes"] = volumes
    return {"metadata": {"labels": _labels(name, component)}, "spec": spec}


def _thanos_container(name: str, image: str, args: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "args": args,
        "ports": [{"name": "grpc", "containerPort": GRPC_PORT}, {"name": "http", "containerPort": HTTP_PORT}],
        "readinessProbe": {"httpGet": {"path": "/-/ready", "port": "http"}},
        "livenessProbe": {"httpGet": {"path": "/-/healthy", "port": "http"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _service(name: str, component: str, ports: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(name, component),
        "spec": {"selector": _selector(name), "ports": ports},
    }


def _service_port(name: str, port: int, target: str) -> dict[str, Any]:
    return {"name": name, "port": port, "targetPort": target}


def _yaml_text(data: Any) -> str:
    return dump([data])
