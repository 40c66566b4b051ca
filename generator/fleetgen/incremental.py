"""``render`` and ``check`` doing only what changed: the units whose key changed are rendered, the rest reused.

The tree produced is byte-identical to ``produce.produce`` (tests/test_incremental.py renders random
edit sequences both ways). Keys, the cache and their failure modes: ``fleetgen.units``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import units as u
from .findings import Issue
from .model import Fleet, Workload
from .produce import PARALLEL_FROM, _scan, files_bytes
from .produce import produce as whole_produce
from .render import targets
from .settled import NOTHING, Settled, settled
from .stages import Stages
from .tree import digest, read_regular

CHUNK = 250  # cluster units per worker task
NAMED = 30  # --profile names each rendered unit up to this many


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

    def summary(self) -> str:
        """What ``--profile`` prints: units reused, rendered and why (each named when there are few)."""
        why = ", ".join(f"{count} {reason}" for reason, count in sorted(self.reasons.items()))
        rendered = sum(self.reasons.values())
        head = f"units: {self.reused} reused, {rendered} rendered" + (f" ({why})" if why else "") + "\n"
        return head + ("".join(f"  rendered {line}\n" for line in self.named) if rendered <= NAMED else "")


def produce(
    fleet: Fleet,
    raw: Mapping[str, Any],
    source: str,
    out: Path,
    stages: Stages | None = None,
    full: bool = False,
    sources: Mapping[str, str] | None = None,
) -> Incremental:
    """Every file of the tree: bytes for the units rendered now, digests for those reused (their files
    verified on disk). ``full`` ignores the cache (everything is rendered, the new cache still recorded).
    ``sources``: each cluster's source digest (``fleetgen.sources``), its identity in the keys when given."""
    stages = stages or Stages()
    if fleet.patches or fleet.extra_manifests:
        return _whole(fleet, raw, source, stages)
    with stages.stage("plan"):
        base = u.salt(raw, source)
        previous = u.Cache(base) if full else u.load(out, base)
        inputs = u.Inputs(fleet, previous.fields, sources, previous.rows)
        units = u.plan(targets())(fleet)
        result = Incremental({}, {}, {}, {c.name: c.kubernetes_version for c in fleet.clusters}, (), u.Cache(base))
        todo = [i for i, unit in enumerate(units) if not _reuse(unit, inputs, previous, out, result)]
    with stages.stage("render+emit", total=len(todo)):
        leaks = list(result.leaks)
        for index, files, digests, found, reads in _rendered(fleet, units, todo, source):
            unit = units[index]
            _add(result, unit.name, files.keys())
            result.files.update(files)
            result.digests.update(digests)
            leaks += found
            if unit.cacheable:
                try:
                    result.cache.units[unit.name] = {
                        "key": u.key(unit, inputs, base, reads),
                        "reads": sorted(reads),
                        "files": digests,
                        "leaks": found,
                    }
                except u.Unkeyable:
                    pass
            stages.advance()
    result.cache.fields, result.cache.clusters = inputs.computed()
    result.cache.rows = inputs.rows()
    result.leaks = tuple(sorted((str(x[0]), int(x[1]), str(x[2]), str(x[3])) for x in leaks))
    result.files = dict(sorted(result.files.items()))
    result.settled = settled(fleet)
    return result


def _whole(fleet: Fleet, raw: Mapping[str, Any], source: str, stages: Stages) -> Incremental:
    """A fleet with ``patches`` or ``extraManifests`` renders whole: a patch may touch any unit's documents
    and the copies are not render units, so no unit can be reused on its own key. The cache recorded is
    empty, so the next render without them renders everything once too."""
    produced = whole_produce(fleet, source, stages)
    digests = {rel: digest(data) for rel, data in produced.files.items()}
    reason = "patches or extraManifests in fleet.yaml: every unit is rendered"
    empty = u.Cache(u.salt(raw, source))
    return Incremental(
        dict(produced.files),
        {},
        digests,
        produced.versions,
        produced.leaks,
        empty,
        reasons=Counter({reason: 1}),
        settled=produced.settled,
        patch_issues=produced.patch_issues,
    )


def _reuse(unit: u.Unit, inputs: u.Inputs, previous: u.Cache, out: Path, result: Incremental) -> bool:
    """Reuse ``unit`` when its key is unchanged and its files on disk are the ones recorded; else say why not."""
    entry = previous.units.get(unit.name)
    if not unit.cacheable:
        return _no(result, unit, "not cacheable (a target fleetgen.units does not know)")
    if entry is None:
        return _no(result, unit, "new, or no cache of a render with this fleetgen and these other sections")
    try:
        if u.key(unit, inputs, previous.salt, entry["reads"]) != entry["key"]:
            return _no(result, unit, "inputs changed", _changed(unit, inputs, previous, entry["reads"]))
    except u.Unkeyable:
        return _no(result, unit, "inputs have no stable digest")
    files = entry["files"]
    if all(u.stat_matches(out, rel, d, previous) for rel, d in files.items()):  # the common case: nothing read
        return _accept(result, unit, entry, files, previous.stats)
    unmatched = {rel for rel, d in files.items() if not u.stat_matches(out, rel, d, previous)}
    if not all(_read_matches(out / rel, files[rel]) for rel in unmatched):
        return _no(result, unit, "a file differs on disk")
    return _accept(result, unit, entry, (rel for rel in files if rel not in unmatched), previous.stats)


def _accept(result: Incremental, unit: u.Unit, entry: dict, matched, stats: Mapping[str, list]) -> bool:
    """Take a unit's files from the cache; the stat records of ``matched`` (found on disk as recorded) are
    carried to the new cache: the new tree holds the same inodes."""
    files = entry["files"]
    _add(result, unit.name, files)
    result.known.update(files)
    result.digests.update(files)
    if entry["leaks"]:
        result.leaks += tuple(tuple(x) for x in entry["leaks"])
    result.cache.units[unit.name] = entry
    result.cache.stats.update((rel, stats[rel]) for rel in matched)
    result.reused += 1
    return True


def _no(result: Incremental, unit: u.Unit, reason: str, detail: str = "") -> bool:
    result.reasons[reason] += 1
    if len(result.named) < NAMED:
        result.named.append(f"{unit.name}: {reason}{detail}")
    return False


def _changed(unit: u.Unit, inputs: u.Inputs, previous: u.Cache, reads) -> str:
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


def _run(fleet: Fleet, units: list[u.Unit], index: int, source: str):
    reads: set[str] = set()
    workload_reads: set[str] = set()
    cluster_reads: set[str] | None = None  # a cluster unit: its own cluster, and any other it reads, count whole
    unit = units[index]
    # The documents' serialization runs under the hooks too: they may be built lazily.
    with u.fields_read(Workload, workload_reads):
        if unit.cluster is None:  # a fleet-wide unit: which fields of the clusters it reads narrows its key
            cluster_reads = set()
            with u.clusters_read(cluster_reads):
                files = files_bytes(unit.run(u.Traced(fleet, reads)), source)
        else:
            files = files_bytes(unit.run(u.Traced(fleet, reads)), source)
    reads = u.narrowed(reads, cluster_reads, workload_reads)
    return index, files, {rel: digest(data) for rel, data in files.items()}, [list(x) for x in _scan(files)], reads


_WORKER: tuple | None = None  # (fleet, units, source), set in the parent just before fork


def _worker(chunk: list[int]) -> list:
    assert _WORKER is not None, "set by _rendered before the pool forks"
    fleet, units, source = _WORKER
    return [_run(fleet, units, i, source) for i in chunk]


def _rendered(fleet: Fleet, units: list[u.Unit], todo: list[int], source: str):
    """Each rendered unit's (index, files, digests, leaks, reads); both cores for large fleets."""
    parallel = len(fleet.clusters) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1 and len(todo) > 1
    if not parallel:
        yield from (_run(fleet, units, i, source) for i in todo)
        return
    whole = [[i] for i in todo if units[i].cluster is None]  # fleet-wide units are the heaviest: first
    per_cluster = [i for i in todo if units[i].cluster is not None]
    chunks = whole + [per_cluster[k : k + CHUNK] for k in range(0, len(per_cluster), CHUNK)]
    global _WORKER
    _WORKER = (fleet, units, source)
    try:
        with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
            for results in pool.imap_unordered(_worker, chunks, chunksize=1):
                yield from results
    finally:
        _WORKER = None
