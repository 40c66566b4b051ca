"""fleet.yaml ``extraManifests``: hand-written manifests fleetgen copies into the tree it owns.

Each entry names a YAML file, or a directory whose ``*.yaml``/``*.yml`` files are taken recursively
(sorted by path), relative to fleet.yaml. A file lands at ``hub/extra/<its real path below fleet.yaml's
directory>`` (links resolved, so one file reached twice is copied once and reported), which ``fleet-root``
syncs into the hub with the rest of ``hub/``.

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
from dataclasses import replace
from pathlib import Path

import yaml

from .errors import FleetgenError
from .findings import ERROR, Finding, issue
from .load import MAX_BYTES, Document
from .model import ExtraFile, ExtraManifest, Fleet
from .tree import check_relpath

RULE = "extra-manifest"
PREFIX = "hub/extra"
SUFFIXES = (".yaml", ".yml")


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml when built with it
    """libyaml's safe loader with timestamps kept as strings, as validate-rendered and go-yaml read them."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


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
    for entry in fleet.extra_manifests:
        try:
            sources = _sources(entry, base, out)
        except _Refused as exc:
            findings.append(_at_entry(doc, entry, str(exc)))
            continue
        for source in sources:
            rel = source.relative_to(base).as_posix()
            found = _copy(rel, source, doc.file, findings)
            if found is not None and found.path in copied:
                findings.append(_at_entry(doc, entry, f"{rel} is already copied by an earlier extraManifests entry"))
            elif found is not None:
                copied[found.path] = found
    return replace(fleet, extra_files=tuple(copied[p] for p in sorted(copied))), findings


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


def _copy(rel: str, source: Path, fleet_file: str, findings: list[Finding]) -> ExtraFile | None:
    """One manifest read, checked and framed; None (with a finding) when it cannot be copied."""
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
    documents = _documents(text, shown, findings)
    if documents is None:
        return None
    return ExtraFile(path, (header(rel) + text).encode("utf-8"), documents)


def _documents(text: str, shown: str, findings: list[Finding]) -> tuple[dict, ...] | None:
    try:
        loaded = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        findings.append(Finding(shown, line, column, RULE, ERROR, f"not YAML Kubernetes can read: {_one_line(exc)}"))
        return None
    bad = [n for n, d in enumerate(loaded) if not _is_manifest(d)]
    if not bad:
        return tuple(loaded)
    starts = [node.start_mark for node in yaml.compose_all(text, Loader=_Loader) if node is not None]
    for n in bad:
        findings.append(
            Finding(
                shown,
                starts[n].line + 1,
                starts[n].column + 1,
                RULE,
                ERROR,
                f"document {n} is no Kubernetes object: it needs apiVersion, kind and metadata.name",
            )
        )
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
