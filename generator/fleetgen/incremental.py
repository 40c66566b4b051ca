"""``render`` and ``check`` doing only what changed: the units whose key changed are rendered, the rest reused.

The tree produced is byte-identical to ``produce.produce`` (tests/test_incremental.py renders random
edit sequences both ways). Keys, the cache and their failure modes: ``fleetgen.units``.

fleet.yaml's ``patches`` apply to each unit's documents as it is rendered (``patches.patch_files``): the
section is in every key's salt, so a patch edit renders every unit, and each unit records which patches
matched its documents and which operations failed, so a reused unit still counts for ``patch-target`` (a
patch no unit matched) and still reports its ``patch-failed`` issues. The copies of ``extraManifests`` are one
more unit (``COPIES``, ``produce.copied_files``): extras.attach read their bytes into ``Fleet.extra_files``
before, so the unit reads that field and is keyed by every copy's bytes.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import chain, compress, filterfalse, repeat
from operator import is_not, itemgetter, le, not_
from pathlib import Path
from typing import Any

from . import tracing
from . import units as u
from .findings import Issue, issue_data, issue_from_data
from .model import Fleet
from .patches import file_cluster, patch_files, unmatched_patches
from .produce import PARALLEL_FROM, _scan, copied_files, files_bytes, header
from .render import File, targets
from .render.capi import content_named
from .settled import NOTHING, Settled, settled
from .stages import Stages
from .survey import Survey
from .tree import digest, read_regular

CHUNK = 250  # cluster units per worker task
NAMED = 30  # --profile names each rendered unit up to this many
COPIES = "fleetgen.extras:copies"  # the unit of extraManifests' copies, keyed by their bytes (Fleet.extra_files)


@dataclass
class Incremental:
    files: dict[str, bytes]  # rendered this run: rel -> bytes
    known: dict[str, str]  # reused and verified on disk: rel -> digest (not read into memory)
    digests: dict[str, str]  # every file -> digest
    versions: Mapping[str, str]
    leaks: tuple[tuple[str, int, str, str], ...]
    cache: u.Cache
    reused: int = 0
    reasons: Counter = field(default_factory=Counter)
    named: list[str] = field(default_factory=list)  # "unit: reason" of the first NAMED units rendered
    settled: Settled = NOTHING  # settings fixed at install, recorded in the lock (settled.py)
    patch_issues: tuple[Issue, ...] = ()  # fleet.yaml ``patches`` that failed or matched nothing
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # unit by sections -> (taken, all)

    def summary(self) -> str:
        """What ``--profile`` prints: units reused, rendered and why (each named when there are few), and of a unit
        rendered by sections, how many were taken from its file as last rendered."""
        why = ", ".join(f"{count} {reason}" for reason, count in sorted(self.reasons.items()))
        rendered = sum(self.reasons.values())
        head = f"units: {self.reused} reused, {rendered} rendered" + (f" ({why})" if why else "") + "\n"
        named = "".join(f"  rendered {line}\n" for line in self.named) if rendered <= NAMED else ""
        taken = "".join(
            f"  {name}: {count} of {total} sections taken from its file as last rendered\n"
            for name, (count, total) in sorted(self.sections.items())
        )
        return head + named + taken


def produce(
    fleet: Fleet,
    raw: Mapping[str, Any],
    source: str,
    out: Path,
    stages: Stages | None = None,
    full: bool = False,
    sources: Mapping[str, str] | None = None,
    surveyed: Survey | None = None,
) -> Incremental:
    """Every file of the tree: bytes for the units rendered now, digests for those reused (their files
    verified on disk). ``full`` ignores the cache (everything is rendered, the new cache still recorded).
    ``sources``: each cluster's source digest (``fleetgen.sources``), its identity in the keys when given.
    ``surveyed``: the cache and the recorded files' ``lstat``s, already taken (``fleetgen.survey``)."""
    stages = stages or Stages()
    with stages.stage("plan"):
        base = u.salt(raw, source)
        if full:
            previous = u.Cache(base)
        else:
            previous = u.from_body(surveyed.body, base) if surveyed else u.load(out, base)
        moved = surveyed.moved if surveyed else u.moved_files(out, previous.stats)
        recorded = u.as_recorded(previous.stats, moved)
        inputs = tracing.Inputs(fleet, previous.fields, sources, previous.rows)
        units = u.plan(targets())(fleet)
        if fleet.extra_manifests:
            units.append(u.Unit(COPIES, copied_files, copies=True))
        result = Incremental({}, {}, {}, {c.name: c.kubernetes_version for c in fleet.clusters}, (), u.Cache(base))
        result.cache.base = previous.base  # the next save writes what changed since it
        patched, taken = Patched(), Taken()
        todo = _reuse_all(units, inputs, previous, out, result, patched, taken, recorded)
        taken.into(result, previous.stats)
        result.cache.parts = {name: parts for name, parts in previous.parts.items() if name in result.cache.units}

    def taken_sections(unit: u.Unit, before: Before) -> list | None:
        taken = _taken_sections(unit, fleet, previous, before, inputs, source)
        if taken is not None:
            result.sections[unit.name] = (sum(1 for part in taken if part is not None), len(taken))
        return taken

    with stages.stage("render+emit", total=len(todo)):
        leaks = list(result.leaks)
        rendered = _rendered(fleet, units, todo, source, out, previous.units, taken_sections)
        for index, files, digests, found, reads, patches, parts in rendered:
            unit = units[index]
            _add(result, unit.name, files.keys())
            result.files.update(files)
            result.digests.update(digests)
            leaks += found
            patched.add(patches)
            if unit.cacheable:
                try:
                    u.keyed(unit, inputs, reads)
                    result.cache.units[unit.name] = u.entry(reads, digests, found, patches)
                    if parts is not None:
                        result.cache.parts[unit.name] = parts
                except tracing.Unkeyable:
                    pass
            stages.advance()
    result.patch_issues = patched.issues(fleet)
    result.cache.fields, result.cache.clusters = inputs.computed()
    result.cache.rows = inputs.rows()
    result.leaks = tuple(sorted((str(x[0]), int(x[1]), str(x[2]), str(x[3])) for x in leaks))
    result.files = dict(sorted(result.files.items()))
    result.settled = settled(fleet)
    return result


class Patched:
    """What fleet.yaml's patches did across the units, rendered or reused: which patches matched a document of some
    unit, and the operations that failed (as ``patches.apply_patches`` reports them for the whole tree)."""

    def __init__(self) -> None:
        self.matched: set[int] = set()
        self.failed: list[Issue] = []

    def add(self, recorded) -> None:
        """A unit's ``(matched numbers, failed issues as data)`` (its cache entry's ``patches``)."""
        matched, failed = recorded
        if matched:
            self.matched.update(matched)
        if failed:
            self.failed += [issue_from_data(x) for x in failed]

    def issues(self, fleet: Fleet) -> tuple[Issue, ...]:
        return tuple(self.failed + unmatched_patches(fleet.patches, self.matched))


class Taken:
    """The files of the units taken from the cache, gathered unit by unit and added to the result once: 25,000 files
    in 30,000 units at 5,000 clusters, where a dict update per unit cost more than the rest of the check."""

    def __init__(self) -> None:
        self.units: list[tuple[str, Mapping[str, str]]] = []  # (unit name, its files: rel -> digest)
        self.unread: set[str] = set()  # files of those units whose stat did not match (read and found equal)

    def into(self, result: Incremental, stats: Mapping[str, list]) -> None:
        """Add the taken files to ``result`` (``known`` and ``digests``) and carry the stat records of those found on
        disk as recorded to the new cache: the new tree holds the same inodes. In C: 25,000 files of 30,000 units."""
        known = result.known
        files = list(map(itemgetter(1), self.units))
        known.update(chain.from_iterable(map(dict.items, files)))
        if sum(map(len, files)) != len(known):
            _duplicate(self.units)
        result.digests.update(known)
        carried = list(filterfalse(self.unread.__contains__, known)) if self.unread else list(known)
        result.cache.stats.update(zip(carried, map(stats.__getitem__, carried)))


def _duplicate(units: list[tuple[str, Mapping[str, str]]]) -> None:
    seen: dict[str, str] = {}
    for name, files in units:
        for rel in files:
            if rel in seen:
                raise AssertionError(f"two render units produce {rel} ({seen[rel]}, {name})")
            seen[rel] = name


def _reuse_all(
    units: list[u.Unit],
    inputs: tracing.Inputs,
    previous: u.Cache,
    out: Path,
    result: Incremental,
    patched: Patched,
    taken: Taken,
    recorded: Mapping[str, str],
) -> list[int]:
    """The indexes of the units to render; every other is reused: its key is unchanged and its files on disk are the
    ones recorded. The common case, a unit in the cache whose cluster, fields read and files are as recorded, is
    decided for every unit at once, column by column in C (``map``, ``compress``): at 5,000 clusters there are
    30,000 units, and a Python loop over them, each unit's entry unpacked and looked at in turn, took 0.08 s, more
    than the rest of the unit pass. The fields read are compared once per distinct reads (``save`` stores equal
    reads as one object; each cluster's own extra manifests make 10,000 at 5,000 clusters:
    ``Inputs.same_reads_of``). Any other unit is decided again, in order, by :func:`_verified`, which reads the
    files whose stat differs and says why a unit is rendered."""
    count = len(units)
    names = list(map(itemgetter(0), units))
    found = list(map(previous.units.get, names, repeat(_ABSENT)))  # an entry is a 4-tuple (units.entry)
    same_cluster = inputs.same_clusters(previous)
    by_cluster = {id(None): True, **{id(c): same_cluster[c.name] for c in inputs.fleet.clusters}}
    candidate = list(
        map(
            all,
            zip(
                map(is_not, found, repeat(_ABSENT)),
                map(itemgetter(3), units),  # cacheable
                map(by_cluster.__getitem__, map(id, map(itemgetter(2), units))),
            ),
        )
    )
    reads = list(map(itemgetter(0), found))
    distinct = list(compress(reads, candidate))
    same_reads = inputs.same_reads_of(list(dict(zip(map(id, distinct), distinct)).values()), previous)
    files = list(map(itemgetter(1), found))
    as_recorded = recorded.items()
    reused = list(
        map(
            all,
            zip(
                candidate,
                map(same_reads.get, map(id, reads), repeat(False)),
                map(le, map(dict.items, files), repeat(as_recorded)),  # (units.stat_changed's common case)
            ),
        )
    )
    todo: list[int] = []
    for index in compress(range(count), map(not_, reused)):
        entry = None if found[index] is _ABSENT else found[index]
        unmatched = _verified(units[index], entry, inputs, previous, out, result, recorded)
        if unmatched is None or entry is None:  # (_verified renders a unit without an entry)
            todo.append(index)
            continue
        taken.unread.update(unmatched)
        reused[index] = True
    result.cache.units.update(compress(zip(names, found), reused))
    taken.units += compress(zip(names, files), reused)
    result.reused += count - len(todo)
    result.leaks += tuple(chain.from_iterable(compress(map(itemgetter(2), found), reused)))
    for record in filter(any, compress(map(itemgetter(3), found), reused)):  # (matched, failed): either not empty
        patched.add(record)
    return todo


_ABSENT: tuple = ((), {}, (), u.NO_PATCHES)  # the entry of a unit the cache has none of (told apart by identity)


def _verified(
    unit: u.Unit,
    entry: tuple | None,
    inputs: tracing.Inputs,
    previous: u.Cache,
    out: Path,
    result: Incremental,
    recorded: Mapping[str, str],
) -> list[str] | None:
    """A unit the common case did not take: the files it reuses that were read and found as recorded, or None (and
    why, in ``result``) when it is rendered."""
    if not unit.cacheable:
        _no(result, unit, "not cacheable (a target fleetgen.units does not know)")
        return None
    if entry is None:
        _no(result, unit, "new, or no cache of a render with this fleetgen and these other sections")
        return None
    reads, files, _, _ = entry
    try:
        if not inputs.unchanged(unit, reads, previous):
            _no(result, unit, "inputs changed", _changed(unit, inputs, previous, reads))
            return None
    except tracing.Unkeyable:
        _no(result, unit, "inputs have no stable digest")
        return None
    unmatched = u.stat_changed(files, recorded)
    if not all(_read_matches(out / rel, files[rel]) for rel in unmatched):
        _no(result, unit, "a file differs on disk")
        return None
    return unmatched


def _no(result: Incremental, unit: u.Unit, reason: str, detail: str = "") -> None:
    result.reasons[reason] += 1
    if len(result.named) < NAMED:
        result.named.append(f"{unit.name}: {reason}{detail}")


def _changed(unit: u.Unit, inputs: tracing.Inputs, previous: u.Cache, reads) -> str:
    """Which of a unit's inputs changed since the cache was written, e.g. `` (its cluster, workloads)``."""
    names = (
        ["its cluster"]
        if unit.cluster and previous.clusters.get(unit.cluster.name) != inputs.cluster(unit.cluster)
        else []
    )
    names += [f"fleet.{r}" for r in sorted(reads) if previous.fields.get(r) != inputs.field(r)]
    return f" ({', '.join(names)})" if names else ""


def _add(result: Incremental, name: str, paths) -> None:
    if not result.digests.keys().isdisjoint(paths):
        duplicate = sorted(result.digests.keys() & set(paths))
        raise AssertionError(f"two render units produce {duplicate[0]} ({name})")


def _read_matches(path: Path, expected: str) -> bool:
    """The file holds the recorded text (CRLF read as LF, as tree.same_text does); a symlink, a pipe never do."""
    data = read_regular(path)
    if data is None:
        return False
    return digest(data) == expected or (b"\r" in data and digest(data.replace(b"\r\n", b"\n")) == expected)


# ---------------------------------------------------------------- rendering the units that changed


def _run(
    fleet: Fleet,
    units: list[u.Unit],
    index: int,
    source: str,
    before: Before | None = None,
    taken: list | None = None,
):
    """A unit rendered: ``(index, files, digests, leaks, reads, patches, parts)``. ``taken``: for a unit rendered by
    sections, those taken from its file as last rendered (:func:`_taken_sections`)."""
    unit = units[index]
    by_sections = _by_sections(unit, fleet)
    if by_sections is not None:
        sections, assemble = by_sections
        return _run_sections(fleet, index, source, before, sections, assemble, taken)
    # A fleet-wide unit: which fields of the clusters it reads narrows its key. A cluster unit: its own cluster,
    # and any other it reads, count whole.
    recording = tracing.Recording(fleet, fleet_wide=unit.cluster is None)
    # The documents' serialization runs under the hooks too: they may be built lazily.
    files: dict[str, bytes]
    patches: list
    with recording as traced:
        if unit.copies:  # the bytes as read, never patched (as produce copies them)
            files, patches = u.run(unit, traced), [[], []]
        else:
            rendered, patches = _patch(u.run(unit, traced), fleet, traced, unit)
            files = files_bytes(content_named(rendered), source)  # as produce does, after the patches
    leaks = [list(x) for x in _scan(files, before)]
    return index, files, {rel: digest(data) for rel, data in files.items()}, leaks, recording.reads(), patches, None


def _by_sections(unit: u.Unit, fleet: Fleet):
    """``units.sections`` of a unit rendered by sections here: never with patches (the unit is rendered whole)."""
    return None if fleet.patches else u.sections(unit)


def _run_sections(fleet: Fleet, index: int, source: str, before: Before | None, sections, assemble, taken):
    """A unit whose target makes one file of sections (:func:`_by_sections`). Each section runs under its own
    recording, as a fleet-wide unit does, unless ``taken`` holds it (its text and reads as last rendered, its inputs
    unchanged): the unit's reads are the union of its sections', and ``parts`` records each section's reads and length
    for the next run."""
    texts: list[str] = []
    parts: list[list] = []
    reads: set[str] = set()
    for number, section in enumerate(sections):
        last = taken[number] if taken is not None else None
        if last is None:
            recording = tracing.Recording(fleet, fleet_wide=True)
            with recording as traced:
                last = section(traced), recording.reads()
        text, section_reads = last
        texts.append(text)
        parts.append([tuple(sorted(section_reads)), len(text)])
        reads |= section_reads
    files = files_bytes(assemble(texts), source)
    leaks = [list(x) for x in _scan(files, before)]
    return index, files, {rel: digest(data) for rel, data in files.items()}, leaks, reads, [[], []], parts


def _taken_sections(
    unit: u.Unit, fleet: Fleet, previous: u.Cache, before: Before, inputs: tracing.Inputs, source: str
) -> list | None:
    """For a unit rendered by sections, each section's (text, reads) as last rendered where its reads' digests are
    the ones recorded (None for the others), cut from the unit's file as the cache recorded it (read back where it
    is still those bytes: :class:`Before`). None when there is no such file, or its parts do not add up to it."""
    by_sections = _by_sections(unit, fleet)
    parts = previous.parts.get(unit.name)
    entry = previous.units.get(unit.name)
    if by_sections is None or not isinstance(parts, list) or entry is None or len(parts) != len(by_sections[0]):
        return None
    if len(entry[1]) != 1:
        return None
    (rel,) = entry[1]
    text = before.text(rel)
    head = header(source, rel)
    if text is None or not text.startswith(head):
        return None
    body, start, taken = text[len(head) :], 0, []
    for part in parts:
        if not (isinstance(part, list) and len(part) == 2 and isinstance(part[0], tuple) and type(part[1]) is int):
            return None  # not what fleetgen writes: every section is rendered
        reads, length = part
        try:
            same = inputs.same_reads(reads, previous)
        except (tracing.Unkeyable, TypeError):  # a read that is not a field's name
            same = False
        taken.append((body[start : start + length], set(reads)) if same else None)
        start += length + 1 if length else 0
    return taken if start == len(body) + 1 or (start == 0 and not body) else None


class Before:
    """A unit's files as its cache entry recorded them, read back from the tree where they still are those bytes: the
    text and hit lines a file rendered again is scanned for secrets from (``secrets.scan_text_since``)."""

    def __init__(self, out: Path, entry: tuple | None):
        self.out, self.entry = out, entry
        self._texts: dict[str, str | None] = {}

    def __call__(self, rel: str) -> tuple[str, list[int]] | None:
        text = self.text(rel)
        if text is None or self.entry is None:
            return None
        return text, [line for hit_rel, line, _, _ in self.entry[2] if hit_rel == rel]

    def text(self, rel: str) -> str | None:
        """The file ``rel`` as the entry recorded it, or None (not recorded, or not as recorded), read once."""
        if rel not in self._texts:
            self._texts[rel] = self._read(rel)
        return self._texts[rel]

    def _read(self, rel: str) -> str | None:
        if self.entry is None:
            return None
        files = self.entry[1]
        data = read_regular(self.out / rel) if rel in files else None
        if data is None or digest(data) != files[rel]:
            return None  # not recorded, or not as recorded: the hits are not this text's
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None


def _patch(rendered: list[File], fleet: Fleet, traced: tracing.Traced, unit: u.Unit) -> tuple[list[File], list]:
    """The unit's files with fleet.yaml's patches applied (in the salt: read from ``fleet``), and what they did:
    ``[matched patch numbers, failed issues]``. A patch that selects clusters needs the labels of the clusters
    whose files the unit made: a cluster unit's own (in its key whole); any other cluster's read through
    ``traced`` (so the unit's key holds them)."""
    if not fleet.patches:
        return rendered, [[], []]
    owners = {file_cluster(f.path) for f in rendered} - {None}
    labels: Mapping[str, Any] = {}
    if owners and any(p.target.clusters is not None for p in fleet.patches):
        own = unit.cluster
        if own is not None and owners == {own.name}:
            labels = {own.name: own.labels}
        else:
            labels = {c.name: c.labels for c in traced.clusters if c.name in owners}
    out, failed, matched = patch_files(rendered, fleet.patches, labels)
    return out, [sorted(matched), [issue_data(i) for i in failed]]


def _parallel(fleet: Fleet, units: list[u.Unit], todo: list[int]) -> bool:
    """Whether a pool of workers pays: on a second core, when the work besides the heaviest unit is at least what
    rendering ``PARALLEL_FROM`` clusters is, counting a fleet-wide unit as one per cluster (it reads them all) and
    a cluster unit as one. A one-cluster edit renders a few cluster units: forking the pool (0.05-0.1 s) would
    cost more than they do."""
    if (os.cpu_count() or 1) < 2 or len(todo) < 2:
        return False
    weights = [1 if units[i].cluster is not None else len(fleet.clusters) for i in todo]
    return sum(weights) - max(weights) >= PARALLEL_FROM


_WORKER: tuple | None = None  # (fleet, units, source, out, entries), set in the parent just before fork


def _worker(chunk: list[int]) -> list:
    assert _WORKER is not None, "set by _rendered before the pool forks"
    fleet, units, source, out, entries = _WORKER
    return [_run(fleet, units, i, source, Before(out, entries.get(units[i].name))) for i in chunk]


def _rendered(
    fleet: Fleet,
    units: list[u.Unit],
    todo: list[int],
    source: str,
    out: Path,
    entries: Mapping[str, tuple],
    taken_sections: Callable[[u.Unit, Before], list | None] | None = None,
):
    """Each rendered unit's (index, files, digests, leaks, reads, patches, parts); both cores when the work pays for
    them. ``entries``: the previous cache's, from which a unit's files as last rendered are read (:class:`Before`);
    ``taken_sections``: what of a unit rendered by sections can be taken from them (serially only: a render that
    pays for both cores changed most of the fleet)."""
    if not _parallel(fleet, units, todo):
        for i in todo:
            before = Before(out, entries.get(units[i].name))
            taken = taken_sections(units[i], before) if taken_sections is not None else None
            yield _run(fleet, units, i, source, before, taken)
        return
    whole = [[i] for i in todo if units[i].cluster is None]  # fleet-wide units are the heaviest: first
    per_cluster = [i for i in todo if units[i].cluster is not None]
    chunks = whole + [per_cluster[k : k + CHUNK] for k in range(0, len(per_cluster), CHUNK)]
    global _WORKER
    _WORKER = (fleet, units, source, out, entries)
    try:
        import multiprocessing  # (3 ms of every command's start-up: only a render of many units needs it)

        with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
            for results in pool.imap_unordered(_worker, chunks, chunksize=1):
                yield from results
    finally:
        _WORKER = None
