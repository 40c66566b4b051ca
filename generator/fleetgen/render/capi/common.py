"""Cluster API pieces every provider shares: refs, metadata, the Cluster, health checks, versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ... import versions
from ...labels import PREFIX as LABEL_PREFIX
from ...model import Cluster, NodePool
from .. import File
from ..security import psa_labels

CORE = "cluster.x-k8s.io/v1beta2"
CONTROL_PLANE_GROUP = "controlplane.cluster.x-k8s.io"
BOOTSTRAP = "bootstrap.cluster.x-k8s.io/v1beta2"
CONTROL_PLANE = f"{CONTROL_PLANE_GROUP}/v1beta2"
CLUSTER_NAME_LABEL = "cluster.x-k8s.io/cluster-name"
MIN_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size"
MAX_SIZE = "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size"
# Who scales an autoscaled pool: "cluster-autoscaler" (the Cluster API provider of the
# cluster-autoscaler: EKS, kubeadm pools) or the cloud's own autoscaler ("gke", "aks"). Run the
# cluster-autoscaler with --node-group-auto-discovery=clusterapi:fleetgen.io/autoscaler=cluster-autoscaler
# so it never competes with GKE's or AKS's autoscaler for the same pool.
AUTOSCALER_LABEL = "fleetgen.io/autoscaler"
CLUSTER_AUTOSCALER = "cluster-autoscaler"
DEFAULT_PATCH = 0

Doc = dict[str, Any]


# ------------------------------------------------------------------ shared pieces


def ref(doc: Doc) -> dict[str, str]:
    """A v1beta2 reference to ``doc``: group (no version), kind, name."""
    group = doc["apiVersion"].rsplit("/", 1)[0]
    return {"apiGroup": group, "kind": doc["kind"], "name": doc["metadata"]["name"]}


# Argo CD prunes a resource carrying this after the sync's other resources are applied and healthy
# (gitops-engine sync_context.go, read from the live object).
PRUNE_LAST = {"argocd.argoproj.io/sync-options": "PruneLast=true"}


CAPI_DIR = "hub/capi/"  # each provisioned cluster's Cluster API file (render/capi render)
# The templates named after their content (``content_named``): a kubeadm cluster's machine and bootstrap templates.
CONTENT_NAMED = frozenset(
    {
        ("infrastructure.cluster.x-k8s.io", "VSphereMachineTemplate"),
        ("infrastructure.cluster.x-k8s.io", "DockerMachineTemplate"),
        ("bootstrap.cluster.x-k8s.io", "KubeadmConfigTemplate"),
    }
)


def content_named(files: Sequence[File]) -> list[File]:
    """``files`` with each Cluster API template named after its final spec (``<name>-<8 hex digits>``) and every
    reference to it in its file (the KubeadmControlPlane's, the MachineDeployments') following the new name.

    Cluster API treats machine and bootstrap templates as immutable: CAPV's and CAPD's webhooks reject
    any change to ``spec.template.spec`` (CAPV v1.16.1 ``internal/webhooks/vspheremachinetemplate.go``
    ``ValidateUpdate``), and a MachineDeployment rolls out only when its template *reference* changes, not
    when a referenced KubeadmConfigTemplate is edited in place. A changed spec is therefore a new object
    under a new name: the KubeadmControlPlane or MachineDeployment pointing at it rolls its machines out.
    The renderer marks them PruneLast (``PRUNE_LAST``): the old one is pruned at the end of the sync, once
    the MachineDeployments are healthy; a MachineSet of an older revision tolerates its template being
    gone (CAPI v1.14.0 ``machineset_controller.go`` ``reconcileExternalTemplateReference``).

    Runs after fleet.yaml's patches (``produce``, ``incremental``): a patch targets a template by the name
    the renderer gave it, and what it changes renames the template like any other change."""
    out = []
    for f in files:
        if not f.path.startswith(CAPI_DIR):  # only Cluster API files hold templates; another's documents stay untouched
            out.append(f)
            continue
        renamed: dict[tuple[str, str, str], str] = {}
        documents = []
        for doc in f.documents:
            meta = doc.get("metadata") if isinstance(doc, dict) else None
            if not (isinstance(meta, dict) and isinstance(doc.get("apiVersion"), str)):
                documents.append(doc)  # no object (a patch may have made it anything): left to the schema check
                continue
            key = (doc["apiVersion"].rsplit("/", 1)[0], doc.get("kind", ""), meta.get("name", ""))
            if key[:2] in CONTENT_NAMED and isinstance(key[2], str):
                renamed[key] = f"{key[2]}-{content_digest(doc.get('spec'))}"
                doc = {**doc, "metadata": {**meta, "name": renamed[key]}}
            documents.append(doc)
        out.append(File(f.path, tuple(_repointed(d, renamed) for d in documents), f.text) if renamed else f)
    return out


def content_digest(spec: Any) -> str:
    """The 8 hex digits a content-named template's name ends with: of its spec as canonical JSON."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def content_base(doc: Any) -> str | None:
    """The name a content-named template had before its digest; None when its name does not end in the digest
    of its own spec (not named by ``content_named``)."""
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str):
        return None
    base, dash, digest = name.rpartition("-")
    return base if dash and digest == content_digest(doc.get("spec")) else None


def _repointed(value: Any, renamed: Mapping[tuple[str, str, str], str]) -> Any:
    """``value`` with every reference ``{apiGroup, kind, name}`` to a renamed template pointing at its new name."""
    if isinstance(value, dict):
        key = (value.get("apiGroup"), value.get("kind"), value.get("name"))
        if key in renamed:
            return {**value, "name": renamed[key]}  # type: ignore[index]
        return {k: _repointed(v, renamed) for k, v in value.items()}
    if isinstance(value, list):
        return [_repointed(v, renamed) for v in value]
    return value


def fleet_labels(cluster: Cluster) -> dict[str, str]:
    """Fleet labels as valid label keys: prefixed keys stay, plain ones get ``fleetgen.io/``."""
    labels = {k if "/" in k else LABEL_PREFIX + k: v for k, v in cluster.labels.items()}
    return dict(sorted({CLUSTER_NAME_LABEL: cluster.name, **labels}.items()))


def meta(
    cluster: Cluster, name: str, annotations: dict[str, str] | None = None, labels: dict[str, str] | None = None
) -> Doc:
    out: Doc = {
        "name": name,
        "namespace": cluster.name,
        "labels": dict(sorted({CLUSTER_NAME_LABEL: cluster.name, **(labels or {})}.items())),
    }
    if annotations:
        out["annotations"] = annotations
    return out


def obj(api_version: str, kind: str, metadata: Doc, spec: Doc) -> Doc:
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


def namespace(cluster: Cluster, pod_security: str) -> Doc:
    """The hub namespace of one cluster's Cluster API objects: fleet labels, then Pod Security labels.

    Nothing fleetgen renders runs pods there, so the fleet's level (``security.podSecurity``) costs
    nothing and keeps a pod someone adds there from running privileged next to the cluster's
    kubeconfig Secrets.
    """
    metadata = {"name": cluster.name, "labels": {**fleet_labels(cluster), **psa_labels(pod_security)}}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def core_cluster(cluster: Cluster, infra: Doc, control_plane: Doc) -> Doc:
    metadata = {"name": cluster.name, "namespace": cluster.name, "labels": fleet_labels(cluster)}
    network = {
        "pods": {"cidrBlocks": [str(cluster.network.pods)]},
        "services": {"cidrBlocks": [str(cluster.network.services)]},
    }
    spec = {"clusterNetwork": network, "controlPlaneRef": ref(control_plane), "infrastructureRef": ref(infra)}
    return obj(CORE, "Cluster", metadata, spec)


def health_check(cluster: Cluster) -> Doc:
    """Replace Machines whose Node is not Ready for 5 minutes, unless 40% or more are.

    Only kubeadm providers (vSphere, Docker) get one: a MachineHealthCheck acts on Machines
    (core/reconcilers/machinehealthcheck), and managed MachinePools (EKS, GKE, AKS)
    have none; their clouds repair nodes themselves.
    """
    checks = {
        "nodeStartupTimeoutSeconds": 600,
        "unhealthyNodeConditions": [
            {"type": "Ready", "status": "Unknown", "timeoutSeconds": 300},
            {"type": "Ready", "status": "False", "timeoutSeconds": 300},
        ],
    }
    spec = {
        "clusterName": cluster.name,
        "selector": {"matchLabels": {CLUSTER_NAME_LABEL: cluster.name}},
        "checks": checks,
        "remediation": {"triggerIf": {"unhealthyLessThanOrEqualTo": "40%"}},
    }
    return obj(CORE, "MachineHealthCheck", meta(cluster, f"{cluster.name}-node-unhealthy"), spec)


def pool_name(cluster: Cluster, pool: NodePool) -> str:
    return f"{cluster.name}-{pool.name}"


def autoscaled(pool: NodePool) -> bool:
    return pool.min < pool.max


def autoscaler_annotations(pool: NodePool) -> dict[str, str]:
    """Min/max for autoscaled pools: CAPI's defaulting webhook seeds ``replicas`` with the min on create."""
    return {MAX_SIZE: str(pool.max), MIN_SIZE: str(pool.min)} if autoscaled(pool) else {}


def autoscaler_labels(pool: NodePool, scaled_by: str) -> dict[str, str]:
    return {AUTOSCALER_LABEL: scaled_by} if autoscaled(pool) else {}


def autoscaler_replicas(pool: NodePool) -> Doc:
    """``replicas`` only for fixed pools: an autoscaler owns it otherwise, and git must not fight it.

    CAPI's MachinePool/MachineDeployment defaulting webhooks (core/webhooks/admission) set it to
    the min-size annotation on create and keep the live value on every later apply without it.
    """
    return {} if autoscaled(pool) else {"replicas": pool.min}


# ------------------------------------------------------------------ versions


def version_parts(version: str) -> tuple[int, int, int | None]:
    major, minor, *patch = versions.parse(version)
    return major, minor, patch[0] if patch else None


def semver(version: str) -> str:
    """``v1.30.0`` from ``1.30`` (patch ``DEFAULT_PATCH``), ``v1.30.4`` from ``1.30.4``."""
    major, minor, patch = version_parts(version)
    return f"v{major}.{minor}.{DEFAULT_PATCH if patch is None else patch}"


def minor_version(version: str, prefix: str = "v") -> str:
    major, minor, _ = version_parts(version)
    return f"{prefix}{major}.{minor}"


def pinned_version(version: str) -> str | None:
    """The exact version when the fleet pins a patch, else None (let the cloud pick)."""
    return semver(version) if version_parts(version)[2] is not None else None


def gke_version(version: str) -> str:
    return (pinned_version(version) or minor_version(version)).lstrip("v")


# ------------------------------------------------------------------ managed pools


def machine_pool(
    cluster: Cluster, pool: NodePool, infra: Doc, version: str | None, scaled_by: str, replicas: int | None = None
) -> Doc:
    """A MachinePool whose nodes the cloud bootstraps (no bootstrap config, empty data secret); ``replicas``: a
    count its provider needs on an autoscaled pool (``autoscaler_replicas`` otherwise)."""
    template_spec: Doc = {
        "bootstrap": {"dataSecretName": ""},
        "clusterName": cluster.name,
        "infrastructureRef": ref(infra),
    }
    if version:
        template_spec["version"] = version
    counted = {"replicas": replicas} if replicas is not None else autoscaler_replicas(pool)
    spec = {"clusterName": cluster.name, **counted, "template": {"spec": template_spec}}
    metadata = meta(cluster, pool_name(cluster, pool), autoscaler_annotations(pool), autoscaler_labels(pool, scaled_by))
    return obj(CORE, "MachinePool", metadata, spec)


def with_pools(cluster: Cluster, pool_docs: Callable[[NodePool], list[Doc]]) -> list[Doc]:
    return [doc for pool in cluster.node_pools for doc in pool_docs(pool)]
