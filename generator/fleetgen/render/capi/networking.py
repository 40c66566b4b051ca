"""kube-controller-manager's node IPAM on kubeadm clusters (vSphere, Docker): the per-node pod CIDR size.

Cluster API's kubeadm bootstrap provider copies ``Cluster.spec.clusterNetwork.pods.cidrBlocks``
(joined with ``,``) into kubeadm's ``ClusterConfiguration.networking.podSubnet``
(CAPI v1.14 ``bootstrap/kubeadm/reconcilers/kubeadmconfig/kubeadmconfig_controller.go``
``computeClusterConfigurationAndAdditionalData``). kubeadm then starts kube-controller-manager with
``--allocate-node-cidrs=true --cluster-cidr=<podSubnet>`` and, before it does anything, validates
the pod subnet against the node mask it finds in ``controllerManager.extraArgs``:
``node-cidr-mask-size-ipv4`` for an IPv4 subnet, ``node-cidr-mask-size-ipv6`` for IPv6, 24 and 64
when absent (kubernetes ``cmd/kubeadm/app/apis/kubeadm/validation/validation.go``
``ValidatePodSubnetNodeMask``/``getClusterNodeMask``). So ``network.nodeMask`` goes there, under the
family's own flag name (the family-less ``node-cidr-mask-size`` is not what kubeadm validates, and
kube-controller-manager refuses it on dual-stack clusters: ``cmd/kube-controller-manager/app``
``setNodeCIDRMaskSizes``). The extraArgs list is CAPI v1beta2's ``[{name, value}]`` with unique names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model import Cluster

Doc = dict[str, Any]


def node_mask_arg(cluster: Cluster) -> dict[str, str]:
    """``node-cidr-mask-size-ipv4`` or ``-ipv6`` (the pod CIDR's family) = ``network.nodeMask``."""
    return {"name": f"node-cidr-mask-size-ipv{cluster.network.pods.version}", "value": str(cluster.network.node_mask)}


def cluster_configuration(cluster: Cluster, base: Mapping[str, Any]) -> Doc:
    """The provider's ClusterConfiguration with the node mask among kube-controller-manager's extraArgs."""
    manager = dict(base.get("controllerManager") or {})
    args = [*manager.get("extraArgs", ()), node_mask_arg(cluster)]
    manager["extraArgs"] = sorted(args, key=lambda arg: arg["name"])
    return {**base, "controllerManager": manager}
