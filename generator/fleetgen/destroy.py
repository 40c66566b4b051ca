"""What a change destroys, for the first line of the review (like ``terraform plan``'s "N to destroy").

Everything under ``rendered/hub`` is synced by the ``fleet-root`` Application with
``prune: true``, so a document removed there is deleted from the hub. What that deletion does:

- **Cluster API clusters.** A removed ``cluster.x-k8s.io`` ``Cluster`` is deleted, and Cluster
  API deletes the cluster's machines and cloud infrastructure with it (the Cluster's deletion
  cascades to its control plane and infrastructure objects, cluster-api
  ``internal/controllers/cluster/cluster_controller.go`` ``reconcileDelete``).
- **Argo CD Applications.** An Application an ApplicationSet no longer generates is deleted by
  the ApplicationSet controller unless ``spec.syncPolicy.applicationsSync`` is ``create-only`` or
  ``create-update`` (``ApplicationsSyncPolicy.AllowDelete``). Its deployed resources are deleted
  with it when it carries ``resources-finalizer.argocd.argoproj.io``: the controller adds that
  finalizer unless the template sets finalizers itself or ``preserveResourcesOnDeletion`` is
  true (argo-cd ``applicationset/utils/utils.go`` ``RenderTemplateParams``), and removes it first
  when the Application's destination cluster no longer exists
  (``applicationset_controller.go`` ``removeFinalizerOnInvalidDestination``). Plain Applications
  in the tree (pull-mode clusters, workloads) are pruned by ``fleet-root`` and delete their
  resources exactly when they carry that finalizer.
- **Karmada placements** whose replica count on a cluster goes down (or to none).
- **Mesh peers** removed from the Cilium ClusterMesh configuration of the remaining clusters.
- **Clusters that cannot be adopted.** A vSphere or Docker cluster switched from ``external`` to
  ``managed`` is not taken over: CAPV/CAPD build a second cluster from the new Machines, and on
  vSphere its control plane claims the running cluster's endpoint address (``plan/adoption.py``).
  Nothing is deleted, but the running cluster is put at risk, so ``--fail-on destroy`` fails on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .destinations import destination_server
from .model import Fleet

if TYPE_CHECKING:
    from .diff import DocumentDiff
    from .plan.applications import Application
    from .plan.delta import PlanDelta

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"  # also …/background and …/foreground
KEEPING_POLICIES = ("create-only", "create-update")
PEER_LIST = "clustermesh.config.clusters["


@dataclass(frozen=True)
class Pruned:
    """An Argo CD Application that the change deletes."""

    name: str
    source: str  # the ApplicationSet that generated it, or the file it was in
    deletes_resources: bool
    why: str  # the rule that decides what happens to its resources


@dataclass(frozen=True)
class Destruction:
    clusters: tuple[str, ...] = ()  # namespace/name of Cluster API Clusters deleted
    applications: tuple[Pruned, ...] = ()
    kept_applications: tuple[str, ...] = ()  # no longer generated, but the ApplicationSet's policy keeps them
    replicas: tuple[tuple[str, str, int, int], ...] = ()  # (workload, cluster, old, new) where new < old
    peers: Mapping[str, int] = field(default_factory=dict)  # peer name -> number of clusters it leaves
    removed_documents: int = 0
    rebuilt: tuple[str, ...] = ()  # running clusters switched to managed that Cluster API builds again (not adoptable)

    @property
    def count(self) -> int:
        """Destructive actions: clusters, Applications, placements, peers and clusters not adoptable (not documents)."""
        return len(self.clusters) + len(self.applications) + len(self.replicas) + len(self.peers) + len(self.rebuilt)

    @property
    def any(self) -> bool:
        """Anything deleted at all, a removed manifest included: what ``--fail-on destroy`` fails on."""
        return bool(self.count or self.removed_documents)


def _kind(doc: Any) -> tuple[str, str]:
    if not isinstance(doc, dict):
        return "", ""
    return str(doc.get("apiVersion", "")).rpartition("/")[0], str(doc.get("kind", ""))


def _name(doc: dict) -> str:
    meta = doc.get("metadata") or {}
    return f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))


def deleted_clusters(removed: Iterable[tuple[str, Any]]) -> tuple[str, ...]:
    """Cluster API Clusters among the removed (file, document) pairs."""
    return tuple(sorted(_name(doc) for _, doc in removed if _kind(doc) == ("cluster.x-k8s.io", "Cluster")))


def has_resources_finalizer(finalizers: Any) -> bool:
    return any(str(f).startswith(RESOURCES_FINALIZER) for f in finalizers or ())


def generated(
    app: Application, appset: tuple[Mapping[str, Any] | None, Mapping[str, Any] | None] | None, servers: set[str]
) -> Pruned | None:
    """What happens to an Application its ApplicationSet stops generating; None when the policy keeps it.

    ``appset``: the set before and after the change. Whether it deletes the Application is the set's policy
    as the controller runs it after the change (the head's); what that deletion does to the resources is
    decided by the finalizers the running Application carries, which it got from the set before the change:
    the controller resets an Application's finalizers only while it still generates it
    (``applicationset_controller.go`` ``createOrUpdateInCluster``), then ``deleteInCluster`` deletes the
    others as they are. So a change that turns ``preserveResourcesOnDeletion`` on and drops an
    Application in the same commit still deletes its resources."""
    before, after = appset or (None, None)
    policy = ((after or before or {}).get("spec") or {}).get("syncPolicy") or {}
    if policy.get("applicationsSync") in KEEPING_POLICIES:
        return None
    spec = (before or after or {}).get("spec") or {}
    finalizers = ((spec.get("template") or {}).get("metadata") or {}).get("finalizers")
    if app.server not in servers:
        return Pruned(
            app.name,
            app.application_set,
            False,
            "destination cluster removed: Argo CD drops the finalizer and leaves the resources",
        )
    if finalizers:
        keeps = not has_resources_finalizer(finalizers)
        return Pruned(app.name, app.application_set, not keeps, "template finalizers")
    if (spec.get("syncPolicy") or {}).get("preserveResourcesOnDeletion"):
        return Pruned(app.name, app.application_set, False, "preserveResourcesOnDeletion")
    return Pruned(app.name, app.application_set, True, RESOURCES_FINALIZER)


def plain(file: str, doc: dict) -> Pruned:
    """A removed Application document, pruned by fleet-root."""
    finalizers = (doc.get("metadata") or {}).get("finalizers")
    deletes = has_resources_finalizer(finalizers)
    return Pruned(
        str((doc.get("metadata") or {}).get("name")),
        file,
        deletes,
        RESOURCES_FINALIZER if deletes else "no resources finalizer",
    )


def applications(
    removed_apps: Iterable[Application], removed: list[tuple[str, Any]], appsets: Mapping[str, Any], servers: set[str]
) -> tuple[tuple[Pruned, ...], tuple[str, ...]]:
    """(Applications deleted, Applications kept by policy): generated ones and removed Application documents."""
    plain_docs = {
        (doc.get("metadata") or {}).get("name"): (file, doc)
        for file, doc in removed
        if _kind(doc) == ("argoproj.io", "Application")
    }
    pruned, kept = [], []
    for app in removed_apps:
        if app.name in plain_docs:  # a pull-mode cluster's Application, written out plainly
            continue
        outcome = generated(app, appsets.get(app.application_set), servers)
        pruned.append(outcome) if outcome else kept.append(app.name)
    pruned += [plain(file, doc) for file, doc in plain_docs.values()]
    return tuple(sorted(pruned, key=lambda p: p.name)), tuple(sorted(kept))


def lost_replicas(placements: Mapping[str, Mapping[str, tuple[int | None, int | None]]]):
    return tuple(
        (w, c, old, new or 0)
        for w, moves in placements.items()
        for c, (old, new) in moves.items()
        if old and (new or 0) < old
    )


def removed_peers(changes: Iterable[tuple[str, Any, Any]]) -> dict[str, int]:
    """Peers leaving Cilium ClusterMesh configurations: (path, old, new) changes of cilium values."""
    out: dict[str, int] = {}
    for path, old, new in changes:
        if path.startswith(PEER_LIST) and isinstance(old, dict) and not isinstance(new, dict):
            out[str(old.get("name"))] = out.get(str(old.get("name")), 0) + 1
    return dict(sorted(out.items()))


def assess(documents: Iterable[DocumentDiff], plan: PlanDelta, appsets: Mapping[str, Any], head: Fleet) -> Destruction:
    """The destructive part of a change, from the document diff, the plan delta and the ApplicationSets."""
    documents = list(documents)
    removed = [(d.file, d.before) for d in documents if d.status == "removed"]
    servers = {destination_server(head, c) for c in head.clusters if c.registered}
    apps, kept = applications(plan.applications_removed, removed, appsets, servers)
    peer_changes = ((c.path, c.old, c.new) for d in documents if d.ident == "cilium/values.yaml" for c in d.changes)
    return Destruction(
        deleted_clusters(removed),
        apps,
        kept,
        lost_replicas(plan.placements),
        removed_peers(peer_changes),
        len(removed),
        plan.not_adoptable,
    )
