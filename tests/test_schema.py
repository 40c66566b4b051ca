"""The fleet schema: what it accepts, what it rejects, and where and how it says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleetgen.load import load_text
from fleetgen.schema import schema_document, validate

from tests.conftest import lint_text

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "fleet.yaml").read_text()


def findings(text: str):
    doc, syntax = load_text(text, "fleet.yaml")
    assert not syntax
    return validate(doc)


def one(text: str):
    (finding,) = findings(text)
    return finding


def test_example_and_contract_example_are_valid():
    assert findings(EXAMPLE) == []
    assert findings((ROOT / "examples" / "fleet.yaml").read_text()) == []


def test_root_schema_is_the_shipped_schema():
    assert json.loads((ROOT / "schemas" / "fleet.schema.json").read_text()) == schema_document()
    assert schema_document()["$schema"].endswith("2020-12/schema") and schema_document()["$id"]


def test_unknown_field_did_you_mean_at_the_key():
    f = one(EXAMPLE.replace("  renderedDir: rendered", "  renderDir: rendered"))
    assert (f.line, f.column) == (11, 3) and "did you mean 'renderedDir'" in f.hint


def test_unsupported_api_version_names_supported():
    f = one(EXAMPLE.replace("apiVersion: fleetgen/v1alpha1", "apiVersion: fleetgen/v2"))
    assert "fleetgen/v1alpha1" in f.message and (f.line, f.column) == (4, 13)


@pytest.mark.parametrize(
    "old,new,words",
    [
        ("pods: 10.16.0.0/14", "pods: 10.16.0.1/14", "its host bits are set (the network is 10.16.0.0/14)"),
        ("pods: 10.16.0.0/14", "pods: 10.16.0.0/33", "valid CIDR network ('33' is not a valid netmask)"),
        ("pods: 10.16.0.0/14", "pods: 10.316.0.0/14", "valid CIDR network (Octet 316 (> 255) not permitted"),
        ("name: prod-us-east-1", "name: Prod_US", "DNS-1123"),
        ("name: prod-us-east-1", "name: ../etc", "DNS-1123"),
        ("server: https://4F2A9C1E.gr7.us-east-1.eks.amazonaws.com", "server: http://insecure.example.com", "https"),
        ('kubernetesVersion: "1.31"', "kubernetesVersion: latest", "MAJOR.MINOR"),
        ("renderedDir: rendered", "renderedDir: ../outside", "no '..'"),
        ("renderedDir: rendered", "renderedDir: /abs", "no '..'"),
    ],
)
def test_value_formats(old, new, words):
    f = one(EXAMPLE.replace(old, new, 1))
    assert f.rule == "schema" and (words in f.message or words in f.hint), f


def test_unquoted_version_is_explained():
    f = one(EXAMPLE.replace('kubernetesVersion: "1.30"', "kubernetesVersion: 1.30"))
    assert "must be a string" in f.message and "quote it" in f.hint and (f.line, f.column) == (25, 22)


def test_automatic_label_may_not_be_overridden():
    f = one(EXAMPLE.replace("labels: {tier: edge, site: store-042}", "labels: {tier: edge, region: x}"))
    assert "set automatically" in f.message and (f.line, f.column) == (138, 26)


def test_environment_must_be_declared():
    f = one(EXAMPLE.replace("environment: development", "environment: qa"))
    assert "not one of environments" in f.message


def test_missing_version_without_defaults():
    found = findings(EXAMPLE.replace('  kubernetesVersion: "1.30"\n', "", 1))
    assert len(found) == 4 and all("has no kubernetesVersion" in f.message for f in found)


def test_node_pool_min_above_max_is_a_lint_rule_not_a_schema_error():
    text = EXAMPLE.replace("min: 6, max: 40", "min: 41, max: 40")
    assert findings(text) == []
    (f,) = lint_text(text)
    assert f.rule == "pool-min-max" and f.message == "node pool 'general': min 41 is greater than max 40"


def test_workloads_need_karmada_server():
    text = EXAMPLE.replace(
        "  karmada:\n    server: https://karmada-apiserver.karmada-system.svc.cluster.local:5443\n", "  karmada:\n"
    )
    assert any("karmada" in f.message for f in findings(text))


def test_wrong_type_reports_every_place_once():
    text = EXAMPLE.replace("replicas: 60", "replicas: sixty")
    (f,) = findings(text)
    assert "integer" in f.message


def test_vsphere_cluster_needs_its_endpoint():
    text = EXAMPLE.replace(
        "    provider:\n      type: docker\n",
        "    provider: {type: vsphere, server: vc.example.com, datacenter: dc1, template: ubuntu}\n",
    )
    assert findings(text) == []
    (f,) = [f for f in lint_text(text) if f.rule == "vsphere-server"]  # and its thumbprint/placement warnings
    assert f.path == ("clusters", 7)
    assert f.message == "vSphere cluster 'dev-local' has no server"


def test_aks_system_pool_cannot_scale_to_zero():
    text = EXAMPLE.replace("Standard_D8s_v5, min: 2, max: 12", "Standard_D8s_v5, min: 0, max: 12")
    assert findings(text) == []
    (f,) = lint_text(text)
    assert f.rule == "aks-system-pool" and f.path == ("clusters", 5, "nodePools", 0, "min")


def test_node_network_is_ipv4():
    f = one(EXAMPLE.replace("nodes: 172.16.0.0/16", 'nodes: "fd00:16::/48"'))
    assert f.path == ("clusters", 0, "network", "nodes")


def test_node_pool_needs_its_prefix():
    text = EXAMPLE.replace(", nodes: 172.16.0.0/12, nodePrefix: 16}", ", nodes: 172.16.0.0/12}")
    assert text != EXAMPLE and "nodePrefix" in one(text).message


def test_every_kubernetes_version_pattern_is_the_one_the_commands_use():
    from fleetgen import versions

    def patterns(node):
        if isinstance(node, dict):
            if isinstance(node.get("kubernetesVersion"), dict):
                yield node["kubernetesVersion"]["pattern"]
            for value in node.values():
                yield from patterns(value)
        elif isinstance(node, list):
            for value in node:
                yield from patterns(value)

    found = list(patterns(schema_document()))
    assert len(found) == 2 and set(found) == {versions.PATTERN}  # defaults and clusters[]
    assert [versions.is_version(v) for v in ("1.30", "v1.30.2", "1.3O", "1", "1.30.2.1")] == [
        True,
        True,
        False,
        False,
        False,
    ]
