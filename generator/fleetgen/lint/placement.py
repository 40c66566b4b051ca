"""Placement rules: selectors that match nothing, weights and overrides naming the wrong clusters."""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import WARNING, Issue
from ..model import Selector
from ..overriders import unsupported_patches
from ..selectors import select
from .registry import Context, flag, rule

APPLICATION_NAME_LIMIT = 253
BUILTIN_SET, BUILTIN_APP = "fleet-spoke-monitoring", "monitoring"  # fleetgen's own set: <cluster>-monitoring


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
        yield flag(path, f"workload {workload!r} names cluster {name!r}, which does not exist",
                    on_key=path[-2] == "weights")
    elif name not in selected:
        yield flag(path, f"workload {workload!r} names cluster {name!r}, which its clusters "
                    "selector does not select", on_key=path[-2] == "weights")


@rule("empty-selector", WARNING, fix="fix the selector's labels, or remove the entry")
def empty_selector(ctx: Context) -> Iterator[Issue]:
    """A label selector matches no cluster.

    An ApplicationSet that generates nothing, or a workload that Karmada places nowhere, is
    almost always a typo in a label; it is a warning because a fleet may be built up in steps.
    """
    fleet = ctx.fleet
    entries = [(f"applicationSet {a.name!r}", a.clusters) for a in fleet.application_sets]
    entries += [(f"workload {w.name!r}", w.clusters) for w in fleet.workloads]
    entries += [(f"an override of workload {w.name!r}", o.clusters) for w in fleet.workloads for o in w.overrides]
    for what, selector in entries:
        if not _names(selector, ctx):
            yield flag(selector.path, f"the clusters selector of {what} matches no cluster",
                        severity=WARNING)


@rule("application-name", fix="shorten the cluster or app name, or rename one of the colliding apps")
def application_name(ctx: Context) -> Iterator[Issue]:
    """A generated Argo CD Application name `<cluster>-<app>` is too long or collides.

    Application names are Kubernetes object names (at most 253 characters); two ApplicationSets
    generating the same name fight over one Application, and Argo CD reports the second as an error.
    fleetgen's own `fleet-spoke-monitoring` set takes `<cluster>-monitoring`.
    """
    registered = [c for c in ctx.fleet.clusters if c.registered]
    seen: dict[str, str] = {f"{c.name}-{BUILTIN_APP}": BUILTIN_SET for c in registered}
    for a in ctx.fleet.application_sets:
        clusters = [c for c in _selected(a.clusters, ctx)[0] if c.registered]
        for i, app in enumerate(a.apps):
            for c in clusters:
                yield from _app_name(f"{c.name}-{app.name}", a.name, (*a.path, "apps", i, "name"), seen)


def _app_name(name: str, appset: str, path: tuple, seen: dict[str, str]) -> Iterator[Issue]:
    if len(name) > APPLICATION_NAME_LIMIT:
        yield flag(path, f"generated Application name {name[:40]!r}… is longer than "
                    f"{APPLICATION_NAME_LIMIT} characters")
    elif name in seen and seen[name] != appset:
        yield flag(path, f"applicationSets {seen[name]!r} and {appset!r} both generate the "
                    f"Application {name!r}")
    seen.setdefault(name, appset)


@rule("override-unsupported", fix="use add, remove or replace: Karmada's plaintext overrider has no move/copy/test")
def override_unsupported(ctx: Context) -> Iterator[Issue]:
    """An override patch uses a JSON Patch op that Karmada's OverridePolicy cannot express.

    Overrides are rendered as Karmada `plaintext` overriders, which support only `add`, `remove`
    and `replace`; a `move`, `copy` or `test` would be silently dropped.
    """
    for w in ctx.fleet.workloads:
        for path, reason in unsupported_patches(w):
            yield flag(path, reason)
