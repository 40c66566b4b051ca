"""What a Karmada OverridePolicy can express of fleet.yaml's override patches: a model-level fact.

fleet.yaml overrides are RFC 6902 patches; they are rendered as Karmada ``plaintext`` overriders
(karmada ``pkg/apis/policy/v1alpha1/override_types.go``, ``PlaintextOverrider``), whose
``operator`` enum is ``add``, ``remove`` and ``replace`` only. The renderer (``render/karmada.py``)
leaves out what cannot be expressed, and lint (``override-unsupported``) reports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .findings import Path
from .model import Patch, Resource, Workload

PLAINTEXT_OPERATORS = ("add", "remove", "replace")  # Karmada PlaintextOverrider.Operator enum


def unsupported_reason(patch: Patch) -> str | None:
    if patch.op not in PLAINTEXT_OPERATORS:
        return (
            f"JSON Patch op {patch.op!r} has no Karmada plaintext overrider (only add, remove, "
            "replace); the patch is not rendered"
        )
    if patch.op != "remove" and not patch.has_value:
        return f"JSON Patch op {patch.op!r} needs a value; the patch is not rendered"
    return None


def unsupported_patches(workload: Workload) -> list[tuple[Path, str]]:
    """Patches the OverridePolicy leaves out: fleet.yaml path and why (lint: override-unsupported)."""
    return list(_unsupported(workload))


def _unsupported(workload: Workload) -> Iterator[tuple[Path, str]]:
    for override in workload.overrides:
        for j, patch in enumerate(override.patches):
            reason = unsupported_reason(patch)
            if reason is None:
                continue
            # Point at the op when the op is the problem, else at the patch missing its value.
            at_op = ("op",) if patch.op not in PLAINTEXT_OPERATORS else ()
            yield (*override.path, "patches", j, *at_op), reason


def override_resources(workload: Workload, kinds: Sequence[str]) -> list[Resource]:
    """The workload's resources an override patches: those of its ``kinds``, or all of them."""
    return [r for r in workload.resources if not kinds or r.kind in kinds]
