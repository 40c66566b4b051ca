"""Lint fixtures for the kubeadm rules (vSphere, Docker), merged into test_lint_rules.CASES.

The vSphere cluster below is clean: a kube-vip address with the API server's port, a thumbprint,
a datastore and a resource pool, a parsable size, and pool labels that reach the Node (the
kubelet sets ``topology.kubernetes.io/zone`` itself; Cluster API syncs ``node-role.kubernetes.io/*``).
"""

from __future__ import annotations

from pathlib import Path

BASE = (Path(__file__).parent / "fleets" / "base.yaml").read_text()
THUMBPRINT = ":".join(["5F"] * 20)
VSPHERE = f"""\
  - name: onprem-a
    environment: staging
    region: dc1
    kubernetesVersion: "1.31"
    server: https://10.10.0.10:6443
    provider:
      type: vsphere
      server: vcenter.example.com
      thumbprint: "{THUMBPRINT}"
      datacenter: dc1
      datastore: ds1
      resourcePool: /dc1/host/cluster1/Resources/k8s
      template: ubuntu-2204-kube-v1.31.0
    network: {{pods: 10.3.0.0/16, services: 10.103.0.0/16, meshID: 4}}
    nodePools:
      - name: workers
        instanceType: 4x16
        min: 1
        max: 3
        labels: {{node-role.kubernetes.io/worker: "", topology.kubernetes.io/zone: z1}}
"""
WITH_VSPHERE = BASE.replace("applicationSets:\n", VSPHERE + "applicationSets:\n", 1)


def edit(*pairs: tuple[str, str]) -> str:
    text = WITH_VSPHERE
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


CASES = {
    "vsphere-clean": WITH_VSPHERE,
    "vsphere-thumbprint": edit(
        (f'      thumbprint: "{THUMBPRINT}"\n', ""),
        (
            "      server: vcenter.example.com\n",
            "      server: vcenter.example.com  # expect[vsphere-thumbprint]: vcenter.example.com\n",
        ),
    ),
    "vsphere-thumbprint-not-for-external-clusters": edit(  # no CAPV object connects to vCenter
        (f'      thumbprint: "{THUMBPRINT}"\n', ""),
        ("    region: dc1\n", "    region: dc1\n    lifecycle: external\n"),
    ),
    "vsphere-placement-datastore": edit(
        ("      datastore: ds1\n", ""),
        ("      datacenter: dc1\n", "      datacenter: dc1  # expect[vsphere-placement]: dc1\n"),
    ),
    "vsphere-placement-storage-policy-is-enough": edit(
        ("      datastore: ds1\n", "      storagePolicyName: vSAN Default Storage Policy\n"),
    ),
    "vsphere-placement-from-defaults": edit(  # defaults.provider (complete for its type) gives the pool
        ("      resourcePool: /dc1/host/cluster1/Resources/k8s\n", ""),
        (
            "defaults:\n",
            "defaults:\n  provider: {type: vsphere, server: vcenter.example.com, datacenter: dc1, "
            "template: ubuntu-2204-kube-v1.31.0, resourcePool: k8s}\n",
        ),
    ),
    "vsphere-placement-resource-pool": edit(
        ("      resourcePool: /dc1/host/cluster1/Resources/k8s\n", ""),
        ("      datacenter: dc1\n", "      datacenter: dc1  # expect[vsphere-placement]: dc1\n"),
    ),
    "vsphere-instance-type": edit(
        ("        instanceType: 4x16\n", "        instanceType: big  # expect[vsphere-instance-type]: big\n"),
    ),
    "vsphere-instance-type-ec2-size": edit(("        instanceType: 4x16\n", "        instanceType: m6i.2xlarge\n")),
    "control-plane-vip-dns-name": edit(
        (
            "    server: https://10.10.0.10:6443\n",
            "    server: https://api.dc1.example.com:6443  # expect[control-plane-vip]: https://api\n",
        ),
    ),
    "control-plane-vip-port": edit(
        (
            "    server: https://10.10.0.10:6443\n",
            "    server: https://10.10.0.10:8443  # expect[control-plane-vip]: https://10\n",
        ),
    ),
    "control-plane-vip-external-load-balancer": edit(
        ("    server: https://10.10.0.10:6443\n", "    server: https://api.dc1.example.com:443\n"),
        ("      type: vsphere\n", "      type: vsphere\n      loadBalancer: external\n"),
    ),
    "endpoint-port": edit(
        (
            "    server: https://10.10.0.10:6443\n",
            "    server: https://10.10.0.10  # expect[endpoint-port]: https://10\n",
        ),
    ),
    "node-label-dropped": edit(
        (
            'labels: {node-role.kubernetes.io/worker: "", topology.kubernetes.io/zone: z1}',
            'labels: {node-role.kubernetes.io/worker: "", kubernetes.io/role: worker}'
            "  # expect[node-label-dropped]: worker}",
        ),
    ),
    "node-label-dropped-docker": (
        BASE.replace(
            "    provider: {type: docker}\n",
            "    provider: {type: docker}\n    nodePools:\n"
            "      - name: gpu\n        instanceType: docker\n        min: 1\n        max: 1\n"
            "        labels: {k8s.io/gpu: a100}  # expect[node-label-dropped]: a100\n",
            1,
        )
    ),
}
