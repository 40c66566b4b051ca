"""Argo CD render target: the hub's Argo CD objects for the whole fleet (Argo CD v3.5).

Bootstrap. ``bootstrap/root-app.yaml`` holds the ``fleet-platform`` AppProject and the
``fleet-root`` Application. An operator applies it once by hand
(``kubectl apply -f bootstrap/root-app.yaml``); from then on ``fleet-root`` syncs
``<renderedDir>/hub`` recursively into the hub and adopts the AppProject it was seeded with
(the same object is rendered again under ``hub/argocd/projects``).

Cluster Secrets (``hub/argocd/clusters/<cluster>.yaml``, registered push-mode clusters only) carry
every cluster label plus ``fleetgen.io/fleet`` and ``fleetgen.io/argocd-mode``, so ApplicationSet
cluster-generator selectors see exactly what fleet.yaml selects. ``namespaces`` (comma-separated)
and ``clusterResources: "true"`` keep Argo CD inside the namespaces it deploys to there, the same
ones access.py grants (util/db/cluster.go SecretToCluster). No credential is ever written:

* EKS: ``awsAuthConfig {clusterName, roleARN}``; Argo CD assumes the role through IRSA
  (argo-cd docs/operator-manual/declarative-setup.md "EKS"). The EKS cluster name is the
  fleet cluster name, so Cluster API must set ``eksClusterName`` to it.
* GKE: ``execProviderConfig`` running ``argocd-k8s-auth gcp`` (Workload Identity).
* AKS: ``argocd-k8s-auth azure`` with ``AAD_LOGIN_METHOD=workloadidentity``. Client id, tenant
  and federated token file are injected into the Argo CD pods by the Azure Workload Identity
  webhook, and exec plugins inherit the pod environment, so none of them is written here.
* vSphere, Docker and imported push-mode clusters: stock Argo CD has no credential-free
  form for them (argocd-k8s-auth knows only aws, gcp and azure). The Secret is rendered
  without a ``config`` key (Argo CD treats a missing one as empty, util/db/cluster.go
  SecretToCluster) and annotated ``fleetgen.io/credentials: out-of-git``. The ``config`` JSON with
  the bearer token of the ``fleetgen-argocd-manager`` ServiceAccount (see access.py) is merged
  in outside git, e.g. an ExternalSecret with ``target.creationPolicy: Merge``. Argo CD leaves
  the key alone because it is in neither the manifest nor its last-applied state.
* The Karmada API server is registered the same way, as the Argo CD cluster ``karmada``.
* ``tlsClientConfig.caData`` is the cluster's ``caData`` from fleet.yaml (a public CA bundle):
  EKS/GKE/AKS endpoints are not signed by a public CA, so without it Argo CD cannot verify them.

Pull mode (``argocd.mode: pull``) uses argocd-agent in managed mode (argoproj-labs/argocd-agent).
The hub runs the principal, the spoke an agent named after the cluster. The agent's cluster
Secret is not rendered: the documented flow (docs/user-guide/adding-agents.md) is
``argocd-agentctl agent create <agent> --resource-proxy-server <proxy>``, which writes
``cluster-<agent>`` with the agent-name label, the skip-reconcile annotation, the server
``https://argocd-agent-resource-proxy.<ns>.svc:9090?agentName=<agent>`` and a freshly issued
resource-proxy client certificate, and which exits if that Secret already exists
(cmd/ctl/agent.go). rendered/README.md prints the command per pull-mode cluster. With the
default namespace-based mapping the principal routes an Application to an agent by the hub
namespace named after the agent (docs/concepts/agent-mapping.md), so that namespace is rendered. An
ApplicationSet cannot create Applications there: the controller forces every generated
Application into the ApplicationSet's own namespace (applicationset/controllers/template). So
ApplicationSets select push-mode clusters only (``fleetgen.io/argocd-mode: push``) and pull-mode
clusters get plain Applications in their agent namespace, written in the same file. The hub's
``application.namespaces`` and the principal's ``allowed-namespaces`` must list those namespaces.

Projects are split by trust in projects.py: ``fleet-platform`` (fleetgen's own, no
``sourceNamespaces``), ``fleet-workloads`` (team sources, Karmada only), ``fleet-agent-<cluster>``
(every Application of one pull-mode cluster, from its agent namespace) and one per environment.

Deletion. Safe by default: an Application the ApplicationSet controller deletes (a cluster
relabelled out of a selector or deregistered, an app or set removed from fleet.yaml) leaves its
resources running on the spoke. ``syncPolicy.preserveResourcesOnDeletion: true`` stops the
controller from adding ``resources-finalizer.argocd.argoproj.io`` to generated Applications
(applicationset/utils/utils.go); pull-mode Applications follow the same setting by carrying the
finalizer or not. ``applicationSets[].syncPolicy.preserveResourcesOnDeletion: false`` opts a set
into cascading deletion. fleetgen's own ``workload-*`` Applications keep the finalizer on
purpose: removing a workload from fleet.yaml is how it is withdrawn from Karmada.

Templates. Every ApplicationSet uses ``goTemplate`` with ``missingkey=error``. User strings that
reach a template field (directly, or through List elements, which the Matrix generator renders
with the Clusters parameters) have ``{{`` escaped; only the documented ``{{cluster}}``
placeholder becomes ``{{.name}}``. Helm values and parameters, sync options, retry, ignoreDifferences,
multiple sources and the RollingSync strategy are built in appset_spec.py, which escapes at every depth.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

from ..destinations import destination_server
from ..labels import FLEET_LABEL, MODE_LABEL
from ..model import (
    EXTRA_APP,
    EXTRA_PROJECT,
    EXTRA_SET,
    KARMADA_POLICIES_APP,
    MONITORING_APP,
    MONITORING_SET,
    PLATFORM_PROJECT,
    ROOT_APP,
    WORKLOAD_APP_PREFIX,
    WORKLOAD_PROJECT,
    App,
    ApplicationSet,
    Cluster,
    Fleet,
    Requirement,
    Selector,
    SyncPolicy,
    Workload,
    agent_apps_project_name,
    agent_project_name,
)
from ..selectors import matches, select
from ..upstream import api_group
from . import File, appset_spec, security
from .appset_spec import escape_go_template

API = "argoproj.io/v1alpha1"
PROJECTS = "hub/argocd/projects"
APPLICATIONS = "hub/argocd/applications"
IN_CLUSTER = "https://kubernetes.default.svc"
AGENT_LABEL = "argocd-agent.argoproj-labs.io/agent-name"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
SKIP_RECONCILE = "argocd.argoproj.io/skip-reconcile"
CREDENTIALS_ANNOTATION = "fleetgen.io/credentials"
APPSET_LABEL = "fleetgen.io/application-set"
# pkg/apis/application/v1alpha1 ResourcesFinalizerName: deleting the Application deletes its resources.
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
CLUSTER_PLACEHOLDER = "{{cluster}}"
K8S_AUTH_API = "client.authentication.k8s.io/v1beta1"
AKS_LOGIN = "workloadidentity"
MONITORING_NAMESPACE = "monitoring"
KARMADA_CLUSTER = "karmada"
# Karmada-side cluster-scoped kinds fleetgen syncs itself (karmada/cluster-taint-policy.yaml).
PLATFORM_CLUSTER_KINDS = (("", "Namespace"), ("policy.karmada.io", "ClusterTaintPolicy"))


def render(fleet: Fleet) -> list[File]:
    """Cluster Secrets, Karmada's, and the ApplicationSets; projects.py renders the AppProjects and root app."""
    files = [*(f for c in fleet.clusters for f in cluster_files(fleet, c)), *fleet_files(fleet)]
    return sorted(files, key=lambda f: f.path)


def cluster_files(fleet: Fleet, cluster: Cluster) -> list[File]:
    """The files of one cluster (a render unit of ``fleetgen.units``): its cluster Secret or agent namespace.

    A pull-mode cluster that Cluster API provisions has its agent namespace already: the namespace
    of its Cluster API objects (``hub/capi/<cluster>.yaml``, Pod Security labels included) has the
    same name, and ``fleet-root`` must not sync two definitions of one object (Argo CD keeps one of
    them and warns that the resource appears twice).
    """
    if not cluster.registered or (cluster.argocd_mode == "pull" and cluster.provisioned):
        return []
    return [cluster_file(fleet, cluster)]


def fleet_files(fleet: Fleet) -> list[File]:
    """Everything else: Karmada's files and the ApplicationSets."""
    return [*_karmada_files(fleet), *(appset_file(fleet, a) for a in delivered_sets(fleet)), *extra_file(fleet)]


# ---------------------------------------------------------------- shared helpers


def registered(fleet: Fleet, mode: str | None = None) -> list[Cluster]:
    return [c for c in fleet.clusters if c.registered and mode in (None, c.argocd_mode)]


def agent_namespace(cluster: Cluster) -> str:
    """The hub namespace holding a pull-mode cluster's Applications: named after its agent."""
    return cluster.name


def template_text(text: str) -> str:
    """A user string for a goTemplate field: escaped, with ``{{cluster}}`` as the cluster's name."""
    return "{{.name}}".join(escape_go_template(part) for part in text.split(CLUSTER_PLACEHOLDER))


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update({key: value for key, value in extra.items() if value})
    return meta


def _config_json(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, separators=(",", ":"))


_sync_policy = appset_spec.sync_policy


def _source(repo: str, revision: str, path: str, helm: dict[str, Any] | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {"repoURL": repo, "targetRevision": revision, "path": path}
    if helm:
        source["helm"] = helm
    return source


def _application(
    meta: dict[str, Any],
    project: str,
    source: dict,
    destination: dict,
    sync: dict,
    extras: dict[str, Any] | None = None,
    ref: dict[str, Any] | None = None,
) -> dict:
    spec = {
        "project": project,
        **appset_spec.source_fields(source, ref),
        "destination": destination,
        "syncPolicy": sync,
        **(extras or {}),
    }
    return {"apiVersion": API, "kind": "Application", "metadata": meta, "spec": spec}


def deploy_namespaces(fleet: Fleet, cluster: Cluster) -> list[str]:
    """Namespaces Argo CD deploys to on ``cluster``: every delivered set whose selector matches it, and
    those its extra manifests name."""
    sets = {a.namespace for a in delivered_sets(fleet) if matches(a.clusters, cluster.labels)}
    return sorted(sets | set(extra_namespaces(fleet, cluster)))


# ---------------------------------------------------------------- extra manifests on spokes


def extra_namespaces(fleet: Fleet, cluster: Cluster) -> list[str]:
    """The namespaces of the namespaced documents copied to ``cluster/extra`` (extras.py made every one name it)."""
    return sorted({d["metadata"]["namespace"] for d in fleet.spoke_extras(cluster.name) if _namespaced(d)})


def extra_namespaced_kinds(fleet: Fleet, cluster: Cluster, namespace: str) -> list[tuple[str, str]]:
    """(API group, kind) of the extra documents in ``namespace`` on ``cluster``, sorted."""
    docs = fleet.spoke_extras(cluster.name)
    return sorted({(api_group(d), d["kind"]) for d in docs if d["metadata"].get("namespace") == namespace})


def extra_cluster_scoped(fleet: Fleet, cluster: Cluster) -> list[dict[str, Any]]:
    """The cluster-scoped documents copied to ``cluster``: named one by one in RBAC and the project."""
    return [d for d in fleet.spoke_extras(cluster.name) if not _namespaced(d)]


def _namespaced(doc: dict[str, Any]) -> bool:
    return "namespace" in doc["metadata"]


def extra_clusters(fleet: Fleet, mode: str) -> list[Cluster]:
    """Registered clusters of ``mode`` that extra manifests are copied to."""
    spokes = set(fleet.extra_spokes)
    return [c for c in registered(fleet, mode) if c.name in spokes]


def _extra_source(fleet: Fleet, cluster: Cluster | None) -> dict[str, Any]:
    """The cluster's extra dir, recursively; ``None``: the ApplicationSet's template (user strings escaped)."""
    top = f"{fleet.rendered_dir}/clusters/"
    if cluster is None:
        repo, revision = escape_go_template(fleet.repo_url), escape_go_template(fleet.repo_revision)
        source = _source(repo, revision, escape_go_template(top) + "{{.name}}/extra")
    else:
        source = _source(fleet.repo_url, fleet.repo_revision, f"{top}{cluster.name}/extra")
    source["directory"] = {"recurse": True}
    return source


# Every document names its namespace (or is cluster-scoped), so the destination namespace is empty:
# the project allows it on these servers only, and each object is checked against its own namespace
# (controller/sync.go validateSyncPermissions). Namespaces exist already (access.yaml), hence no
# CreateNamespace, and removing an entry removes its objects from the spoke (prune).
_EXTRA_SYNC = SyncPolicy(create_namespace=False)


def extra_application_set(fleet: Fleet, push: list[Cluster]) -> dict[str, Any]:
    """``fleet-spoke-extra``: ``clusters/<c>/extra`` to each push-mode cluster listed by name."""
    names = Selector(MappingProxyType({}), (Requirement("name", "In", tuple(c.name for c in push)),), ())
    template = {
        "metadata": {"name": "{{.name}}-" + EXTRA_APP},
        "spec": {
            "project": EXTRA_PROJECT,
            "source": _extra_source(fleet, None),
            "destination": {"server": "{{.server}}", "namespace": ""},
            "syncPolicy": _sync_policy(_EXTRA_SYNC),
        },
    }
    spec = {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [{"clusters": {"selector": push_selector(fleet, names)}}],
        "template": template,
        "syncPolicy": {"preserveResourcesOnDeletion": _EXTRA_SYNC.preserve_resources_on_deletion},
    }
    return {
        "apiVersion": API,
        "kind": "ApplicationSet",
        "metadata": _meta(EXTRA_SET, fleet.argocd_namespace),
        "spec": spec,
    }


def extra_pull_application(fleet: Fleet, cluster: Cluster) -> dict[str, Any]:
    """``<cluster>-extra`` in the agent's hub namespace, under the agent's own project."""
    meta = _meta(
        f"{cluster.name}-{EXTRA_APP}",
        agent_namespace(cluster),
        labels={APPSET_LABEL: EXTRA_SET},
        finalizers=deletion_finalizers(_EXTRA_SYNC),
    )
    destination = {"server": destination_server(fleet, cluster), "namespace": ""}
    project = agent_project_name(cluster.name)
    return _application(meta, project, _extra_source(fleet, cluster), destination, _sync_policy(_EXTRA_SYNC))


def extra_file(fleet: Fleet) -> list[File]:
    """``hub/argocd/applicationsets/fleet-spoke-extra.yaml``, when extra manifests reach a registered spoke."""
    push, pull = extra_clusters(fleet, "push"), extra_clusters(fleet, "pull")
    docs = [extra_application_set(fleet, push)] if push else []
    docs += [extra_pull_application(fleet, c) for c in pull]
    return [File(f"hub/argocd/applicationsets/{EXTRA_SET}.yaml", tuple(docs))] if docs else []


def deletion_finalizers(policy: SyncPolicy) -> list[str]:
    """What an ApplicationSet would give a generated Application: the resources finalizer unless preserved."""
    return [] if policy.preserve_resources_on_deletion else [RESOURCES_FINALIZER]


# ---------------------------------------------------------------- cluster Secrets


def cluster_file(fleet: Fleet, cluster: Cluster) -> File:
    """Push mode: the cluster Secret. Pull mode: only the agent namespace; ``argocd-agentctl agent
    create`` writes that cluster's Secret (with its client certificate) and refuses to run when a
    Secret of that name exists (argocd-agent cmd/ctl/agent.go), so fleetgen must not pre-create it."""
    if cluster.argocd_mode == "pull":
        return File(f"hub/argocd/clusters/{cluster.name}.yaml", (security.namespace(fleet, agent_namespace(cluster)),))
    return File(f"hub/argocd/clusters/{cluster.name}.yaml", (cluster_secret(fleet, cluster),))


def cluster_secret(fleet: Fleet, cluster: Cluster) -> dict[str, Any]:
    config = auth_config(cluster)
    data = {"name": cluster.name, "server": destination_server(fleet, cluster)}
    # Argo CD watches and syncs only these namespaces, plus the cluster-scoped kinds its RBAC lets
    # it list (util/db/cluster.go SecretToCluster: comma-separated ``namespaces``, ``clusterResources``).
    data["namespaces"] = ",".join(deploy_namespaces(fleet, cluster))
    data["clusterResources"] = "true"
    annotations = {}
    if cluster.argocd_mode == "pull":
        annotations[SKIP_RECONCILE] = "true"
    if config is None:
        annotations[CREDENTIALS_ANNOTATION] = "out-of-git"
    else:
        data["config"] = _config_json(config)
    name = f"cluster-{cluster.name}"
    meta = _meta(name, fleet.argocd_namespace, labels=secret_labels(fleet, cluster), annotations=annotations)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "stringData": data}


def secret_labels(fleet: Fleet, cluster: Cluster) -> dict[str, str]:
    """Every cluster label, then fleetgen's own (which win: selectors and Argo CD rely on them)."""
    labels = dict(cluster.labels)
    labels.update({FLEET_LABEL: fleet.name, MODE_LABEL: cluster.argocd_mode, SECRET_TYPE_LABEL: "cluster"})
    if cluster.argocd_mode == "pull":
        labels[AGENT_LABEL] = cluster.name
    return dict(sorted(labels.items()))


def auth_config(cluster: Cluster) -> dict[str, Any] | None:
    """The credential-free Argo CD cluster config, or None where only an out-of-git credential works."""
    if cluster.argocd_mode == "pull":
        return None
    build = {"aws": _eks_auth, "gcp": _gke_auth, "azure": _aks_auth}.get(cluster.provider.type)
    return build(cluster) if build else None


def _eks_auth(cluster: Cluster) -> dict[str, Any]:
    aws = {"clusterName": cluster.name}
    if cluster.provider.role_arn:
        aws["roleARN"] = cluster.provider.role_arn
    return {"awsAuthConfig": aws, "tlsClientConfig": _tls(cluster)}


def _tls(cluster: Cluster) -> dict[str, Any]:
    return {"insecure": False, **({"caData": cluster.ca_data} if cluster.ca_data else {})}


def _exec_auth(cluster: Cluster, provider: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    run: dict[str, Any] = {"apiVersion": K8S_AUTH_API, "command": "argocd-k8s-auth", "args": [provider]}
    if env:
        run["env"] = env
    return {"execProviderConfig": run, "tlsClientConfig": _tls(cluster)}


def _gke_auth(cluster: Cluster) -> dict[str, Any]:
    return _exec_auth(cluster, "gcp")


def _aks_auth(cluster: Cluster) -> dict[str, Any]:
    return _exec_auth(cluster, "azure", {"AAD_ENVIRONMENT_NAME": "AzurePublicCloud", "AAD_LOGIN_METHOD": AKS_LOGIN})


# ---------------------------------------------------------------- Karmada


def _karmada_files(fleet: Fleet) -> list[File]:
    if not fleet.karmada_server:
        return []
    workloads = [File(f"{APPLICATIONS}/workload-{w.name}.yaml", (workload_app(fleet, w),)) for w in fleet.workloads]
    return [
        File(f"hub/argocd/clusters/{KARMADA_CLUSTER}.yaml", (karmada_secret(fleet),)),
        *(
            [File(f"{APPLICATIONS}/{KARMADA_POLICIES_APP}.yaml", (karmada_policies_app(fleet),))]
            if fleet.workloads
            else []
        ),
        *workloads,
    ]


def karmada_secret(fleet: Fleet) -> dict[str, Any]:
    """The Karmada API server as an Argo CD cluster; its client certificate is merged out of git."""
    labels = {SECRET_TYPE_LABEL: "cluster", FLEET_LABEL: fleet.name}
    annotations = {CREDENTIALS_ANNOTATION: "out-of-git"}
    meta = _meta(f"cluster-{KARMADA_CLUSTER}", fleet.argocd_namespace, labels=labels, annotations=annotations)
    data = {"name": KARMADA_CLUSTER, "server": str(fleet.karmada_server)}
    if fleet.workloads:  # the workload namespaces (bootstrap/karmada-access.yaml) and named cluster objects
        data["namespaces"] = ",".join(sorted({w.namespace for w in fleet.workloads}))
        data["clusterResources"] = "true"
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "stringData": data}


def karmada_policies_app(fleet: Fleet) -> dict[str, Any]:
    source = _source(fleet.repo_url, fleet.repo_revision, f"{fleet.rendered_dir}/karmada")
    source["directory"] = {"recurse": True}
    sync = _sync_policy(SyncPolicy(create_namespace=False))
    # PropagationPolicies live in the workload namespaces bootstrap/karmada-access.yaml creates; a first sync
    # that races a namespace still being applied is retried instead of failing.
    sync["retry"] = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}
    meta = _meta(KARMADA_POLICIES_APP, fleet.argocd_namespace)
    # Every policy names its namespace; the destination namespace only has to be one the project allows.
    destination = {"server": str(fleet.karmada_server), "namespace": min(w.namespace for w in fleet.workloads)}
    return _application(meta, PLATFORM_PROJECT, source, destination, sync)


def workload_app(fleet: Fleet, workload: Workload) -> dict[str, Any]:
    source = _source(fleet.repo_url, fleet.repo_revision, workload.source_path)
    destination = {"server": str(fleet.karmada_server), "namespace": workload.namespace}
    # The finalizer makes removing a workload from fleet.yaml remove it from Karmada (and so the members).
    finalizers = [RESOURCES_FINALIZER]
    meta = _meta(f"{WORKLOAD_APP_PREFIX}{workload.name}", fleet.argocd_namespace, finalizers=finalizers)
    # The namespace is created at bootstrap (bootstrap/karmada-access.yaml): the project allows no cluster kind.
    sync = _sync_policy(SyncPolicy(create_namespace=False))
    return _application(meta, WORKLOAD_PROJECT, source, destination, sync)


# ---------------------------------------------------------------- projects and the root Application


def root_application(fleet: Fleet) -> dict[str, Any]:
    source = _source(fleet.repo_url, fleet.repo_revision, f"{fleet.rendered_dir}/hub")
    source["directory"] = {"recurse": True}
    destination = {"server": IN_CLUSTER, "namespace": fleet.argocd_namespace}
    sync = _sync_policy(SyncPolicy(create_namespace=False))
    meta = _meta(ROOT_APP, fleet.argocd_namespace)
    return _application(meta, PLATFORM_PROJECT, source, destination, sync)


# ---------------------------------------------------------------- ApplicationSets


def monitoring_application_set(fleet: Fleet) -> ApplicationSet:
    """The spoke monitoring set as if fleet.yaml had it: every cluster's rendered monitoring dir to it.

    No CreateNamespace: access.yaml creates ``monitoring`` on every cluster at bootstrap.
    """
    path = f"{fleet.rendered_dir}/clusters/{CLUSTER_PLACEHOLDER}/{MONITORING_NAMESPACE}"
    app = App(MONITORING_APP, path, None, None, ())
    every_cluster = Selector(MappingProxyType({}), (), ())
    sync, namespace = SyncPolicy(create_namespace=False), MONITORING_NAMESPACE
    return ApplicationSet(MONITORING_SET, PLATFORM_PROJECT, every_cluster, (app,), namespace, sync, ())


def delivered_sets(fleet: Fleet) -> list[ApplicationSet]:
    """Everything Argo CD delivers to spokes: fleet.yaml's sets and the spoke monitoring set."""
    return [*fleet.application_sets, monitoring_application_set(fleet)]


def push_selector(fleet: Fleet, selector: Selector) -> dict[str, Any]:
    """The user's selector narrowed to this fleet's push-mode cluster Secrets (not in-cluster or Karmada)."""
    user = selector.to_k8s()
    labels = {**user.get("matchLabels", {}), FLEET_LABEL: fleet.name, MODE_LABEL: "push"}
    out: dict[str, Any] = {"matchLabels": dict(sorted(labels.items()))}
    if "matchExpressions" in user:
        out["matchExpressions"] = user["matchExpressions"]
    return out


def appset_file(fleet: Fleet, appset: ApplicationSet) -> File:
    """The ApplicationSet (push-mode clusters) and a plain Application per pull-mode cluster and app."""
    pulled = select(appset.clusters, registered(fleet, "pull"))
    apps = [_pull_app(fleet, appset, c, app) for c in pulled for app in _apps_by_name(appset)]
    return File(f"hub/argocd/applicationsets/{appset.name}.yaml", (application_set(fleet, appset), *apps))


def _apps_by_name(appset: ApplicationSet) -> list[App]:
    return sorted(appset.apps, key=lambda a: a.name)


def application_set(fleet: Fleet, appset: ApplicationSet) -> dict[str, Any]:
    clusters = {"clusters": {"selector": push_selector(fleet, appset.clusters)}}
    spec: dict[str, Any] = {"goTemplate": True, "goTemplateOptions": ["missingkey=error"]}
    if len(appset.apps) == 1:
        spec["generators"] = [clusters]
        spec["template"] = _single_app_template(fleet, appset, appset.apps[0])
    else:
        with_helm = any(_templated_helm(app) for app in appset.apps)
        with_sources = any(app.values_repo for app in appset.apps)
        elements = [_app_element(fleet, app, with_helm, with_sources) for app in _apps_by_name(appset)]
        spec["generators"] = [{"matrix": {"generators": [clusters, {"list": {"elements": elements}}]}}]
        source = _source("{{.repoURL}}", "{{.targetRevision}}", "{{.path}}")
        spec["template"] = _template(appset, "{{.name}}-{{.app}}", {"source": source})
        patch = appset_spec.template_patch(with_sources, with_helm)
        if patch is not None:
            spec["templatePatch"] = patch
    if appset.strategy == "RollingSync":
        strategy = appset_spec.rolling_sync(fleet, select(appset.clusters, registered(fleet, "push")))
        if strategy is not None:
            spec["template"]["metadata"]["labels"] = dict(appset_spec.ROLLOUT_LABELS)
            spec["strategy"] = strategy
    # applicationset/utils/utils.go RenderTemplateParams: the resources finalizer is added to every
    # generated Application unless this is true (or the template has finalizers of its own).
    spec["syncPolicy"] = {"preserveResourcesOnDeletion": appset.sync_policy.preserve_resources_on_deletion}
    meta = _meta(appset.name, fleet.argocd_namespace)
    return {"apiVersion": API, "kind": "ApplicationSet", "metadata": meta, "spec": spec}


def _template(appset: ApplicationSet, name: str, sources: dict[str, Any]) -> dict[str, Any]:
    """The Application template; ``sources`` is ``{"source": …}`` or ``{"sources": […]}``. A list or an
    object cannot come from a template string: a multi-app set's templatePatch (a Go template rendering
    YAML) writes each element's, already rendered by the Matrix, with toJson."""
    destination = {"server": "{{.server}}", "namespace": escape_go_template(appset.namespace)}
    spec = {
        "project": escape_go_template(appset.project),
        **sources,
        "destination": destination,
        "syncPolicy": _sync_policy(appset.sync_policy),
        **appset_spec.spec_extras(appset, templated=True),
    }
    return {"metadata": {"name": name}, "spec": spec}


def _templated_helm(app: App) -> dict[str, Any]:
    files = [template_text(f) for f in app.value_files] + appset_spec.ref_value_files(app, template_text)
    return appset_spec.helm(app, files, templated=True)


def _templated_source(fleet: Fleet, app: App) -> dict[str, Any]:
    repo, revision = _repo(fleet, app)
    return _source(
        escape_go_template(repo), escape_go_template(revision), template_text(app.path), _templated_helm(app)
    )


def _single_app_template(fleet: Fleet, appset: ApplicationSet, app: App) -> dict[str, Any]:
    ref = appset_spec.ref_source(app, fleet.repo_revision, templated=True)
    sources = appset_spec.source_fields(_templated_source(fleet, app), ref)
    return _template(appset, "{{.name}}-" + escape_go_template(app.name), sources)


def _app_element(fleet: Fleet, app: App, with_helm: bool, with_sources: bool = False) -> dict[str, Any]:
    """One List element. The Matrix renders its strings with the cluster's parameters: escape them."""
    repo, revision = _repo(fleet, app)
    element: dict[str, Any] = {
        "app": escape_go_template(app.name),
        "path": template_text(app.path),
        "repoURL": escape_go_template(repo),
        "targetRevision": escape_go_template(revision),
    }
    if with_helm:  # every element has the key: the patch reads it under missingkey=error
        element["helm"] = _templated_helm(app)
    if with_sources:
        ref = appset_spec.ref_source(app, fleet.repo_revision, templated=True)
        element["sources"] = [_templated_source(fleet, app), ref] if ref is not None else []
    return element


def _repo(fleet: Fleet, app: App) -> tuple[str, str]:
    return app.repo_url or fleet.repo_url, app.revision or fleet.repo_revision


def _pull_app(fleet: Fleet, appset: ApplicationSet, cluster: Cluster, app: App) -> dict[str, Any]:
    """A plain Application (never templated) in the agent's hub namespace."""
    repo, revision = _repo(fleet, app)

    def place(text: str) -> str:
        return text.replace(CLUSTER_PLACEHOLDER, cluster.name)

    path = place(app.path)
    files = [place(f) for f in app.value_files] + appset_spec.ref_value_files(app, place)
    helm = appset_spec.helm(app, files, templated=False)
    labels = {APPSET_LABEL: appset.name}
    meta = _meta(
        f"{cluster.name}-{app.name}",
        agent_namespace(cluster),
        labels=labels,
        finalizers=deletion_finalizers(appset.sync_policy),
    )
    destination = {"server": destination_server(fleet, cluster), "namespace": appset.namespace}
    source = _source(repo, revision, path, helm)
    # the agent's projects, never the set's: fleetgen's own for the monitoring set, the other for fleet.yaml's sets
    own = appset.name == MONITORING_SET
    project = agent_project_name(cluster.name) if own else agent_apps_project_name(cluster.name)
    extras = appset_spec.spec_extras(appset, templated=False)
    ref = appset_spec.ref_source(app, fleet.repo_revision, templated=False)
    return _application(meta, project, source, destination, _sync_policy(appset.sync_policy), extras, ref)
