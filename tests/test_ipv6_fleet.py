"""An IPv6 fleet of EKS and GKE clusters, with every expected field worked out by hand from upstream source.

- CAPA v2.11.1: ``api/v1beta2/network_types.go`` ``IsIPv6Enabled`` is ``vpc.ipv6 != nil``;
  ``pkg/cloud/services/network/vpc.go`` asks for an Amazon-provided IPv6 block when ``ipv6`` names no
  CIDR or pool; ``pkg/cloud/services/eks/cluster.go`` then creates the cluster with ``ipFamily: ipv6``
  (and sends no service CIDR); ``controlplane/eks/webhooks/awsmanagedcontrolplane_webhook.go`` requires
  named add-ons with ``vpc-cni`` >= 1.10.2 for IPv6, forbids ``vpcCni.disable`` next to a ``vpc-cni``
  add-on, and refuses a changed family.
- CAPG v1.12.0: ``exp/api/v1beta1/gcpmanagedcontrolplane_types.go`` ``ClusterNetwork`` and
  ``cloud/services/container/clusters/reconcile.go`` (``ClusterIpv4CidrBlock``, ``ServicesIpv4CidrBlock``):
  IPv4 only.
- Cilium: the ENI IPAM it runs on EKS "is currently only enabled for IPv4" (Cilium's EKS docs).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from fleetgen.importer.read import read_inputs
from fleetgen.main import cli

from .lintcase import actual, expected

FLEET = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: six
repo: {url: "https://github.com/example/cfg"}
hub: {name: hub}
network: {mesh: MESH}
defaults:
  environment: production
  nodePools: [{name: general, instanceType: m7i.large, min: 1, max: 4}]
clusters:
  - name: eks-v6
    region: us-east-1
    kubernetesVersion: "1.31"
    provider: {type: aws, accountID: "111111111111", roleARN: "arn:aws:iam::111111111111:role/argocd", CNI}
    network: {pods: "fd00:10::/56", services: "fd00:20::/108", nodes: 10.10.0.0/16MESHID1}
  - name: gke-a
    region: europe-west1
    kubernetesVersion: "1.31.4"
    provider: {type: gcp, project: six-prod}
    network: GKE_NETWORK
"""
CNI = "vpcCniVersion: v1.19.2-eksbuild.1"
GKE_V4 = "{pods: 10.40.0.0/16, services: 10.41.0.0/20, nodes: 10.42.0.0/20MESHID2}"
GKE_V6 = '{pods: "fd00:40::/56", services: "fd00:41::/108"MESHID2}  # expect[ip-family]: "fd00:40'


def fleet(mesh: str = "none", gke: str = GKE_V4, cni: str = CNI) -> str:
    ids = {"MESHID1": ", meshID: 1", "MESHID2": ", meshID: 2"} if mesh == "cilium" else {"MESHID1": "", "MESHID2": ""}
    text = FLEET.replace("MESH", mesh, 1).replace("GKE_NETWORK", gke).replace(", CNI", f", {cni}" if cni else "")
    for key, value in ids.items():
        text = text.replace(key, value)
    return text


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def lint_case(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    assert actual(path) == expected(text)


def test_gke_cannot_be_ipv6(tmp_path):
    lint_case(tmp_path, fleet(gke=GKE_V6))


def marked(text: str, needle: str, marker: str) -> str:
    """``text`` with ``marker`` appended to the line holding ``needle``."""
    line = next(ln for ln in text.splitlines() if needle in ln)
    return text.replace(line, f"{line}  {marker}")


def test_eks_ipv6_cannot_run_cilium_eni(tmp_path):
    lint_case(tmp_path, marked(fleet(mesh="cilium"), "fd00:10::/56", '# expect[ip-family]: "fd00:10::/56"'))


def test_eks_ipv6_needs_the_vpc_cni_addon(tmp_path):
    lint_case(tmp_path, marked(fleet(cni=""), "type: aws", "# expect[ip-family]: {type: aws"))


def rendered_tree(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet())
    result = run("render", str(path))
    assert result.exit_code == 0, result.output
    return tmp_path / "rendered"


def documents(out: Path, cluster: str) -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all((out / "hub" / "capi" / f"{cluster}.yaml").read_text())}


def test_eks_ipv6_control_plane_by_hand(tmp_path):
    out = rendered_tree(tmp_path)
    eks = documents(out, "eks-v6")
    spec = eks["AWSManagedControlPlane"]["spec"]
    # IsIPv6Enabled: ipv6 present; no cidrBlock/poolId/ipamPool → AmazonProvidedIpv6CidrBlock (a /56).
    assert spec["network"] == {"vpc": {"cidrBlock": "10.10.0.0/16", "ipv6": {}}}
    # validateEKSAddons: addons named, vpc-cni 1.19.2 >= 1.10.2; validateDisableVPCCNI: no vpcCni.disable.
    assert spec["addons"] == [{"name": "vpc-cni", "version": "v1.19.2-eksbuild.1"}]
    assert "vpcCni" not in spec
    assert spec["version"] == "v1.31"  # >= minKubeVersionForIPv6 v1.21.0
    network = eks["Cluster"]["spec"]["clusterNetwork"]
    assert network == {"pods": {"cidrBlocks": ["fd00:10::/56"]}, "services": {"cidrBlocks": ["fd00:20::/108"]}}
    assert not (out / "clusters" / "eks-v6" / "cilium").exists()  # mesh none: no Cilium values


def test_gke_ipv4_neighbour_keeps_its_ranges(tmp_path):
    gke = documents(rendered_tree(tmp_path), "gke-a")["GCPManagedControlPlane"]["spec"]
    assert gke["clusterNetwork"] == {
        "useIPAliases": True,
        "pod": {"cidrBlock": "10.40.0.0/16"},
        "service": {"cidrBlock": "10.41.0.0/20"},
    }


def test_ipv6_tree_validates_strictly(tmp_path):
    out = rendered_tree(tmp_path)
    result = run("validate-rendered", str(out))
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


def test_family_is_recorded_and_immutable(tmp_path):
    out = rendered_tree(tmp_path)
    assert json.loads((out / ".fleetgen.lock").read_text())["installed"]["ipFamilies"] == {
        "eks-v6": "ipv6",
        "gke-a": "ipv4",
    }
    text = fleet().replace(
        'pods: "fd00:10::/56", services: "fd00:20::/108"', "pods: 10.60.0.0/16, services: 10.61.0.0/20"
    )
    lint_case(tmp_path, marked(text, "10.60.0.0/16", "# expect[immutable-setting]: 10.60.0.0/16"))


def test_dual_stack_is_refused_with_a_clear_hint(tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(fleet().replace('pods: "fd00:10::/56"', 'pods: "10.10.128.0/17,fd00:10::/56"'))
    body = json.loads(run("lint", str(path), "--format", "json").output)
    (finding,) = body["findings"]
    assert finding["rule"] == "schema" and "dual-stack cannot be written" in finding["hint"]


def test_import_of_the_rendered_tree_gives_the_ipv6_eks_cluster_back(tmp_path):
    out = rendered_tree(tmp_path)
    found = read_inputs([out])
    eks = found.clusters["eks-v6"]
    assert eks["provider"]["vpcCniVersion"] == "v1.19.2-eksbuild.1"
    assert eks["network"]["pods"] == "fd00:10::/56" and eks["network"]["nodes"] == "10.10.0.0/16"
