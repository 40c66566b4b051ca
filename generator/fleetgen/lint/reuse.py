"""The lint rules run one by one, each reused from the last render when nothing it read has changed.

At 5,000 clusters the rules take 0.2-0.35 s of CPU, in a forked child beside ``render``'s and ``check``'s unit pass,
which waits for them. After a one-cluster edit most rules read nothing that changed: a node pool's size is read by
two of them. So ``render`` records what each rule read and found (:class:`Memory`, kept by ``fleetgen.lintcache``
beside the findings), and the next command runs only the rules whose reads changed.

A rule runs against a traced view of the Context (:class:`_Watched`): the model through ``tracing.Recording``, as a
fleet-wide render unit runs (the Fleet fields it reads; the Cluster and Workload fields it reads, as projections
``clusters.<field>,<field>`` and ``workloads.<field>,<field>``), and every other part of the Context as
``ctx:<name>``. Its findings are reused when every read is as recorded:

- a Fleet field (or a workload projection, a per-argument call, a derived value): the digest ``tracing.Inputs``
  gives it, compared with the recorded one. Unlike a render unit's, a rule's findings carry positions in fleet.yaml; the
  model's objects show theirs in their repr (and so in the digest), except clusters and node pools;
- a projection of the clusters, or the clusters whole (a Fleet method, a cluster copied: by their digest too): the
  clusters are the same names at the same positions in fleet.yaml (``Cluster.path``, which is not in a cluster's
  repr nor in its source digest; its pools' positions follow from it and their order, which is), and no cluster
  whose source changed has a new value in a field of the projection.
  Each cluster's fields are compared by their digests (:func:`_field_digests`), recorded under its source digest
  (``fleetgen.sources``: the model is a pure function of the text), so a run compares only the clusters whose text
  changed, not 5,000 rows per projection;
- ``ctx:rendered_versions``, ``ctx:installed``, ``ctx:sources``: their digests. Any other part of the Context (the
  raw data, what rules remembered) is never the same: such a rule always runs.

The rules' code is in the memory's key (``lintcache``: the code digest), as fleetgen's version is, and so are the
vendored schemas ``override-path`` walks (``lint.overrides.schemas_read``). Without cluster
sources (a fleet file with aliases) nothing is reused or recorded: every rule runs, as it did before. Each rule
recorded runs with a memo of its own (``Context.memo``): a shared memo would hand a later rule a value whose reads
were recorded in the rule that computed it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import tracing
from ..findings import Issue, issue_data, issue_from_data
from ..model import Cluster, Fleet
from .overrides import schemas_read
from .registry import Context, Rule

CONTEXT = "ctx:"  # a read of the Context's other parts: ctx:<name>
# Every field of a cluster but its position (decided by its place in the order, compared whole).
FIELDS = tuple(f.name for f in dataclasses.fields(Cluster) if f.name != "path")
WIDTH = 16  # bytes of a field's digest in a cluster's row
# Reads of every cluster whole (a method of the Fleet, a cluster copied): their digests are the clusters' source
# digests, which leave out positions, so they are as recorded only while the clusters are at the recorded positions.
WHOLE_CLUSTERS = frozenset({tracing.EVERYTHING, "clusters"})


@dataclass(frozen=True)
class Memory:
    """What a render's rules read and found, for the next command: each rule's reads and issues (as data), the digests
    of the reads other than the clusters', and the clusters as they were (names, positions in fleet.yaml and source
    digests in the model's order, and each source digest's field digests)."""

    rules: Mapping[str, tuple[tuple[str, ...], tuple]] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    paths: tuple[tuple, ...] = ()  # each cluster's Cluster.path: the model sorts clusters by name, not by position
    sources: tuple[str, ...] = ()
    rows: Mapping[str, bytes] = field(default_factory=dict)  # source digest -> its fields' digests, FIELDS' order
    schemas: str = ""  # the digest of the vendored schemas override-path walks (lint.overrides.schemas_read)

    def to_data(self) -> dict[str, Any]:
        return {
            "rules": {rule: [list(reads), list(issues)] for rule, (reads, issues) in self.rules.items()},
            "fields": dict(self.fields),
            "names": list(self.names),
            "paths": [list(path) for path in self.paths],
            "sources": list(self.sources),
            "rows": dict(self.rows),
            "schemas": self.schemas,
        }

    @classmethod
    def from_data(cls, data: Any) -> Memory | None:
        """The memory ``to_data`` wrote; None for anything else (no memory: every rule runs)."""
        try:
            rules = {
                str(rule): (tuple(str(r) for r in reads), tuple(issues))
                for rule, (reads, issues) in data["rules"].items()
            }
            fields = {str(k): str(v) for k, v in data["fields"].items()}
            names, sources = tuple(map(str, data["names"])), tuple(map(str, data["sources"]))
            paths = tuple(tuple(path) for path in data["paths"])
            rows = data["rows"]
            if not len(names) == len(paths) == len(sources) or not all(
                isinstance(v, bytes) and len(v) == WIDTH * len(FIELDS) for v in rows.values()
            ):
                return None
            for _, issues in rules.values():
                for issue in issues:
                    issue_from_data(issue)
        except (AttributeError, KeyError, TypeError, ValueError):
            return None
        return cls(rules, fields, names, paths, sources, rows, str(data["schemas"]))


class _Watched:
    """A rule's view of the Context while its reads are recorded: the traced model, a memo of its own, and every other
    attribute read recorded as ``ctx:<name>``."""

    def __init__(self, ctx: Context, traced: Any, reads: set[str]):
        self.model, self._ctx, self._reads = traced, ctx, reads
        self.memo: dict[Any, Any] = {}

    @property
    def fleet(self) -> Any:
        return self.model

    def __getattr__(self, name: str) -> Any:
        self._reads.add(CONTEXT + name)
        return getattr(self._ctx, name)


def _digest(value: Any) -> str:
    return tracing.text_digest(json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr))


def _context_digest(ctx: Context, name: str) -> str | None:
    """The digest of a part of the Context a rule's findings may be reused after reading (``ctx:<name>``); None for
    any other part."""
    if name == CONTEXT + "rendered_versions":
        return _digest(dict(ctx.rendered_versions) if ctx.rendered_versions is not None else None)
    if name == CONTEXT + "installed":
        return _digest(ctx.installed.to_json() if ctx.installed is not None else None)
    if name == CONTEXT + "sources":
        return _digest(dict(ctx.sources) if ctx.sources is not None else None)
    return None


def _field_digests(cluster: Cluster) -> bytes | None:
    """Each field's digest (``FIELDS``' order, ``WIDTH`` bytes each); None when a value has no stable text."""
    try:
        texts = [tracing.canonical(getattr(cluster, name)) for name in FIELDS]
    except tracing.Unkeyable:
        return None
    return b"".join(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=WIDTH).digest() for t in texts)


def _changed_fields(memory: Memory, fleet: Fleet, sources: Mapping[str, str]) -> frozenset[str] | None:
    """The cluster fields some cluster whose source changed has a new value in; None when the clusters are not the same
    names at the same positions, or a changed cluster cannot be compared (every cluster read then counts as
    changed)."""
    clusters = fleet.clusters
    if len(clusters) != len(memory.names) or any(
        c.name != name or c.path != path for c, name, path in zip(clusters, memory.names, memory.paths)
    ):
        return None
    changed: set[str] = set()
    for cluster, before in zip(clusters, memory.sources):
        now = sources.get(cluster.name)
        if now == before:
            continue
        old, new = memory.rows.get(before), _field_digests(cluster)
        if old is None or new is None:
            return None
        changed.update(
            n for i, n in enumerate(FIELDS) if old[i * WIDTH : (i + 1) * WIDTH] != new[i * WIDTH : (i + 1) * WIDTH]
        )
    return frozenset(changed)


class Reuse:
    """One lint run's rules against what the last render's recorded (``memory``, None: nothing), recording them again
    for the next run when ``keep``."""

    def __init__(self, ctx: Context, memory: Memory | None, keep: bool):
        fleet, sources = ctx.model, ctx.sources
        self.ctx, self.keep = ctx, keep
        self.active = fleet is not None and sources is not None and (keep or memory is not None)
        self.memory = memory if self.active else None
        self.kept: dict[str, tuple[tuple[str, ...], tuple]] = {}
        self.reused: list[str] = []
        if not self.active:
            return
        assert fleet is not None and sources is not None
        self.fleet, self.sources = fleet, sources
        self.inputs = tracing.Inputs(fleet, sources=sources)
        self.context: dict[str, str | None] = {}
        self.schemas = schemas_read(fleet)
        if memory is not None and memory.schemas != self.schemas:  # the rules that walk them would be stale
            self.memory = None
        self.changed = _changed_fields(self.memory, fleet, sources) if self.memory is not None else None

    def issues(self, rule: Rule) -> Iterable[Issue]:
        """The rule's issues: as recorded when nothing it read changed, else found again (recorded, ``keep``)."""
        check: Callable[[Any], Iterable[Issue]] = rule.check  # type: ignore[assignment]  # LINT_RULES: all check
        if not self.active:
            return check(self.ctx)
        recorded = self.memory.rules.get(rule.id) if self.memory is not None else None
        if recorded is not None and self._unchanged(recorded[0]):
            self.reused.append(rule.id)
            if self.keep:
                self.kept[rule.id] = recorded
            return [issue_from_data(i) for i in recorded[1]]
        if not self.keep:
            return check(self.ctx)
        recording = tracing.Recording(self.fleet, fleet_wide=True)
        context_reads: set[str] = set()
        with recording as traced:
            found = list(check(_Watched(self.ctx, traced, context_reads)))
        reads = tuple(sorted(recording.reads() | context_reads))
        if self._keyable(reads):
            self.kept[rule.id] = (reads, tuple(issue_data(i) for i in found))
        return found

    def _unchanged(self, reads: Iterable[str]) -> bool:
        memory = self.memory
        assert memory is not None
        for name in reads:
            if name.startswith(tracing.PROJECTION):
                if self.changed is None or not self.changed.isdisjoint(name[len(tracing.PROJECTION) :].split(",")):
                    return False
            elif name in WHOLE_CLUSTERS and self.changed is None:  # their digests do not show positions
                return False
            elif memory.fields.get(name) != self._digest(name):
                return False
        return True

    def _digest(self, name: str) -> str | None:
        """A read's digest now (None: it has none, and so never matches)."""
        if name.startswith(CONTEXT):
            if name not in self.context:
                self.context[name] = _context_digest(self.ctx, name)
            return self.context[name]
        try:
            return self.inputs.field(name)
        except tracing.Unkeyable:
            return None

    def _keyable(self, reads: Iterable[str]) -> bool:
        return all(name.startswith(tracing.PROJECTION) or self._digest(name) is not None for name in reads)

    def memory_to_keep(self) -> Memory | None:
        """What the next run reuses: every rule recorded or reused, its reads' digests and the clusters' rows."""
        if not self.active or not self.keep:
            return None
        reads = {name for recorded, _ in self.kept.values() for name in recorded}
        fields = {
            name: digest
            for name in sorted(reads)
            if not name.startswith(tracing.PROJECTION)
            if (digest := self._digest(name)) is not None
        }
        names = tuple(c.name for c in self.fleet.clusters)
        sources = tuple(self.sources[n] for n in names)
        old = self.memory.rows if self.memory is not None else {}
        rows: dict[str, bytes] = {}
        for cluster, source in zip(self.fleet.clusters, sources):
            row = old.get(source)
            if row is None:
                row = _field_digests(cluster)
            if row is None:  # no stable text: no cluster read of any rule can be reused next time
                return Memory(self.kept, fields, schemas=self.schemas)
            rows[source] = row
        paths = tuple(c.path for c in self.fleet.clusters)
        return Memory(dict(self.kept), fields, names, paths, sources, rows, self.schemas)
