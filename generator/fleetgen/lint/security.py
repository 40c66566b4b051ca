"""Least-privilege rules: where sets and workloads may deploy, and which Argo CD projects they may use."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from ..findings import Issue
from ..model import EXTRA_SET, MONITORING_SET, is_reserved_project
from .registry import Context, flag, rule

# Namespaces of the platform's own controllers (and their credentials). Patterns use shell globs.
SYSTEM_NAMESPACES = (
    "kube-*",
    "karmada-*",
    "capi-*",
    "cap?-*",
    "argocd",
    "cilium",
    "cilium-*",
    "cert-manager",
    "default",
    # fleetgen's own infrastructure on every spoke: Prometheus, the Thanos sidecar and its object-store
    # Secret (render/observability.py NAMESPACE; kube-system, the other one, is matched above).
    "monitoring",
    # the vSphere CPI/CSI a ClusterResourceSet installs (render/capi/vsphere_cloud.py): vmware-system-csi
    # holds the vCenter account in vsphere-config-secret.
    "vmware-system-*",
)


def system_namespace_pattern(namespace: str, argocd_namespace: str) -> str | None:
    if namespace == argocd_namespace:
        return argocd_namespace
    return next((p for p in SYSTEM_NAMESPACES if fnmatchcase(namespace, p)), None)


@rule(
    "system-namespace",
    fix="deploy into a namespace of your own; if this is intended, suppress it on this line "
    "with `# fleetgen: ignore[system-namespace]`",
)
def system_namespace(ctx: Context) -> Iterator[Issue]:
    """An applicationSet, workload or spoke extra manifest deploys into a system namespace.

    fleetgen grants Argo CD (on spokes) or Karmada (on members) write access, Secrets included, in
    every namespace a set, workload or spoke extra manifest (`extraManifests[].clusters`) names. In
    `kube-*`, `karmada-*` (the members' join credentials live in `karmada-cluster`), `capi-*`/`cap?-*`,
    `cilium*`, `cert-manager`, `default`, the Argo CD namespace, `monitoring` (fleetgen's own
    Prometheus and Thanos sidecar, with the credential that writes the cluster's metrics blocks) or
    `vmware-system-*` (the vSphere CSI driver and its vCenter account) that hands another
    controller's credentials and pods to whoever writes the set's source. Deny-listed on purpose; a
    platform team that really means it suppresses the finding on that line
    (`# fleetgen: ignore[system-namespace]`), which keeps the exception visible in review.
    """
    fleet = ctx.fleet
    entries = [(f"applicationSet {a.name!r}", a.namespace, a.path) for a in fleet.application_sets]
    entries += [(f"workload {w.name!r}", w.namespace, w.path) for w in fleet.workloads]
    for what, namespace, path in entries:
        pattern = system_namespace_pattern(namespace, fleet.argocd_namespace)
        if pattern is not None:
            yield flag((*path, "namespace"), f"{what} deploys into {namespace!r}, a system namespace ({pattern})")
    yield from _extra_system_namespaces(fleet)


def _extra_system_namespaces(fleet) -> Iterator[Issue]:
    """Spoke extra manifests in a system namespace: one finding per file and namespace, at the entry."""
    seen: set[tuple[tuple, str, str]] = set()
    for x in fleet.extra_files:
        if x.cluster is None:
            continue
        for n, doc in enumerate(x.documents):
            namespace = doc["metadata"].get("namespace")
            pattern = system_namespace_pattern(namespace, fleet.argocd_namespace) if namespace else None
            if pattern is None or (x.entry, x.source, namespace) in seen:
                continue
            seen.add((x.entry, x.source, namespace))
            yield flag(
                (*x.entry, "source"),
                f"extra manifest {x.source} (document {n}, {doc['kind']} {doc['metadata']['name']!r}) deploys into "
                f"{namespace!r} on the spokes, a system namespace ({pattern})",
            )


@rule("reserved-project", fix="use an environment's project (the default) or a project of your own")
def reserved_project(ctx: Context) -> Iterator[Issue]:
    """An applicationSet names one of fleetgen's own Argo CD projects.

    `fleet-platform` may write the hub namespaces fleetgen renders into and fleetgen's cluster-scoped objects,
    `fleet-workloads` writes Karmada, `fleet-extra` the objects of the spokes' extra manifests, and
    `fleet-agent-<cluster>` trusts one agent namespace; a user set in any of them would inherit that
    trust.
    """
    for a in ctx.fleet.application_sets:
        if is_reserved_project(a.project):
            yield flag((*a.path, "project"), f"applicationSet {a.name!r} names fleetgen's own project {a.project!r}")


@rule("reserved-appset", fix="rename the applicationSet: fleetgen renders one of its own under that name")
def reserved_appset(ctx: Context) -> Iterator[Issue]:
    """An applicationSet takes the name of one of fleetgen's own ApplicationSets.

    fleetgen renders `fleet-spoke-monitoring` (every cluster's monitoring dir) and `fleet-spoke-extra` (the
    spokes' extra manifests) into `hub/argocd/applicationsets/<name>.yaml`, the file a set of the same name
    would be rendered into: one of the two would be lost from the tree, and in Argo CD one object would have
    two definitions.
    """
    for a in ctx.fleet.application_sets:
        if a.name in (MONITORING_SET, EXTRA_SET):
            yield flag((*a.path, "name"), f"applicationSet {a.name!r} has the name of fleetgen's own set")
