"""Observability render target: the hub Querier reaches every spoke, dedups HA pairs, keeps clusters apart."""

from __future__ import annotations

import yaml
from fleetgen.render import observability
from fleetgen.versions import image_version, release

from tests.conftest import fleet_from_text


def files_by_path(fleet):
    return {f.path: f for f in observability.render(fleet)}


def hub_documents(fleet):
    return files_by_path(fleet)["hub/observability/thanos-querier.yaml"].documents


def store_documents(fleet, cluster):
    return files_by_path(fleet)[f"hub/observability/stores/{cluster}.yaml"].documents


def find(documents, kind, name):
    (doc,) = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def querier_args(fleet):
    deployment = find(hub_documents(fleet), "Deployment", "thanos-querier")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container["args"]


def test_every_document_passes_the_upstream_schema(example_fleet, upstream):
    for f in observability.render(example_fleet):
        for doc in f.documents:
            assert upstream(doc) == [], (f.path, doc["kind"], doc["metadata"]["name"])


def test_querier_dials_each_registered_push_spoke_it_can_route_to_and_the_store(example_fleet):
    args = querier_args(example_fleet)
    assert args[0] == "query"
    endpoints = [a.removeprefix("--endpoint=") for a in args if a.startswith("--endpoint=")]
    # EKS spokes: pod addresses are VPC addresses. analytics-westeurope (AKS: its pods live on an overlay) and
    # dev-local (docker) are served by their store gateways only.
    push = ["prod-ap-south-1", "prod-eu-west-1", "prod-us-east-1", "staging-us-east-1"]
    every = sorted(c.name for c in example_fleet.clusters)  # each uploads below its own prefix
    # dns+: Thanos resolves every A/AAAA record and dials each, so both HA replicas are queried
    # (thanos pkg/discovery/dns/provider.go); each store gateway is one in-cluster Service.
    assert endpoints == [f"dns+thanos-sidecar.{c}.example-platform.internal:10901" for c in push] + [
        f"thanos-store-{c}.monitoring.svc:10901" for c in every
    ]
    # edge-store-042 is pull mode (cannot be dialled); the gpu cluster has no server yet.
    sidecars = [e for e in endpoints if e.startswith("dns+thanos-sidecar.")]
    assert not any(n in e for e in sidecars for n in ("edge-store-042", "dev-local", "gpu-inference", "analytics"))


def test_querier_never_uses_store_flag_and_dedups_on_the_replica_label(example_fleet):
    args = querier_args(example_fleet)
    assert not any(a.startswith("--store") for a in args)
    replica_flags = [a for a in args if a.startswith("--query.replica-label")]
    assert replica_flags == ["--query.replica-label=prometheus_replica"]


def test_replica_label_follows_fleet_yaml(example_text):
    fleet = fleet_from_text(example_text.replace("replicaLabel: prometheus_replica", "replicaLabel: ha_copy"))
    assert "--query.replica-label=ha_copy" in querier_args(fleet)
    prometheus = find(
        files_by_path(fleet)["clusters/prod-us-east-1/monitoring/prometheus.yaml"].documents, "Prometheus", "fleet"
    )
    assert prometheus["spec"]["replicaExternalLabelName"] == "ha_copy"


def test_store_gateway_reads_the_object_store_secret_by_name_only(example_fleet):
    documents = store_documents(example_fleet, "edge-store-042")
    store = find(documents, "StatefulSet", "thanos-store-edge-store-042")
    pod = store["spec"]["template"]["spec"]
    (secret_volume,) = [v for v in pod["volumes"] if v["name"] == "objstore"]
    # the edge's prefix, read-only: <objectStorageSecret>-<cluster>, created outside git
    assert secret_volume["secret"]["secretName"] == "thanos-objstore-edge-store-042"
    (container,) = pod["containers"]
    assert container["args"][0] == "store"
    assert "--objstore.config-file=/etc/thanos/objstore.yml" in container["args"]
    service = find(documents, "Service", "thanos-store-edge-store-042")
    assert service["spec"]["selector"] == store["spec"]["selector"]["matchLabels"]
    assert not any(d["kind"] == "Secret" for d in documents)


def test_the_querier_file_holds_the_querier_and_each_cluster_file_its_store_gateway(example_fleet):
    """Each gateway is its cluster's render unit (``cluster_files``), so a one-cluster edit re-renders one gateway."""
    kinds = [(d["kind"], d["metadata"]["name"]) for d in hub_documents(example_fleet)]
    assert kinds == [("Deployment", "thanos-querier"), ("Service", "thanos-querier")]
    fleet_wide = [f.path for f in observability.fleet_files(example_fleet)]
    assert not any("stores" in path for path in fleet_wide)
    edge = next(c for c in example_fleet.clusters if c.name == "edge-store-042")
    own = {
        f.path: [(d["kind"], d["metadata"]["name"]) for d in f.documents]
        for f in observability.cluster_files(example_fleet, edge)
    }
    name = "thanos-store-edge-store-042"
    assert own == {
        "clusters/edge-store-042/monitoring/prometheus.yaml": [
            ("ServiceAccount", "fleet-prometheus"),
            ("Prometheus", "fleet"),
            ("Service", "thanos-sidecar"),
            ("NetworkPolicy", "fleet-prometheus"),
        ],
        "hub/observability/stores/edge-store-042.yaml": [
            ("StatefulSet", name),
            ("Service", name),
            ("NetworkPolicy", name),
        ],
    }
    # one store file per cluster of fleet.yaml, pull-mode and not-yet-registered ones included
    stores = sorted(
        f.path for f in observability.render(example_fleet) if f.path.startswith("hub/observability/stores/")
    )
    assert stores == sorted(f"hub/observability/stores/{c.name}.yaml" for c in example_fleet.clusters)


def test_querier_service_selects_the_querier_pods(example_fleet):
    documents = hub_documents(example_fleet)
    deployment = find(documents, "Deployment", "thanos-querier")
    service = find(documents, "Service", "thanos-querier")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels[k] == v for k, v in service["spec"]["selector"].items())


def test_grafana_datasource_points_at_the_querier(example_fleet):
    (configmap,) = files_by_path(example_fleet)["hub/observability/grafana-datasource.yaml"].documents
    assert configmap["metadata"]["labels"] == {"grafana_datasource": "1"}
    (text,) = configmap["data"].values()
    (source,) = yaml.safe_load(text)["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://thanos-querier.monitoring.svc:9090"
    service = find(hub_documents(example_fleet), "Service", "thanos-querier")
    assert 9090 in [p["port"] for p in service["spec"]["ports"]]


def test_no_grafana_no_datasource(example_text):
    text = example_text.replace("grafana:\n    enabled: true", "grafana:\n    enabled: false")
    assert text != example_text
    fleet = fleet_from_text(text)
    assert "hub/observability/grafana-datasource.yaml" not in files_by_path(fleet)


def test_prometheus_per_cluster_labels_its_series_with_the_cluster(example_fleet):
    files = files_by_path(example_fleet)
    for cluster in example_fleet.clusters:
        documents = files[f"clusters/{cluster.name}/monitoring/prometheus.yaml"].documents
        spec = find(documents, "Prometheus", "fleet")["spec"]
        assert spec["externalLabels"] == {"cluster": cluster.name}
        assert spec["replicas"] == 2
        assert spec["replicaExternalLabelName"] == "prometheus_replica"
        assert spec["thanos"]["objectStorageConfig"] == {"name": "thanos-objstore", "key": "objstore.yml"}
        assert spec["thanos"]["image"] == "quay.io/thanos/thanos:v0.38.0"
        assert spec["thanos"]["version"] == "v0.38.0"
        account = find(documents, "ServiceAccount", spec["serviceAccountName"])
        assert account["metadata"]["namespace"] == "monitoring"


def test_cluster_label_follows_fleet_yaml(example_text):
    fleet = fleet_from_text(example_text.replace("clusterLabel: cluster", "clusterLabel: k8s_cluster"))
    documents = files_by_path(fleet)["clusters/dev-local/monitoring/prometheus.yaml"].documents
    assert find(documents, "Prometheus", "fleet")["spec"]["externalLabels"] == {"k8s_cluster": "dev-local"}


def test_image_version():
    assert image_version("quay.io/thanos/thanos:v0.38.0") == "v0.38.0"
    assert image_version("registry:5000/thanos@sha256:abc") is None
    assert image_version("thanos/thanos") is None
    assert release("v0.38.0-rc.1") == (0, 38, 0)


def test_render_is_deterministic_and_independent_of_cluster_order(example_fleet, example_text):
    data = yaml.safe_load(example_text)
    data["clusters"].reverse()
    reordered = fleet_from_text(yaml.safe_dump(data, sort_keys=False))
    assert observability.render(example_fleet) == observability.render(example_fleet)
    assert observability.render(reordered) == observability.render(example_fleet)


def test_store_api_is_mutual_tls_everywhere(example_fleet):
    """Querier dials with a client certificate; every server it dials requires one (thanos query.md/store.md)."""
    documents = hub_documents(example_fleet)
    querier = find(documents, "Deployment", "thanos-querier")["spec"]["template"]["spec"]
    args = querier["containers"][0]["args"]
    assert {
        "--grpc-client-tls-secure",
        "--grpc-client-tls-cert=/etc/thanos-tls/tls.crt",
        "--grpc-client-tls-key=/etc/thanos-tls/tls.key",
        "--grpc-client-tls-ca=/etc/thanos-tls/ca.crt",
    } <= set(args)
    # dns+ dials pod IPs: the Querier verifies one shared name, not the dialled host (thanos query --help)
    assert "--grpc-client-server-name=thanos-storeapi.example-platform.internal" in args
    assert {"name": "grpc-tls", "secret": {"secretName": "thanos-grpc-client-tls"}} in querier["volumes"]
    store = store_documents(example_fleet, "prod-us-east-1")
    store = find(store, "StatefulSet", "thanos-store-prod-us-east-1")["spec"]["template"]["spec"]
    assert "--grpc-server-tls-client-ca=/etc/thanos-tls/ca.crt" in store["containers"][0]["args"]
    assert {"name": "grpc-tls", "secret": {"secretName": "thanos-grpc-server-tls"}} in store["volumes"]
    spoke = {f.path: f for f in observability.render(example_fleet)}
    prometheus = find(spoke["clusters/prod-us-east-1/monitoring/prometheus.yaml"].documents, "Prometheus", "fleet")
    # prometheus-operator makes spec.secrets the pod volume secret-<name> and mounts it at
    # /etc/prometheus/secrets/<name>/ in the prometheus container only (BuildCommonVolumes); the
    # thanos-sidecar container gets spec.thanos.volumeMounts alone (createThanosContainer), so the files the
    # TLS flags name are there only through that mount; caFile -> --grpc-server-tls-client-ca
    assert prometheus["spec"]["secrets"] == ["thanos-grpc-server-tls"]
    tls = prometheus["spec"]["thanos"]["grpcServerTlsConfig"]
    assert tls == {
        "certFile": "/etc/prometheus/secrets/thanos-grpc-server-tls/tls.crt",
        "keyFile": "/etc/prometheus/secrets/thanos-grpc-server-tls/tls.key",
        "caFile": "/etc/prometheus/secrets/thanos-grpc-server-tls/ca.crt",
    }
    [mount] = prometheus["spec"]["thanos"]["volumeMounts"]
    assert mount["name"] == "secret-" + prometheus["spec"]["secrets"][0]
    assert {path.rpartition("/")[0] for path in tls.values()} == {mount["mountPath"]}


def test_network_policies_open_store_api_only_where_it_is_dialled(example_fleet):
    files = {f.path: f for f in observability.render(example_fleet)}

    def ports(cluster):
        policy = find(
            files[f"clusters/{cluster}/monitoring/prometheus.yaml"].documents, "NetworkPolicy", "fleet-prometheus"
        )
        return [(r.get("from"), [p["port"] for p in r["ports"]]) for r in policy["spec"]["ingress"]]

    same_namespace = [{"podSelector": {}}]
    assert ports("prod-us-east-1") == [(same_namespace, [9090]), (None, [10901])]
    assert ports("edge-store-042") == [(same_namespace, [9090])]  # pull mode: nobody dials it
    store = find(store_documents(example_fleet, "dev-local"), "NetworkPolicy", "thanos-store-dev-local")["spec"]
    assert store["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "thanos-store-dev-local"}}
    querier_pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "thanos-querier"}}}
    assert store["ingress"][0]["from"] == [querier_pods]


def test_each_spoke_publishes_its_sidecars_through_a_headless_service(example_fleet):
    docs = files_by_path(example_fleet)["clusters/prod-us-east-1/monitoring/prometheus.yaml"].documents
    service = find(docs, "Service", "thanos-sidecar")
    # Headless: DNS answers with each pod's IP, one per Prometheus replica (spec.replicas: 2).
    assert service["spec"]["clusterIP"] == "None"
    assert find(docs, "Prometheus", "fleet")["spec"]["replicas"] == 2
    # prometheus-operator labels the pods of Prometheus "fleet" with these.
    assert service["spec"]["selector"] == {
        "app.kubernetes.io/name": "prometheus",
        "operator.prometheus.io/name": "fleet",
    }
    assert service["spec"]["ports"] == [{"name": "grpc", "port": 10901, "targetPort": "grpc"}]
    # The name the Querier resolves with dns+, without the port.
    assert service["metadata"]["annotations"] == {
        "external-dns.alpha.kubernetes.io/hostname": "thanos-sidecar.prod-us-east-1.example-platform.internal"
    }


def test_the_hub_monitoring_namespace_is_rendered(example_fleet):
    files = files_by_path(example_fleet)
    assert files["hub/observability/namespace.yaml"].documents == (
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "monitoring",
                "labels": {
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/audit": "baseline",
                    "pod-security.kubernetes.io/warn": "baseline",
                },
            },
        },
    )
    hub_namespaces = {
        d["metadata"].get("namespace") for f in files.values() if f.path.startswith("hub/") for d in f.documents
    } - {None}
    assert hub_namespaces == {"monitoring"}


def test_hub_thanos_pods_meet_pod_security_restricted(example_fleet):
    """What PSA "restricted" checks (kubernetes.io/docs/concepts/security/pod-security-standards)."""
    hub = [d for f in observability.render(example_fleet) if f.path.startswith("hub/") for d in f.documents]
    workloads = [d for d in hub if d["kind"] in ("Deployment", "StatefulSet")]
    assert len(workloads) == 1 + len(example_fleet.clusters)  # the Querier and one store gateway per cluster
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
