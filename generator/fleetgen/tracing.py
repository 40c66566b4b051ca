"""What a computation reads of the model, and the digests that key what it made by what it read.

A render unit (``fleetgen.units``) and a lint rule (``fleetgen.lint.reuse``) each run against a tracing view of the
Fleet (:class:`Traced`, set up by :class:`Recording`): every Fleet field it reads is recorded, and the fields of the
clusters and workloads it reads (:func:`fields_read`), which :func:`narrowed` turns into projections
(``clusters.<field>,<field>``, ``workloads.<field>,<field>``). :class:`Inputs` gives each read's digest, once a run;
what it made is reused when every read has the digest recorded when it was made. The details of what counts as a
read, and why, are in ``fleetgen.units``' docstring.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from functools import cached_property, partial
from itertools import chain, compress
from operator import eq, methodcaller, not_
from typing import Any, Protocol

from .model import Cluster, Fleet, Workload

FIELDS = tuple(f.name for f in dataclasses.fields(Fleet))
EVERYTHING = "*"
CLUSTER_FIELDS = frozenset(f.name for f in dataclasses.fields(Cluster))
UNSHOWN = frozenset(f.name for f in dataclasses.fields(Cluster) if not f.repr)  # not decided by a cluster's digest
PROJECTION = "clusters."  # "clusters.<field>,<field>": those fields of every cluster, in order (a fleet-wide read)
WORKLOAD_FIELDS = frozenset(f.name for f in dataclasses.fields(Workload))
WORKLOADS = "workloads."  # "workloads.<field>,<field>": those fields of every workload, in order


class Recorded(Protocol):
    """The digests a run recorded (the render units' cache, ``units.Cache``): each field's and each cluster's."""

    @property
    def fields(self) -> Mapping[str, str]: ...

    @property
    def clusters(self) -> Mapping[str, str]: ...


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Unkeyable(Exception):
    """A value whose repr is not its content (an object address): its unit is always rendered."""


# CPython's repr of an object without one of its own ends in its address: ``<x.Y object at 0x7f…>``,
# ``<function f at 0x7f…>``. Text that merely says " at 0x" (a manifest's comment) is content.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def canonical(value: Any) -> str:
    text = repr(value)
    found = _ADDRESS.search(text)
    if found:
        raise Unkeyable(text[max(0, found.start() - 60) : found.end()])
    return text


class Inputs:
    """Digests of the fleet's parts, each computed once per run."""

    def __init__(
        self,
        fleet: Fleet,
        previous: Mapping[str, str] | None = None,
        sources: Mapping[str, str] | None = None,
        rows: Mapping[str, Mapping[str, bytes]] | None = None,
    ):
        self.fleet = fleet
        self.previous = previous or {}  # the digests the cache recorded (a projection of the same clusters is)
        self.sources = sources or {}  # cluster -> digest of its source text (fleetgen.sources), when it decides it
        self.previous_rows = rows or {}  # projection -> cluster digest -> its row's digest, as recorded
        self._rows: dict[str, dict[str, bytes]] = {}
        self._printed: dict[int, str] = {}
        self._returned: dict[int, tuple[Any, str]] = {}  # id -> (value, digest) of what a per-argument call returned
        self._fields: dict[str, str] = {}
        self._clusters: dict[str, str] = {}
        self._order: list[str] | None = None
        self._same_cluster: dict[str, bool] | None = None  # for ``unchanged``: against the one cache of the run
        self._same_field: dict[str, bool] = {}
        self._same_reads: dict[int, bool] = {}  # by the id of a cache entry's reads
        # the recorded order of the clusters' digests, and (cluster, recorded digest, digest now) of those that changed
        self._moved: tuple[list[str], list[tuple[Cluster, str, str]]] | None = None

    def cluster(self, cluster: Cluster) -> str:
        if cluster.name not in self._clusters:
            source = self.sources.get(cluster.name)
            self._clusters[cluster.name] = text_digest(canonical(cluster)) if source is None else source
        return self._clusters[cluster.name]

    def computed(self) -> tuple[dict[str, str], dict[str, str]]:
        """The field and cluster digests computed so far (recorded in the cache to explain the next run)."""
        return dict(self._fields), dict(self._clusters)

    def rows(self) -> dict[str, dict[str, bytes]]:
        """The rows of every projection asked this run (recorded in the cache for the next run's projections)."""
        return dict(self._rows)

    def field(self, name: str) -> str:
        if name not in self._fields:
            if name == EVERYTHING:
                value = "".join(self.field(f) for f in FIELDS)
            elif name == "clusters":
                value = "".join(self.cluster(c) for c in self.fleet.clusters)
            elif name in FIELDS or name in Fleet.DERIVED:
                value = canonical(getattr(self.fleet, name))
            elif name.startswith(PROJECTION):
                self._fields[name] = self._projection(name)
                return self._fields[name]
            elif name.startswith(WORKLOADS):
                value = self._workloads(name)
            elif (method := name.partition("(")[0]) in Fleet.PER_ARGUMENT and name.endswith(")"):
                self._fields[name] = self._per_call(name, method)
                return self._fields[name]
            else:
                raise Unkeyable(name)
            self._fields[name] = text_digest(value)
        return self._fields[name]

    def unchanged(self, unit: Any, reads, previous: Recorded) -> bool:
        """Whether ``unit``'s key is what the cache recorded, without computing it: its cluster's digest and the digest
        of every field it read are those the cache recorded. The cache records the digests of the run that wrote it
        (``computed``), and every unit in it was keyed in that run with those digests (rendered, or found
        unchanged this way), so equal digests are an equal key; a digest it did not record is a change."""
        if unit.cluster is not None and not self.same_clusters(previous).get(unit.cluster.name, False):
            return False
        return self.same_reads(reads, previous)

    def same_clusters(self, previous: Recorded) -> dict[str, bool]:
        """Cluster name -> whether its digest is the one ``previous`` recorded, for every cluster (once a run)."""
        if self._same_cluster is None:
            recorded = previous.clusters
            self._same_cluster = {c.name: recorded.get(c.name) == self.cluster(c) for c in self.fleet.clusters}
        return self._same_cluster

    def same_reads(self, reads, previous: Recorded) -> bool:
        """Whether every field of ``reads`` has the digest ``previous`` recorded. Each field is compared once a run
        (30,000 units read a few hundred distinct fields), and ``save`` stores equal reads as one object, which
        marshal reads back as one: most units' reads are decided by one lookup (the cache keeps every entry, so no
        id is reused during the run)."""
        same = self._same_reads.get(id(reads))
        if same is None:
            known = self._same_field
            same = True
            for name in reads:
                field_same = known.get(name)
                if field_same is None:
                    field_same = self._same(name, previous)
                if not field_same:
                    same = False
                    break
            self._same_reads[id(reads)] = same
        return same

    def same_reads_of(self, distinct: list, previous: Recorded) -> dict[int, bool]:
        """``same_reads`` of each of ``distinct`` (distinct reads, by id), False where a field has no stable digest.
        At 5,000 clusters a run has some 10,000 distinct reads, as each cluster's units ask for their own extra
        manifests (``spoke_extras(<cluster>)``): the per-argument reads are decided all at once
        (``_same_per_argument``), the few hundred other fields one by one, and reads whose every field is the
        same are found in C; only the others are compared field by field, in order (``same_reads``)."""
        known = self._same_field
        undecided = set(chain.from_iterable(distinct)).difference(known)
        self._same_per_argument(undecided, previous)
        for name in undecided.difference(known):  # (a few hundred)
            try:
                self._same(name, previous)
            except Unkeyable:
                pass
        quick = list(map(all, map(partial(map, known.get), distinct)))  # an undecided field (None) is not quick
        decided = dict(zip(map(id, distinct), quick))
        for reads in compress(distinct, map(not_, quick)):
            try:
                decided[id(reads)] = self.same_reads(reads, previous)
            except Unkeyable:
                decided[id(reads)] = False
        return decided

    def _same(self, name: str, previous: Recorded) -> bool:
        """Whether the field ``name`` has the digest ``previous`` recorded (decided once a run)."""
        same = self._same_field[name] = previous.fields.get(name) == self.field(name)
        return same

    def _calls_as_recorded(self, method: str) -> bool:
        """Whether the field a per-argument method's value is computed from is as recorded: each of its recorded
        calls then has its recorded digest (``Fleet.PER_ARGUMENT``)."""
        source = Fleet.PER_ARGUMENT[method]
        return self.field(source) == self.previous.get(source)

    def _same_per_argument(self, names: set[str], previous: Recorded) -> None:
        """Decide the per-argument reads among ``names`` as ``field`` would, in bulk: while the field they are
        computed from is as recorded, each recorded one's digest is the recorded one (``_per_call``). The rest
        are left to ``same_reads``."""
        for method in Fleet.PER_ARGUMENT:
            calls = list(filter(methodcaller("startswith", f"{method}("), names))
            try:
                if not calls or not self._calls_as_recorded(method):
                    continue
            except Unkeyable:
                continue
            recorded = [name for name in calls if name in self.previous and name.endswith(")")]
            digests = list(map(self.previous.__getitem__, recorded))
            self._fields.update(zip(recorded, digests))
            self._same_field.update(zip(recorded, map(eq, map(previous.fields.get, recorded), digests)))

    def _per_call(self, name: str, method: str) -> str:
        """A per-argument read's digest: the recorded one while the field its value is computed from is as recorded
        (``Fleet.PER_ARGUMENT``: a cluster's units each ask for their own extra manifests), else that of the value."""
        if self._calls_as_recorded(method) and name in self.previous:
            return self.previous[name]
        call = per_call(name)
        if call is None:
            raise Unkeyable(name)
        return self._returned_digest(getattr(self.fleet, method)(call[1]))

    def _returned_digest(self, value: Any) -> str:
        """The digest of a per-argument call's value, printed once per object: at 5,000 clusters every cluster's
        units read ``spoke_extras(<its name>)``, and nearly all get the one empty tuple. The value is kept with its
        digest, so its id is not reused by another object during the run."""
        known = self._returned.get(id(value))
        if known is None:
            known = self._returned[id(value)] = (value, text_digest(canonical(value)))
        return known[1]

    def _projection(self, name: str) -> str:
        """The digest of some fields of every cluster, in order: of each cluster's row (its fields' text). The
        recorded projection when the clusters are the same; else each row recorded under the cluster's digest is
        taken as it is (the cluster's digest decides every field its repr shows), and only the others are printed
        again: a one-cluster change prints one row."""
        same = self.previous.get("clusters") == self.field("clusters")  # recorded too, for the next run
        if same and name in self.previous:
            self._rows[name] = dict(self.previous_rows.get(name, {}))
            return self.previous[name]
        fields = _projected(name, PROJECTION, CLUSTER_FIELDS)
        recorded = {} if set(fields) & UNSHOWN else self.previous_rows.get(name, {})
        printed: dict[str, bytes] = {}  # the rows printed again, by their cluster's digest now
        if recorded and name in self.previous and self._rows_unchanged(name, fields, recorded, printed):
            return self.previous[name]
        rows: dict[str, bytes] = {}
        digests = self._in_order()
        for cluster, digest in zip(self.fleet.clusters, digests):
            if digest not in rows:
                rows[digest] = recorded.get(digest) or printed.get(digest) or self._row(cluster, fields)
        self._rows[name] = rows
        whole = f"{len(digests)}\n".encode() + b"".join([rows[digest] for digest in digests])
        return hashlib.sha256(whole).hexdigest()

    def _rows_unchanged(
        self, name: str, fields: list[str], recorded: Mapping[str, bytes], printed: dict[str, bytes]
    ) -> bool:
        """Whether a projection's rows are all as recorded (its digest is then the recorded one). The rows were recorded
        in the clusters' order (each under its cluster's digest): when the clusters are as many, and each whose digest
        changed has the row recorded at its place (an edit of a field the projection does not show), the rows are
        the same, in the same order; they are recorded again under the new digests. A one-cluster edit prints one
        row per projection, not 5,000 (``printed``: the rows printed, by digest, for the caller when they differ)."""
        digests = self._in_order()
        if len(recorded) != len(digests):
            return False
        order = list(recorded)  # every projection recorded in one run has this order: the changes are found once
        if self._moved is None or self._moved[0] != order:
            changed = [(c, old, new) for c, old, new in zip(self.fleet.clusters, order, digests) if old != new]
            self._moved = order, changed
        for cluster, old, new in self._moved[1]:
            printed[new] = self._row(cluster, fields)
            if printed[new] != recorded[old]:
                return False
        self._rows[name] = dict(zip(digests, recorded.values()))
        return True

    def _in_order(self) -> list[str]:
        """Every cluster's digest, in the fleet's order (once a run: each projection walks them)."""
        if self._order is None:
            self._order = [self.cluster(cluster) for cluster in self.fleet.clusters]
        return self._order

    def _workloads(self, name: str) -> str:
        """Some fields of every workload, in order, as text (a few dozen workloads: nothing recorded)."""
        fields = _projected(name, WORKLOADS, WORKLOAD_FIELDS)
        rows = "\n".join("\0".join(canonical(getattr(w, f)) for f in fields) for w in self.fleet.workloads)
        return f"{len(self.fleet.workloads)}\n{rows}"

    def _row(self, cluster: Cluster, fields: list[str]) -> bytes:
        """The digest of ``fields`` of one cluster, as text (clusters share their Provider objects: each printed
        once a run)."""
        printed = self._printed
        texts = []
        for name in fields:
            value = getattr(cluster, name)
            text = printed.get(id(value))
            if text is None:
                text = printed[id(value)] = canonical(value)
            texts.append(text)
        return hashlib.sha256("\0".join(texts).encode("utf-8", "surrogatepass")).digest()


def _projected(name: str, prefix: str, known: frozenset[str]) -> list[str]:
    """The fields a projection's name lists (``clusters.name,server`` -> name, server); Unkeyable for any other."""
    fields = [f for f in name.removeprefix(prefix).split(",") if f]
    if not set(fields) <= known:
        raise Unkeyable(name)
    return fields


class Traced:
    """The Fleet as a unit sees it: every attribute read is recorded (a method or property as everything, unless
    ``Fleet.PER_ARGUMENT`` has each call recorded as ``<method>(<argument as JSON>)``, or ``Fleet.CLUSTER_VIEWS`` as
    the clusters and the fields the method chooses them by). ``first_read(name)``, when given, runs before a name's
    value is first handed out."""

    def __init__(self, fleet: Fleet, reads: set[str], first_read: Callable[[str], None] | None = None):
        object.__setattr__(self, "_fleet", fleet)
        object.__setattr__(self, "_reads", reads)
        object.__setattr__(self, "_first_read", first_read)

    def __getattr__(self, name: str) -> Any:
        """Only called for a name not read yet: it is then kept in the instance (later reads cost nothing)."""
        if self._first_read is not None:
            self._first_read(name)
        if name in Fleet.PER_ARGUMENT:
            value = _recorder(name, getattr(self._fleet, name), self._reads)
        elif name in Fleet.CLUSTER_VIEWS:  # the clusters (narrowed to what is read of them), and what it chooses by
            self._reads.update(("clusters", PROJECTION + ",".join(Fleet.CLUSTER_VIEWS[name])))
            value = getattr(self._fleet, name)
        else:
            self._reads.add(name if name in FIELDS or name in Fleet.DERIVED else EVERYTHING)
            value = getattr(self._fleet, name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise dataclasses.FrozenInstanceError(name)


def _recorder(name: str, method: Callable[[Any], Any], reads: set[str]) -> Callable[[Any], Any]:
    def recorded(argument: Any) -> Any:
        try:
            reads.add(f"{name}({json.dumps(argument)})")
        except (TypeError, ValueError):  # an argument JSON cannot spell: the call counts as reading everything
            reads.add(EVERYTHING)
        return method(argument)

    return recorded


def per_call(name: str) -> tuple[str, Any] | None:
    """``("spoke_extras", "prod-a")`` for the read ``spoke_extras("prod-a")``; None for any other name."""
    method, paren, rest = name.partition("(")
    if not paren or method not in Fleet.PER_ARGUMENT or not rest.endswith(")"):
        return None
    argument = rest[:-1]
    if (
        len(argument) >= 2
        and argument[0] == argument[-1] == '"'
        and not _ESCAPED.search(argument, 1, len(argument) - 1)
    ):
        return method, argument[1:-1]  # a string with nothing escaped (a cluster's name): what json.loads gives
    return method, json.loads(argument)


_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # in a JSON string's text: what ends it, escapes or is refused


# What gives the value of every field at once, not one by its name: the reduce protocol (``copy``, ``pickle``). A unit
# that reads one of these reads every field (``_narrow``). The instance dict (``vars``, ``__dict__``) would too, but a
# class cannot stand in for it (``type`` owns the name): nothing in fleetgen reads it from a model object, and
# tests/test_incremental.py keeps it so.
WHOLE = ("__getstate__", "__reduce_ex__", "__reduce__")
_ABSENT = object()  # the class had no attribute of that name itself (a field without a default, an inherited one)
_HOOKED: set[type] = set()


@contextmanager
def fields_read(cls: type, found: set[str]) -> Iterator[None]:
    """Record in ``found`` the name of every field of ``cls`` (Cluster, Workload) read from any of its instances while
    the block runs, and of any of ``WHOLE`` (every field, at once).

    Each such name gets a stand-in on the class for the block (:class:`_FirstRead`), a data descriptor, which Python
    looks up before the instance's dict: properties and methods read fields through it too, and so do the
    dataclass's ``__eq__``, ``__hash__`` and ``__repr__`` (every field they compare or show). The first read of a
    name records it and puts back what the class had, so every later read of that field, on any instance, is a plain
    one: a fleet-wide unit reads 350,000 cluster fields at 5,000 clusters, where a hook on every read cost 0.25 s.
    A unit runs in one thread at a time (or in a worker process of its own), so the class-wide stand-ins see that
    unit's reads only."""
    if cls in _HOOKED:
        raise RuntimeError(f"fields_read({cls.__name__}) does not nest: one unit runs at a time")
    cached = sorted(name for name, value in vars(cls).items() if isinstance(value, cached_property))
    if cached:  # its value, once cached in an instance, would be read again without its fields being read
        raise RuntimeError(f"fields_read({cls.__name__}) cannot see the fields behind cached_property {cached[0]}")
    instance_dict = next(vars(base)["__dict__"] for base in cls.__mro__ if "__dict__" in vars(base)).__get__
    stand_ins = []
    for name in [*(f.name for f in dataclasses.fields(cls)), *WHOLE]:
        stand_in = _FirstRead(cls, name, vars(cls).get(name, _ABSENT), found, instance_dict)
        setattr(cls, name, stand_in)
        stand_ins.append(stand_in)
    _HOOKED.add(cls)
    try:
        yield
    finally:
        _HOOKED.discard(cls)
        for stand_in in stand_ins:
            stand_in.step_aside()


class _FirstRead:
    """One attribute of a class's instances while :func:`fields_read` runs: its first read through an instance is
    recorded and gives the class back what it had; a write (a frozen dataclass's ``__init__`` calls
    ``object.__setattr__``) lands in the instance's dict, where it would without the stand-in."""

    __slots__ = ("cls", "name", "saved", "found", "instance_dict")

    def __init__(self, cls: type, name: str, saved: Any, found: set[str], instance_dict: Callable[[Any], dict]):
        self.cls, self.name, self.saved, self.found, self.instance_dict = cls, name, saved, found, instance_dict

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:  # the class's own attribute (a field's default): no instance's value is read
            return _class_attribute(self.cls, self.name, self.saved)
        self.found.add(self.name)
        self.step_aside()
        return getattr(instance, self.name)

    def __set__(self, instance: Any, value: Any) -> None:
        self.instance_dict(instance)[self.name] = value

    def step_aside(self) -> None:
        if vars(self.cls).get(self.name) is self:
            if self.saved is _ABSENT:
                delattr(self.cls, self.name)
            else:
                setattr(self.cls, self.name, self.saved)


def _class_attribute(cls: type, name: str, saved: Any) -> Any:
    """What ``cls.<name>`` gives without a stand-in: ``saved`` (the class's own attribute), else the nearest base's."""
    value = saved
    if value is _ABSENT:
        value = next((vars(base)[name] for base in cls.__mro__[1:] if name in vars(base)), _ABSENT)
        if value is _ABSENT:
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")
    get = getattr(type(value), "__get__", None)
    return value if get is None else get(value, None, cls)


def clusters_read(found: set[str]):
    """:func:`fields_read` of the clusters."""
    return fields_read(Cluster, found)


def narrowed(reads: set[str], cluster_reads: set[str] | None, workload_reads: set[str] | None = None) -> set[str]:
    """A unit's reads with ``clusters`` narrowed to the cluster fields it read (``PROJECTION``): a change to
    another field of a cluster (a node pool) does not render it again; likewise ``workloads`` to the workload
    fields it read (``WORKLOADS``): a workload's replicas do not render the units that read only its name and
    selector. None: not narrowed (every field counts). Any other attribute that could give a field's value
    (``__reduce_ex__``: a copy, ``WHOLE``) counts as every field."""
    if cluster_reads is not None:
        reads = _narrow(reads, "clusters", cluster_reads, CLUSTER_FIELDS, PROJECTION)
    if workload_reads is not None:
        reads = _narrow(reads, "workloads", workload_reads, WORKLOAD_FIELDS, WORKLOADS)
    return reads


def _narrow(reads: set[str], whole: str, found: set[str], fields: frozenset[str], prefix: str) -> set[str]:
    if whole not in reads:
        return reads
    if any(name.startswith("__") for name in found):  # one of WHOLE
        return reads
    return (reads - {whole}) | {prefix + ",".join(sorted(found & fields))}


class Recording:
    """What a unit (or a section of one, or a lint rule: ``fleetgen.lint.reuse``) reads while it runs (``with`` gives
    the traced view it runs against): the fleet's fields, the workloads' fields and, ``fleet_wide``, the clusters'
    fields; :meth:`reads` narrows them (:func:`narrowed`).

    The workloads' fields are recorded from the unit's first read of ``fleet.workloads`` on: only through it does a
    unit hold a Workload (``Fleet.DERIVED`` and ``PER_ARGUMENT`` give none, and a method read counts as everything,
    which nothing narrows), and ``narrowed`` narrows ``workloads`` only when it was read. Most units never read it:
    hooking the class for each of them cost about 40 us a unit, 1.2 s of CPU in a render from scratch at 5,000
    clusters."""

    def __init__(self, fleet: Fleet, fleet_wide: bool):
        self.fleet = fleet
        self.fleet_reads: set[str] = set()
        self.workload_reads: set[str] = set()
        self.cluster_reads: set[str] | None = set() if fleet_wide else None
        self._hooks = ExitStack()

    def __enter__(self) -> Traced:
        if self.cluster_reads is not None:
            self._hooks.enter_context(clusters_read(self.cluster_reads))
        return Traced(self.fleet, self.fleet_reads, self._first_read)

    def _first_read(self, name: str) -> None:
        if name == "workloads":
            self._hooks.enter_context(fields_read(Workload, self.workload_reads))

    def __exit__(self, *exc: object) -> None:
        self._hooks.close()

    def reads(self) -> set[str]:
        return narrowed(self.fleet_reads, self.cluster_reads, self.workload_reads)
