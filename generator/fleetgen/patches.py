"""fleet.yaml ``patches``: RFC 6902 operations on the rendered documents, applied after rendering, before emit.

``apply_patches`` is the one entry point, a pure function of the rendered files and the fleet; produce.py
calls it for each render target's files, so everything downstream (emit, the final secret scan,
``check --schemas``, the lock, ``check``, ``diff``) sees the patched documents and nothing else.

* **Matching.** A patch changes every document whose ``kind`` and ``metadata.name`` equal its target's,
  and its ``metadata.namespace``, ``apiVersion`` and API group where the target names them. With
  ``target.clusters`` only documents in the per-cluster files of the selected clusters match
  (``clusters/<c>/…``, ``hub/capi/<c>.yaml``, ``hub/argocd/clusters/<c>.yaml``,
  ``hub/observability/stores/<c>.yaml``).
* **Order.** Patches apply in fleet.yaml order; a document's patches see the result of the earlier ones.
* **Failure.** Operations apply one at a time with jsonpatch (RFC 6902: ``test`` compares, ``remove`` and
  ``replace`` need an existing path). An operation that fails leaves that document as the earlier patches
  left it and is a ``patch-failed`` issue at the operation. A patch that matches no document of the files
  it is given is a ``patch-target`` issue at its target: produce.py keeps it only when no target's files
  matched (``unmatched``).
* **Confinement.** A patch changes documents, never files: it cannot add, move or rename a file, and the
  emitted bytes are scanned for credentials after patching like every rendered byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer

from .findings import Issue, issue
from .model import DocumentPatch, Fleet, PatchTarget
from .render import File
from .selectors import matches

FAILED = "patch-failed"
TARGET = "patch-target"
# The rendered files that belong to one cluster: what ``target.clusters`` selects among.
_PER_CLUSTER = (
    re.compile(r"^clusters/([^/]+)/"),
    re.compile(r"^hub/capi/([^/]+)\.yaml$"),
    re.compile(r"^hub/argocd/clusters/([^/]+)\.yaml$"),
    re.compile(r"^hub/observability/stores/([^/]+)\.yaml$"),
)


def file_cluster(path: str) -> str | None:
    """The cluster a rendered file belongs to, or None for the hub-wide files."""
    for pattern in _PER_CLUSTER:
        if match := pattern.match(path):
            return match.group(1)
    return None


def targets_document(target: PatchTarget, doc: dict[str, Any]) -> bool:
    meta = doc.get("metadata") or {}
    api_version = str(doc.get("apiVersion", ""))
    return (
        doc.get("kind") == target.kind
        and meta.get("name") == target.name
        and (target.namespace is None or meta.get("namespace") == target.namespace)
        and (target.api_version is None or api_version == target.api_version)
        and (target.group is None or api_version.rpartition("/")[0] == target.group)
    )


def _selected(patch: DocumentPatch, cluster_labels: Mapping[str, Any], path: str) -> bool:
    if patch.target.clusters is None:
        return True
    labels = cluster_labels.get(file_cluster(path) or "")
    return labels is not None and matches(patch.target.clusters, labels)


def apply_patches(files: Sequence[File], fleet: Fleet) -> tuple[list[File], list[Issue]]:
    """``files`` with every patch applied, and the issues: failed operations, and patches that matched nothing."""
    if not fleet.patches:
        return list(files), []
    out, failed, matched = patch_files(files, fleet.patches, {c.name: c.labels for c in fleet.clusters})
    return out, failed + unmatched_patches(fleet.patches, matched)


def patch_files(
    files: Sequence[File], patches: Sequence[DocumentPatch], cluster_labels: Mapping[str, Any]
) -> tuple[list[File], list[Issue], set[int]]:
    """``files`` with ``patches`` applied, the failed operations, and the numbers of the patches that matched a
    document. ``cluster_labels`` needs the labels of the clusters whose per-cluster files are among ``files``
    (``file_cluster``), and only when a patch selects clusters: the incremental render passes one unit's."""
    matched: set[int] = set()
    issues: list[Issue] = []
    out = []
    for f in files:
        documents, touched = list(f.documents), False
        for index, doc in enumerate(documents):
            for number, patch in enumerate(patches):
                if targets_document(patch.target, doc) and _selected(patch, cluster_labels, f.path):
                    matched.add(number)
                    touched = True
                    doc = _apply(patch, doc, f.path, index, issues)
            documents[index] = doc
        out.append(File(f.path, tuple(documents), f.text) if touched else f)
    return out, issues, matched


def unmatched_patches(patches: Sequence[DocumentPatch], matched: Iterable[int]) -> list[Issue]:
    """A ``patch-target`` issue for each patch whose number is not in ``matched``."""
    found = set(matched)
    return [_unmatched(p) for n, p in enumerate(patches) if n not in found]


def _apply(patch: DocumentPatch, doc: dict[str, Any], path: str, index: int, issues: list[Issue]) -> dict[str, Any]:
    """One patch on one document, operation by operation; the first failure stops this patch here."""
    current = doc
    for number, raw in enumerate(patch.operations):
        op = json.loads(raw)  # a fresh copy: no value of the model is ever shared with a document
        try:
            current = jsonpatch.JsonPatch([op]).apply(current)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            issues.append(_failed(patch, number, op, doc, path, index, _reason(exc, op, current)))
            return doc
    return current


def _describe(doc: dict[str, Any], path: str, index: int) -> str:
    name = (doc.get("metadata") or {}).get("name")
    return f"{doc.get('kind')}/{name} in {path} (document {index})"


def _reason(exc: Exception, op: dict[str, Any], current: dict[str, Any]) -> str:
    """jsonpatch's own words, except for a failed ``test``, whose message spells out Python types."""
    if not isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return str(exc) or type(exc).__name__
    missing = object()
    found = jsonpointer.resolve_pointer(current, op["path"], missing)
    if found is missing:
        return "test failed: there is no value at that path"
    return f"test failed: the value there is {json.dumps(found)}, not {json.dumps(op['value'])}"


def _failed(patch: DocumentPatch, number: int, op: dict, doc: dict, path: str, index: int, reason: str) -> Issue:
    return issue(
        FAILED,
        (*patch.path, "operations", number),
        f"{op['op']} {op['path']} cannot be applied to {_describe(doc, path, index)}: {reason}; "
        "the patch is not applied to it",
    )


def _unmatched(patch: DocumentPatch) -> Issue:
    t = patch.target
    where = "".join(
        [
            f" in namespace {t.namespace}" if t.namespace else "",
            f" with apiVersion {t.api_version}" if t.api_version else "",
            f" in API group {t.group!r}" if t.group is not None else "",
            " in the selected clusters' files" if t.clusters is not None else "",
        ]
    )
    return issue(TARGET, (*patch.path, "target"), f"no rendered document is a {t.kind} named {t.name}{where}")


def unmatched(per_call: Iterable[list[Issue]]) -> list[Issue]:
    """Merge the issues of calls over disjoint parts of the tree: every failure, but a ``patch-target`` only when
    every call reported it (a patch that some part matched did match)."""
    calls = list(per_call)
    failed = [i for issues in calls for i in issues if i.rule == FAILED]
    counts: dict[Issue, int] = {}
    for issues in calls:
        for i in issues:
            if i.rule == TARGET:
                counts[i] = counts.get(i, 0) + 1
    return failed + [i for i, n in counts.items() if n == len(calls)]
