"""Find what each input is and hand its documents to the importer for that kind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import FleetgenError
from ..load import MAX_BYTES, load_all_data
from . import Found
from .argocd import from_secret, is_cluster_secret
from .capi import from_documents, is_capi
from .kubeconfig import from_kubeconfig, is_kubeconfig
from .tree import from_tree, is_tree

SUFFIXES = (".yaml", ".yml", ".json")


# What a document of an unexpected shape raises in an importer (a list where a mapping belongs, a
# word where a number does): the document is skipped with a note, never a traceback.
SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)


def guarded(found: Found, source: str, what: str, read: Callable[..., None], *args: Any) -> None:
    try:
        read(*args)
    except SHAPE_ERRORS as exc:
        found.note(source, f"{what} has an unexpected shape ({type(exc).__name__}: {exc}); skipped")


def read_inputs(paths: list[Path]) -> Found:
    found = Found()
    for path in paths:
        if is_tree(path):
            guarded(found, path.as_posix(), "the rendered tree", from_tree, path, found)
        elif path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
                read_file(file, found)
        else:
            read_file(path, found)
    return found


def read_file(path: Path, found: Found) -> None:
    source, docs = path.as_posix(), _load(path)
    items: list[dict[str, Any]] = []
    guarded(found, source, "a List", lambda: items.extend(_flatten(docs)))
    capi, ignored = [], 0
    for i, doc in enumerate(items, 1):
        kind = _kind(doc)
        if kind == "secret":
            guarded(found, source, f"document {i} (a Secret)", from_secret, doc, source, found)
        elif kind == "kubeconfig":
            guarded(found, source, f"document {i} (a kubeconfig)", from_kubeconfig, doc, source, found)
        elif kind == "capi":
            capi.append(doc)
        else:
            ignored += 1
    if capi:
        guarded(found, source, "a Cluster API object", from_documents, capi, source, found)
    if ignored:
        found.note(
            source,
            f"{ignored} document(s) are neither Argo CD cluster Secrets, Cluster API objects nor a kubeconfig; ignored",
        )


def _kind(doc: dict[str, Any]) -> str | None:
    try:
        return (
            "secret"
            if is_cluster_secret(doc)
            else "kubeconfig"
            if is_kubeconfig(doc)
            else "capi"
            if is_capi(doc)
            else None
        )
    except SHAPE_ERRORS:
        return None


def _load(path: Path) -> list[Any]:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FleetgenError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise FleetgenError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
    try:
        docs = load_all_data(raw.decode("utf-8-sig"), str(path))
    except UnicodeDecodeError:
        docs = None
    if docs is None:
        raise FleetgenError(f"{path}: not YAML that fleetgen can read")
    return docs


def _flatten(docs: list[Any]) -> list[dict[str, Any]]:
    """``kind: List`` (what ``kubectl get -o yaml`` prints; also ``SecretList``) becomes its items."""
    out = []
    for doc in docs:
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List"):
            out += [item for item in doc.get("items") or () if isinstance(item, dict)]
        elif isinstance(doc, dict):
            out.append(doc)
    return out
