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
GKE = "pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2}"
EKS_NET = "pods: 10.0.0.0/16, services: 10.100.0.0/16, meshID: 1, nodes: 172.16.0.0/16}"
EKS_PROVIDER = 'provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}'


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
        (
            DOCKER,
            "pods: 10.2.0.0/29, services: 10.102.0.0/16, meshID: 3, nodeMask: 30}  "
            "# expect[node-mask]: 10.2.0.0/29  # expect[pod-cidr-capacity]: 10.2.0.0/29",
        ),
    ),
    # IPv6 /40 with the default /64 per node: 24 bits apart (kubeadm, the node IPAM and Cilium refuse).
    "node-mask-ipv6-default": edit(
        (
            DOCKER,
            "pods: fd00:2::/40, services: fd00:102::/108, meshID: 3}  # expect[node-mask]: {pods  "
            "# expect[ip-family]: fd00:2::/40",
        ),
    ),
    "node-mask-ipv6-56": edit(
        (DOCKER, "pods: fd00:2::/40, services: fd00:102::/108, meshID: 3, nodeMask: 56}  # expect[ip-family]: fd00"),
    ),
    # An external docker cluster: fleetgen renders no kubeadm config, but Cilium's cluster-pool still refuses.
    "node-mask-ipv6-cilium-only": edit(
        (
            DOCKER,
            "pods: fd00:2::/40, services: fd00:102::/108, meshID: 3}  # expect[node-mask]: {pods\n"
            "    lifecycle: external",
        ),
    ),
    # One family per cluster.
    "ip-family-mixed": edit(
        (DOCKER, "pods: 10.2.0.0/16, services: fd00:102::/108, meshID: 3}  # expect[ip-family]: fd00:102::/108"),
    ),
    # CAPG v1.12 has IPv4 ranges only.
    "ip-family-gke": edit(
        (GKE, 'pods: "fd00:1::/56", services: "fd00:101::/108", meshID: 2}  # expect[ip-family]: "fd00:1::/56"'),
    ),
    # Cilium's ENI IPAM is IPv4-only.
    "ip-family-eks-cilium": edit(
        (
            EKS_NET,
            'pods: "fd00::/56", services: "fd00:100::/108", meshID: 1, nodes: 172.16.0.0/16}  '
            '# expect[ip-family]: "fd00::/56"',
        ),
        (EKS_PROVIDER, EKS_PROVIDER.replace("}", ", vpcCniVersion: v1.19.2-eksbuild.1}")),
    ),
    # Without Cilium, IPv6 EKS works once the vpc-cni add-on is named (CAPA webhook validateEKSAddons).
    "ip-family-eks-ok": edit(
        ("defaults:", "network: {mesh: none}\ndefaults:"),
        (EKS_NET, 'pods: "fd00::/56", services: "fd00:100::/108", nodes: 172.16.0.0/16}'),
        (EKS_PROVIDER, EKS_PROVIDER.replace("}", ", vpcCniVersion: v1.19.2-eksbuild.1}")),
    ),
    "ip-family-eks-no-addon": edit(
        ("defaults:", "network: {mesh: none}\ndefaults:"),
        (EKS_NET, 'pods: "fd00::/56", services: "fd00:100::/108", nodes: 172.16.0.0/16}'),
        (EKS_PROVIDER, EKS_PROVIDER + "  # expect[ip-family]: {type: aws"),
    ),
    "ip-family-eks-old-addon": edit(
        ("defaults:", "network: {mesh: none}\ndefaults:"),
        (EKS_NET, 'pods: "fd00::/56", services: "fd00:100::/108", nodes: 172.16.0.0/16}'),
        (EKS_PROVIDER, EKS_PROVIDER.replace("}", ", vpcCniVersion: v1.9.3-eksbuild.1}  # expect[ip-family]: v1.9")),
    ),
    # IPv6 pod CIDRs are swept like IPv4 ones (an external docker and an imported cluster: no provider limits).
    "cidr-overlap-ipv6": edit(
        (DOCKER, 'pods: "fd00:2::/56", services: "fd00:102::/108", meshID: 3}\n    lifecycle: external'),
        (
            "applicationSets:",
            "  - name: edge-v6\n    environment: staging\n    region: us-east-1\n"
            '    kubernetesVersion: "1.31"\n    provider: {type: imported}\n'
            '    network: {pods: "fd00:2:0:80::/57", services: "fd00:103::/108", meshID: 4}  '
            '# expect[cidr-overlap]: "fd00:2:0:80\napplicationSets:',
        ),
    ),
    # kubeadm's dual-stack spelling is no CIDR: the schema's hint says dual-stack cannot be written.
    "dual-stack-refused": edit(
        (DOCKER, 'pods: "10.2.0.0/16,fd00:2::/56", services: 10.102.0.0/16, meshID: 3}  # expect[schema]: "10.2'),
    ),
}
