"""Provider identities, node networks and access settings, against values worked out from the provider source."""

from __future__ import annotations

import ipaddress

import pytest
from fleetgen.render import capi, projects
from fleetgen.render.capi.azure import dns_service_ip

from tests.conftest import fleet_from_text

FLEET = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: providers
repo:
  url: https://github.com/example/platform
hub: {name: hub}
network: {mesh: MESH}
defaults:
  kubernetesVersion: "1.30.4"
  nodePools: [{name: general, instanceType: m6i.xlarge, min: 2, max: 6}]
clusters:
  - name: eks-b
    environment: production
    region: us-east-1
    provider: {type: aws, accountID: "111111111111", roleARN: "arn:aws:iam::111111111111:role/argocd"}
    network: {pods: 10.16.0.0/16, services: 10.100.0.0/16, nodes: 172.16.0.0/16, meshID: 1}
  - name: eks-a
    environment: production
    region: us-west-2
    provider: {type: aws, accountID: "111111111111", roleARN: "arn:aws:iam::111111111111:role/argocd"}
    network: {pods: 10.17.0.0/16, services: 10.101.0.0/16, meshID: 2}
  - name: eks-cn
    environment: production
    region: cn-north-1
    provider: {type: aws, accountID: "222222222222", roleARN: "arn:aws-cn:iam::222222222222:role/argocd"}
    network: {pods: 10.18.0.0/16, services: 10.102.0.0/16, nodes: 172.18.0.0/16, meshID: 3}
  - name: gke-a
    environment: production
    region: europe-west1
    provider: {type: gcp, project: ml-prod}
    network: {pods: 10.40.0.0/16, services: 10.111.0.0/20, nodes: 172.20.0.0/20, meshID: 4}
  - name: aks-a
    environment: production
    region: westeurope
    provider: {type: azure, subscriptionID: 6F1C2D3E-0000-4000-8000-1234567890AB, resourceGroup: rg-a}
    network: {pods: 10.44.0.0/16, services: 10.0.0.16/28, nodes: 172.21.0.0/16, meshID: 5}
"""


def render(mesh: str = "cilium") -> dict:
    return {f.path: f.documents for f in capi.render(fleet_from_text(FLEET.replace("MESH", mesh)))}


def one(documents, kind: str) -> dict:
    (found,) = [d for d in documents if d["kind"] == kind]
    return found


@pytest.fixture(scope="module")
def files():
    return render()


def test_everything_passes_the_upstream_schemas(files, upstream):
    for path, documents in files.items():
        for doc in documents:
            assert upstream(doc) == [], (path, doc["kind"])


def test_one_role_identity_per_account_allowing_only_its_clusters(files):
    role = "controllers.cluster-api-provider-aws.sigs.k8s.io"  # clusterawsadm's "controllers" + name suffix
    assert list(files["hub/capi-identities/aws.yaml"]) == [
        {
            "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta2",
            "kind": "AWSClusterRoleIdentity",
            "metadata": {"name": "aws-111111111111"},
            "spec": {
                "allowedNamespaces": {"list": ["eks-a", "eks-b"]},
                "roleARN": f"arn:aws:iam::111111111111:role/{role}",
                "sourceIdentityRef": {"kind": "AWSClusterControllerIdentity", "name": "default"},
            },
        },
        {
            "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta2",
            "kind": "AWSClusterRoleIdentity",
            "metadata": {"name": "aws-222222222222"},
            "spec": {
                "allowedNamespaces": {"list": ["eks-cn"]},
                "roleARN": f"arn:aws-cn:iam::222222222222:role/{role}",
                "sourceIdentityRef": {"kind": "AWSClusterControllerIdentity", "name": "default"},
            },
        },
    ]
    cp = one(files["hub/capi/eks-cn.yaml"], "AWSManagedControlPlane")["spec"]
    assert cp["identityRef"] == {"kind": "AWSClusterRoleIdentity", "name": "aws-222222222222"}
    assert cp["accessEntries"][0]["principalARN"] == "arn:aws-cn:iam::222222222222:role/argocd"


def test_eks_vpc_from_network_nodes_and_none_without(files):
    assert one(files["hub/capi/eks-b.yaml"], "AWSManagedControlPlane")["spec"]["network"] == {
        "vpc": {"cidrBlock": "172.16.0.0/16"}
    }
    assert "network" not in one(files["hub/capi/eks-a.yaml"], "AWSManagedControlPlane")["spec"]


def test_vpc_cni_stays_without_cilium():
    spec = one(render("none")["hub/capi/eks-b.yaml"], "AWSManagedControlPlane")["spec"]
    assert "vpcCni" not in spec and spec["accessConfig"] == {"authenticationMode": "api_and_config_map"}


def test_gke_custom_mode_vpc_with_the_node_subnet(files):
    assert one(files["hub/capi/gke-a.yaml"], "GCPManagedCluster")["spec"]["network"] == {
        "name": "gke-a",
        "autoCreateSubnetworks": False,
        "subnets": [{"name": "gke-a", "cidrBlock": "172.20.0.0/20", "region": "europe-west1"}],
    }
    assert one(files["hub/capi/gke-a.yaml"], "GCPManagedControlPlane")["spec"]["version"] == "1.30.4"


@pytest.mark.parametrize(
    "region, low, high, replicas",
    [
        ("europe-west1", 2, 6, 3),  # regional: min raised to the next multiple of the 3 zones
        ("europe-west1", 0, 8, 0),
        ("europe-west1", 6, 6, 6),  # fixed: rendered as ever, a multiple of 3 (lint gke-regional-pool)
        ("europe-west1-b", 2, 6, None),  # a zone: CAPI's webhook defaults replicas to the min, as for every pool
        ("europe-west1-b", 2, 2, 2),
    ],
)
def test_a_regional_gke_pool_is_created_with_a_multiple_of_its_zones(region, low, high, replicas):
    """CAPG's preflight (shared.ManagedMachinePoolPreflightCheck) refuses a regional pool whose replicas is not a
    multiple of 3, and with it the whole cluster: the MachinePool carries one instead of the webhook's default."""
    text = FLEET.replace("MESH", "cilium").replace("    region: europe-west1\n", f"    region: {region}\n")
    text = text.replace("min: 2, max: 6", f"min: {low}, max: {high}")
    documents = {f.path: f.documents for f in capi.render(fleet_from_text(text))}["hub/capi/gke-a.yaml"]
    assert one(documents, "MachinePool")["spec"].get("replicas") == replicas
    assert one(documents, "GCPManagedMachinePool")["spec"]["scaling"] == {"minCount": low, "maxCount": high}


def test_aks_vnet_node_subnet_and_credentials_per_subscription(files):
    documents = files["hub/capi/aks-a.yaml"]
    credential = {"serviceoperator.azure.com/credential-from": "aso-credential-6f1c2d3e-0000-4000-8000-1234567890ab"}
    group, vnet, subnet = one(documents, "AzureASOManagedCluster")["spec"]["resources"]
    assert group["metadata"] == {"name": "aks-a", "annotations": credential}
    assert vnet == {
        "apiVersion": "network.azure.com/v1api20201101",
        "kind": "VirtualNetwork",
        "metadata": {"name": "aks-a", "annotations": credential},
        "spec": {
            "addressSpace": {"addressPrefixes": ["172.21.0.0/16"]},
            "location": "westeurope",
            "owner": {"name": "aks-a"},
        },
    }
    assert subnet == {
        "apiVersion": "network.azure.com/v1api20201101",
        "kind": "VirtualNetworksSubnet",
        "metadata": {"name": "aks-a-nodes", "annotations": credential},
        "spec": {"addressPrefix": "172.21.0.0/16", "owner": {"name": "aks-a"}},
    }
    (pool,) = one(documents, "AzureASOManagedMachinePool")["spec"]["resources"]
    assert pool["metadata"]["annotations"] == credential
    assert pool["spec"]["vnetSubnetReference"] == {
        "group": "network.azure.com",
        "kind": "VirtualNetworksSubnet",
        "name": "aks-a-nodes",
    }
    (managed,) = one(documents, "AzureASOManagedControlPlane")["spec"]["resources"]
    # 10.0.0.16/28 + 10 = 10.0.0.26; CAPZ's own "last octet .10" would give 10.0.0.10, outside the range.
    assert managed["spec"]["networkProfile"]["dnsServiceIP"] == "10.0.0.26"


@pytest.mark.parametrize(
    ("services", "dns"),
    [("10.112.0.0/20", "10.112.0.10"), ("10.0.0.16/28", "10.0.0.26"), ("fd00:10::/108", "fd00:10::a")],
)
def test_dns_service_ip_is_the_tenth_address(services, dns):
    assert dns_service_ip(ipaddress.ip_network(services)) == dns


def test_no_machine_health_checks_on_managed_clusters(files):
    kinds = {d["kind"] for documents in files.values() for d in documents}
    assert "MachineHealthCheck" not in kinds


def _identity_entries(fleet) -> list[dict[str, str]]:
    whitelist = projects.platform_project(fleet)["spec"]["clusterResourceWhitelist"]
    return [e for e in whitelist if e["kind"] == "AWSClusterRoleIdentity"]


def test_platform_project_may_sync_the_role_identities():
    group = "infrastructure.cluster.x-k8s.io"
    fleet = fleet_from_text(FLEET.replace("MESH", "cilium"))
    # one named entry per account (Argo CD >= 3.0 matches clusterResourceWhitelist[].name)
    assert _identity_entries(fleet) == [
        {"group": group, "kind": "AWSClusterRoleIdentity", "name": "aws-111111111111"},
        {"group": group, "kind": "AWSClusterRoleIdentity", "name": "aws-222222222222"},
    ]
    without_aws = (
        FLEET.replace("MESH", "cilium").split("  - name: eks-b")[0]
        + "  - name: gke-a"
        + (FLEET.split("  - name: gke-a")[1])
    )
    fleet = fleet_from_text(without_aws)
    assert _identity_entries(fleet) == []
    assert not [f for f in capi.render(fleet) if f.path == capi.IDENTITIES]


def test_a_suppressed_gke_regional_pool_finding_stops_the_render_with_a_message(tmp_path):
    """Suppressions apply to errors too; the renderer then refuses that pool in words, never with a traceback."""
    from click.testing import CliRunner
    from fleetgen.main import cli

    text = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: one
repo: {url: https://github.com/example/platform}
hub: {name: hub}
clusters:
  - name: gke-a
    environment: production
    region: europe-west1
    kubernetesVersion: "1.30.4"
    provider: {type: gcp, project: ml-prod}
    network: {pods: 10.40.0.0/16, services: 10.111.0.0/20, nodes: 172.20.0.0/20, meshID: 4}
    nodePools:
      - {name: general, instanceType: e2-standard-4, min: 1, max: 2}  # fleetgen: ignore[gke-regional-pool]
"""
    (tmp_path / "fleet.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["render", str(tmp_path / "fleet.yaml")])
    assert result.exit_code == 2, result.output
    assert "cannot render GKE pool 'general' of gke-a" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "rendered").exists()
