"""`# expect` fixtures of the addressing rules (node-mask, ip-family), merged into test_lint_rules.CASES.

Expected findings worked out from upstream source: kubeadm ``ValidatePodSubnetNodeMask`` (mask gap
> 16 bits, either family) and ``MinimumAddressesInPodSubnet`` (14); the IPv6 ``NewCIDRSet`` of
kube-controller-manager and Cilium (gap > 16 bits); CAPG v1.12 ``ClusterNetwork`` (IPv4 only).
"""

from __future__ import annotations

from functools import reduce
from pathlib import Path

BASE = (Path(__file__).parent / "fleets" / "base.yaml").read_text()
DOCKER = "pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}"


def _once(text: str, pair: tuple[str, str]) -> str:
    assert pair[0] in text, pair[0]
    return text.replace(*pair, 1)


def edit(*pairs: tuple[str, str]) -> str:
    """BASE with each (old, new) replaced once."""
    return reduce(_once, pairs, BASE)


CASES = {
    # 10.8.0.0/13 with /30 per node: 17 bits apart; kubeadm refuses (kube-controller-manager and
    # Cilium would accept it for IPv4).
    "node-mask-kubeadm-ipv4": edit(
        (DOCKER, "pods: 10.8.0.0/13, services: 10.102.0.0/16, meshID: 3, nodeMask: 30}  # expect[node-mask]: 30}"),
    ),
    "node-mask-kubeadm-ipv4-16-bits-ok": edit(
        (DOCKER, "pods: 10.8.0.0/14, services: 10.102.0.0/16, meshID: 3, nodeMask: 30}"),
    ),
    # The case: a /25 with nodeMask 27 is fine once the mask reaches kube-controller-manager.
    "node-mask-small-pod-cidr-ok": edit(
        (DOCKER, "pods: 10.2.0.0/25, services: 10.102.0.0/16, meshID: 3, nodeMask: 29}"),
    ),
    # A /29 has 8 addresses: kubeadm wants 14 (and 2 blocks of /30 cannot hold 10 nodes).
    "node-mask-too-few-addresses": edit(
        (DOCKER, "pods: 10.2.0.0/29, services: 10.102.0.0/16, meshID: 3, nodeMask: 30}  "
                 "# expect[node-mask]: 10.2.0.0/29  # expect[pod-cidr-capacity]: 10.2.0.0/29"),
    ),
    # IPv6 /40 with the default /64 per node: 24 bits apart (kubeadm, the node IPAM and Cilium refuse).
    "node-mask-ipv6-default": edit(
        (DOCKER, "pods: fd00:2::/40, services: fd00:102::/108, meshID: 3}  # expect[node-mask]: {pods"),
    ),
    "node-mask-ipv6-56": edit((DOCKER, "pods: fd00:2::/40, services: fd00:102::/108, meshID: 3, nodeMask: 56}")),
}
