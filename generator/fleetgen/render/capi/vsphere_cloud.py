"""The vSphere cloud controller (CPI) for a vSphere cluster, delivered by a ClusterResourceSet on the hub.

vSphere nodes run ``cloud-provider=external``: until a cloud controller initializes a Node it keeps
the ``node.cloudprovider.kubernetes.io/uninitialized`` taint and has no ``spec.providerID``, so
Cluster API never matches it to its Machine (no ``nodeRef``) and KubeadmControlPlane never scales
past its first replica. CAPV's own templates ship the CPI the same way (``templates/cluster-template.yaml``,
built by ``packaging/flavorgen/flavors/crs/cpi.go``): a ClusterResourceSet in the cluster's
namespace applies a ConfigMap of manifests and a Secret of credentials to the new cluster as soon
as its API server answers (Cluster API ``core/reconcilers/clusterresourceset/``), before any CNI or
Argo CD registration.

Credentials never enter git: the ClusterResourceSet names the Secret ``vsphere-cpi-credentials``,
which the operator creates in the cluster's namespace on the hub (type
``addons.cluster.x-k8s.io/resource-set``, key ``data`` = the Secret manifest the CPI reads). A
missing Secret is skipped and applied once it exists (``ApplyClusterResourceSet`` ``IsNotFound``:
``continue``); the strategy ``Reconcile`` re-applies the manifests when fleetgen changes them
(a new CPI release for a new Kubernetes minor).

The manifests are those of the ``vsphere-cpi`` Helm chart of kubernetes/cloud-provider-vsphere as
CAPV renders them (``packaging/flavorgen/cloudprovider/cpi/cpi.yaml``); the configuration is the
CPI's YAML form (``pkg/common/config/types_yaml.go``).
"""

from __future__ import annotations

from ...emit import dump
from ...model import Cluster
from .common import CLUSTER_NAME_LABEL, Doc, meta, obj, version_parts

ADDONS = "addons.cluster.x-k8s.io/v1beta2"
CPI_IMAGE = "registry.k8s.io/cloud-pv-vsphere/cloud-provider-vsphere"
# The newest release of kubernetes/cloud-provider-vsphere for each Kubernetes minor (its tags): the CPI
# is released per minor and supports that minor's API; there is no v1.32.0, hence the patches.
CPI_RELEASES = {
    (1, 26): "v1.26.2",
    (1, 27): "v1.27.0",
    (1, 28): "v1.28.1",
    (1, 29): "v1.29.2",
    (1, 30): "v1.30.2",
    (1, 31): "v1.31.1",
    (1, 32): "v1.32.3",
    (1, 33): "v1.33.1",
    (1, 34): "v1.34.0",
    (1, 35): "v1.35.1",
    (1, 36): "v1.36.0",
}
CREDENTIALS = "vsphere-cpi-credentials"  # on the hub, made by the operator (docs/controllers/capi.md)
CPI_CREDENTIALS = "cloud-provider-vsphere-credentials"  # in the workload cluster's kube-system, what the CPI reads
MANIFESTS = "vsphere-cpi"
SYSTEM = "kube-system"
_LABELS = {"app": "vsphere-cpi", "component": "cloud-controller-manager"}
_SA = "cloud-controller-manager"


def cpi_release(kubernetes_version: str) -> str:
    """The CPI tag for a Kubernetes version: its minor's release, else the oldest or newest known one."""
    minor = version_parts(kubernetes_version)[:2]
    known = sorted(CPI_RELEASES)
    return CPI_RELEASES[min(max(minor, known[0]), known[-1])]


def cloud_config(cluster: Cluster) -> str:
    """``vsphere.conf``: the vCenter, its datacenter, the credentials Secret and, if given, the thumbprint.

    Without a thumbprint (and without ``insecureFlag``) the CPI verifies vCenter's certificate
    against the node's system trust store (``pkg/common/vclib/connection.go`` ``NewClient``).
    """
    provider = cluster.provider
    global_ = {"port": 443, "secretName": CPI_CREDENTIALS, "secretNamespace": SYSTEM}
    if provider.thumbprint:
        global_["thumbprint"] = provider.thumbprint
    vcenter = {provider.server: {"datacenters": [provider.datacenter], "server": provider.server}}
    return dump([{"global": global_, "vcenter": vcenter}])


def _m(name: str, namespaced: bool = True) -> Doc:
    return {"name": name, **({"namespace": SYSTEM} if namespaced else {}), "labels": dict(_LABELS)}


def _rules() -> list[Doc]:
    """The chart's ClusterRole rules (templates/role.yaml)."""
    core = [
        (["events"], ["create", "patch", "update"]),
        (["nodes"], ["*"]),
        (["nodes/status"], ["patch"]),
        (["services"], ["list", "patch", "update", "watch"]),
        (["services/status"], ["patch"]),
        (["serviceaccounts"], ["create", "get", "list", "watch", "update"]),
        (["persistentvolumes"], ["get", "list", "update", "watch"]),
        (["endpoints"], ["create", "get", "list", "watch", "update"]),
        (["secrets"], ["get", "list", "watch"]),
    ]
    rules = [{"apiGroups": [""], "resources": r, "verbs": v} for r, v in core]
    return rules + [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["create", "get", "list", "watch", "update"],
        }
    ]


def _subjects() -> list[Doc]:
    return [
        {"kind": "ServiceAccount", "name": _SA, "namespace": SYSTEM},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": _SA},
    ]


def _daemonset(image: str) -> Doc:
    """One CPI per control-plane node, tolerating the taints of not yet initialized nodes."""
    tolerations = [
        {"effect": "NoSchedule", "key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true"},
        {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane", "operator": "Exists"},
        {"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready", "operator": "Exists"},
        {"effect": "NoExecute", "key": "CriticalAddonsOnly", "operator": "Exists"},
    ]
    control_plane = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}
    container = {
        "name": "vsphere-cpi",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["--cloud-provider=vsphere", "--v=2", "--cloud-config=/etc/cloud/vsphere.conf"],
        "volumeMounts": [{"mountPath": "/etc/cloud", "name": "vsphere-config-volume", "readOnly": True}],
    }
    pod = {
        "tolerations": tolerations,
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [control_plane]}]
                }
            }
        },
        "securityContext": {"fsGroup": 1001, "runAsUser": 1001},
        "serviceAccountName": _SA,
        "hostNetwork": True,
        "dnsPolicy": "ClusterFirst",
        "priorityClassName": "system-node-critical",
        "containers": [container],
        "volumes": [{"name": "vsphere-config-volume", "configMap": {"name": "cloud-config"}}],
    }
    spec = {
        "selector": {"matchLabels": {"app": "vsphere-cpi"}},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {"metadata": {"labels": dict(_LABELS)}, "spec": pod},
    }
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _m("vsphere-cpi"), "spec": spec}


def cpi_manifests(cluster: Cluster) -> list[Doc]:
    """What the ClusterResourceSet applies in the workload cluster (CRS applies no ``kind: List``)."""
    rbac = "rbac.authorization.k8s.io"
    reader = {"apiGroup": rbac, "kind": "Role", "name": "extension-apiserver-authentication-reader"}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _m(_SA)},
        {"apiVersion": f"{rbac}/v1", "kind": "ClusterRole", "metadata": _m(_SA, False), "rules": _rules()},
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _m(_SA, False),
            "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": _SA},
            "subjects": _subjects(),
        },
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": _m(f"{_SA}:apiserver-authentication-reader"),
            "roleRef": reader,
            "subjects": _subjects(),
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _m("cloud-config"),
            "data": {"vsphere.conf": cloud_config(cluster)},
        },
        _daemonset(f"{CPI_IMAGE}:{cpi_release(cluster.kubernetes_version)}"),
    ]


def resource_set(cluster: Cluster, addon: str, data: dict[str, str], credentials: str) -> list[Doc]:
    """A ConfigMap ``addon`` holding ``data`` (key -> YAML documents) and the ClusterResourceSet
    ``<cluster>-<addon>`` that applies it, then the operator's Secret ``credentials``, to the cluster.

    Cluster API applies the resources in this order (``ApplyClusterResourceSet``), and the
    objects of each data value namespaces first (``utilresource.SortForCreate``): the manifests
    create the namespace the credentials Secret goes to before the Secret is applied.
    """
    manifests = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(cluster, addon), "data": data}
    spec = {
        "clusterSelector": {"matchLabels": {CLUSTER_NAME_LABEL: cluster.name}},
        "resources": [{"kind": "ConfigMap", "name": addon}, {"kind": "Secret", "name": credentials}],
        "strategy": "Reconcile",
    }
    return [manifests, obj(ADDONS, "ClusterResourceSet", meta(cluster, f"{cluster.name}-{addon}"), spec)]


def cpi_addons(cluster: Cluster) -> list[Doc]:
    """The ConfigMap of CPI manifests and the ClusterResourceSet that applies it and the credentials."""
    return resource_set(cluster, MANIFESTS, {"vsphere-cpi.yaml": dump(cpi_manifests(cluster))}, CREDENTIALS)
