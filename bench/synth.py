"""Synthetic fleets of N clusters for benchmarks and scale tests: valid, lint-clean, deterministic.

Mixed providers (aws, gcp, azure, vsphere, docker, imported), push and pull registration,
pending clusters, several applicationSets and weighted workloads. Pod CIDRs are /22 blocks of
10.0.0.0/8, service CIDRs /24 blocks of 100.64.0.0/10 and node networks /26 blocks of
172.16.0.0/12 (16,384 of each), so up to 16,384 clusters never overlap. Cloud push clusters
carry a (dummy) caData and GKE clusters a patch version, as lint requires. Cilium's
ClusterMesh holds at most 511 clusters, so larger fleets use `mesh: none` (no mesh ids; the
ranges stay unique all the same).
"""

from __future__ import annotations

import ipaddress
import sys

PROVIDERS = ("aws", "gcp", "azure", "vsphere", "docker", "imported")
ENVIRONMENTS = ("development", "staging", "production")
REGIONS = {
    "aws": ("us-east-1", "eu-west-1", "ap-south-1"),
    "gcp": ("us-central1", "europe-west1"),
    "azure": ("westeurope", "eastus"),
    "vsphere": ("dc-east", "dc-west"),
    "docker": ("local",),
    "imported": ("store-east", "store-west"),
}
VERSIONS = {"development": "1.31", "staging": "1.31", "production": "1.30"}
GKE_PATCH = {"1.30": "1.30.5", "1.31": "1.31.2"}  # CAPG converges only on MAJOR.MINOR.PATCH
CA_DATA = (  # base64 of a PEM certificate block (dummy body): Argo CD's trust anchor for cloud clusters
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClpYaGhiWEJzWlNCRFFTQm1iM0lnZEdWemRITT0KLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
)


def _provider(kind: str, i: int) -> dict:
    account = f"{100000000000 + i % 97:012d}"
    return {
        "aws": {"type": "aws", "accountID": account, "roleARN": f"arn:aws:iam::{account}:role/argocd-fleet"},
        "gcp": {"type": "gcp", "project": f"fleet-proj-{i % 13:03d}"},
        "azure": {
            "type": "azure",
            "subscriptionID": f"6f1c2d3e-0000-4000-8000-{i % 89:012d}",
            "resourceGroup": f"rg-fleet-{i % 7}",
        },
        "vsphere": {
            "type": "vsphere",
            "server": "vcenter.example.internal",
            "thumbprint": ":".join(["AB"] * 20),
            "datacenter": "dc1",
            "datastore": "ds1",
            "resourcePool": "k8s",
            "template": "ubuntu-2204-kube",
        },
        "docker": {"type": "docker"},
        "imported": {"type": "imported"},
    }[kind]


def mesh_ids(n: int) -> list[int]:
    """Ids 1..n, keeping 128-255 away from EKS clusters (those ids break with aws-cni chaining)."""
    aws = [i for i in range(n) if PROVIDERS[i % len(PROVIDERS)] == "aws"]
    safe = [m for m in range(1, 512) if not 128 <= m <= 255]
    ids = dict(zip(aws, safe))
    rest = iter(m for m in range(1, 512) if m not in set(ids.values()))
    return [ids[i] if i in ids else next(rest) for i in range(n)]


def cluster(i: int, mesh: str, mesh_id: int = 0) -> dict:
    kind = PROVIDERS[i % len(PROVIDERS)]
    env = ENVIRONMENTS[0] if i % 10 == 0 else ENVIRONMENTS[1] if i % 10 == 1 else ENVIRONMENTS[2]
    region = REGIONS[kind][i % len(REGIONS[kind])]
    pods = ipaddress.ip_network("10.0.0.0/8").network_address + i * 1024
    services = ipaddress.ip_network("100.64.0.0/10").network_address + i * 256
    nodes = ipaddress.ip_network("172.16.0.0/12").network_address + i * 64
    out = {
        "name": f"{env[:4]}-{kind}-{i:05d}",
        "environment": env,
        "region": region,
        "labels": {"tier": "edge" if kind == "imported" else ("gpu" if i % 17 == 0 else "standard")},
        "kubernetesVersion": GKE_PATCH[VERSIONS[env]] if kind == "gcp" else VERSIONS[env],
        "provider": _provider(kind, i),
        "network": {"pods": f"{pods}/22", "services": f"{services}/24", "nodes": f"{nodes}/26", "nodeMask": 26},
        "nodePools": [{"name": "general", "instanceType": "m6i.xlarge", "min": 1, "max": 8}],
    }
    if mesh == "cilium":
        out["network"]["meshID"] = mesh_id
        if kind in ("azure", "vsphere"):  # they tunnel; the mesh's EKS and GKE members route natively
            out["network"]["clustermesh"] = {"member": False}
    # every 23rd cluster is still being provisioned: no server yet (vSphere needs its endpoint up front)
    if i % 23 != 5 or kind == "vsphere":
        out["server"] = (
            f"https://{ipaddress.ip_address('198.18.0.0') + i}:6443"
            if kind == "vsphere"  # kube-vip
            else f"https://api.c{i:05d}.fleet.example.com"
        )
        if kind in ("aws", "gcp", "azure"):
            out["caData"] = CA_DATA
    if kind == "imported":
        out["argocd"] = {"mode": "pull"}
    return out


def fleet(n: int, mesh: str | None = None) -> dict:
    mesh = mesh or ("cilium" if n <= 511 else "none")
    ids = mesh_ids(n) if mesh == "cilium" else [0] * n
    clusters = [cluster(i, mesh, ids[i]) for i in range(n)]
    # The global-service workload runs on ClusterMesh members only: docker clusters are not peers, and the
    # tunnelling azure and vsphere ones stay out of the natively routed mesh. A fleet too small to have such
    # production clusters places it on the others, without a global Service.
    standard = [c for c in clusters if c["environment"] == "production" and c["labels"]["tier"] == "standard"]
    members = [c["name"] for c in standard if c["provider"]["type"] in ("aws", "gcp")]
    prod = members or [c["name"] for c in standard if c["provider"]["type"] != "docker"]
    global_service = mesh == "cilium" and bool(members)
    return {
        "apiVersion": "fleetgen/v1alpha1",
        "kind": "Fleet",
        "name": f"synthetic-{n}",
        "repo": {"url": "https://github.com/example/fleet-config", "revision": "main", "renderedDir": "rendered"},
        "hub": {
            "name": "hub",
            "provider": "aws",  # the edge clusters' agents reach the principal's internal load balancer
            "karmada": {
                "server": "https://karmada-apiserver.karmada-system.svc:5443",
                "externalServer": "https://karmada.fleet.example.com",
            },
        },
        "network": {"mesh": mesh, "maxConnectedClusters": 511},
        "observability": {
            "thanos": {"image": "quay.io/thanos/thanos:v0.38.0", "objectStorageSecret": "thanos-objstore"}
        },
        "clusters": clusters,
        "applicationSets": [
            {
                "name": "platform-base",
                "clusters": {},
                "apps": [{"name": "base", "path": "platform/base"}],
                "namespace": "platform",
            },
            {
                "name": "production-services",
                "clusters": {
                    "matchLabels": {"environment": "production"},
                    "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gpu"]}],
                },
                "apps": [
                    {"name": "api-gateway", "path": "charts/api-gateway"},
                    {"name": "payments", "path": "charts/payments"},
                ],
                "namespace": "production",
            },
            {
                "name": "edge-agents",
                "clusters": {"matchLabels": {"tier": "edge"}},
                "apps": [{"name": "store-agent", "path": "clusters/{{cluster}}/store-agent"}],
                "namespace": "edge",
            },
        ],
        "workloads": [
            {
                "name": "orders",
                "namespace": "production",
                "source": {"path": "workloads/orders"},
                "resources": [
                    {"apiVersion": "apps/v1", "kind": "Deployment", "name": "orders"},
                    {"apiVersion": "v1", "kind": "Service", "name": "orders"},
                ],
                "clusters": {
                    "matchLabels": {"environment": "production", "tier": "standard"},
                    "matchExpressions": [
                        {"key": "provider", "operator": "NotIn", "values": ["docker"]},
                        # only the weighted clusters: any other would get 0 (zero-weight)
                        {"key": "name", "operator": "In", "values": prod[:3]},
                    ],
                },
                "replicas": 3 * len(prod[:3]) * 10,
                "weights": {name: w for name, w in zip(prod[:3], (3, 2, 1))},
                "failover": {"unreachableSeconds": 60, "notReadySeconds": 300},
                **({"globalService": True} if global_service else {}),  # no mesh, no global Service
            },
            {
                "name": "inventory",
                "namespace": "edge",
                "source": {"path": "workloads/inventory"},
                "resources": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "inventory"}],
                "clusters": {"matchLabels": {"tier": "edge"}},
                "replicas": 2,
            },
        ],
    }


def fleet_yaml(n: int, mesh: str | None = None) -> str:
    """The synthetic fleet as YAML text (block style, like a hand-written fleet.yaml)."""
    import io

    from ruamel.yaml import YAML

    buf = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(fleet(n, mesh), buf)
    return buf.getvalue()


if __name__ == "__main__":
    sys.stdout.write(fleet_yaml(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
