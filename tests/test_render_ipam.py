"""nodeMask reaches the controllers that read it, with values worked out from upstream source.

kubeadm (kubernetes ``cmd/kubeadm/app/apis/kubeadm/validation/validation.go``) validates
``networking.podSubnet`` (CAPI copies ``Cluster.spec.clusterNetwork.pods``) against
``controllerManager.extraArgs`` ``node-cidr-mask-size-ipv4``/``-ipv6`` (default 24/64): the pod
prefix may not be longer than the node mask, nor more than 16 bits shorter. Cilium's cluster-pool
takes ``ipam.operator.clusterPoolIPv{4,6}MaskSize``.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fleetgen.lint.addressing import CLUSTER_POOL_PROVIDERS, KUBEADM_PROVIDERS
from fleetgen.render import capi, cilium

from tests.conftest import fleet_from_text

FLEET = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: onprem
repo: {url: "https://github.com/example/cfg"}
hub: {name: hub}
defaults: {kubernetesVersion: "1.31", environment: production, region: dc1}
clusters:
  - name: vs-small
    server: https://vip.dc1.example.com:6443
    provider: {type: vsphere, server: vcenter.example.com, datacenter: DC1, template: ubuntu-2404-kube-v1.31.0}
    network: {pods: 10.60.0.0/25, services: 10.61.0.0/24, nodeMask: 27, meshID: 1}
    nodePools: [{name: workers, instanceType: 4x16, min: 1, max: 3}]
  - name: kind-default
    provider: {type: docker}
    network: {pods: 10.250.0.0/16, services: 10.251.0.0/20, meshID: 2}
    nodePools: [{name: workers, instanceType: docker, min: 1, max: 3}]
  - name: aks-a
    provider: {type: azure, subscriptionID: 6F1C2D3E-0000-4000-8000-1234567890AB, resourceGroup: rg-a}
    network: {pods: 10.44.0.0/16, services: 10.45.0.0/20, nodeMask: 26, meshID: 3}
    nodePools: [{name: system, instanceType: Standard_D4s_v5, min: 1, max: 3}]
"""


@pytest.fixture(scope="module")
def fleet():
    return fleet_from_text(FLEET)


def control_plane(fleet, name: str) -> dict:
    (file,) = [f for f in capi.render(fleet) if f.path == f"hub/capi/{name}.yaml"]
    (kcp,) = [d for d in file.documents if d["kind"] == "KubeadmControlPlane"]
    return kcp


def test_vsphere_controller_manager_gets_the_node_mask(fleet, upstream):
    kcp = control_plane(fleet, "vs-small")
    manager = kcp["spec"]["kubeadmConfigSpec"]["clusterConfiguration"]["controllerManager"]
    # /25 with the default /24 would fail kubeadm ("the size of pod subnet with mask 25 is smaller than the
    # size of node subnet with mask 24"); with /27 it holds 4 nodes of 32 addresses.
    assert manager == {
        "extraArgs": [
            {"name": "cloud-provider", "value": "external"},
            {"name": "node-cidr-mask-size-ipv4", "value": "27"},
        ]
    }
    assert upstream(kcp) == []


def test_docker_controller_manager_gets_the_default_mask(fleet, upstream):
    kcp = control_plane(fleet, "kind-default")
    config = kcp["spec"]["kubeadmConfigSpec"]["clusterConfiguration"]
    assert config["controllerManager"] == {"extraArgs": [{"name": "node-cidr-mask-size-ipv4", "value": "24"}]}
    assert config["apiServer"]["certSANs"][0] == "localhost"  # the provider's own settings stay
    assert upstream(kcp) == []


def test_ipv6_pod_cidr_uses_the_ipv6_flag():
    text = FLEET.replace(
        "pods: 10.250.0.0/16, services: 10.251.0.0/20",
        'pods: "fd00:250::/56", services: "fd00:251::/112", nodeMask: 64',
    )
    kcp = control_plane(fleet_from_text(text), "kind-default")
    manager = kcp["spec"]["kubeadmConfigSpec"]["clusterConfiguration"]["controllerManager"]
    assert manager == {"extraArgs": [{"name": "node-cidr-mask-size-ipv6", "value": "64"}]}


def test_cilium_cluster_pool_gets_the_node_mask(fleet):
    values = {f.path.split("/")[1]: f.documents[0] for f in cilium.render(fleet)}
    assert values["aks-a"]["ipam"] == {
        "mode": "cluster-pool",
        "operator": {"clusterPoolIPv4PodCIDRList": ["10.44.0.0/16"], "clusterPoolIPv4MaskSize": 26},
    }
    assert values["vs-small"]["ipam"]["operator"]["clusterPoolIPv4MaskSize"] == 27


def test_lint_knows_which_providers_run_cluster_pool_and_kubeadm(fleet):
    """The lint constants (lint may not import renderers) agree with what the renderers do."""
    base = fleet.clusters[0]
    for provider in ("aws", "gcp", "azure", "vsphere", "docker", "imported"):
        pools = tuple(replace(p, instance_type="4x16") for p in base.node_pools) if provider == "vsphere" else None
        cluster = type(base)(
            **{**base.__dict__, "provider": type(base.provider)(type=provider), "node_pools": pools or base.node_pools}
        )
        mode = cilium.datapath(cluster)["ipam"]["mode"]
        assert (mode == "cluster-pool") == (provider in CLUSTER_POOL_PROVIDERS), provider
        documents = capi.cluster_documents(cluster, "cilium", "baseline") if provider != "imported" else []
        kinds = {d["kind"] for d in documents}
        assert ("KubeadmControlPlane" in kinds) == (provider in KUBEADM_PROVIDERS), provider
