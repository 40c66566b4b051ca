"""Argo CD AppProjects, split by trust (argo-cd v3.5, pkg/apis/application/v1alpha1).

* ``fleet-platform``: fleetgen's own Applications in the Argo CD namespace only (no
  ``sourceNamespaces``): ``fleet-root`` (the hub, limited to the hub namespaces fleetgen renders
  into: ``hub_namespaces``), ``karmada-policies`` (the
  workload namespaces and fleetgen's named ClusterTaintPolicies on Karmada) and spoke monitoring
  on push-mode clusters (namespaced only: its RBAC is in the admin-applied access.yaml), with only
  the hub's named cluster-scoped objects and those of the hand-written manifests in ``hub/extra``
  (fleet.yaml ``extraManifests``; a document there without ``metadata.namespace`` is named unless
  its kind is allowed already, which is harmless for a namespaced one).
* ``fleet-workloads``: the ``workload-*`` Applications. Their sources belong to teams, so the
  project allows Karmada only, only the workloads' namespaces, only the kinds listed in
  ``workloads[].resources`` (``namespaceResourceWhitelist``), and no cluster-scoped kind at all:
  an empty ``clusterResourceWhitelist`` permits nothing (AppProject.IsGroupKindNamePermitted).
  A ClusterRoleBinding, or a Karmada ``Work`` in ``karmada-es-<member>``, is refused at sync
  (controller/sync.go validateSyncPermissions).
* ``fleet-agent-<cluster>``: every Application of one pull-mode cluster, in its agent namespace.
  Only that namespace may hold them (``sourceNamespaces``), and they may reach only that agent's
  destinations. Argo CD's apps-in-any-namespace docs: never add a namespace others can write to a
  privileged project.
  Their extra manifests (``<cluster>-extra``) add that cluster's extra namespaces to its destinations
  and its cluster-scoped extra objects, by name, to its ``clusterResourceWhitelist``.
* ``fleet-extra``: the ``<cluster>-extra`` Applications of ``fleet-spoke-extra`` (fleet.yaml
  ``extraManifests[].clusters``, push-mode clusters): each spoke's server with the namespaces its
  extra documents name (and the empty namespace, the Applications' own destination), only the
  namespaced kinds present in those documents, and their cluster-scoped objects by name only.
* one project per environment for the ApplicationSets of fleet.yaml (push-mode clusters only).

A set in fleet.yaml may not name the first four (lint ``reserved-project``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..destinations import destination_server
from ..model import EXTRA_PROJECT, ApplicationSet, Cluster, Fleet, agent_apps_project_name, agent_project_name
from ..selectors import matches, select
from ..upstream import api_group
from . import File
from .argocd import (
    IN_CLUSTER,
    PLATFORM_CLUSTER_KINDS,
    PLATFORM_PROJECT,
    PROJECTS,
    WORKLOAD_PROJECT,
    _meta,
    agent_namespace,
    extra_cluster_scoped,
    extra_clusters,
    extra_namespaced_kinds,
    extra_namespaces,
    monitoring_application_set,
    registered,
    root_application,
)
from .capi import hub_cluster_scoped
from .karmada import cluster_taint_policies
from .observability import NAMESPACE as OBSERVABILITY_NAMESPACE

API = "argoproj.io/v1alpha1"


def _project(fleet: Fleet, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": "AppProject", "metadata": _meta(name, fleet.argocd_namespace), "spec": spec}


def _named(docs: list[dict[str, Any]]) -> list[dict[str, str]]:
    """clusterResourceWhitelist entries naming each object (Argo CD >= 3.0 matches ``name``)."""
    keys = sorted({(api_group(d), d["kind"], d["metadata"]["name"]) for d in docs})
    return [{"group": g, "kind": k, "name": n} for g, k, n in keys]


def _destinations(
    fleet: Fleet, sets: list[ApplicationSet], clusters: list[Cluster], extra: Sequence[Cluster] = ()
) -> list[dict[str, str]]:
    """Where ``sets`` deploy on ``clusters``, and (``extra``) those clusters' extra manifests: each server
    with the namespaces its extra documents name and with "" (the ``<cluster>-extra`` Applications' own)."""
    pairs = {(destination_server(fleet, c), a.namespace) for a in sets for c in select(a.clusters, clusters)}
    pairs |= {(destination_server(fleet, c), ns) for c in extra for ns in ["", *extra_namespaces(fleet, c)]}
    return [{"server": server, "namespace": ns} for server, ns in sorted(pairs)]


def _repos(fleet: Fleet, sets: list[ApplicationSet]) -> list[str]:
    values = {app.values_repo.repo_url for a in sets for app in a.apps if app.values_repo}
    return sorted({fleet.repo_url} | {app.repo_url for a in sets for app in a.apps if app.repo_url} | values)


def platform_project(fleet: Fleet) -> dict[str, Any]:
    monitoring = monitoring_application_set(fleet)
    push = registered(fleet, "push")
    hub = [{"server": IN_CLUSTER, "namespace": ns} for ns in hub_namespaces(fleet)]
    karmada = [{"server": fleet.karmada_server, "namespace": ns} for ns in karmada_namespaces(fleet)]
    spec: dict[str, Any] = {
        "description": f"fleetgen's own objects for fleet {fleet.name}",
        "sourceRepos": [fleet.repo_url],
        "destinations": hub + karmada + _destinations(fleet, [monitoring], push),
    }
    kinds = [{"group": g, "kind": k} for g, k in PLATFORM_CLUSTER_KINDS if k != "ClusterTaintPolicy"]
    named = cluster_taint_policies() if fleet.karmada_server and fleet.workloads else []
    named += hub_cluster_scoped(fleet)  # the hub's AWSClusterRoleIdentity objects
    named += _hub_extra_cluster_scoped(fleet, {(k["group"], k["kind"]) for k in kinds})
    spec["clusterResourceWhitelist"] = kinds + _named(named)
    return _project(fleet, PLATFORM_PROJECT, spec)


def hub_namespaces(fleet: Fleet) -> list[str]:
    """Every hub namespace ``fleet-root`` writes: Argo CD's own, the Querier's, each provisioned cluster's
    Cluster API namespace, each pull-mode cluster's agent namespace, and those ``hub/extra`` names (a
    document there without a namespace lands in the Argo CD namespace, the Application's destination).
    """
    names = {fleet.argocd_namespace, OBSERVABILITY_NAMESPACE}
    names |= {c.name for c in fleet.clusters if c.provisioned}
    names |= {agent_namespace(c) for c in registered(fleet, "pull")}
    names |= {
        d["metadata"]["namespace"] for x in fleet.extra_files for d in x.documents if d["metadata"].get("namespace")
    }
    return sorted(names)


def _hub_extra_cluster_scoped(fleet: Fleet, allowed: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """The documents of ``hub/extra`` without a namespace whose kind the project does not already allow."""
    return [
        d
        for x in fleet.extra_files
        if x.cluster is None
        for d in x.documents
        if not d["metadata"].get("namespace") and (api_group(d), d["kind"]) not in allowed
    ]


def extra_project(fleet: Fleet, push: list[Cluster]) -> dict[str, Any]:
    """``fleet-extra``: the push-mode spokes' extra manifests, and nothing else."""
    kinds = sorted(
        {(g, k) for c in push for ns in extra_namespaces(fleet, c) for g, k in extra_namespaced_kinds(fleet, c, ns)}
    )
    spec: dict[str, Any] = {
        "description": f"hand-written extra manifests of the push-mode spokes of fleet {fleet.name}",
        "sourceRepos": [fleet.repo_url],
        "destinations": _destinations(fleet, [], push, push),
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in kinds],
        "clusterResourceWhitelist": _named([d for c in push for d in extra_cluster_scoped(fleet, c)]),
    }
    return _project(fleet, EXTRA_PROJECT, spec)


def karmada_namespaces(fleet: Fleet) -> list[str]:
    """Namespaces fleetgen's Applications write on Karmada: those of the workloads."""
    if not fleet.karmada_server:
        return []
    return sorted({w.namespace for w in fleet.workloads})


def workload_project(fleet: Fleet) -> dict[str, Any]:
    server = str(fleet.karmada_server)
    kinds = sorted({(r.api_version.rpartition("/")[0], r.kind) for w in fleet.workloads for r in w.resources})
    spec: dict[str, Any] = {
        "description": f"team workloads of fleet {fleet.name}, delivered through Karmada",
        "sourceRepos": [fleet.repo_url],
        "destinations": [{"server": server, "namespace": ns} for ns in karmada_namespaces(fleet)],
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in kinds],
    }
    return _project(fleet, WORKLOAD_PROJECT, spec)


def agent_projects(fleet: Fleet, cluster: Cluster) -> list[dict[str, Any]]:
    """What is delivered to one pull-mode cluster, from its agent namespace, to it only, in two projects.

    Argo CD checks each object against the project by the object's own namespace (``controller/sync.go``
    ``validateSyncPermissions``), and argocd-agent copies a project's destinations to the agent as they are
    (``internal/manager/appproject`` ``AgentSpecificAppProject``). One project holding ``monitoring`` and the
    sets' namespaces would let a team's chart write into ``monitoring`` (a Pod mounting the Thanos object
    store Secret, another Prometheus). So fleetgen's own Applications (monitoring, extra manifests) are in
    ``fleet-agent-<cluster>``, the sets' in ``fleet-agent-<cluster>.apps``; both name the agent's namespace
    as their only source namespace and the agent's resource-proxy server, which is how the principal finds
    the agent a project belongs to (``DoesAgentMatchWithProject``)."""
    own = _agent_project(fleet, cluster, agent_project_name(cluster.name), [monitoring_application_set(fleet)])
    sets = [a for a in fleet.application_sets if matches(a.clusters, cluster.labels)]
    return [own, *([_agent_project(fleet, cluster, agent_apps_project_name(cluster.name), sets)] if sets else [])]


def _agent_project(fleet: Fleet, cluster: Cluster, name: str, sets: list[ApplicationSet]) -> dict[str, Any]:
    own = name == agent_project_name(cluster.name)
    extras = own and bool(fleet.spoke_extras(cluster.name))
    who = "fleetgen's own applications" if own else "the ApplicationSets' applications"
    spec: dict[str, Any] = {
        "description": f"{who} on pull-mode cluster {cluster.name}",
        "sourceRepos": _repos(fleet, sets),
        "destinations": _destinations(fleet, sets, [cluster], [cluster] if extras else []),
        "sourceNamespaces": [agent_namespace(cluster)],
    }
    # The namespaces the sets create, by name (the agent applies with its own install's RBAC; an entry without a
    # name permits every Namespace, `monitoring` included: a chart could then adopt, and on pruning delete, it),
    # and the extra manifests' cluster-scoped objects by name; an empty whitelist permits no cluster-scoped kind.
    created = sorted({a.namespace for a in sets if a.sync_policy.create_namespace})
    whitelist = [{"group": "", "kind": "Namespace", "name": ns} for ns in created]
    spec["clusterResourceWhitelist"] = whitelist + (_named(extra_cluster_scoped(fleet, cluster)) if extras else [])
    return _project(fleet, name, spec)


def environment_project(fleet: Fleet, environment: str) -> dict[str, Any]:
    """What the sets in this project need, on this environment's push-mode clusters only."""
    sets = [a for a in fleet.application_sets if a.project == environment]
    clusters = [c for c in registered(fleet, "push") if c.environment == environment]
    spec: dict[str, Any] = {
        "description": f"applications of the {environment} environment",
        "sourceRepos": _repos(fleet, sets),
        "destinations": _destinations(fleet, sets, clusters),
    }
    # No cluster-scoped kind, not even Namespace for CreateNamespace=true: access.yaml creates every namespace
    # Argo CD deploys to on a push-mode spoke, and Argo CD syncs a namespace that exists only to manage its
    # metadata (controller/sync_namespace.go syncNamespace; gitops-engine autoCreateNamespace only GETs it).
    return _project(fleet, environment, spec)


def render(fleet: Fleet) -> list[File]:
    """The AppProjects, and the root Application with the platform project it needs (bootstrap)."""
    return sorted([*fleet_files(fleet), *(f for c in fleet.clusters for f in cluster_files(fleet, c))], key=_path)


def cluster_files(fleet: Fleet, cluster: Cluster) -> list[File]:
    """One cluster's AppProject (a render unit of ``fleetgen.units``): its agent project when it is a registered
    pull-mode cluster, else none. It reads that cluster and the sets, never the other clusters."""
    if not (cluster.registered and cluster.argocd_mode == "pull"):
        return []
    return [File(f"{PROJECTS}/{agent_project_name(cluster.name)}.yaml", tuple(agent_projects(fleet, cluster)))]


def fleet_files(fleet: Fleet) -> list[File]:
    """The projects that span clusters: platform (with the root Application), environments, extra, workloads."""
    platform = platform_project(fleet)
    workloads = [File(f"{PROJECTS}/{WORKLOAD_PROJECT}.yaml", (workload_project(fleet),))]
    push = extra_clusters(fleet, "push")
    extra = [File(f"{PROJECTS}/{EXTRA_PROJECT}.yaml", (extra_project(fleet, push),))] if push else []
    files = [
        File("bootstrap/root-app.yaml", (platform, root_application(fleet))),
        *(File(f"{PROJECTS}/{env}.yaml", (environment_project(fleet, env),)) for env in fleet.environments),
        File(f"{PROJECTS}/{PLATFORM_PROJECT}.yaml", (platform,)),
        *extra,
        *(workloads if fleet.karmada_server and fleet.workloads else []),
    ]
    return sorted(files, key=_path)


def _path(file: File) -> str:
    return file.path
