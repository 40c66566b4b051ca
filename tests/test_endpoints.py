"""The address templates fleet.yaml may set for Thanos sidecars and ClusterMesh peers."""

from __future__ import annotations

from fleetgen.load import load_text
from fleetgen.render import cilium, observability
from fleetgen.schema import validate

from .conftest import fleet_from_text


def test_templates_reach_the_querier_and_the_mesh(example_text):
    text = example_text.replace(
        "  maxConnectedClusters: 255\n",
        "  maxConnectedClusters: 255\n  clustermeshEndpoint: mesh-{cluster}.{fleet}.example.net\n",
    )
    text = text.replace(
        "    objectStorageSecret: thanos-objstore\n",
        '    objectStorageSecret: thanos-objstore\n    sidecarEndpoint: "{cluster}-sidecar.example.net:443"\n',
    )
    fleet = fleet_from_text(text)
    assert "dns+prod-us-east-1-sidecar.example.net:443" in observability.sidecar_endpoints(fleet)
    (values,) = [f for f in cilium.render(fleet) if f.path == "clusters/prod-us-east-1/cilium/values.yaml"]
    peers = values.documents[0]["clustermesh"]["config"]["clusters"]
    assert {
        "name": "prod-eu-west-1",
        "address": "mesh-prod-eu-west-1.example-platform.example.net",
        "port": 2379,
    } in peers


def test_templates_must_name_the_cluster_and_nothing_else(example_text):
    for bad in ("static.example.net:443", "{cluster}.{0}.example.net:443", "{cluster}.example.net"):
        text = example_text.replace(
            "    objectStorageSecret: thanos-objstore\n",
            f'    objectStorageSecret: thanos-objstore\n    sidecarEndpoint: "{bad}"\n',
        )
        doc, _ = load_text(text, "fleet.yaml")
        assert [f.path for f in validate(doc)] == [("observability", "thanos", "sidecarEndpoint")], bad
