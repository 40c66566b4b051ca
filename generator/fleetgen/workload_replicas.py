"""``workloads[].replicas`` against the replicas Karmada will actually divide: the resources' own ``spec.replicas``.

Karmada divides each resource template's own replica count (v1.18.2 ``pkg/detector`` sets the binding's
``spec.replicas`` from the resource interpreter; for a Deployment or StatefulSet
``pkg/resourceinterpreter/default/native/replica.go`` reads ``spec.replicas``, 1 when unset), and each
resource gets its own binding. fleet.yaml's ``replicas`` only feeds ``plan``, ``diff`` and the rendered
README. When the workload's manifests are plain YAML in this repository (``source.path`` below
fleet.yaml's directory, as Argo CD reads the same repository), the two are compared; a workload whose
manifests are a Helm chart, a kustomization or elsewhere is not checked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .findings import WARNING, Finding, issue
from .load import MAX_BYTES, Document, load_all_data
from .model import Fleet, Workload

RULE = "workload-replicas"
REPLICATED_KINDS = frozenset({("apps", "Deployment"), ("apps", "StatefulSet")})
MANIFEST_SUFFIXES = (".yaml", ".yml")


def findings(fleet: Fleet, doc: Document, base: Path) -> list[Finding]:
    """One warning per listed Deployment/StatefulSet whose manifest's ``spec.replicas`` is not the workload's."""
    base = base.resolve()
    out = []
    for workload in fleet.workloads:
        manifests = _manifests(base, workload.source_path)
        for resource in workload.resources:
            group = resource.api_version.rpartition("/")[0]
            if (group, resource.kind) not in REPLICATED_KINDS:
                continue
            found = manifests.get((group, resource.kind, resource.name))
            if found is None:
                continue
            rel, replicas = found
            if replicas != workload.replicas:
                out.append(_finding(doc, workload, resource.kind, resource.name, rel, replicas))
    return out


def _finding(doc: Document, workload: Workload, kind: str, name: str, rel: str, replicas: int) -> Finding:
    message = (
        f"{kind} {name} in {rel} has spec.replicas {replicas}, workload {workload.name!r} says replicas "
        f"{workload.replicas}: Karmada divides the manifest's {replicas}, while plan and diff show "
        f"{workload.replicas} divided"
    )
    hint = "make workloads[].replicas and the manifest's spec.replicas the same number"
    return doc.place(issue(RULE, (*workload.path, "replicas"), message, severity=WARNING, hint=hint))


def _manifests(base: Path, source_path: str) -> dict[tuple[str, str, str], tuple[str, int]]:
    """(group, kind, name) -> (file, spec.replicas) of the replicated objects in the plain YAML files directly in
    ``source_path`` (Argo CD's directory source, not recursive), when that is a directory below ``base``."""
    directory = Path(os.path.realpath(base / source_path))
    if not (directory == base or base in directory.parents) or not directory.is_dir():
        return {}
    out: dict[tuple[str, str, str], tuple[str, int]] = {}
    for path in sorted(directory.iterdir()):
        if not path.name.endswith(MANIFEST_SUFFIXES) or not path.is_file():
            continue
        try:
            data = path.read_bytes()[: MAX_BYTES + 1]
            text = data.decode("utf-8") if len(data) <= MAX_BYTES else ""
        except (OSError, UnicodeDecodeError):
            continue
        for document in load_all_data(text, str(path)) or ():
            found = _replicated(document)
            if found is not None:
                out.setdefault(found[0], (f"{source_path.rstrip('/')}/{path.name}", found[1]))
    return out


def _replicated(document: Any) -> tuple[tuple[str, str, str], int] | None:
    if not isinstance(document, dict) or not isinstance(document.get("apiVersion"), str):
        return None
    meta, spec = document.get("metadata"), document.get("spec")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    key = (document["apiVersion"].rpartition("/")[0], str(document.get("kind")), meta["name"])
    if key[:2] not in REPLICATED_KINDS:
        return None
    replicas = spec.get("replicas", 1) if isinstance(spec, dict) else 1
    return (key, replicas) if type(replicas) is int else None
