"""Time fleetgen.emit.dump against libyaml (PyYAML CSafeDumper) and ruamel.yaml.

Run: ``python bench/emit_bench.py [clusters]``. Not a test: it prints timings and ratios for
a fleet-sized stream of realistic manifests (CAPI objects, Argo CD Secrets/Applications,
Deployments, ConfigMaps), 8 documents per cluster. "cold" clears dump's string memo before
every run (first render in a process); "warm" keeps it (later renders in the same process).
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from typing import Any

import yaml
from fleetgen import emit
from ruamel.yaml import YAML

REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"]


def labels(cluster: str, index: int) -> dict[str, str]:
    return {
        "fleet.example.com/cluster": cluster,
        "fleet.example.com/environment": ["dev", "staging", "prod"][index % 3],
        "fleet.example.com/region": REGIONS[index % len(REGIONS)],
        "app.kubernetes.io/managed-by": "fleetgen",
    }


def capi_cluster(cluster: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "metadata": {"name": cluster, "namespace": "fleet-capi", "labels": labels(cluster, index)},
        "spec": {
            "clusterNetwork": {
                "pods": {"cidrBlocks": [f"10.{index % 250}.0.0/16"]},
                "services": {"cidrBlocks": ["10.96.0.0/12"]},
            },
            "controlPlaneRef": {
                "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
                "kind": "KubeadmControlPlane",
                "name": f"{cluster}-control-plane",
            },
            "infrastructureRef": {
                "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta2",
                "kind": "AWSCluster",
                "name": cluster,
            },
        },
    }


def control_plane(cluster: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "controlplane.cluster.x-k8s.io/v1beta1",
        "kind": "KubeadmControlPlane",
        "metadata": {
            "name": f"{cluster}-control-plane",
            "namespace": "fleet-capi",
            "labels": labels(cluster, index),
        },
        "spec": {
            "replicas": 3,
            "version": "v1.30.4",
            "machineTemplate": {
                "infrastructureRef": {
                    "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta2",
                    "kind": "AWSMachineTemplate",
                    "name": f"{cluster}-control-plane",
                }
            },
            "kubeadmConfigSpec": {
                "clusterConfiguration": {
                    "apiServer": {"extraArgs": {"cloud-provider": "external", "audit-log-maxage": "30"}},
                    "controllerManager": {"extraArgs": {"cloud-provider": "external"}},
                },
                "initConfiguration": {
                    "nodeRegistration": {
                        "name": "{{ ds.meta_data.local_hostname }}",
                        "kubeletExtraArgs": {"cloud-provider": "external", "node-labels": "tier=control"},
                    }
                },
                "files": [
                    {
                        "path": "/etc/kubernetes/audit-policy.yaml",
                        "owner": "root:root",
                        "permissions": "0600",
                        "content": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n",
                    }
                ],
                "preKubeadmCommands": ["systemctl restart containerd", f"echo {cluster} > /etc/fleet-name"],
            },
        },
    }


def machine_deployment(cluster: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "MachineDeployment",
        "metadata": {"name": f"{cluster}-md-0", "namespace": "fleet-capi", "labels": labels(cluster, index)},
        "spec": {
            "clusterName": cluster,
            "replicas": 3 + index % 5,
            "selector": {"matchLabels": {}},
            "template": {
                "spec": {
                    "clusterName": cluster,
                    "version": "v1.30.4",
                    "bootstrap": {
                        "configRef": {
                            "apiVersion": "bootstrap.cluster.x-k8s.io/v1beta1",
                            "kind": "KubeadmConfigTemplate",
                            "name": f"{cluster}-md-0",
                        }
                    },
                    "infrastructureRef": {
                        "apiVersion": "infrastructure.cluster.x-k8s.io/v1beta2",
                        "kind": "AWSMachineTemplate",
                        "name": f"{cluster}-md-0",
                    },
                    "failureDomain": f"{REGIONS[index % len(REGIONS)]}a",
                }
            },
        },
    }


def cluster_secret(cluster: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"cluster-{cluster}",
            "namespace": "argocd",
            "labels": {"argocd.argoproj.io/secret-type": "cluster", **labels(cluster, index)},
            "annotations": {"fleet.example.com/registered": "true"},
        },
        "type": "Opaque",
        "stringData": {
            "name": cluster,
            "server": f"https://{cluster}.k8s.example.com:6443",
            "config": ('{"tlsClientConfig":{"insecure":false},"execProviderConfig":{"command":"argocd-k8s-auth"}}'),
        },
    }


def application(cluster: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": f"{cluster}-monitoring",
            "namespace": "argocd",
            "labels": labels(cluster, index),
        },
        "spec": {
            "project": ["dev", "staging", "prod"][index % 3],
            "source": {
                "repoURL": "https://git.example.com/platform/fleet.git",
                "targetRevision": "HEAD",
                "path": f"rendered/clusters/{cluster}/monitoring",
                "directory": {"recurse": True},
            },
            "destination": {"server": f"https://{cluster}.k8s.example.com:6443", "namespace": "monitoring"},
            "syncPolicy": {
                "automated": {"prune": True, "selfHeal": True},
                "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
            },
        },
    }


def deployment(cluster: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "thanos-query", "namespace": "monitoring", "labels": labels(cluster, index)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "thanos-query"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "thanos-query"}},
                "spec": {
                    "containers": [
                        {
                            "name": "thanos-query",
                            "image": "quay.io/thanos/thanos:v0.36.1",
                            "args": ["query", "--http-address=0.0.0.0:10902", f"--endpoint={cluster}:10901"],
                            "ports": [{"name": "http", "containerPort": 10902, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "256Mi"},
                                "limits": {"memory": "1Gi"},
                            },
                            "readinessProbe": {
                                "httpGet": {"path": "/-/ready", "port": "http"},
                                "periodSeconds": 5,
                            },
                            "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True},
                        }
                    ],
                    "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}],
                },
            },
        },
    }


def config_map(cluster: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "fleet-info", "namespace": "kube-system", "labels": labels(cluster, index)},
        "data": {"cluster": cluster, "index": str(index), "enabled": "yes", "since": "2024-05-01"},
    }


def fleet_documents(clusters: int) -> list[dict[str, Any]]:
    builders = [
        capi_cluster,
        control_plane,
        machine_deployment,
        cluster_secret,
        application,
        deployment,
        config_map,
        application,
    ]
    return [build(f"cluster-{n:04d}", n) for n in range(clusters) for build in builders]


def scalar_count(node: Any) -> int:
    if isinstance(node, dict):
        return len(node) + sum(scalar_count(value) for value in node.values())
    if isinstance(node, list):
        return sum(scalar_count(item) for item in node)
    return 1


def best_of(runs: int, action: Callable[[], object]) -> float:
    """Fastest wall time of ``runs`` calls, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def ruamel_dump(documents: list[dict[str, Any]]) -> str:
    writer = YAML()
    writer.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    writer.dump_all(documents, stream)
    return stream.getvalue()


def cold_dump(documents: list[dict[str, Any]]) -> str:
    emit._TEXTS.clear()
    emit._KEY_TEXTS.clear()
    return emit.dump(documents)


def main() -> None:
    clusters = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    documents = fleet_documents(clusters)
    assert list(yaml.load_all(emit.dump(documents), Loader=yaml.CSafeLoader)) == documents
    libyaml = best_of(
        5,
        lambda: yaml.dump_all(documents, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False),
    )
    cold = best_of(5, lambda: cold_dump(documents))
    warm = best_of(5, lambda: emit.dump(documents))
    ruamel = best_of(1, lambda: ruamel_dump(documents))
    per_document = sum(map(scalar_count, documents)) / len(documents)
    print(f"{len(documents)} documents ({clusters} clusters x 8, {per_document:.0f} keys+scalars each)")
    print(f"emit.dump (cold memo)  {cold:8.1f} ms   {cold / libyaml:.2f} x libyaml")
    print(f"emit.dump (warm memo)  {warm:8.1f} ms   {warm / libyaml:.2f} x libyaml")
    print(f"PyYAML CSafeDumper     {libyaml:8.1f} ms")
    print(f"ruamel.yaml (rt)       {ruamel:8.1f} ms   {ruamel / libyaml:.2f} x libyaml")


if __name__ == "__main__":
    main()
