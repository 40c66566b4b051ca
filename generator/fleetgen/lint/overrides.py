"""Override rules: an override must name kinds the workload has, and paths those kinds can have."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Issue
from ..model import Fleet, Override, Workload
from ..overriders import override_resources, unsupported_reason
from ..upstream.pointer import kind_schema, missing_at, schemas_digest
from .registry import Context, flag, rule


@rule("override-kind", fix="name kinds from the workload's resources, or drop `kinds` to patch every resource")
def override_kind(ctx: Context) -> Iterator[Issue]:
    """An override's `kinds` names a kind that none of the workload's resources has.

    The override's OverridePolicy selects only the workload's resources of those kinds, so a kind
    the workload does not deploy (often a typo: `Deploymnet`) makes the patch apply to nothing.
    """
    for w in ctx.fleet.workloads:
        have = {r.kind for r in w.resources}
        for o in w.overrides:
            for i, kind in enumerate(_raw_kinds(ctx, o)):
                if kind not in have:
                    yield flag(
                        (*o.path, "kinds", i),
                        f"workload {w.name!r} has no resource of kind {kind!r} (it has {', '.join(sorted(have))})",
                    )


@rule(
    "override-path",
    fix="fix the path, or name the override's `kinds` so it reaches only resources that have this field",
)
def override_path(ctx: Context) -> Iterator[Issue]:
    """An override patch's JSON pointer cannot exist on a resource kind the override targets.

    An override applies to every resource of the workload unless it names `kinds`. Karmada applies
    the plaintext overrider as a JSON patch to each selected resource, and a path the resource
    cannot have (e.g. `/spec/template/...` on a Service) fails that resource's propagation. The
    path is walked through the kind's vendored upstream schema (schemas/upstream); kinds without
    one, and fields that keep unknown content, are not checked.
    """
    for w in ctx.fleet.workloads:
        for o in w.overrides:
            targets = sorted({(r.api_version, r.kind) for r in override_resources(w, o.kinds)})
            for j, patch in enumerate(o.patches):
                if unsupported_reason(patch) is None:
                    yield from _impossible(w, o, j, patch.path, targets)


def schemas_read(fleet: Fleet) -> str:
    """The digest of the vendored schemas ``override-path`` may walk for ``fleet``: those of every kind of every
    workload's resources (an override reaches some of them). Its findings depend on them as on fleet.yaml, so lint's
    kept findings and memory are keyed by it (``fleetgen.lintcache``, ``lint.reuse``)."""
    return schemas_digest((r.api_version, r.kind) for w in fleet.workloads for r in w.resources)


def _impossible(w: Workload, o: Override, j: int, pointer: str, targets: list[tuple[str, str]]) -> Iterator[Issue]:
    for api_version, kind in targets:
        schema = kind_schema(api_version, kind)
        missing = missing_at(schema, pointer) if schema is not None else None
        if missing is not None:
            yield flag(
                (*o.path, "patches", j, "path"),
                f"{pointer} cannot exist on {kind} {api_version} of workload {w.name!r}: its schema has no {missing}",
            )


def _raw_kinds(ctx: Context, o: Override) -> list[str]:
    """The kinds as written (the model keeps them sorted): positions follow fleet.yaml."""
    node: Any = ctx.data
    for key in o.path:
        node = node[key]
    return list(node.get("kinds") or ())
