"""Every lint rule, positive and negative, with the line and column of each finding asserted."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from fleetgen import lint, pipeline
from fleetgen.allocate import node_network
from fleetgen.lint import Context
from fleetgen.model import build

from bench.synth import fleet as synth

from .addressing_cases import CASES as ADDRESSING_CASES
from .kubeadm_cases import CASES as KUBEADM_CASES
from .lintcase import run_case

BASE = (Path(__file__).parent / "fleets" / "base.yaml").read_text()
CA_LINE = next(line for line in BASE.splitlines(keepends=True) if line.startswith("    caData: "))


def edit(*pairs: tuple[str, str]) -> str:
    text = BASE
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    if "mode: pull}" in text and "principal-unreachable" not in text:  # an agent's principal it can reach
        text = text.replace("hub:\n  name: hub\n", "hub:\n  name: hub\n  provider: aws\n", 1)
    return text


# base64 of a certificate followed by an EC private key (dummy bodies): what a pasted kubeconfig pair looks like
CA_WITH_KEY = (
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClpYaGhiWEJzWlNCRFFTQm1iM0lnZEdWemRITT0KLS0tLS1FTkQgQ0VSVElGSUNB"
    "VEUtLS0tLQotLS0tLUJFR0lOIEVDIFBSSVZBVEUgS0VZLS0tLS0KYm05MElHRWdhMlY1Ci0tLS0tRU5EIEVDIFBSSVZBVEUgS0VZ"
    "LS0tLS0K"
)

CASES = {
    "clean": BASE,
    "pool-min-max": edit(
        (
            "    provider: {type: docker}\n",
            "    provider: {type: docker}\n"
            "    nodePools: [{name: big, instanceType: m6i.xlarge, min: 5, max: 2}]  # expect[pool-min-max]: 5, max\n",
        ),
    ),
    "pool-min-max-suppressed": edit(
        (
            "    provider: {type: docker}\n",
            "    provider: {type: docker}\n"
            "    nodePools: [{name: big, instanceType: m6i.xlarge, min: 5, max: 2}]"
            "  # fleetgen: ignore[pool-min-max]\n",
        ),
    ),
    "pool-min-equals-max-ok": edit(
        (
            "    provider: {type: docker}\n",
            "    provider: {type: docker}\n    nodePools: [{name: big, instanceType: m6i.xlarge, min: 2, max: 2}]\n",
        ),
    ),
    "aks-system-pool": edit(
        (
            "    provider: {type: docker}\n",
            "    provider: {type: azure, subscriptionID: 6f1c2d3e-0000-4000-8000-1234567890ab, resourceGroup: rg}\n"
            "    nodePools:\n"
            "      - {name: sys, instanceType: Standard_D8s_v5, min: 0, max: 3}  # expect[aks-system-pool]: 0, max\n"
            "      - {name: user, instanceType: Standard_D8s_v5, min: 0, max: 3}\n",
        ),
        # its own VNet: AKS's managed 10.224.0.0/12 lies in prod-b's GKE auto-mode block (node-network-overlap)
        ("meshID: 3}", "meshID: 3, nodes: 172.21.0.0/16}"),
    ),
    "untainted-pool": edit(
        (
            "    provider: {type: docker}\n",
            '    provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}\n'
            "    nodePools:\n"
            "      - {name: gpu, instanceType: g5.xlarge, min: 0, max: 3, taints: [{key: gpu, effect: NoSchedule}]}"
            "  # expect[untainted-pool]: - {name: gpu\n"
            "      - {name: batch, instanceType: m6i.xlarge, min: 0, max: 3, taints: [{key: b, effect: NoExecute}]}\n",
        ),
        ("meshID: 3}", "meshID: 3, nodes: 172.21.0.0/16}"),
    ),
    "untainted-pool-dns-on-the-aks-system-pool": edit(  # DNS runs (CriticalAddonsOnly), Prometheus does not
        (
            "    provider: {type: docker}\n",
            "    provider: {type: azure, subscriptionID: 6f1c2d3e-0000-4000-8000-1234567890ab, resourceGroup: rg}\n"
            "    nodePools:\n"
            "      - {name: sys, instanceType: Standard_D4s_v5, min: 1, max: 3,"
            "  # expect[untainted-pool]: - {name: sys\n"
            "         taints: [{key: CriticalAddonsOnly, value: 'true', effect: NoSchedule}]}\n"
            "      - {name: gpu, instanceType: Standard_NC6s_v3, min: 0, max: 3,\n"
            "         taints: [{key: gpu, effect: NoSchedule}]}\n",
        ),
        ("meshID: 3}", "meshID: 3, nodes: 172.21.0.0/16}"),
    ),
    "untainted-pool-prefer-no-schedule-ok": edit(  # PreferNoSchedule only steers the scheduler
        (
            "    provider: {type: docker}\n",
            '    provider: {type: aws, accountID: "123456789012", roleARN: "arn:aws:iam::123456789012:role/argocd"}\n'
            "    nodePools:\n"
            "      - {name: gpu, instanceType: g5.xlarge, min: 0, max: 3, taints: [{key: gpu, effect: NoSchedule}]}\n"
            "      - {name: soft, instanceType: m5.large, min: 0, max: 3, taints: [{key: s, effect: PreferNoSchedule}]}"
            "\n",
        ),
        ("meshID: 3}", "meshID: 3, nodes: 172.21.0.0/16}"),
    ),
    "untainted-pool-not-for-kubeadm": edit(  # CoreDNS runs on the tainted control plane of a docker/vSphere cluster
        (
            "    provider: {type: docker}\n",
            "    provider: {type: docker}\n"
            "    nodePools:\n"
            "      - {name: gpu, instanceType: docker, min: 0, max: 3, taints: [{key: gpu, effect: NoSchedule}]}\n",
        ),
    ),
    "untainted-pool-not-for-imported": edit(  # Cluster API creates no pool there
        (
            "    provider: {type: docker}\n",
            "    provider: {type: imported}\n"
            "    nodePools:\n"
            "      - {name: gpu, instanceType: m6i.xlarge, min: 0, max: 3, taints: [{key: gpu, effect: NoSchedule}]}\n",
        ),
    ),
    "vsphere-server": edit(
        ("  - name: stage-a\n", "  - name: stage-a  # expect[vsphere-server]: name\n"),
        (
            "    provider: {type: docker}\n",
            "    provider: {type: vsphere, server: vc.example.com, datacenter: dc1, template: ubuntu,\n"
            "               thumbprint: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD',\n"
            "               datastore: ds1, resourcePool: pool1}\n",
        ),
    ),
    "vsphere-server-external-ok": edit(
        (
            "    provider: {type: docker}\n",
            "    lifecycle: external\n"
            "    provider: {type: vsphere, server: vc.example.com, datacenter: dc1, template: ubuntu}\n",
        ),
    ),
    "ca-data-private-key": edit(
        (CA_LINE, "    caData: KEY  # expect[ca-data-private-key]: LS0t\n".replace("KEY", CA_WITH_KEY)),
    ),
    "duplicate-cluster": edit(("  - name: stage-a\n", "  - name: prod-a  # expect[duplicate-cluster]: prod-a\n")),
    "duplicate-name": BASE
    + """  - name: orders  # expect[duplicate-name]: orders
    namespace: shop
    source: {path: workloads/orders}
    resources: [{apiVersion: apps/v1, kind: Deployment, name: orders}]
    clusters: {matchLabels: {environment: production}}
""",
    "cluster-name-long": edit(
        (
            "  - name: stage-a\n",
            "  - name: stage-a-with-a-name-longer-than-32-chars  # expect[cluster-name]: stage-a-with\n",
        )
    ),
    "cluster-name-reserved": edit(
        ("  - name: stage-a\n", "  - name: in-cluster  # expect[cluster-name]: in-cluster\n")
    ),
    "cluster-name-karmada": edit(("  - name: stage-a\n", "  - name: karmada  # expect[cluster-name]: karmada\n")),
    "cluster-name-argocd-namespace": edit(
        ("  - name: stage-a\n", "  - name: argocd  # expect[cluster-name]: argocd\n")
    ),
    "application-name-builtin": edit(
        (
            "apps: [{name: web, path: apps/web}]",
            "apps: [{name: monitoring, path: apps/web}]  # expect[application-name]: monitoring",
        )
    ),
    "cidr-overlap-pods": edit(
        (
            "pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2}",
            "pods: 10.0.128.0/17, services: 10.101.0.0/16, meshID: 2}  # expect[cidr-overlap]: 10.0.128.0/17",
        )
    ),
    "cidr-overlap-pod-vs-service": edit(
        (
            "pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}",
            "pods: 10.100.0.0/20, services: 10.102.0.0/16, meshID: 3}  # expect[cidr-overlap]: 10.100.0.0/20",
        )
    ),
    "cidr-overlap-services-ok-with-cilium": edit(("services: 10.101.0.0/16", "services: 10.100.0.0/16")),
    # Removed (issue 13): fleetgen rendered nothing for it. The schema error sits on the value.
    "mesh-submariner-removed": edit(
        ("defaults:", "network:\n  mesh: submariner  # expect[schema]: submariner\ndefaults:"),
        (", meshID: 1, nodes", ", nodes"),
        (", meshID: 2}", "}"),
        (", meshID: 3}", "}"),
    ),
    "cidr-overlap-none": edit(
        ("defaults:", "network: {mesh: none}\ndefaults:"), ("pods: 10.1.0.0/16", "pods: 10.0.0.0/16")
    ),
    "cidr-overlap-internal": edit(
        (
            "pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}",
            "pods: 10.2.0.0/16, services: 10.2.128.0/20, meshID: 3}  # expect[cidr-overlap-internal]: 10.2.128.0/20",
        )
    ),
    "service-cidr-size": edit(
        (
            "services: 10.102.0.0/16, meshID: 3}",
            "services: 10.96.0.0/11, meshID: 3}  # expect[service-cidr-size]: 10.96.0.0/11",
        )
    ),
    "pod-cidr-capacity": edit(
        (
            "pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}",
            "pods: 10.2.0.0/22, services: 10.102.0.0/16, meshID: 3}  # expect[pod-cidr-capacity]: 10.2.0.0/22",
        )
    ),
    "mesh-id-duplicate": edit(
        ("services: 10.101.0.0/16, meshID: 2}", "services: 10.101.0.0/16, meshID: 1}  # expect[mesh-id]: 1}")
    ),
    "mesh-id-range": edit(("meshID: 3}", "meshID: 300}  # expect[mesh-id]: 300")),
    "karmada-external-server": edit(
        (
            "    server: https://karmada.example.com:5443\n",
            "    server: https://karmada.example.com:5443  # expect[karmada-external-server]: https://karmada\n",
        ),
        (
            "    provider: {type: gcp, project: example-project}\n",
            "    provider: {type: gcp, project: example-project}\n    argocd: {mode: pull}\n",
        ),
    ),
    "principal-unreachable": edit(
        ("hub:\n  name: hub\n", "hub:\n  name: hub  # expect[principal-unreachable]: hub\n"),
        (
            "    server: https://karmada.example.com:5443\n",
            "    server: https://karmada.example.com:5443\n    externalServer: https://karmada.hub.example.net\n",
        ),
        (
            "    provider: {type: gcp, project: example-project}\n",
            "    provider: {type: gcp, project: example-project}\n    argocd: {mode: pull}\n",
        ),
    ),
    "karmada-external-server-set": edit(
        (
            "    server: https://karmada.example.com:5443\n",
            "    server: https://karmada.example.com:5443\n    externalServer: https://karmada.hub.example.net\n",
        ),
        (
            "    provider: {type: gcp, project: example-project}\n",
            "    provider: {type: gcp, project: example-project}\n    argocd: {mode: pull}\n",
        ),
    ),
    "mesh-member": edit(
        (
            "    server: https://karmada.example.com:5443\n",
            "    server: https://karmada.example.com:5443\n    externalServer: https://karmada.hub.example.net\n",
        ),
        (
            "    provider: {type: gcp, project: example-project}\n",
            "    provider: {type: gcp, project: example-project}\n    argocd: {mode: pull}\n",
        ),
        (
            "services: 10.101.0.0/16, meshID: 2}",
            "services: 10.101.0.0/16, meshID: 2, clustermesh: {member: true}}  # expect[mesh-member]: true}}",
        ),
    ),
    "sidecar-endpoint-port": edit(
        (
            "defaults:",
            'observability:\n  thanos: {sidecarEndpoint: "sc.{cluster}.example.net:443"}  '
            '# expect[sidecar-endpoint-port]: "sc.\ndefaults:',
        ),
    ),
    "sidecar-endpoint-port-default": edit(
        ("defaults:", 'observability:\n  thanos: {sidecarEndpoint: "sc.{cluster}.example.net:10901"}\ndefaults:'),
    ),
    "global-service-mesh": BASE.replace(
        "services: 10.101.0.0/16, meshID: 2}", "services: 10.101.0.0/16, meshID: 2, clustermesh: {member: false}}"
    )
    + "    globalService: true  # expect[global-service-mesh]: true\n",
    "global-service-mesh-members": BASE + "    globalService: true\n",
    "global-service-mesh-none": edit(("defaults:", "network: {mesh: none}\ndefaults:"))
    + "    globalService: true  # expect[global-service-mesh]: true\n",
    "mesh-member-pull-default-out": edit(
        (
            "    server: https://karmada.example.com:5443\n",
            "    server: https://karmada.example.com:5443\n    externalServer: https://karmada.hub.example.net\n",
        ),
        (
            "    provider: {type: gcp, project: example-project}\n",
            "    provider: {type: gcp, project: example-project}\n    argocd: {mode: pull}\n",
        ),
    ),
    "mesh-id-missing": edit(
        (
            "pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}",
            "pods: 10.2.0.0/16, services: 10.102.0.0/16}  # expect[mesh-id]: {pods",
        )
    ),
    "mesh-id-eks-warning": edit(
        ("meshID: 1, nodes: 172.16.0.0/16}", "meshID: 130, nodes: 172.16.0.0/16}  # expect[mesh-id]: 130")
    ),
    "version-skew": edit(
        (
            '    kubernetesVersion: "1.30.2"\n',
            '    kubernetesVersion: "1.32.1"  # expect[version-skew]: "1.32.1"  # expect[promotion-order]: "1.32.1"\n',
        )
    ),
    "promotion-order": edit(
        ('  kubernetesVersion: "1.30"\n', '  kubernetesVersion: "1.32"  # expect[promotion-order]: "1.32"\n'),
        ('    kubernetesVersion: "1.30.2"\n', '    kubernetesVersion: "1.32.1"  # expect[promotion-order]: "1.32.1"\n'),
    ),
    "unknown-cluster-missing": edit(
        (
            "weights: {prod-a: 2, prod-b: 1}",
            "weights: {prod-a: 2, prod-z: 1}  # expect[unknown-cluster]: prod-z  # expect[zero-weight]: {prod-a",
        )
    ),
    "unknown-cluster-unselected": edit(
        (
            "weights: {prod-a: 2, prod-b: 1}",
            "weights: {prod-a: 2, stage-a: 1}  # expect[unknown-cluster]: stage-a  # expect[zero-weight]: {prod-a",
        )
    ),
    "zero-weight": edit(
        (
            "applicationSets:",
            "  - name: prod-c\n    environment: production\n    region: ap-south-1\n"
            "    provider: {type: docker}\n    network: {pods: 10.3.0.0/16, services: 10.103.0.0/16, meshID: 4}\n"
            "applicationSets:",
        ),
        ("weights: {prod-a: 2, prod-b: 1}", "weights: {prod-a: 2, prod-b: 1}  # expect[zero-weight]: {prod-a"),
    ),
    "zero-weight-not-a-member": edit(
        (
            "applicationSets:",
            "  - name: prod-c\n    environment: production\n    region: ap-south-1\n"
            "    karmada: {member: false}\n"
            "    provider: {type: docker}\n    network: {pods: 10.3.0.0/16, services: 10.103.0.0/16, meshID: 4}\n"
            "applicationSets:",
        ),
    ),
    "override-path": edit(
        (
            "resources: [{apiVersion: apps/v1, kind: Deployment, name: orders}]",
            "resources: [{apiVersion: apps/v1, kind: Deployment, name: orders}, {apiVersion: v1, kind: Service, "
            "name: orders}]",
        ),
        (
            "weights: {prod-a: 2, prod-b: 1}",
            "weights: {prod-a: 2, prod-b: 1}\n    overrides:\n"
            "      - clusters: {matchLabels: {name: prod-a}}\n        patches:\n"
            "          - {op: replace, path: /spec/template/spec/containers/0/image, value: x}  "
            "# expect[override-path]: /spec/template\n"
            "          - {op: add, path: /metadata/labels/tier, value: gold}\n"
            "      - clusters: {matchLabels: {name: prod-a}}\n        kinds: [Service]\n        patches:\n"
            "          - {op: add, path: /spec/ports/-, value: {port: 81}}\n"
            "          - {op: replace, path: /spec/replicas, value: 2}  # expect[override-path]: /spec/replicas",
        ),
    ),
    "override-path-kinds": edit(
        (
            "resources: [{apiVersion: apps/v1, kind: Deployment, name: orders}]",
            "resources: [{apiVersion: apps/v1, kind: Deployment, name: orders}, {apiVersion: v1, kind: Service, "
            "name: orders}]",
        ),
        (
            "weights: {prod-a: 2, prod-b: 1}",
            "weights: {prod-a: 2, prod-b: 1}\n    overrides:\n"
            "      - clusters: {matchLabels: {name: prod-a}}\n"
            "        kinds: [Deployment, Deploymnet]  # expect[override-kind]: Deploymnet\n        patches:\n"
            "          - {op: replace, path: /spec/template/spec/containers/0/image, value: x}",
        ),
    ),
    "rolling-sync-pull": edit(
        (
            "  - name: stage-a\n",
            "  - name: stage-a\n    server: https://s.example.com\n    argocd: {mode: pull}\n"
            "    karmada: {member: false}\n    labels: {tier: standard}\n",
        ),
        ("services: 10.102.0.0/16, meshID: 3}", "services: 10.102.0.0/16, meshID: 3, clustermesh: {member: false}}"),
        ("    namespace: web\n", "    namespace: web\n    strategy: RollingSync\n"),
        (
            "    clusters: {matchLabels: {tier: standard}}\n    apps",
            "    clusters: {matchLabels: {tier: standard}}  # expect[rolling-sync-pull]: {matchLabels\n    apps",
        ),
    ),
    "rolling-sync-push-only": edit(("    namespace: web\n", "    namespace: web\n    strategy: RollingSync\n")),
    "empty-selector": edit(
        (
            "clusters: {matchLabels: {tier: standard}}",
            "clusters: {matchLabels: {tier: gold}}  # expect[empty-selector]: {matchLabels",
        )
    ),
    "application-name": edit(
        (
            "    namespace: web\n",
            "    namespace: web\n  - name: services-two\n"
            "    clusters: {matchLabels: {tier: standard}}\n"
            "    apps: [{name: web, path: apps/web2}]  # expect[application-name]: web, path: apps/web2"
            "\n    namespace: web\n",
        )
    ),
    "mesh-datapath": edit(  # the docker cluster tunnels; the EKS and GKE members route natively
        (
            "    network: {pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}\n",
            "    network: {pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3, clustermesh: {member: true}}"
            "  # expect[mesh-datapath]: 3,\n",
        )
    ),
    "thanos-version": edit(
        (
            "defaults:",
            "observability:\n  thanos:\n"
            "    image: quay.io/thanos/thanos:v0.36.1  # expect[thanos-version]: quay\ndefaults:",
        )
    ),
    "thanos-version-digest": edit(  # a digest names no version: nothing to compare
        ("defaults:", "observability:\n  thanos:\n    image: quay.io/thanos/thanos@sha256:" + "0" * 64 + "\ndefaults:")
    ),
    "gke-regional-pool": edit(
        (
            "    region: eu-west-1\n    labels: {tier: standard}\n    server: https://b.example.com\n",
            "    region: europe-west1\n    labels: {tier: standard}\n    server: https://b.example.com\n"
            "    nodePools: [{name: small, instanceType: e2-standard-4, min: 1, max: 2}]"
            "  # expect[gke-regional-pool]: 1,\n",
        )
    ),
    "gke-regional-pool-fine": edit(  # 3 within [1, 4]; a fixed pool of 6; a zone takes any count
        (
            "    region: eu-west-1\n    labels: {tier: standard}\n    server: https://b.example.com\n",
            "    region: europe-west1\n    labels: {tier: standard}\n    server: https://b.example.com\n"
            "    nodePools: [{name: a, instanceType: e2-standard-4, min: 1, max: 4},"
            " {name: b, instanceType: e2-standard-4, min: 6, max: 6}]\n",
        )
    ),
    "application-name-twice": edit(  # one set: cluster prod-a's app web and cluster prod's app a-web
        ("  - name: prod-b\n", "  - name: prod\n"),
        ("weights: {prod-a: 2, prod-b: 1}", "weights: {prod-a: 2, prod: 1}"),
        (
            "    apps: [{name: web, path: apps/web}]\n",
            "    apps: [{name: web, path: apps/web}, {name: a-web, path: apps/a}]  # expect[application-name]: a-web\n",
        ),
    ),
    "application-name-own": edit(  # a set generating `workload-orders`, the Application of workload `orders`
        ("  - name: stage-a\n", "  - name: workload\n    server: https://w.example.com\n"),
        (
            "    namespace: web\n",
            "    namespace: web\n  - name: ops\n    clusters: {matchLabels: {environment: staging}}\n"
            "    apps: [{name: orders, path: apps/orders}]  # expect[application-name]: orders, path\n"
            "    namespace: ops\n",
        ),
    ),
    "application-name-same-set": edit(  # `prod-a-x` + `web` and `prod-a` + `x-web`: one set, one name twice
        ("  - name: prod-b\n", "  - name: prod-a-x\n"),
        ("prod-b: 1}", "prod-a-x: 1}"),
        (
            "    apps: [{name: web, path: apps/web}]\n",
            "    apps: [{name: web, path: apps/web}, {name: x-web, path: apps/x}]  # expect[application-name]: x-web\n",
        ),
    ),
    "application-name-own-monitoring": edit(  # fleetgen's monitoring set would generate `workload-monitoring` too
        (
            "  - name: stage-a\n",
            "  - name: workload  # expect[application-name]: workload\n    server: https://w.example.com\n",
        ),
        ("  - name: orders\n", "  - name: monitoring\n"),
    ),
    "application-name-pull-namespace": edit(  # a pull-mode cluster's Applications live in its agent namespace
        (
            "  - name: stage-a\n",
            "  - name: workload\n    server: https://w.example.com\n    argocd: {mode: pull}\n"
            "    karmada: {member: false}\n",
        ),
        (
            "    namespace: web\n",
            "    namespace: web\n  - name: ops\n    clusters: {matchLabels: {environment: staging}}\n"
            "    apps: [{name: orders, path: apps/orders}]\n    namespace: ops\n",
        ),
    ),
    "override-unsupported": edit(
        (
            "weights: {prod-a: 2, prod-b: 1}",
            "weights: {prod-a: 2, prod-b: 1}\n    overrides:\n"
            "      - clusters: {matchLabels: {name: prod-a}}\n"
            "        patches:\n"
            "          - {op: copy, from: /spec/a, path: /spec/b}  "
            "# expect[override-unsupported]: copy",
        )
    ),
    "secret-material": edit(
        (
            "  name: hub\n",
            "  name: hub\n  token: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB  "
            "# expect[secret-material]: ghp_  # expect[schema]: token\n",
        )
    ),
    "replica-label": edit(
        (
            "defaults:",
            "observability:\n  thanos:\n    clusterLabel: cluster\n"
            "    replicaLabel: cluster  # expect[replica-label]: cluster\ndefaults:",
        )
    ),
    "ca-data": edit(
        (CA_LINE, ""),
        ("    server: https://a.example.com\n", "    server: https://a.example.com  # expect[ca-data]: https://a\n"),
    ),
    "ca-data-not-for-pull-clusters": edit(
        (CA_LINE, ""),
        ("    server: https://a.example.com\n", "    server: https://a.example.com\n    argocd: {mode: pull}\n"),
        (
            "    server: https://karmada.example.com:5443\n",
            "    server: https://karmada.example.com:5443\n    externalServer: https://karmada.hub.example.net\n",
        ),
    ),
    "account-mismatch": edit(
        (
            'roleARN: "arn:aws:iam::123456789012:role/argocd"}',
            'roleARN: "arn:aws:iam::210987654321:role/argocd"}  # expect[account-mismatch]: "arn:aws:iam::2109',
        )
    ),
    "gke-version": edit(
        ('    kubernetesVersion: "1.30.2"\n', '    kubernetesVersion: "1.30"  # expect[gke-version]: "1.30"\n')
    ),
    "gke-version-not-for-external-clusters": edit(  # no CAPG object reads it
        ('    kubernetesVersion: "1.30.2"\n', '    kubernetesVersion: "1.30"\n    lifecycle: external\n')
    ),
    "node-network-overlap-not-for-external-eks": edit(  # CAPA creates no VPC: its range is unknown
        ("meshID: 1, nodes: 172.16.0.0/16}", "meshID: 1}\n    lifecycle: external"),
    ),
    "node-network-overlap-own-services": edit(
        ("nodes: 172.16.0.0/16}", "nodes: 10.100.128.0/17}  # expect[node-network-overlap]: 10.100.128.0/17")
    ),
    "node-network-overlap-eks-default-vpc": edit(
        (
            "network: {pods: 10.0.0.0/16, services: 10.100.0.0/16, meshID: 1, nodes: 172.16.0.0/16}",
            "network: {pods: 10.0.0.0/16, services: 10.100.0.0/16, meshID: 1}  # expect[node-network-overlap]: {pods",
        )
    ),
    # CAPG's default autoCreateSubnetworks: true is an auto-mode VPC, its subnets in 10.128.0.0/9 in every
    # project: two GKE clusters without network.nodes both have it (the later one is reported).
    "node-network-overlap-gke-auto-mode-vpc": edit(
        (
            '    kubernetesVersion: "1.31"\n    provider: {type: docker}\n'
            "    network: {pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}\n",
            '    kubernetesVersion: "1.31.2"\n    provider: {type: gcp, project: staging-project}\n'
            "    network: {pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}"
            "  # expect[node-network-overlap]: {pods\n",
        )
    ),
    # 10.140.0.0/16 lies in 10.128.0.0/9 (10.128.0.0-10.255.255.255): GCP refuses it beside the VPC's subnets.
    "node-network-overlap-gke-own-pods": edit(
        (
            "network: {pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2}",
            "network: {pods: 10.140.0.0/16, services: 10.101.0.0/16, meshID: 2}  # expect[node-network-overlap]: {pods",
        )
    ),
    # AKS's managed VNet is 10.224.0.0/12 (10.224.0.0-10.239.255.255) in every cluster; a service CIDR in it
    # is refused. prod-b gets its own VPC so GKE's 10.128.0.0/9, which holds 10.224.0.0/12, is out of the way.
    "node-network-overlap-aks-managed-vnet": edit(
        (
            "network: {pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2}",
            "network: {pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2, nodes: 172.20.0.0/20}",
        ),
        (
            "    provider: {type: docker}\n    network: {pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}\n",
            "    provider: {type: azure, subscriptionID: 6f1c2d3e-0000-4000-8000-1234567890ab, resourceGroup: rg}\n"
            "    network: {pods: 10.2.0.0/16, services: 10.230.0.0/16, meshID: 3}"
            "  # expect[node-network-overlap]: {pods\n",
        ),
    ),
    "node-network-overlap-aks-with-own-vnet-ok": edit(
        (
            "network: {pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2}",
            "network: {pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2, nodes: 172.20.0.0/20}",
        ),
        (
            "    provider: {type: docker}\n    network: {pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}\n",
            "    provider: {type: azure, subscriptionID: 6f1c2d3e-0000-4000-8000-1234567890ab, resourceGroup: rg}\n"
            "    network: {pods: 10.2.0.0/16, services: 10.230.0.0/16, meshID: 3, nodes: 172.21.0.0/16}\n",
        ),
    ),
    "node-network-overlap-other-cluster": edit(
        ("meshID: 2}", "meshID: 2, nodes: 172.16.128.0/17}  # expect[node-network-overlap]: 172.16.128.0/17")
    ),
    # stage-a is a docker cluster, out of the ClusterMesh by default: no node-to-node traffic with prod-a.
    "node-network-overlap-not-across-non-members": edit(("meshID: 3}", "meshID: 3, nodes: 172.16.128.0/17}")),
    "node-network-overlap-other-cluster-no-mesh": edit(
        ("defaults:", "network: {mesh: none}\ndefaults:"),
        ("meshID: 2}", "meshID: 2, nodes: 172.16.128.0/17}"),
    ),
    "suppressed": edit(("meshID: 3}", "meshID: 300}  # fleetgen: ignore[mesh-id]")),
    "system-namespace": edit(
        ("    namespace: web\n", "    namespace: kube-system  # expect[system-namespace]: kube-system\n")
    ),
    "system-namespace-workload": edit(
        ("    namespace: shop\n", "    namespace: karmada-cluster  # expect[system-namespace]: karmada-cluster\n")
    ),
    "system-namespace-argocd-namespace": edit(
        ("  name: hub\n", "  name: hub\n  argocdNamespace: gitops\n"),
        ("    namespace: web\n", "    namespace: gitops  # expect[system-namespace]: gitops\n"),
    ),
    "system-namespace-suppressed": edit(
        ("    namespace: web\n", "    namespace: cilium  # fleetgen: ignore[system-namespace]\n")
    ),
    "system-namespace-fleetgen-monitoring": edit(
        ("    namespace: web\n", "    namespace: monitoring  # expect[system-namespace]: monitoring\n")
    ),
    "system-namespace-fleetgen-monitoring-workload": edit(
        ("    namespace: shop\n", "    namespace: monitoring  # expect[system-namespace]: monitoring\n")
    ),
    "system-namespace-vsphere-csi": edit(
        ("    namespace: web\n", "    namespace: vmware-system-csi  # expect[system-namespace]: vmware-system-csi\n")
    ),
    "system-namespace-lookalike-ok": edit(("    namespace: web\n", "    namespace: kubernetes-dashboard\n")),
    "reserved-project": edit(
        ("    namespace: web\n", "    namespace: web\n    project: fleet-platform  # expect[reserved-project]: fleet\n")
    ),
    "reserved-label": edit(
        (
            "    clusters: {matchLabels: {tier: standard}}\n    apps: [{name: web, path: apps/web}]\n",
            "    clusters: {matchLabels: {tier: standard}, matchExpressions: [{key: fleetgen.io/fleet, operator: "
            "DoesNotExist}]}  # expect[reserved-label]: {match\n    apps: [{name: web, path: apps/web}]\n",
        )
    ),
    "reserved-label-cluster": edit(
        (
            "    labels: {tier: standard}\n    server: https://a.example.com\n",
            "    labels: {tier: standard, fleetgen.io/argocd-mode: pull}  # expect[reserved-label]: pull\n"
            "    server: https://a.example.com\n",
        )
    ),
    "reserved-appset": edit(
        ("  - name: services\n", "  - name: fleet-spoke-monitoring  # expect[reserved-appset]: fleet\n")
    ),
    "reserved-project-agent": edit(
        ("    namespace: web\n", "    namespace: web\n    project: fleet-agent-x  # expect[reserved-project]: fleet\n")
    ),
    **ADDRESSING_CASES,
    **KUBEADM_CASES,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rule_case(tmp_path, name):
    run_case(tmp_path, CASES[name])


def test_every_lint_rule_has_a_positive_case():
    marked = {rule for text in CASES.values() for rule in __import__("re").findall(r"expect\[([a-z-]+)\]", text)}
    assert {r.id for r in lint.LINT_RULES} - {"upgrade-skip", "version-downgrade", "immutable-setting"} <= marked


def test_suppression_is_counted(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(CASES["suppressed"])
    result = pipeline.load_and_lint(fleet)
    assert result.findings == [] and result.suppressed == 1


def test_overlap_names_both_clusters_and_points_at_each(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(CASES["cidr-overlap-pods"])
    (finding,) = pipeline.load_and_lint(fleet).findings
    assert "prod-b" in finding.message and "prod-a" in finding.message
    assert finding.related == ((str(fleet), 21, 21),)


def test_secret_is_masked(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(CASES["secret-material"])
    messages = " ".join(f.message for f in pipeline.load_and_lint(fleet).findings)
    assert "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB" not in messages


@pytest.mark.parametrize(
    "current,desired,rule",
    [
        ("1.29", "1.31", "upgrade-skip"),
        ("1.31", "1.30", "version-downgrade"),
        ("1.30.5", "1.30.2", "version-downgrade"),
    ],
)
def test_version_rules_against_rendered_tree(tmp_path, current, desired, rule):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(edit(('  kubernetesVersion: "1.30"\n', f'  kubernetesVersion: "{desired}"\n')))
    lock = tmp_path / "rendered" / ".fleetgen.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"files": {}, "kubernetesVersions": {"prod-a": current}}))
    found = [f for f in pipeline.load_and_lint(fleet).findings if f.rule == rule]
    assert [(f.line, f.column) for f in found] == [(11, 22)]  # inherited from defaults: points there


@pytest.mark.parametrize("current", ["1.30", "1.29", "1.30.1"])
def test_version_rules_quiet_on_safe_steps(tmp_path, current):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(BASE)
    lock = tmp_path / "rendered" / ".fleetgen.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"files": {}, "kubernetesVersions": {"prod-a": current}}))
    assert not [f for f in pipeline.load_and_lint(fleet).findings if f.rule in ("upgrade-skip", "version-downgrade")]


def test_zero_weight_is_one_finding_per_workload(tmp_path):
    """bench's synthetic fleet without its name filter selects 100 unweighted production clusters: one warning."""
    from bench.synth import fleet as synthetic

    data = synthetic(200)
    orders = data["workloads"][0]
    assert orders["clusters"]["matchExpressions"].pop()["key"] == "name"
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps(data))
    (finding,) = [f for f in pipeline.load_and_lint(path).findings if f.rule == "zero-weight"]
    assert finding.message.endswith(" and 95 more but gives them no weight: Karmada schedules 0 replicas there")


def test_the_runner_stamps_the_rules_id_severity_and_fix():
    from fleetgen.findings import ERROR, WARNING
    from fleetgen.lint.registry import flag, rule, stamped

    def check(ctx):
        """A rule for this test."""
        return iter(())

    demo = rule("demo", WARNING, fix="do x")(check)
    plain = stamped(flag(("clusters", 0), "m"), demo)
    assert (plain.rule, plain.severity, plain.hint, plain.path) == ("demo", "warning", "do x", ("clusters", 0))
    own = stamped(flag(("clusters", 0), "m", severity=ERROR, hint="h"), demo)
    assert (own.rule, own.severity, own.hint) == ("demo", "error", "h")


def test_untainted_pool_says_where_dns_still_runs(tmp_path):
    """Azure's "Use system node pools in AKS" taints a dedicated System pool CriticalAddonsOnly=true:NoSchedule,
    which CoreDNS tolerates (operator Exists): DNS runs there, fleetgen's Prometheus (no tolerations) nowhere.
    With only a `gpu` taint left on the first pool instead, nothing tolerates any pool and DNS is named too."""
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(CASES["untainted-pool-dns-on-the-aks-system-pool"])
    [found] = [f for f in pipeline.load_and_lint(fleet).findings if f.rule == "untainted-pool"]
    assert found.message == (
        "every node pool of cluster 'stage-a' has a NoSchedule or NoExecute taint: pods without tolerations "
        "(Prometheus, workloads) can run nowhere (cluster DNS runs on pool 'sys', it tolerates CriticalAddonsOnly)"
    )
    fleet.write_text(CASES["untainted-pool-dns-on-the-aks-system-pool"].replace("key: CriticalAddonsOnly", "key: gpu"))
    [found] = [f for f in pipeline.load_and_lint(fleet).findings if f.rule == "untainted-pool"]
    assert found.message == (
        "every node pool of cluster 'stage-a' has a NoSchedule or NoExecute taint: cluster DNS and "
        "pods without tolerations (Prometheus, workloads) can run nowhere"
    )


def _node_overlap_reference(fleet) -> set[tuple]:
    """node-network-overlap by brute force over every pair of clusters: (node network's path, other's path)."""

    def nets(c):
        node, given = node_network(c)
        out = [("nodes", node, given)] if node is not None else []
        return out + [(k, getattr(c.network, k), True) for k in ("pods", "services")]

    members = {c.name for c in fleet.clusters if fleet.mesh == "cilium" and c.network.mesh_member}
    found = set()
    for a in fleet.clusters:
        node, given = node_network(a)
        if node is None:
            continue
        for b in fleet.clusters:
            if a is not b and not (a.name in members and b.name in members):
                continue
            for kind, net, b_given in nets(b):
                if net.version != 4 or not node.overlaps(net) or (kind == "nodes" and a is b):
                    continue
                if kind == "nodes" and a.path[1] < b.path[1]:
                    continue  # two node networks: reported at the one later in fleet.yaml
                here = ("clusters", a.path[1], "network") + (("nodes",) if given else ())
                there = ("clusters", b.path[1], "network") + ((kind,) if b_given else ())
                found.add((here, there))
    return found


@pytest.mark.parametrize("seed", range(6))
def test_node_network_overlap_is_every_pair_a_brute_force_finds(seed):
    """The rule sweeps only ClusterMesh members' ranges across clusters and each cluster's own ranges within it;
    a brute force over every pair of clusters finds the same overlaps, mesh or not, given or default networks."""
    rng = random.Random(seed)
    data = synth(rng.choice([8, 30, 90]), rng.choice(["cilium", "none"]))
    for c in data["clusters"]:
        net = c.setdefault("network", {})
        roll = rng.random()
        if roll < 0.3:
            net["nodes"] = rng.choice(["10.0.0.0/16", "10.1.0.0/16", "172.16.0.0/12", "10.128.0.0/9", net["pods"]])
        elif roll < 0.45:
            net.pop("nodes", None)
        if rng.random() < 0.15:
            net.setdefault("clustermesh", {})["member"] = False
    fleet = build(data)
    rule = lint.BY_ID["node-network-overlap"]
    found = {(i.path, i.related[0]) for i in rule.check(Context(fleet, data, {}, None))}
    assert found == _node_overlap_reference(fleet)
    assert found or seed == 2  # every seed but one has overlaps of each kind the rule reports
