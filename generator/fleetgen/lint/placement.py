"""Placement rules: selectors that match nothing, weights and overrides naming the wrong clusters."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import WARNING, Issue
from ..labels import FLEET_LABEL, MODE_LABEL
from ..model import EXTRA_APP, EXTRA_SET, MONITORING_APP, MONITORING_SET, Cluster, Fleet, Selector, own_applications
from ..overriders import unsupported_patches
from ..selectors import select
from .registry import Context, flag, rule

APPLICATION_NAME_LIMIT = 253
ZERO_WEIGHT_SHOWN = 5  # cluster names a zero-weight message lists before "and N more"


def _selected(selector: Selector, ctx: Context) -> tuple[list, set[str]]:
    """The clusters a selector selects, and their names; three rules ask about the same selectors."""
    key = ("selected", id(selector))  # the selector lives in ctx.fleet as long as ctx does
    if key not in ctx.memo:
        clusters = select(selector, ctx.fleet.clusters)
        ctx.memo[key] = (clusters, {c.name for c in clusters})
    return ctx.memo[key]


def _names(selector: Selector, ctx: Context) -> set[str]:
    return _selected(selector, ctx)[1]


@rule("unknown-cluster", fix="name an existing cluster that the workload's selector selects")
def unknown_cluster(ctx: Context) -> Iterator[Issue]:
    """Weights or overrides name a cluster that does not exist or that the workload does not select.

    Karmada silently ignores a static weight for a cluster outside the placement, so the split
    the author meant never happens; an override for such a cluster never applies.
    """
    every = {c.name for c in ctx.fleet.clusters}
    for w in ctx.fleet.workloads:
        selected = _names(w.clusters, ctx)
        for name in w.weights:
            yield from _unknown(name, (*w.path, "weights", name), every, selected, w.name)
        for o in w.overrides:
            pinned = o.clusters.match_labels.get("name")
            if pinned is not None:
                yield from _unknown(pinned, (*o.clusters.path, "matchLabels", "name"), every, selected, w.name)


def _unknown(name: str, path: tuple, every: set[str], selected: set[str], workload: str) -> Iterator[Issue]:
    if name not in every:
        yield flag(
            path, f"workload {workload!r} names cluster {name!r}, which does not exist", on_key=path[-2] == "weights"
        )
    elif name not in selected:
        yield flag(
            path,
            f"workload {workload!r} names cluster {name!r}, which its clusters selector does not select",
            on_key=path[-2] == "weights",
        )


@rule("empty-selector", WARNING, fix="fix the selector's labels, or remove the entry")
def empty_selector(ctx: Context) -> Iterator[Issue]:
    """A label selector matches no cluster.

    An ApplicationSet that generates nothing, a workload that Karmada places nowhere, or an
    `extraManifests` entry copied to no spoke is almost always a typo in a label; it is a warning
    because a fleet may be built up in steps.
    """
    for what, selector in _cluster_selectors(ctx.fleet):
        if not _names(selector, ctx):
            yield flag(selector.path, f"the clusters selector of {what} matches no cluster", severity=WARNING)


def _cluster_selectors(fleet: Fleet) -> list[tuple[str, Selector]]:
    """Every clusters selector of fleet.yaml, with what it belongs to."""
    entries = [(f"applicationSet {a.name!r}", a.clusters) for a in fleet.application_sets]
    entries += [(f"workload {w.name!r}", w.clusters) for w in fleet.workloads]
    entries += [(f"an override of workload {w.name!r}", o.clusters) for w in fleet.workloads for o in w.overrides]
    entries += [(f"extraManifests entry {x.source!r}", x.clusters) for x in fleet.extra_manifests if x.clusters]
    return entries


RESERVED_KEYS = (FLEET_LABEL, MODE_LABEL)


@rule("reserved-label", fix="select on your own labels; fleetgen sets these keys itself on every cluster Secret")
def reserved_label(ctx: Context) -> Iterator[Issue]:
    """A cluster label or a clusters selector uses a key fleetgen sets on the Argo CD cluster Secrets.

    fleetgen writes `fleetgen.io/fleet` and `fleetgen.io/argocd-mode` on every cluster Secret and adds them
    to every ApplicationSet's selector (`render/argocd.py` `push_selector`), overwriting what fleet.yaml
    says for them. A selector on them therefore selects other clusters in Argo CD than `fleetgen plan`
    shows (plan matches the clusters' own labels), and a cluster label with such a key would be replaced.
    """
    fleet = ctx.fleet
    for c in fleet.clusters:
        for key in RESERVED_KEYS:
            if key in c.labels:
                yield flag((*c.path, "labels", key), f"cluster {c.name!r} sets fleetgen's own label {key!r}")
    for _, selector in _cluster_selectors(fleet):
        keys = [*selector.match_labels, *(r.key for r in selector.match_expressions)]
        for key in sorted(set(keys) & set(RESERVED_KEYS)):
            yield flag(selector.path, f"the clusters selector uses fleetgen's own label {key!r}")


@rule("application-name", fix="shorten the cluster or app name, or rename one of the colliding apps")
def application_name(ctx: Context) -> Iterator[Issue]:
    """A generated Argo CD Application name `<cluster>-<app>` is too long or collides.

    Application names are Kubernetes object names (at most 253 characters); two ApplicationSets
    generating the same name fight over one Application, and Argo CD reports the second as an error.
    fleetgen's own `fleet-spoke-monitoring` set takes `<cluster>-monitoring`, and `fleet-spoke-extra`
    takes `<cluster>-extra` on the clusters that `extraManifests` entries with `clusters` copy to. The
    Applications fleetgen renders itself live in the same namespace: `fleet-root`, and with Karmada
    `karmada-policies` and `workload-<workload>`. A set that generates one of those names takes the
    existing Application over (the applicationset-controller updates an Application it finds by name
    and sets itself as its owner), and the two owners fight.
    """
    fleet = ctx.fleet
    registered = [c for c in fleet.clusters if c.registered]
    # Applications collide within one namespace: a push-mode cluster's are in Argo CD's, with fleetgen's own;
    # a pull-mode cluster's are plain Applications in its agent namespace (its name).
    own = ("fleetgen's own Applications", "", "")
    # (namespace, name) -> where it came from: (set, cluster, app). One set generating one name twice (two
    # clusters and apps whose names join alike) collides too: the controller refuses a set with duplicate
    # Application names (applicationset_controller.go, "contains applications with duplicate name").
    seen: dict[tuple[str, str], tuple[str, str, str]] = {
        (fleet.argocd_namespace, name): own for name in own_applications(fleet)
    }
    extra_spokes = set(fleet.extra_spokes)
    for c in registered:
        names = [(MONITORING_APP, MONITORING_SET)]
        names += [(EXTRA_APP, EXTRA_SET)] if c.name in extra_spokes else []
        for own_app, appset in names:
            yield from _app_name((appset, c.name, own_app), (*c.path, "name"), seen, _namespace(fleet, c))
    for a in fleet.application_sets:
        clusters = [(c.name, _namespace(fleet, c)) for c in _selected(a.clusters, ctx)[0] if c.registered]
        for i, app in enumerate(a.apps):
            # the common case, a short name seen nowhere else, inline: 13,000 names at 5,000 clusters
            for cluster, namespace in clusters:
                name = f"{cluster}-{app.name}"
                if len(name) <= APPLICATION_NAME_LIMIT and (namespace, name) not in seen:
                    seen[namespace, name] = (a.name, cluster, app.name)
                    continue
                yield from _app_name((a.name, cluster, app.name), (*a.path, "apps", i, "name"), seen, namespace)


def _namespace(fleet: Fleet, cluster: Cluster) -> str:
    """Where a cluster's generated Applications live: Argo CD's namespace, or a pull-mode cluster's agent namespace."""
    return fleet.argocd_namespace if cluster.argocd_mode == "push" else cluster.name


def _app_name(
    origin: tuple[str, str, str], path: tuple, seen: dict[tuple[str, str], tuple[str, str, str]], namespace: str
) -> Iterator[Issue]:
    appset, cluster, app = origin
    name = f"{cluster}-{app}"
    if len(name) > APPLICATION_NAME_LIMIT:
        yield flag(
            path, f"generated Application name {name[:40]!r}… is longer than {APPLICATION_NAME_LIMIT} characters"
        )
        return
    other = seen.setdefault((namespace, name), origin)
    if other == origin:
        return
    if other[0] == appset:
        yield flag(
            path,
            f"applicationSet {appset!r} generates the Application {name!r} twice in namespace {namespace!r}: "
            f"for cluster {other[1]!r} (app {other[2]!r}) and cluster {cluster!r} (app {app!r})",
        )
        return
    first = other[0] if other[0].startswith("fleetgen's") else f"applicationSets {other[0]!r}"
    yield flag(path, f"{first} and {appset!r} both generate the Application {name!r} in namespace {namespace!r}")


@rule("override-unsupported", fix="use add, remove or replace: Karmada's plaintext overrider has no move/copy/test")
def override_unsupported(ctx: Context) -> Iterator[Issue]:
    """An override patch uses a JSON Patch op that Karmada's OverridePolicy cannot express.

    Overrides are rendered as Karmada `plaintext` overriders, which support only `add`, `remove`
    and `replace`; a `move`, `copy` or `test` would be silently dropped.
    """
    for w in ctx.fleet.workloads:
        for path, reason in unsupported_patches(w):
            yield flag(path, reason)


@rule(
    "zero-weight",
    WARNING,
    fix="give the cluster its share under the workload's weights (`fleetgen add-cluster --weight WORKLOAD=N` does "
    "it for a new cluster), or narrow the workload's clusters selector",
)
def zero_weight(ctx: Context) -> Iterator[Issue]:
    """A workload's selector selects a Karmada member that its weights leave out: it gets 0 replicas.

    With static weights Karmada gives each candidate cluster the weight of the `staticWeightList`
    entries it matches, drops the clusters left at 0, and only weighs every cluster 1 when none
    has a weight (pkg/scheduler/core/division_algorithm.go `getStaticWeightInfoList`). A cluster
    added to the selected environment later, e.g. by `fleetgen add-cluster`, therefore runs
    nothing of the workload until it is given a weight. Clusters still pending registration are
    reported too: they join the placement as soon as they have a `server`.
    """
    for w in ctx.fleet.workloads:
        if not w.weights:
            continue
        members = [c for c in _selected(w.clusters, ctx)[0] if c.karmada_member]
        if not any(c.name in w.weights for c in members):
            continue  # no candidate is weighted: Karmada weighs them all 1 (unknown-cluster reports the names)
        missing = sorted(c.name for c in members if c.name not in w.weights)
        if missing:  # one finding per workload: a fleet may add many clusters at once
            shown = ", ".join(repr(n) for n in missing[:ZERO_WEIGHT_SHOWN])
            more = f" and {len(missing) - ZERO_WEIGHT_SHOWN} more" if len(missing) > ZERO_WEIGHT_SHOWN else ""
            noun, it = ("cluster", "it") if len(missing) == 1 else ("clusters", "them")
            yield flag(
                (*w.path, "weights"),
                f"workload {w.name!r} selects {noun} {shown}{more} "
                f"but gives {it} no weight: Karmada schedules 0 replicas there",
                severity=WARNING,
            )


@rule(
    "rolling-sync-pull",
    WARNING,
    fix="narrow the set's selector to push-mode clusters (argocd.mode push), or give pull-mode sites their own set",
)
def rolling_sync_pull(ctx: Context) -> Iterator[Issue]:
    """A RollingSync applicationSet selects pull-mode clusters, whose Applications sync outside its steps.

    Argo CD's progressive sync orders only the Applications the ApplicationSet generates; pull-mode
    (argocd-agent) clusters get plain Applications in their agent namespace, which auto-sync at
    once. The steps themselves need the ApplicationSet controller's `--enable-progressive-syncs`
    (`applicationsetcontroller.enable.progressive.syncs: "true"` in `argocd-cmd-params-cm`);
    without it the strategy is ignored and every Application syncs at once.
    """
    for a in ctx.fleet.application_sets:
        if a.strategy != "RollingSync":
            continue
        pulled = sorted(c.name for c in _selected(a.clusters, ctx)[0] if c.argocd_mode == "pull")
        if pulled:
            yield flag(
                a.clusters.path,
                f"applicationSet {a.name!r} rolls out with "
                f"RollingSync but selects pull-mode clusters ({', '.join(pulled)}): their Applications "
                "sync at once, outside the steps",
                severity=WARNING,
            )
