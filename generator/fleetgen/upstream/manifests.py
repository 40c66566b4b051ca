"""Validate a rendered tree against the vendored upstream schemas: every document, every values file.

A document (a YAML document with ``apiVersion`` and ``kind``) is checked against the schema of its
apiVersion/kind, strictly (unknown fields fail; a kind without a vendored schema fails), then against
the CEL rules of that schema. A Helm values file (``<chart>/values.yaml``) is checked against the
chart's values schema (store.closed: unknown keys fail). Any other YAML is not something fleetgen
renders, and fails as an unknown kind.

Files are read as Kubernetes tools read them: YAML 1.1 scalars (sigs.k8s.io/yaml, which Argo CD and
kubectl use, decodes with go-yaml), timestamps kept as strings. Findings carry the file, the line and
column of the offending value, the document index (0-based) and the JSON path.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..documents import KubernetesLoader, split
from ..findings import ERROR, WARNING, Finding
from .cel import Counts, Failure, Rules
from .store import Compiled, Store

SUFFIXES = (".yaml", ".yml", ".json")
RULE_SCHEMA, RULE_CEL, RULE_UNKNOWN, RULE_SYNTAX = "upstream-schema", "upstream-cel", "unknown-kind", "yaml-syntax"


@dataclass
class Stats:
    files: int = 0
    documents: int = 0
    values_files: int = 0


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    cel: Counts = field(default_factory=Counts)


def manifest_files(root: Path) -> list[str]:
    """Every YAML/JSON file under ``root`` (hidden ones excluded), as sorted POSIX relative paths."""
    found = []
    for base, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(base).relative_to(root)
        found += [(rel / name).as_posix() for name in files if name.endswith(SUFFIXES) and not name.startswith(".")]
    return sorted(found)


def describe(doc: dict) -> str:
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return f"{doc.get('kind')}/{meta.get('name') or meta.get('generateName') or '<unnamed>'}"


def json_path(parts: Iterable) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


class Validator:
    """Checks files of one tree; schemas and CEL programs are compiled once and reused for every file."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self.rules = Rules()
        self._texts: dict[str, list] = {}  # document text -> its documents (the same objects wherever it recurs)
        self._kept: set[int] = set()  # ids of those documents: alive as long as this Validator
        self._checked: dict[tuple, tuple[list[tuple], Counts]] = {}  # (id(doc), index, rel is values.yaml) -> …
        self._payload_checked: dict[tuple[str, bool], tuple[list[tuple[str, str, str]], Counts]] = {}

    def check_rendered(self, rel: str, docs: list, data: bytes, label: str) -> Result:
        """Like check_file, for documents rendered in memory (``data``: the file's exact bytes)."""
        result = Result(stats=Stats(files=1))
        problems = self._problems(rel, list(docs), result.stats)
        if problems:
            where = _Positions(data.decode("utf-8"))
            result.findings += [_finding(f"{label}/{rel}", where, *p) for p in problems]
        return result

    def check_file(self, root: Path, rel: str, label: str) -> Result:
        result = Result(stats=Stats(files=1))
        name = f"{label}/{rel}"
        try:
            text = (root / rel).read_text(encoding="utf-8")
            docs = self.load(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            message = " ".join(str(exc).split()) if not isinstance(exc, OSError) else exc.strerror or str(exc)
            result.findings.append(Finding(name, line, column, RULE_SYNTAX, ERROR, f"cannot read: {message}"))
            return result
        problems = self._problems(rel, docs, result.stats)
        if problems:
            where = _Positions(text)
            result.findings += [_finding(name, where, *p) for p in problems]
        return result

    def load(self, text: str) -> list:
        """``yaml.load_all(text)``, each distinct document text loaded once (a rendered tree repeats its
        ServiceAccounts, Roles and Namespaces in every cluster); see generator/fleetgen/documents.py for why
        the split reads as the whole stream does. A part that fails leaves the error to the whole stream."""
        parts = split(text)
        if parts is None or len(parts) < 2:
            return list(yaml.load_all(text, Loader=KubernetesLoader))
        docs = []
        for part in parts:
            if part not in self._texts:
                try:
                    self._texts[part] = list(yaml.load_all(part, Loader=KubernetesLoader))
                except yaml.YAMLError:
                    return list(yaml.load_all(text, Loader=KubernetesLoader))
                self._kept.update(map(id, self._texts[part]))
            docs += self._texts[part]
        return docs

    def _problems(self, rel: str, docs: list, stats: Stats) -> list[tuple]:
        """``[(doc index, path, rule, severity, message)]`` for one parsed file."""
        chart = self._chart(rel, docs)
        if chart is not None:
            stats.values_files += 1
            return [
                (i, path, RULE_SCHEMA, ERROR, f"Helm values ({chart.name}): {message} at {json_path(path)}")
                for i, doc in enumerate(docs)
                if doc is not None
                for path, message in chart.errors(doc)
            ]
        problems = []
        for index, doc in enumerate(docs):
            if doc is None:
                continue
            stats.documents += 1
            problems += self._checked_document(index, doc, rel)
        return problems + self._payloads(docs, rel)

    def _payloads(self, docs: list, rel: str) -> list[tuple]:
        """The manifests inside ConfigMaps a ClusterResourceSet of the same file applies to a cluster.

        Cluster API applies every value of such a ConfigMap as YAML documents
        (``core/reconcilers/clusterresourceset/clusterresourceset_helpers.go``): they are rendered
        objects too, checked like the file's own, each finding placed at its ConfigMap's data key.
        """
        return [
            (index, ("data", key), rule, severity, f"data.{key}: {message}")
            for index, key, text in crs_payloads(docs)
            for rule, severity, message in self._payload(text, rel)
        ]

    def _payload(self, text: str, rel: str) -> list[tuple[str, str, str]]:
        """``[(rule, severity, message)]`` of one ConfigMap value, checked once per distinct text (every
        vSphere cluster applies the same CSI manifests); its CEL counts are added again each time it
        recurs, as ``_checked_document`` does."""
        key = (text, rel.endswith("values.yaml"))
        return self._once(self._payload_checked, key, lambda: self._payload_problems(text, rel))

    def _payload_problems(self, text: str, rel: str) -> list[tuple[str, str, str]]:
        try:
            payload = [d for d in yaml.load_all(text, Loader=KubernetesLoader) if d is not None]
        except yaml.YAMLError as exc:
            return [(RULE_SYNTAX, ERROR, " ".join(str(exc).split()))]
        return [
            (rule, severity, message)
            for number, inner in enumerate(payload)
            for _, _, rule, severity, message in self._document(number, inner, rel)
        ]

    def _checked_document(self, index: int, doc: Any, rel: str) -> list[tuple]:
        """``_document``, once per loaded document object (a recurring text is one object): the CEL
        counts it added are added again each time it recurs, as if it had been checked again."""
        if id(doc) not in self._kept:
            return self._document(index, doc, rel)
        key = (id(doc), index, rel.endswith("values.yaml"))
        return self._once(self._checked, key, lambda: self._document(index, doc, rel))

    def _once(self, memo: dict, key: tuple, check: Callable[[], list]) -> list:
        """``check()``, run once per ``key``: the CEL counts it added are added again each time the key
        recurs, so the summary counts every occurrence as if it had been checked again."""
        if key not in memo:
            before, self.rules.counts = self.rules.counts, Counts()
            try:
                memo[key] = (check(), self.rules.counts)
            finally:
                self.rules.counts = before
        problems, counts = memo[key]
        _add_counts(self.rules.counts, counts)
        return problems

    def _chart(self, rel: str, docs: list) -> Compiled | None:
        parts = rel.split("/")
        if parts[-1] != "values.yaml" or len(parts) < 2 or any(isinstance(d, dict) and "kind" in d for d in docs):
            return None
        return self.store.chart(parts[-2])

    def _document(self, index: int, doc: Any, rel: str) -> list[tuple]:
        api_version = doc.get("apiVersion") if isinstance(doc, dict) else None
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if not (isinstance(api_version, str) and isinstance(kind, str)):
            what = (
                "a Helm values file of a chart without a vendored values schema"
                if rel.endswith("values.yaml")
                else "not a Kubernetes object (no string apiVersion and kind)"
            )
            return [(index, (), RULE_UNKNOWN, ERROR, f"document {index}: {what}")]
        compiled = self.store.kind(api_version, kind)
        who = f"{describe(doc)} (document {index})"
        if compiled is None:
            return [
                (
                    index,
                    ("kind",),
                    RULE_UNKNOWN,
                    ERROR,
                    f"{who}: no upstream schema for {kind} {api_version}: fleetgen does not render this kind "
                    "(see schemas/upstream/PROVENANCE.md to add one)",
                )
            ]
        problems = [
            (index, path, RULE_SCHEMA, ERROR, f"{who}: {message} at {json_path(path)}")
            for path, message in compiled.errors(doc)
        ]
        return problems + [_cel_problem(index, who, f) for f in self.rules.check(compiled.schema, doc)]


def _crs_config_maps(docs: list) -> set:
    """Names of the ConfigMaps the file's ClusterResourceSets apply."""
    sets = [d for d in docs if isinstance(d, dict) and d.get("kind") == "ClusterResourceSet"]
    refs = [r for d in sets for r in (d.get("spec") or {}).get("resources") or () if isinstance(r, dict)]
    return {r.get("name") for r in refs if r.get("kind") == "ConfigMap"}


def crs_payloads(docs: list) -> list[tuple[int, str, str]]:
    """``(ConfigMap index, data key, YAML text)`` for every value of a ConfigMap a ClusterResourceSet applies."""
    names = _crs_config_maps(docs)
    maps = [(i, d) for i, d in enumerate(docs) if isinstance(d, dict) and d.get("kind") == "ConfigMap"]
    return [
        (i, key, str(text))
        for i, d in maps
        if (d.get("metadata") or {}).get("name") in names
        for key, text in sorted((d.get("data") or {}).items())
    ]


def _cel_problem(index: int, who: str, failure: Failure) -> tuple:
    severity = ERROR if failure.evaluated else WARNING
    text = f"{who}: {failure.message} (CEL rule: {failure.rule}) at {json_path(failure.path)}"
    return (index, failure.path, RULE_CEL, severity, text)


def _finding(name: str, where: _Positions, index: int, path: tuple, rule: str, severity: str, message: str):
    line, column = where.of(index, path)
    return Finding(name, line, column, rule, severity, message, (index, *path))


class _Positions:
    """Line and column of a JSON path in a file, composed only when a file has findings."""

    def __init__(self, text: str) -> None:
        try:
            self.nodes = list(yaml.compose_all(text, Loader=KubernetesLoader))
        except yaml.YAMLError:
            self.nodes = []

    def of(self, index: int, path: tuple) -> tuple[int, int]:
        if index >= len(self.nodes) or self.nodes[index] is None:
            return 1, 1
        node = self.nodes[index]
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1, node.start_mark.column + 1


def _child(node, part):
    if isinstance(node, yaml.MappingNode):
        return next((value for key, value in node.value if key.value == str(part)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


PARALLEL_FROM = 400  # files; below this a worker's start-up (and its own schema compiles) costs more than it saves
CHUNK = 64

_WORKER_VALIDATOR: Validator | None = None


def _run(rels: list[str], root: Path, label: str, validator: Validator) -> Result:
    total = Result()
    for rel in rels:
        add(total, validator.check_file(root, rel, label))
    total.cel = validator.rules.counts
    return total


def _worker(job: tuple[list[str], Path, str]) -> Result:
    """One chunk of files (and where they are), passed with the task: no module state set in the parent."""
    rels, root, label = job
    validator = shared_validator()
    before, validator.rules.counts = validator.rules.counts, Counts()  # each chunk reports its own rule checks
    try:
        return _run(rels, root, label, validator)
    finally:
        validator.rules.counts = before


def shared_validator() -> Validator:
    """One Validator per process (a forked render worker builds its own on first use)."""
    global _WORKER_VALIDATOR
    if _WORKER_VALIDATOR is None:
        _WORKER_VALIDATOR = Validator()
    return _WORKER_VALIDATOR


def check_rendered(files: Iterable, data: dict[str, bytes], label: str) -> Result:
    """Validate a render target's files in memory: ``files`` are render.File, ``data`` their bytes by path.
    Used by ``fleetgen check --schemas``, where the committed tree is proven equal to these bytes."""
    validator = shared_validator()
    before, validator.rules.counts = validator.rules.counts, Counts()
    total = Result()
    try:
        for f in files:
            if f.text is None and f.path.endswith(SUFFIXES):
                add(total, validator.check_rendered(f.path, list(f.documents), data[f.path], label))
        total.cel = validator.rules.counts
    finally:
        validator.rules.counts = before
    total.findings.sort()
    return total


def add(total: Result, part: Result) -> None:
    """Merge ``part`` into ``total`` (findings, file and document counts, CEL counts)."""
    total.findings += part.findings
    for name in ("files", "documents", "values_files"):
        setattr(total.stats, name, getattr(total.stats, name) + getattr(part.stats, name))
    _add_counts(total.cel, part.cel)


def _add_counts(total: Counts, part: Counts) -> None:
    for name in ("evaluated", "failed", "transition"):
        setattr(total, name, getattr(total, name) + getattr(part, name))
    total.unsupported |= part.unsupported


def validate_tree(root: Path, label: str, parallel: bool | None = None, validator: Validator | None = None) -> Result:
    """Check every manifest file under ``root``; findings are sorted, paths shown under ``label``.

    Reading YAML is most of the time, so a large tree is split across the cores (forked workers,
    as ``produce`` does); the result is the same as the serial path's. ``validator`` (serial only)
    brings its own schema store."""
    rels = manifest_files(root)
    if parallel is None:
        parallel = validator is None and len(rels) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1
    total = Result()
    if not parallel:
        add(total, _run(rels, root, label, validator or Validator()))
    else:
        jobs = [(rels[i : i + CHUNK], root, label) for i in range(0, len(rels), CHUNK)]
        with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
            for part in pool.imap(_worker, jobs):
                add(total, part)
    total.findings.sort()
    return total
