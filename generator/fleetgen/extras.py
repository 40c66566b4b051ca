"""fleet.yaml ``extraManifests``: hand-written manifests fleetgen copies into the tree it owns.

Each entry names a YAML file, or a directory whose ``*.yaml``/``*.yml`` files are taken recursively
(sorted by path), relative to fleet.yaml. A file lands at ``hub/extra/<its real path below fleet.yaml's
directory>`` (links resolved, so one file reached twice is copied once and reported), which ``fleet-root``
syncs into the hub with the rest of ``hub/``. An entry with ``clusters`` (a label selector) is copied
instead to ``clusters/<cluster>/extra/<the same path>`` of every selected cluster, which the
``fleet-spoke-extra`` ApplicationSet (push mode) or the Application ``<cluster>-extra`` (pull mode)
syncs to that spoke. Argo CD's RBAC there and the project's whitelists are computed from these
documents, so a spoke document must say where it goes: a namespaced object names its
``metadata.namespace``, an object without one must be of a kind known to be cluster-scoped
(``CLUSTER_SCOPED``), and a Namespace is not accepted (access.yaml creates the namespaces the
documents name, with fleetgen's Pod Security labels).

Copied, not re-emitted: the rendered file is one header line naming the source, then the source's
text byte for byte (CRLF line ends read as LF, like every file fleetgen writes). Argo CD applies exactly
what was reviewed, comments included, and no YAML 1.1/1.2 difference can change a value on the way.
The documents are parsed as Kubernetes tools read them (libyaml, YAML 1.1) only to check them and to
name their cluster-scoped objects in the ``fleet-platform`` AppProject.

Confinement: the schema refuses absolute paths and ``..``; here the path with every symbolic link
resolved must stay below fleet.yaml's directory and outside the rendered tree, and so must every file
found in a directory (a link to a directory is refused, not followed). Every problem is an
``extra-manifest`` finding: at the entry in fleet.yaml, or at the line and column in the manifest.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from .documents import KubernetesLoader
from .errors import FleetgenError
from .findings import ERROR, Finding, issue
from .load import MAX_BYTES, Document
from .model import Cluster, ExtraFile, ExtraManifest, Fleet
from .selectors import select
from .tree import check_relpath
from .upstream import api_group

RULE = "extra-manifest"
PREFIX = "hub/extra"
SPOKE_PREFIX = "clusters/{cluster}/extra"
SUFFIXES = (".yaml", ".yml")
RBAC_GROUP = "rbac.authorization.k8s.io"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# (API group, kind) of the cluster-scoped kinds a spoke extra manifest may hold without a namespace:
# Kubernetes' own (``kubectl api-resources --namespaced=false``, v1.35, minus what Argo CD must never own:
# Nodes, CSRs, reviews and tokens), and the cluster-scoped kinds of the CRDs fleetgen vendors schemas for.
CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "PersistentVolume"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("infrastructure.cluster.x-k8s.io", "AWSClusterRoleIdentity"),
        ("networking.k8s.io", "IngressClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("policy.karmada.io", "ClusterTaintPolicy"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
    }
)


class _Refused(Exception):
    """A problem with one entry's source, worded for the finding at that entry."""


def attach(fleet: Fleet, doc: Document, base: Path, out: Path) -> tuple[Fleet, list[Finding]]:
    """The fleet with every extra manifest read (``Fleet.extra_files``), and the findings: ``base`` is fleet.yaml's
    directory, ``out`` the rendered tree (a source inside it would copy fleetgen's output into itself)."""
    if not fleet.extra_manifests:
        return fleet, []
    base, out = base.resolve(), out.resolve()
    findings: list[Finding] = []
    copied: dict[str, ExtraFile] = {}
    owned: dict[str, frozenset] = {}  # cluster -> keys of fleetgen's own objects there (_taken)
    for entry in fleet.extra_manifests:
        try:
            sources = _sources(entry, base, out)
        except _Refused as exc:
            findings.append(_at_entry(doc, entry, str(exc)))
            continue
        spokes = None if entry.clusters is None else select(entry.clusters, fleet.clusters)
        for source in sources:
            rel = source.relative_to(base).as_posix()
            for found in _copies(fleet, entry, rel, source, doc.file, spokes, findings, owned):
                if found.path in copied:
                    where = "" if found.cluster is None else f" to cluster {found.cluster!r}"
                    message = f"{rel} is already copied{where} by an earlier extraManifests entry"
                    findings.append(_at_entry(doc, entry, message))
                    break
                copied[found.path] = found
    return replace(fleet, extra_files=tuple(copied[p] for p in sorted(copied))), findings


def _copies(
    fleet: Fleet,
    entry: ExtraManifest,
    rel: str,
    source: Path,
    fleet_file: str,
    spokes: list[Cluster] | None,
    findings: list[Finding],
    owned: dict[str, frozenset],
) -> list[ExtraFile]:
    """The copies of one source: the hub's (``spokes`` None), or one per selected cluster (none when none is)."""
    read = _copy(rel, source, fleet_file, findings, spoke=spokes is not None)
    if read is None:
        return []
    hub = ExtraFile(read.path, read.data, read.documents, None, rel, entry.path)
    if spokes is None:
        return [hub]
    taken = _taken(fleet, spokes, read, owned)
    if taken:
        text = read.data.decode("utf-8").split("\n", 1)[1]  # the source's text, below the header
        starts = _starts(text)
        shown = (Path(fleet_file).parent / rel).as_posix()
        for n, cluster in taken:
            line, column = starts[n].line + 1, starts[n].column + 1
            message = f"document {n} is an object fleetgen renders on cluster {cluster!r}: two owners would fight"
            findings.append(Finding(shown, line, column, RULE, ERROR, message, hint=TAKEN_HINT))
        return []
    return [
        replace(hub, path=check_relpath(f"{SPOKE_PREFIX.format(cluster=c.name)}/{rel}"), cluster=c.name) for c in spokes
    ]


def _key(doc: dict[str, Any]) -> tuple[str, str, str | None, str]:
    return api_group(doc), doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]


def _taken(fleet: Fleet, spokes: list[Cluster], read: ExtraFile, owned: dict[str, frozenset]) -> list[tuple[int, str]]:
    """(document index, first cluster) of each document that is also one of fleetgen's own objects on a spoke:
    its access.yaml (Argo CD's RBAC, named ``fleetgen:*`` in any namespace) or its monitoring dir."""
    from .render.access import access_documents
    from .render.observability import spoke_documents

    found: dict[int, str] = {}
    for cluster in spokes:
        if cluster.name not in owned:  # once per cluster and attach, however many files reach it
            docs = (*access_documents(fleet, cluster), *spoke_documents(fleet, cluster))
            owned[cluster.name] = frozenset(_key(d) for d in docs)
        own = owned[cluster.name]
        for n, doc in enumerate(read.documents):
            reserved = api_group(doc) == RBAC_GROUP and doc["metadata"]["name"].startswith("fleetgen:")
            if n not in found and (reserved or _key(doc) in own):
                found[n] = cluster.name
    return sorted(found.items())


def _at_entry(doc: Document, entry: ExtraManifest, message: str) -> Finding:
    hint = "name a file or directory below fleet.yaml's directory and outside the rendered tree"
    return doc.place(issue(RULE, (*entry.path, "source"), message, hint=hint))


def _inside(path: Path, top: Path) -> bool:
    return path == top or top in path.parents


def _confined(path: Path, base: Path, out: Path, shown: str) -> Path:
    real = Path(os.path.realpath(path))
    if not _inside(real, base):
        raise _Refused(f"{shown} resolves to {real}, outside fleet.yaml's directory {base}")
    if _inside(real, out):
        raise _Refused(f"{shown} is inside the rendered tree {out}: fleetgen would copy its own output")
    return real


def _sources(entry: ExtraManifest, base: Path, out: Path) -> list[Path]:
    """The files an entry names, sorted, each checked to stay below ``base`` (links resolved) and outside ``out``."""
    given = base / entry.source
    if not given.exists() and not given.is_symlink():
        raise _Refused(f"{entry.source}: no such file or directory")
    top = _confined(given, base, out, entry.source)
    if not top.is_dir():
        if not entry.source.endswith(SUFFIXES):
            raise _Refused(f"{entry.source} is not a .yaml or .yml file")
        return [_regular(top, entry.source)]
    found = []
    for root, dirs, files in os.walk(top, followlinks=False):
        dirs.sort()
        for name in dirs:
            if (Path(root) / name).is_symlink():
                shown = (Path(root) / name).relative_to(base).as_posix()
                raise _Refused(f"{shown} is a symbolic link to a directory; name its target itself")
        for name in sorted(files):
            if name.endswith(SUFFIXES):
                path = Path(root) / name
                shown = path.relative_to(base).as_posix()
                found.append(_regular(_confined(path, base, out, shown), shown))
    if not found:
        raise _Refused(f"{entry.source} holds no .yaml or .yml file")
    return sorted(found)


def _regular(real: Path, shown: str) -> Path:
    """Only regular files are read: a FIFO or device named *.yaml would block or never end."""
    if not real.is_file():
        raise _Refused(f"{shown} is not a regular file")
    return real


def header(rel: str) -> str:
    return f"# copied by fleetgen from {rel} (fleet.yaml extraManifests) — edit the source, not this copy\n"


def _copy(rel: str, source: Path, fleet_file: str, findings: list[Finding], spoke: bool = False) -> ExtraFile | None:
    """One manifest read, checked (``spoke``: also as a spoke needs it) and framed (at its hub path);
    None (with a finding) when it cannot be copied."""
    shown = (Path(fleet_file).parent / rel).as_posix()
    try:
        path = check_relpath(f"{PREFIX}/{rel}")
        with source.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # bounded memory, as for fleet.yaml
        if len(raw) > MAX_BYTES:
            raise ValueError("larger than 32 MiB")
        text = raw.decode("utf-8").replace("\r\n", "\n")
    except (FleetgenError, OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc)
        findings.append(Finding(shown, 1, 1, RULE, ERROR, f"cannot copy {rel}: {why}"))
        return None
    documents = _documents(text, shown, findings, spoke)
    if documents is None:
        return None
    return ExtraFile(path, (header(rel) + text).encode("utf-8"), documents)


def _starts(text: str) -> list:
    """Where each document of ``text`` starts (PyYAML marks: 0-based line and column)."""
    return [node.start_mark for node in yaml.compose_all(text, Loader=KubernetesLoader) if node is not None]


def _documents(text: str, shown: str, findings: list[Finding], spoke: bool = False) -> tuple[dict, ...] | None:
    try:
        loaded = [d for d in yaml.load_all(text, Loader=KubernetesLoader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        findings.append(Finding(shown, line, column, RULE, ERROR, f"not YAML Kubernetes can read: {_one_line(exc)}"))
        return None
    bad = {n: _NO_OBJECT for n, d in enumerate(loaded) if not _is_manifest(d)}
    if spoke and not bad:
        bad = {n: why for n, d in enumerate(loaded) if (why := spoke_problem(d)) is not None}
    if not bad:
        return tuple(loaded)
    starts = _starts(text)
    for n, why in bad.items():
        mark, hint = starts[n], SPOKE_HINT if why is not _NO_OBJECT else ""
        findings.append(Finding(shown, mark.line + 1, mark.column + 1, RULE, ERROR, f"document {n} {why}", hint=hint))
    return None


_NO_OBJECT = "is no Kubernetes object: it needs apiVersion, kind and metadata.name"
TAKEN_HINT = "rename your object, or change fleetgen's through `patches` in fleet.yaml"
SPOKE_HINT = (
    "give every namespaced object its metadata.namespace and leave Namespaces to fleetgen; "
    "a hub-only manifest goes in an extraManifests entry without clusters"
)


def spoke_problem(doc: dict[str, Any]) -> str | None:
    """Why a document cannot be synced to a spoke with permissions computed from it, or None."""
    kind, meta = (api_group(doc), doc["kind"]), doc["metadata"]
    namespace = meta.get("namespace")
    if kind == ("", "Namespace"):
        return (
            "is a Namespace: a spoke's namespaces are created by fleetgen (clusters/<cluster>/access.yaml, with "
            "Pod Security labels) for the objects that name them; drop it"
        )
    if kind in CLUSTER_SCOPED:
        scoped = f"is a {doc['kind']}, which is cluster-scoped: drop its metadata.namespace"
        return scoped if "namespace" in meta else None
    if namespace is None or namespace == "":
        return (
            f"({doc['kind']} {meta['name']!r}) names no metadata.namespace: on a spoke every namespaced "
            "object names its own, and a kind fleetgen does not know to be cluster-scoped counts as namespaced"
        )
    if not (isinstance(namespace, str) and DNS_LABEL.match(namespace)):
        return f"({doc['kind']} {meta['name']!r}) names the namespace {namespace!r}, which is no DNS-1123 label"
    return None


def _is_manifest(doc) -> bool:
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    return (
        (
            isinstance(doc.get("apiVersion"), str)
            and isinstance(doc.get("kind"), str)
            and isinstance(meta, dict)
            and isinstance(meta.get("name"), str)
        )
        if isinstance(doc, dict)
        else False
    )


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
