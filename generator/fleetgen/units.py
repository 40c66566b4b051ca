"""Content-addressed render units: what an incremental ``render`` / ``check`` may skip, and why.

A *unit* is one render target's files for one cluster (``cluster_files(fleet, cluster)`` of the
targets that define it: capi, argocd, access, observability) or a target's fleet-wide rest
(``fleet_files``, or the whole target when it is not split). A unit runs against a tracing view of
the Fleet that records which Fleet fields it read; its key is the SHA-256 of

- the *salt*: fleetgen's version, the Python minor version, the bytes of every ``.py`` file of the
  fleetgen package (so any change to fleetgen's code invalidates every unit), the fleet file's name
  (it is in every header) and every top-level section of fleet.yaml except ``clusters``,
  ``workloads`` and ``defaults`` (sections fleetgen may read outside the model, e.g. patches);
- its cluster, whole, for a cluster unit: the digest of the text it is read from and everything that decides
  how that text is read (``fleetgen.sources``; the model is a pure function of the text), or, where the text
  alone does not decide it (a file with aliases), the ``repr`` of the frozen model object. Either leaves out
  its position in fleet.yaml: nothing rendered reads it;
- the value of every Fleet field it read (a method or property counts as reading every field, except each
  call of a ``Fleet.PER_ARGUMENT`` method, keyed by what it returns for its argument, and the values
  ``Fleet.DERIVED`` names, keyed by their own value: Cilium's mesh members' names). A fleet-wide unit's read
  of ``clusters`` counts as reading only the fields of the clusters it read while it ran (``clusters_read``,
  ``narrowed``): those fields of every cluster, in order, are its input (a *projection*,
  ``clusters.<field>,<field>``: the digest of each cluster's row of those fields, a row recorded under its
  cluster's digest and reused with it). Likewise any unit's read of ``workloads`` counts as reading only the
  workload fields it read (``workloads.<field>,<field>``): a workload's failover renders Karmada's policies,
  not the ApplicationSets.

A target whose module has ``SECTIONS`` and ``assemble`` (the README: ``render/index.py``) makes one file of
sections, each a pure function of the fleet: its unit runs each section under a recording of its own, the unit's
reads are the union of its sections', and the cache records each section's reads and length (``Cache.parts``). When
the unit renders again, a section whose reads' digests are the recorded ones is cut from the file as last rendered
(read back where it is still the recorded bytes) instead of run (``incremental._taken_sections``).

The key is recomputed from the fields recorded last time: same code, same cluster, same values of
the same fields => the same deterministic render reads the same fields and produces the same bytes.
Targets not listed in ``CACHEABLE`` (one added by a later change) are rendered every time: if in
doubt, render.

The cache (one marshal file per output directory in ``fleetgen.cachedir``, beside the tree, ignored by git) maps
unit names to key, fields read, file digests and secret-scan hits, and records each owned file's
(device, inode, size, mtime_ns) with its digest when ``render`` last wrote the tree. A reused
unit's file is taken as unchanged without reading it when its stat matches; otherwise it is read
and its digest compared; a missing or different file makes the unit render again (so ``check``
shows the real diff). Stat failure modes: a tool that rewrites a file in place keeping its size
and restoring its mtime, or a filesystem with coarse timestamps where a same-size edit lands within
one tick of fleetgen's write (files modified within ``RACY_NS`` of being recorded are always
re-read, as git does for "racily clean" entries). ``check --full`` / ``render --full`` ignore the cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from . import cachedir
from .cachedir import code_digest  # the salt's code (tests replace it here)
from .model import Cluster, Fleet, Workload

# 2: marshal; 3: projections' rows; 4: patches; 5: entries as tuples, no key; 6: sections' parts
CACHE_FORMAT = f"6 {cachedir.PYTHON}"
RACY_NS = 100_000_000  # a file modified within 0.1 s of being recorded is re-read next time
CACHEABLE = frozenset(
    f"fleetgen.render.{m}"
    for m in ("capi", "argocd", "projects", "access", "karmada", "observability", "cilium", "security", "index")
)
UNSALTED = ("clusters", "workloads", "defaults")  # read through the model, so keyed per unit
FIELDS = tuple(f.name for f in dataclasses.fields(Fleet))
EVERYTHING = "*"
CLUSTER_FIELDS = frozenset(f.name for f in dataclasses.fields(Cluster))
UNSHOWN = frozenset(f.name for f in dataclasses.fields(Cluster) if not f.repr)  # not decided by a cluster's digest
PROJECTION = "clusters."  # "clusters.<field>,<field>": those fields of every cluster, in order (a fleet-wide read)
WORKLOAD_FIELDS = frozenset(f.name for f in dataclasses.fields(Workload))
WORKLOADS = "workloads."  # "workloads.<field>,<field>": those fields of every workload, in order


def cache_path(out: Path) -> Path:
    return cachedir.render_cache(out)


def salt(raw: Mapping[str, Any], source: str) -> str:
    """What every unit's key includes: the code, the header's source name, fleet.yaml outside the model's units."""
    rest = {k: v for k, v in raw.items() if k not in UNSALTED}
    text = json.dumps([code_digest(), source, rest], sort_keys=True, default=repr, ensure_ascii=False)
    return _sha(text)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Unkeyable(Exception):
    """A value whose repr is not its content (an object address): its unit is always rendered."""


# CPython's repr of an object without one of its own ends in its address: ``<x.Y object at 0x7f…>``,
# ``<function f at 0x7f…>``. Text that merely says " at 0x" (a manifest's comment) is content.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def _canonical(value: Any) -> str:
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

    def cluster(self, cluster: Cluster) -> str:
        if cluster.name not in self._clusters:
            source = self.sources.get(cluster.name)
            self._clusters[cluster.name] = _sha(_canonical(cluster)) if source is None else source
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
                value = _canonical(getattr(self.fleet, name))
            elif name.startswith(PROJECTION):
                self._fields[name] = self._projection(name)
                return self._fields[name]
            elif name.startswith(WORKLOADS):
                value = self._workloads(name)
            elif (call := per_call(name)) is not None:
                self._fields[name] = self._returned_digest(getattr(self.fleet, call[0])(call[1]))
                return self._fields[name]
            else:
                raise Unkeyable(name)
            self._fields[name] = _sha(value)
        return self._fields[name]

    def unchanged(self, unit: Unit, reads, previous: Cache) -> bool:
        """Whether ``unit``'s key is what the cache recorded, without computing it: its cluster's digest and the digest
        of every field it read are those the cache recorded. The cache records the digests of the run that wrote it
        (``computed``), and every unit in it was keyed in that run with those digests (rendered, or found
        unchanged this way), so equal digests are an equal key; a digest it did not record is a change."""
        if unit.cluster is not None and not self.same_clusters(previous).get(unit.cluster.name, False):
            return False
        return self.same_reads(reads, previous)

    def same_clusters(self, previous: Cache) -> dict[str, bool]:
        """Cluster name -> whether its digest is the one ``previous`` recorded, for every cluster (once a run)."""
        if self._same_cluster is None:
            recorded = previous.clusters
            self._same_cluster = {c.name: recorded.get(c.name) == self.cluster(c) for c in self.fleet.clusters}
        return self._same_cluster

    def same_reads(self, reads, previous: Cache) -> bool:
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
                    field_same = known[name] = previous.fields.get(name) == self.field(name)
                if not field_same:
                    same = False
                    break
            self._same_reads[id(reads)] = same
        return same

    def _returned_digest(self, value: Any) -> str:
        """The digest of a per-argument call's value, printed once per object: at 5,000 clusters every cluster's
        units read ``spoke_extras(<its name>)``, and nearly all get the one empty tuple. The value is kept with its
        digest, so its id is not reused by another object during the run."""
        known = self._returned.get(id(value))
        if known is None:
            known = self._returned[id(value)] = (value, _sha(_canonical(value)))
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
        rows: dict[str, bytes] = {}
        digests = self._in_order()
        for cluster, digest in zip(self.fleet.clusters, digests):
            if digest not in rows:
                rows[digest] = recorded.get(digest) or self._row(cluster, fields)
        self._rows[name] = rows
        whole = f"{len(digests)}\n".encode() + b"".join([rows[digest] for digest in digests])
        return hashlib.sha256(whole).hexdigest()

    def _in_order(self) -> list[str]:
        """Every cluster's digest, in the fleet's order (once a run: each projection walks them)."""
        if self._order is None:
            self._order = [self.cluster(cluster) for cluster in self.fleet.clusters]
        return self._order

    def _workloads(self, name: str) -> str:
        """Some fields of every workload, in order, as text (a few dozen workloads: nothing recorded)."""
        fields = _projected(name, WORKLOADS, WORKLOAD_FIELDS)
        rows = "\n".join("\0".join(_canonical(getattr(w, f)) for f in fields) for w in self.fleet.workloads)
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
                text = printed[id(value)] = _canonical(value)
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
    ``Fleet.PER_ARGUMENT`` has each call recorded as ``<method>(<argument as JSON>)``). ``first_read(name)``, when
    given, runs before a name's value is first handed out."""

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


class Unit(NamedTuple):  # a tuple: 30,000 are made a run at 5,000 clusters, a frozen dataclass costs 4 times more
    name: str  # "<module>:fleet" | "<module>:cluster/<name>" | "<module>:all"
    # (traced) Fleet -> list[File]; for ``copies``, -> {path: bytes}; for a cluster unit, (Fleet, its cluster) -> …
    # (the cluster passed by :func:`run`: no closure made per unit)
    run: Callable[..., Any]
    cluster: Cluster | None = None
    cacheable: bool = True
    copies: bool = False  # ``run`` returns its files' bytes as they are (hand-written manifests), not Files


def plan(targets) -> Callable[[Fleet], list[Unit]]:
    """The units of ``targets`` for a fleet: split targets give one unit per cluster plus their rest."""

    def units(fleet: Fleet) -> list[Unit]:
        out: list[Unit] = []
        new = tuple.__new__
        for target in targets:
            module = sys.modules[target.__module__]
            name, cacheable = module.__name__, module.__name__ in CACHEABLE
            per_cluster, rest = getattr(module, "cluster_files", None), getattr(module, "fleet_files", None)
            if per_cluster is None or rest is None:
                out.append(Unit(f"{name}:all", target, None, cacheable))
                continue
            out.append(Unit(f"{name}:fleet", rest, None, cacheable))
            out += [  # tuple.__new__: a NamedTuple's own __new__ is a Python function, called 30,000 times here
                new(Unit, (f"{name}:cluster/{c.name}", per_cluster, c, cacheable, False)) for c in fleet.clusters
            ]
        return out

    return units


def sections(unit: Unit) -> tuple[tuple[Callable[[Any], str], ...], Callable[[list[str]], Any]] | None:
    """A fleet-wide unit whose target makes one file of sections: its module's ``SECTIONS`` (each a pure function
    of the fleet, giving text) and ``assemble`` (their texts -> the target's files). None for any other unit."""
    if unit.cluster is not None or unit.copies:
        return None
    module = sys.modules.get(unit.run.__module__)
    parts, assemble = getattr(module, "SECTIONS", None), getattr(module, "assemble", None)
    return (parts, assemble) if parts is not None and assemble is not None else None


def run(unit: Unit, fleet: Any) -> Any:
    """What ``unit`` renders of ``fleet`` (a traced view): a cluster unit's target for its cluster."""
    return unit.run(fleet) if unit.cluster is None else unit.run(fleet, unit.cluster)


def keyed(unit: Unit, inputs: Inputs, reads) -> None:
    """Compute the digests a rendered unit's key is made of besides the salt: its cluster's and each field's it
    read. The cache records them (``Inputs.computed``) and the next run compares a unit's with them
    (``Inputs.unchanged``); the key itself is never stored. Raises Unkeyable (the unit is not cached)."""
    if unit.cluster is not None:
        inputs.cluster(unit.cluster)
    for name in reads:
        inputs.field(name)


def entry(reads, files: dict[str, str], leaks, patches) -> tuple:
    """A unit's cache entry, ``(reads, files, leaks, patches)``: the fields it read (sorted), its files (rel ->
    digest), its secret-scan hits and what fleet.yaml's patches did to it (``incremental.Patched``). Tuples, not
    dicts: marshal reads 30,000 of them back at 5,000 clusters, and an entry with nothing found shares its empty
    parts with every other (one object each, written once)."""
    hits = tuple(tuple(hit) for hit in leaks)
    matched, failed = patches
    done = (tuple(matched), tuple(failed)) if matched or failed else NO_PATCHES
    return tuple(sorted(reads)), files, hits, done


NO_PATCHES: tuple[tuple, tuple] = ((), ())  # no patch matched the unit's documents, none failed


# ---------------------------------------------------------------- the cache file


@dataclass
class Cache:
    salt: str = ""
    units: dict[str, tuple] = field(default_factory=dict)  # name -> (reads, files: {rel: digest}, leaks, patches)
    stats: dict[str, list] = field(default_factory=dict)  # rel -> [dev, ino, size, mtime_ns, digest]
    fields: dict[str, str] = field(default_factory=dict)  # Fleet field -> digest, for --profile's "why"
    clusters: dict[str, str] = field(default_factory=dict)  # cluster -> digest, likewise
    rows: dict[str, dict[str, bytes]] = field(default_factory=dict)  # projection -> cluster digest -> row digest
    # a unit rendered by sections (``sections``) -> each section's [reads, length of its text], in order
    parts: dict[str, list] = field(default_factory=dict)


def load(out: Path, expected_salt: str) -> Cache:
    """The cache beside ``out``; empty when missing, unreadable, of another format or another salt."""
    return from_body(cachedir.read(cache_path(out)), expected_salt)


def from_body(body: Any, expected_salt: str) -> Cache:
    """The cache a cache file's data holds; empty when it is None, of another format or another salt. Its maps are the
    body's own (read, never changed: a run records its new cache in a new ``Cache``)."""
    try:
        if body.get("format") != CACHE_FORMAT or body.get("salt") != expected_salt:
            return Cache(expected_salt)
        parts = [body[name] for name in ("units", "stats", "fields", "clusters", "rows", "parts")]
    except (KeyError, TypeError, AttributeError):  # None, or not the shape this fleetgen writes
        return Cache(expected_salt)
    if not all(isinstance(part, dict) for part in parts):
        return Cache(expected_salt)
    return Cache(expected_salt, *parts)


def save(out: Path, cache: Cache, owned: Mapping[str, str]) -> None:
    """Record ``cache.units`` and the stat of every owned file (``owned``: rel -> digest), atomically.

    ``cache.stats`` holds the records this run found matching on disk (reused units' files, kept in the new
    tree as the same inodes): those are kept as they are; every other owned file is ``lstat``-ed."""
    now = _now_ns(out)
    shared: dict[tuple, tuple] = {}
    for name, entry in cache.units.items():  # equal reads as one object: marshal writes, and reads back, one
        reads = entry[0]
        one = shared.setdefault(reads, reads)
        if one is not reads:
            cache.units[name] = (one, *entry[1:])
    stats = _carried(cache.stats, owned)
    for rel in owned.keys() - stats.keys():  # written this run, or read and found equal: taken again
        try:
            info = os.lstat(f"{out}/{rel}")
        except OSError:
            continue
        if info.st_mtime_ns < now - RACY_NS:
            stats[rel] = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, owned[rel]]
    body = {
        "format": CACHE_FORMAT,
        "generator": "fleetgen",
        "salt": cache.salt,
        "units": cache.units,
        "stats": stats,
        "fields": cache.fields,
        "clusters": cache.clusters,
        "rows": cache.rows,
        "parts": cache.parts,
    }
    cachedir.write(cache_path(out), cachedir.encode(body), out)


def _carried(carried: Mapping[str, list], owned: Mapping[str, str]) -> dict[str, list]:
    """The stat records carried from the last cache that are still right: owned now, with the digest they recorded
    (every one, as ``incremental.Taken`` carries only those; checked in C, 25,000 at 5,000 clusters, and record by
    record only if that fails)."""
    recorded = dict(zip(carried, map(itemgetter(4), carried.values())))
    if recorded.items() <= owned.items():
        return dict(carried)
    return {rel: record for rel, record in carried.items() if owned.get(rel) == record[4]}


def _now_ns(out: Path) -> int:
    """The output filesystem's idea of now: the mtime of a file just written beside the tree (clocks may differ
    on network mounts). One name, as the cache's temporary file: a killed run's probe is taken over by the next."""
    probe = out.parent / f".{out.name}.fleetgen-now"
    try:
        probe.write_bytes(b"")
        return os.lstat(probe).st_mtime_ns
    except OSError:
        return 0
    finally:
        probe.unlink(missing_ok=True)


def as_recorded(stats: Mapping[str, list], moved: frozenset[str]) -> dict[str, str]:
    """The recorded files taken as they were recorded, unread: rel -> digest of every record in ``stats`` but those
    of ``moved``, the files whose ``lstat`` differs from their record (:func:`moved_files`, taken for the whole
    cache at once)."""
    recorded = dict(zip(stats, map(itemgetter(4), stats.values())))  # in C: 25,000 records at 5,000 clusters
    for rel in moved:
        recorded.pop(rel, None)
    return recorded


def stat_changed(files: Mapping[str, str], recorded: Mapping[str, str]) -> list[str]:
    """The files of ``files`` (rel -> digest) that may not be the ones recorded with those digests: not in
    ``recorded`` (:func:`as_recorded`: no record, or one whose ``lstat`` differs) or recorded with another digest.
    The common case, none, is one subset test in C (30,000 units a run at 5,000 clusters)."""
    if files.items() <= recorded.items():
        return []
    return [rel for rel, digest in files.items() if recorded.get(rel) != digest]


def moved_files(out: Path, stats: Mapping[str, list]) -> frozenset[str]:
    """The files of ``stats`` (rel -> [dev, ino, size, mtime_ns, digest]) whose ``lstat`` fails or differs from
    the record. A string join per file: pathlib costs more than the ``lstat`` here, and this runs for 25,000
    files a run at 5,000 clusters."""
    top, lstat = f"{out}/", os.lstat
    changed = []
    for rel, recorded in stats.items():
        try:
            info = lstat(top + rel)
        except OSError:
            changed.append(rel)
            continue
        if (info.st_ino, info.st_mtime_ns, info.st_size, info.st_dev) != (
            recorded[1],
            recorded[3],
            recorded[2],
            recorded[0],
        ):
            changed.append(rel)
    return frozenset(changed)
