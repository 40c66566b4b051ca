"""Cilium render target: chart-valid values giving each mesh cluster its id, its peers and its pod CIDR."""

from __future__ import annotations

import yaml

from generator.render import cilium
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
  - {name: x, network: {pods: "fd00:10::/56", services: "fd00:20::/112", nodeMask: 64, meshID: 300}}
  - {name: y, network: {pods: 10.8.0.0/16, services: 10.9.0.0/20, meshID: 7}}
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


def test_peers_are_every_other_mesh_cluster(example_fleet):
    values = values_by_cluster(example_fleet)
    everyone = sorted(values)
    for name, v in values.items():
        mesh = v["clustermesh"]
        assert mesh["useAPIServer"] is True
        assert mesh["config"]["enabled"] is True
        assert mesh["maxConnectedClusters"] == 255
        peers = mesh["config"]["clusters"]
        assert [p["name"] for p in peers] == [c for c in everyone if c != name]
        for p in peers:
            assert p["address"] == f"{p['name']}.clustermesh.example-platform.internal"
            assert p["port"] == 2379
            assert "tls" not in p


def test_ipam_hands_out_the_cluster_pod_cidr_at_the_node_mask(example_fleet):
    values = values_by_cluster(example_fleet)
    v = values["prod-us-east-1"]
    assert v["ipam"] == {"mode": "cluster-pool", "operator": {
        "clusterPoolIPv4PodCIDRList": ["10.16.0.0/14"], "clusterPoolIPv4MaskSize": 24}}
    assert v["ipv4"] == {"enabled": True} and v["ipv6"] == {"enabled": False}


def test_ipv6_cluster_uses_the_ipv6_pool_and_511_mesh(cilium_values_schema):
    values = values_by_cluster(fleet_from_text(V6_FLEET))
    x = values["x"]
    assert x["ipam"]["operator"] == {
        "clusterPoolIPv6PodCIDRList": ["fd00:10::/56"], "clusterPoolIPv6MaskSize": 64}
    assert x["ipv6"] == {"enabled": True} and x["ipv4"] == {"enabled": False}
    assert x["cluster"]["id"] == 300 and x["clustermesh"]["maxConnectedClusters"] == 511
    assert [p["name"] for p in x["clustermesh"]["config"]["clusters"]] == ["y"]
    assert list(cilium_values_schema.iter_errors(x)) == []


def test_other_meshes_render_nothing(example_text):
    for mesh in ("submariner", "none"):
        fleet = fleet_from_text(example_text.replace("mesh: cilium", f"mesh: {mesh}"))
        assert cilium.render(fleet) == []


def test_render_is_deterministic_and_independent_of_cluster_order(example_fleet, example_text):
    data = yaml.safe_load(example_text)
    data["clusters"].reverse()
    reordered = fleet_from_text(yaml.safe_dump(data, sort_keys=False))
    assert cilium.render(example_fleet) == cilium.render(example_fleet) == cilium.render(reordered)
