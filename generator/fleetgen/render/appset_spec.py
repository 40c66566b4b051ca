"""The parts of an Application that teams set per ApplicationSet or app: Helm values and parameters,
sync options, retry, ignoreDifferences, and the RollingSync strategy (argoproj/argo-cd v3.5,
pkg/apis/application/v1alpha1/types.go and applicationset_types.go).

Escaping. The ApplicationSet controller renders *every* string of the template as a Go template,
map keys included, and descends into ``helm.valuesObject`` too (applicationset/utils/utils.go
``deeplyReplaceWithFilter``: RawExtension fields are converted to JSON and walked). A Matrix renders
its List elements, nested values included, with the cluster's parameters the same way. So every user
string that reaches a template, at any depth, goes through ``escape_deep``; plain (pull-mode)
Applications are never templated and get the values as they are.

RollingSync. The controller groups the generated Applications into steps by the *Application's*
labels, with ``In``/``NotIn`` only (applicationset/progressivesync/progressive_sync.go
``buildAppDependencyList``, ``labelMatchedExpression``), so the template labels each Application
with its cluster's environment and region, read from the cluster Secret's labels (the cluster
generator's ``.metadata.labels``, applicationset/generators/cluster.go). The steps follow
rollout.py: environments in promotion order, the last one region by region. The controller turns
automated sync off on the Applications it writes and syncs each step itself, with the template's
``automated.prune``, ``retry`` and ``syncOptions`` (``SyncDesiredApplications``, ``syncApplication``),
once every Application of the previous step is Healthy. It does so only when the ApplicationSet
controller runs with ``--enable-progressive-syncs`` (``applicationsetcontroller.enable.progressive.syncs:
"true"`` in ``argocd-cmd-params-cm``); without it the strategy is ignored and every Application
auto-syncs at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..model import App, ApplicationSet, Cluster, Fleet, SyncPolicy
from ..rollout import rollout_groups

ENVIRONMENT_LABEL = "fleetgen.io/environment"
REGION_LABEL = "fleetgen.io/region"
# Go template reading the cluster Secret's labels (goTemplate: params["metadata"]["labels"]).
ROLLOUT_LABELS = {
    ENVIRONMENT_LABEL: '{{index .metadata.labels "environment"}}',
    REGION_LABEL: '{{index .metadata.labels "region"}}',
}
PROGRESSIVE_SYNC_FLAG = "--enable-progressive-syncs"
PROGRESSIVE_SYNC_PARAM = "applicationsetcontroller.enable.progressive.syncs"


def escape_go_template(text: str) -> str:
    """Make ``text`` render literally under Go text/template: only ``{{`` opens an action."""
    return text.replace("{{", '{{"{{"}}')


def escape_deep(value: Any) -> Any:
    """``value`` with every string, and every mapping key, escaped for a Go template."""
    if isinstance(value, str):
        return escape_go_template(value)
    if isinstance(value, Mapping):
        return {escape_go_template(str(k)): escape_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escape_deep(v) for v in value]
    return value


def _same(value: Any) -> Any:
    return value


def sync_policy(policy: SyncPolicy) -> dict[str, Any]:
    """Application ``syncPolicy``: automated prune/selfHeal, sync options, retry (none needs escaping:
    the fleet schema limits options to Argo CD's list and durations to digits and units)."""
    out: dict[str, Any] = {"automated": {"prune": policy.prune, "selfHeal": policy.self_heal}}
    options = ["CreateNamespace=true"] if policy.create_namespace else []
    options += list(policy.sync_options)
    if options:
        out["syncOptions"] = options
    if policy.retry is not None:
        out["retry"] = dict(policy.retry)
    return out


def helm(app: App, value_files: list[str], templated: bool) -> dict[str, Any]:
    """The Application's ``source.helm``: value files (already placed), parameters and valuesObject."""
    esc = escape_deep if templated else _same
    block: dict[str, Any] = {}
    if value_files:
        block["valueFiles"] = value_files
    if app.parameters:
        block["parameters"] = [esc(dict(p)) for p in app.parameters]
    if app.values is not None:
        block["valuesObject"] = esc(app.values)
    return block


def ignore_differences(appset: ApplicationSet, templated: bool) -> list[dict[str, Any]]:
    esc = escape_deep if templated else _same
    return [esc(dict(entry)) for entry in appset.ignore_differences]


def spec_extras(appset: ApplicationSet, templated: bool) -> dict[str, Any]:
    """Application spec fields beyond project/source/destination/syncPolicy."""
    ignored = ignore_differences(appset, templated)
    return {"ignoreDifferences": ignored} if ignored else {}


def rolling_sync(fleet: Fleet, clusters: Iterable[Cluster]) -> dict[str, Any] | None:
    """The RollingSync strategy over the clusters the set generates for; None when there are none
    (Argo CD reports a RollingSync without steps as an error)."""
    steps = [step_selector(environment, region) for environment, region in rollout_groups(fleet, clusters)]
    return {"type": "RollingSync", "rollingSync": {"steps": steps}} if steps else None


def step_selector(environment: str, region: str) -> dict[str, Any]:
    expressions = [{"key": ENVIRONMENT_LABEL, "operator": "In", "values": [environment]}]
    if region:
        expressions.append({"key": REGION_LABEL, "operator": "In", "values": [region]})
    return {"matchExpressions": expressions}


# ---------------------------------------------------------------- multiple sources

VALUES_REF = "values"  # the ref name: value files from that source are "$values/<file>"


def ref_value_files(app: App, place: Callable[[str], str]) -> list[str]:
    """``helm.valuesRepo`` files as Argo CD names them in the main source (after the app's own)."""
    return [f"${VALUES_REF}/{place(f)}" for f in app.values_repo.value_files] if app.values_repo else []


def ref_source(app: App, default_revision: str, templated: bool) -> dict[str, Any] | None:
    """The second source of a multi-source Application: it only provides value files (``ref``), so it has
    no path (pkg/apis/application/v1alpha1/types.go ApplicationSource.Ref; docs/user-guide/multiple_sources.md)."""
    repo = app.values_repo
    if repo is None:
        return None
    esc = escape_go_template if templated else _same
    return {"repoURL": esc(repo.repo_url), "targetRevision": esc(repo.revision or default_revision), "ref": VALUES_REF}


def source_fields(source: dict[str, Any], ref: dict[str, Any] | None) -> dict[str, Any]:
    """``source``, or ``sources`` with the ref source second: Argo CD ignores ``source`` once ``sources``
    is set (ApplicationSpec.HasMultipleSources), so only one of them is written."""
    return {"sources": [source, ref]} if ref is not None else {"source": source}


def template_patch(with_sources: bool, with_helm: bool) -> str | None:
    """The templatePatch of a multi-app set: a List element's ``sources`` replace the template's
    ``source`` (a strategic-merge ``null`` deletes it, applicationset/controllers/template/patch.go), else
    its ``helm`` block goes into ``source``. Every element has each key the patch reads (missingkey=error)."""
    if not (with_sources or with_helm):
        return None
    branches = []
    if with_sources:
        branches.append(("if .sources", "spec:\n  source: null\n  sources: {{ toJson .sources }}\n"))
    if with_helm:
        branches.append(
            ("else if .helm" if branches else "if .helm", "spec:\n  source:\n    helm: {{ toJson .helm }}\n")
        )
    body = "".join(f"{{{{- {test} }}}}\n{text}" for test, text in branches)
    return body + "{{- else }}\n{}\n{{- end }}\n"
