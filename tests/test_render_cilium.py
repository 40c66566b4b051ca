"""Cilium render target: chart-valid values giving each mesh cluster its id, its peers and its pod CIDR."""

from __future__ import annotations

import pytest
import yaml
from fleetgen.render import capi, cilium

from tests.conftest import fleet_from_text

V6_FLEET = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: six
repo: {url: "https://github.com/example/cfg"}
hub: {name: hub}
network: {mesh: cilium, maxConnectedClusters: 511}
defaults: {kubernetesVersion: "1.30", environment: production, region: local, provider: {type: docker}}
clusters:
  - {name: x, network: {pods: "fd00:10::/56", services: "fd00:20::/112", nodeMask: 64, meshID: 300,
                        clustermesh: {member: true}}}
  - {name: y, network: {pods: 10.8.0.0/16, services: 10.9.0.0/20, meshID: 7, clustermesh: {member: true}}}
"""


def values_by_cluster(fleet):
    files = cilium.render(fleet)
    assert all(len(f.documents) == 1 for f in files)
    return {f.path.split("/")[1]: f.documents[0] for f in files}


def test_values_validate_against_the_chart_schema(example_fleet, cilium_values_schema):
    for name, values in values_by_cluster(example_fleet).items():
        errors = [e.message for e in cilium_values_schema.iter_errors(values)]
        assert errors == [], name


def test_one_values_file_per_mesh_cluster(example_fleet):
    assert [f.path for f in cilium.render(example_fleet)] == [
        f"clusters/{c.name}/cilium/values.yaml" for c in example_fleet.clusters
    ]


def test_cluster_identity_is_the_mesh_id(example_fleet):
    values = values_by_cluster(example_fleet)
    for cluster in example_fleet.clusters:
        assert values[cluster.name]["cluster"] == {"name": cluster.name, "id": cluster.network.mesh_id}
    assert len({v["cluster"]["id"] for v in values.values()}) == len(values)


# Reachable clusters of the example fleet: push mode and not docker. edge-store-042 (pull, outbound
# only) and dev-local (docker, a laptop) keep Cilium but stay out of the mesh, and so does
# analytics-westeurope (AKS tunnels; the mesh's EKS and GKE members route natively: fleet.yaml says so).
MEMBERS = [
    "gpu-inference-us-central1",
    "prod-ap-south-1",
    "prod-eu-west-1",
    "prod-us-east-1",
    "staging-us-east-1",
]


def test_peers_are_every_other_reachable_cluster(example_fleet):
    values = values_by_cluster(example_fleet)
    assert sorted(n for n, v in values.items() if "clustermesh" in v) == MEMBERS
    for name in MEMBERS:
        mesh = values[name]["clustermesh"]
        assert mesh["useAPIServer"] is True
        assert mesh["config"]["enabled"] is True
        assert mesh["maxConnectedClusters"] == 255
        peers = mesh["config"]["clusters"]
        assert [p["name"] for p in peers] == [c for c in MEMBERS if c != name]
        for p in peers:
            assert p["address"] == f"{p['name']}.clustermesh.example-platform.internal"
            assert p["port"] == 2379
            assert "tls" not in p
    # Non-members: no clustermesh-apiserver (the chart's useAPIServer defaults to false), no peers.
    assert "clustermesh" not in values["edge-store-042"] and "clustermesh" not in values["dev-local"]


def test_every_peer_dials_a_name_on_the_server_certificate(example_fleet):
    """clustermesh-config/_helpers.tpl dials https://<address>:<port>; tls-certmanager/server-secret.yaml
    puts clustermesh.apiserver.tls.auto.server.extraDnsNames on the server certificate."""
    values = values_by_cluster(example_fleet)
    cert_names = {
        n: set(values[n]["clustermesh"]["apiserver"]["tls"]["auto"]["server"]["extraDnsNames"]) for n in MEMBERS
    }
    assert cert_names["prod-us-east-1"] == {"prod-us-east-1.clustermesh.example-platform.internal"}
    for name in MEMBERS:
        for p in values[name]["clustermesh"]["config"]["clusters"]:
            assert p["address"] in cert_names[p["name"]]


def test_one_shared_ca_referenced_never_stored(example_fleet):
    values = values_by_cluster(example_fleet)
    autos = [values[n]["clustermesh"]["apiserver"]["tls"]["auto"] for n in MEMBERS]
    # certmanager with an issuerRef: the chart creates no CA of its own (clustermesh-apiserver-issuer.yaml
    # renders only without certManagerIssuerRef), so every certificate is signed by the one issuer's CA.
    assert {(a["enabled"], a["method"]) for a in autos} == {(True, "certmanager")}
    assert all(
        a["certManagerIssuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "clustermesh-ca"}
        for a in autos
    )
    for v in values.values():
        assert "tls" not in v  # tls.ca.cert/key would put the CA (and its key) in git
        text = yaml.safe_dump(v)
        assert "BEGIN" not in text and "key:" not in text


def chart_config(values: dict) -> dict:
    """The datapath part of templates/cilium-configmap.yaml (chart 1.20), fails included."""
    ipam = "eni" if values.get("eni", {}).get("enabled") else values.get("ipam", {}).get("mode") or "cluster-pool"
    gke, aks = values.get("gke", {}).get("enabled"), values.get("aksbyocni", {}).get("enabled")
    mode = values.get("routingMode", "")
    if gke and (mode or "native") != "native":
        raise ValueError("RoutingMode must be set to native when gke.enabled=true")
    if aks and (mode or "tunnel") != "tunnel":
        raise ValueError("RoutingMode must be set to tunnel when aksbyocni.enabled=true")
    routing = mode or ("native" if values.get("eni", {}).get("enabled") or gke else "tunnel")
    masquerade = ipam != "eni"  # enableIPv4Masquerade default; false in ENI mode since 1.18
    if mode == "native" and values["ipv4"]["enabled"] and masquerade and ipam not in ("eni", "alibabacloud"):
        if not values.get("ipv4NativeRoutingCIDR"):
            raise ValueError("ipv4NativeRoutingCIDR must be set when routingMode is native")
    return {"ipam": ipam, "routing-mode": routing, "native-cidr": values.get("ipv4NativeRoutingCIDR")}


def test_provider_datapaths(example_fleet):
    values = values_by_cluster(example_fleet)
    # EKS without the AWS VPC CNI: ENI mode, pods on VPC addresses, native routing.
    assert chart_config(values["prod-us-east-1"]) == {"ipam": "eni", "routing-mode": "native", "native-cidr": None}
    assert values["prod-us-east-1"]["eni"] == {"enabled": True}
    # GKE: pods from GKE's alias range (the node podCIDRs), routed natively inside it.
    gke = values["gpu-inference-us-central1"]
    assert chart_config(gke) == {"ipam": "kubernetes", "routing-mode": "native", "native-cidr": "10.40.0.0/16"}
    assert gke["gke"] == {"enabled": True} and gke["cni"] == {"binPath": "/home/kubernetes/bin"}
    assert gke["nodeinit"] == {"enabled": True}
    # the key of the taint the GKE pools carry (tests/test_render_capi.py): the operator removes exactly it
    assert gke["agentNotReadyTaintKey"] == "ignore-taint.cluster-autoscaler.kubernetes.io/cilium-agent-not-ready"
    assert all("agentNotReadyTaintKey" not in v for n, v in values.items() if n != "gpu-inference-us-central1")
    # AKS bring-your-own-CNI: tunnel, pods from the fleet's pod CIDR.
    aks = values["analytics-westeurope"]
    assert chart_config(aks) == {"ipam": "cluster-pool", "routing-mode": "tunnel", "native-cidr": None}
    assert aks["aksbyocni"] == {"enabled": True}
    assert aks["ipam"]["operator"] == {"clusterPoolIPv4PodCIDRList": ["10.44.0.0/16"], "clusterPoolIPv4MaskSize": 24}
    # Docker and imported: cluster-pool overlay.
    for name, pods in (("dev-local", "10.250.0.0/16"), ("edge-store-042", "10.64.0.0/20")):
        assert chart_config(values[name]) == {"ipam": "cluster-pool", "routing-mode": "tunnel", "native-cidr": None}
        assert values[name]["ipam"]["operator"]["clusterPoolIPv4PodCIDRList"] == [pods]
        assert values[name]["ipv4"] == {"enabled": True} and values[name]["ipv6"] == {"enabled": False}


def test_chart_model_rejects_what_the_chart_rejects():
    with pytest.raises(ValueError, match="native when gke"):
        chart_config({"gke": {"enabled": True}, "routingMode": "tunnel", "ipv4": {"enabled": True}})
    with pytest.raises(ValueError, match="ipv4NativeRoutingCIDR"):
        chart_config({"gke": {"enabled": True}, "routingMode": "native", "ipv4": {"enabled": True}})


def test_every_peer_dials_a_name_its_load_balancer_is_published_under(example_fleet):
    """external-dns publishes a LoadBalancer Service's address under its hostname annotation only (external-dns
    source/service.go): without it no peer could resolve the name it dials."""
    values = values_by_cluster(example_fleet)
    for name in MEMBERS:
        for p in values[name]["clustermesh"]["config"]["clusters"]:
            annotations = values[p["name"]]["clustermesh"]["apiserver"]["service"]["annotations"]
            assert annotations["external-dns.alpha.kubernetes.io/hostname"] == p["address"]


def lb_annotations(values: dict, name: str) -> dict | None:
    """The load balancer's own annotations (the external-dns name is checked above)."""
    found = values[name]["clustermesh"]["apiserver"]["service"].get("annotations")
    return {k: v for k, v in found.items() if k != "external-dns.alpha.kubernetes.io/hostname"} if found else found


def test_clustermesh_apiserver_is_an_internal_load_balancer_by_default(example_fleet):
    values = values_by_cluster(example_fleet)
    assert {values[n]["clustermesh"]["apiserver"]["service"]["type"] for n in MEMBERS} == {"LoadBalancer"}
    assert lb_annotations(values, "prod-us-east-1") == {
        "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    }
    assert lb_annotations(values, "gpu-inference-us-central1") == {"networking.gke.io/load-balancer-type": "Internal"}
    aks = "    network: {pods: 10.44.0.0/16, services: 10.112.0.0/20, nodes: 172.21.0.0/16, meshID: 30"
    member = example_fleet_text().replace(aks + ", clustermesh: {member: false}}", aks + "}")
    assert lb_annotations(values_by_cluster(fleet_from_text(member)), "analytics-westeurope") == {
        "service.beta.kubernetes.io/azure-load-balancer-internal": "true"
    }


def example_fleet_text() -> str:
    from tests.conftest import EXAMPLE

    return EXAMPLE.read_text()


def test_public_load_balancer_and_membership_are_per_cluster(example_text, cilium_values_schema):
    east = "network: {pods: 10.16.0.0/14, services: 10.100.0.0/16, nodes: 172.16.0.0/16, meshID: 1"
    text = example_text.replace(east + "}", east + ",\n              clustermesh: {loadBalancer: public}}")
    gpu_net = "network: {pods: 10.40.0.0/16, services: 10.111.0.0/20, nodes: 172.20.0.0/20, meshID: 20"
    text = text.replace(gpu_net + "}", gpu_net + ",\n              clustermesh: {member: false}}")
    values = values_by_cluster(fleet_from_text(text))
    assert lb_annotations(values, "prod-us-east-1") == {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"
    }
    gpu = values["gpu-inference-us-central1"]
    assert "clustermesh" not in gpu and gpu["gke"] == {"enabled": True}  # out of the mesh, Cilium kept
    assert all(
        p["name"] != "gpu-inference-us-central1" for p in values["prod-eu-west-1"]["clustermesh"]["config"]["clusters"]
    )
    for v in values.values():
        assert [e.message for e in cilium_values_schema.iter_errors(v)] == []


def test_ipv6_cluster_uses_the_ipv6_pool_and_511_mesh(cilium_values_schema):
    values = values_by_cluster(fleet_from_text(V6_FLEET))
    x = values["x"]
    assert x["ipam"]["operator"] == {"clusterPoolIPv6PodCIDRList": ["fd00:10::/56"], "clusterPoolIPv6MaskSize": 64}
    assert x["ipv6"] == {"enabled": True} and x["ipv4"] == {"enabled": False}
    assert x["cluster"]["id"] == 300 and x["clustermesh"]["maxConnectedClusters"] == 511
    assert [p["name"] for p in x["clustermesh"]["config"]["clusters"]] == ["y"]
    assert list(cilium_values_schema.iter_errors(x)) == []


def test_mesh_none_renders_nothing(example_text):
    fleet = fleet_from_text(example_text.replace("mesh: cilium", "mesh: none"))
    assert cilium.render(fleet) == []


def test_render_is_deterministic_and_independent_of_cluster_order(example_fleet, example_text):
    data = yaml.safe_load(example_text)
    data["clusters"].reverse()
    reordered = fleet_from_text(yaml.safe_dump(data, sort_keys=False))
    assert cilium.render(example_fleet) == cilium.render(example_fleet) == cilium.render(reordered)


def test_the_operator_removes_the_taint_the_gke_pools_carry(example_fleet):
    """cilium-operator removes the taint named agentNotReadyTaintKey; CAPG gives new GKE nodes the pool's taints."""
    key = values_by_cluster(example_fleet)["gpu-inference-us-central1"]["agentNotReadyTaintKey"]
    (file,) = [f for f in capi.render(example_fleet) if f.path == "hub/capi/gpu-inference-us-central1.yaml"]
    pool_taints = [
        t for d in file.documents if d["kind"] == "GCPManagedMachinePool" for t in d["spec"]["kubernetesTaints"]
    ]
    assert {"key": key, "value": "true", "effect": "NoExecute"} in pool_taints
