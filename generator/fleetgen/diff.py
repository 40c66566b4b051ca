"""What a fleet.yaml change does, for review: a semantic diff of two rendered trees and the plan delta.

Manifests are compared as data, never as text, so key order, quoting and formatting
never show up as changes. Each YAML document is identified the way a reviewer thinks of it,
``cluster / group/Kind namespace/name``, where the cluster is where the file lands: its
``clusters/<name>/`` directory, ``karmada`` for the Karmada API server, ``hub`` for everything
else. Files that are not YAML (the generated README) are compared line by line.

The plan delta (``plan/delta.py``) compares what the controllers will do under the two fleet models:
Applications added or removed, Karmada placements per workload and cluster, clusters newly pending
registration, and the upgrade waves that take the base fleet's versions to the new ones.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonpatch

from . import listkeys
from .destroy import Destruction, assess
from .documents import Parser
from .gitbase import Base
from .links import Links
from .load import load_all_data
from .model import Fleet
from .plan.delta import PlanDelta, plan_delta
from .render.capi.common import CONTENT_NAMED, content_base

YAML_SUFFIXES = (".yaml", ".yml", ".json")  # JSON is YAML
APPSET_DIR = "hub/argocd/applicationsets/"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class _Absent:
    """A side of a change that does not exist (an added or removed field); distinct from YAML null."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Change:
    path: str  # field path inside the document, e.g. spec.template.spec.containers[0].image
    old: Any = ABSENT
    new: Any = ABSENT

    def key(self) -> tuple[str, str, str]:
        """A hashable fingerprint: the same change in two clusters has the same key."""
        return self.path, canonical(self.old), canonical(self.new)


@dataclass(frozen=True)
class DocumentDiff:
    cluster: str  # where the file lands: a cluster name, "hub" or "karmada"
    ident: str  # group/Kind namespace/name, or the file path for documents without a kind
    file: str  # path relative to the rendered directory
    status: str  # added | removed | changed
    changes: tuple[Change, ...] = ()
    patch: tuple[dict, ...] = ()  # RFC 6902 ops turning the old document into the new (changed only)
    before: Any = field(default=None, compare=False, repr=False)  # the removed document (removed only)
    kind: str = ""  # group/Kind, the start of ident ("" for documents without a kind)

    @property
    def label(self) -> str:
        return f"{self.cluster} / {self.ident}"

    @property
    def name(self) -> str:
        """The identity without its kind: ``namespace/name`` (the file path for documents without a kind)."""
        return self.ident[len(self.kind) + 1 :] if self.kind else self.ident


@dataclass(frozen=True)
class FleetDiff:
    base: str  # the git ref compared against, as given
    documents: tuple[DocumentDiff, ...]
    plan: PlanDelta
    notes: tuple[str, ...] = ()  # caveats a reviewer must see (stale tree, base fleet missing, …)
    against: Base | None = None  # the commit compared with and how it was chosen (merge base or the ref)
    destroys: Destruction = field(default_factory=Destruction)  # what the change deletes, for the headline
    links: Links | None = None  # URLs of the rendered files on GitHub, when running in GitHub Actions

    @property
    def base_line(self) -> str:
        return self.against.describe() if self.against else self.base

    @property
    def empty(self) -> bool:
        return not self.documents and self.plan.empty


# ---------------------------------------------------------------- values


def canonical(value: Any) -> str:
    if value is ABSENT:
        return "\0absent"
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def show(value: Any, limit: int = 0) -> str:
    """A value for people: compact JSON (strings quoted), shortened to ``limit`` characters when given."""
    text = (
        "(absent)" if value is ABSENT else json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
    )
    return text if not limit or len(text) <= limit else text[: limit - 1] + "…"


_LIST_ITEM = re.compile(r"[A-Za-z0-9._:/@-]+")  # a name, not prose or a pattern (``mtls:CN=([^,]+)``)


@dataclass(frozen=True)
class Items:
    """A change to a comma-separated list held in one string (argocd-agent's ``principal.allowedNamespaces``):
    the names it gains (in the new order) and loses (in the old order), the names on both sides that it repeats a
    different number of times, whether the names on both sides changed order, and how many each side holds."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    old_count: int
    new_count: int
    recounted: tuple[str, ...] = ()
    reordered: bool = False


def _items(text: str) -> list[str]:
    return text.split(",") if text else []


def list_items(change: Change) -> Items | None:
    """The change as names gained and lost, when both sides are comma-separated lists of names (one side holding
    two or more, some name holding a letter: ``1,000,000`` is a number); None otherwise. Seen as two strings, a
    cluster joining a 5,000-name list is two long lines that differ somewhere in the middle, which no reviewer
    can read."""
    old, new = change.old, change.new
    if not isinstance(old, str) or not isinstance(new, str):
        return None
    before, after = _items(old), _items(new)
    names = (*before, *after)
    if max(len(before), len(after)) < 2 or not all(_LIST_ITEM.fullmatch(n) for n in names):
        return None
    if not any(c.isalpha() for c in old + new):
        return None
    counted_before, counted_after = Counter(before), Counter(after)
    both = [n for n in dict.fromkeys(after) if n in counted_before]
    return Items(
        tuple(dict.fromkeys(n for n in after if n not in counted_before)),
        tuple(dict.fromkeys(n for n in before if n not in counted_after)),
        len(before),
        len(after),
        tuple(n for n in both if counted_before[n] != counted_after[n]),
        both != [n for n in dict.fromkeys(before) if n in counted_after],
    )


def field_path(parts: Iterable[Any]) -> str:
    """``['metadata', 'labels', 'app.kubernetes.io/name']`` -> ``metadata.labels["app.kubernetes.io/name"]``.

    Keys that are not identifiers are quoted, so a path never reads ambiguously.
    """
    out = ""
    for part in parts:
        if isinstance(part, int | listkeys.Key):
            out += f"[{part}]" if isinstance(part, int) else str(part)
        elif _PLAIN_KEY.fullmatch(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out or "(whole document)"


# ---------------------------------------------------------------- documents


def owner(relpath: str) -> str:
    """The cluster a rendered file lands on, from the fixed tree layout."""
    parts = relpath.split("/")
    if parts[0] == "clusters" and len(parts) > 2:
        return parts[1]
    return "karmada" if parts[0] == "karmada" else "hub"


def local_path(relpath: str) -> str:
    """The path inside the owner's directory: the same file in two clusters has the same local path."""
    parts = relpath.split("/")
    return "/".join(parts[2:]) if parts[0] == "clusters" and len(parts) > 2 else relpath


def kind_of(doc: Any) -> str:
    """``group/Kind`` (core group: ``Kind``), or "" for a document without a kind."""
    if not isinstance(doc, dict) or "kind" not in doc:
        return ""
    group = str(doc.get("apiVersion", "")).rpartition("/")[0]
    return f"{group}/{doc['kind']}" if group else str(doc["kind"])


def identity(doc: Any, relpath: str) -> str:
    """``group/Kind namespace/name`` (core group: ``Kind``; cluster-scoped: no namespace)."""
    kind = kind_of(doc)
    if not kind:
        return local_path(relpath)
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name, namespace = meta.get("name", "?"), meta.get("namespace")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def parse(data: bytes, file: str, parser: Parser | None = None) -> list[Any] | None:
    """Every non-empty YAML document in a file, or None when it is not valid UTF-8 YAML."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return parser.parse(text, file) if parser else load_all_data(text, file)


Keyed = dict[tuple[str, str], tuple[str, Any]]  # (cluster, ident) -> (file, document or text lines)


def documents(files: Mapping[str, bytes], parser: Parser | None = None) -> Keyed:
    """Every document of a tree by (cluster, ident); a non-YAML or unparsable file is one text document."""
    keyed: Keyed = {}
    for rel in sorted(files):
        docs = parse(files[rel], rel, parser) if rel.endswith(YAML_SUFFIXES) else None
        if docs is None:
            items = [(local_path(rel), _Text(files[rel]))]
        else:
            items = [(identity(d, rel), d) for d in docs]
        for ident, doc in items:
            key, n = (owner(rel), ident), 1
            while key in keyed:  # the same identity twice: number the repeats so none is lost
                n += 1
                key = (owner(rel), f"{ident} #{n}")
            keyed[key] = (rel, doc)
    return keyed


@dataclass(frozen=True)
class _Text:
    data: bytes

    def lines(self) -> list[str]:
        return self.data.decode("utf-8", "replace").splitlines()


def field_changes(old: Any, new: Any, local: str = "") -> tuple[Change, ...]:
    """Field-level changes between two documents; list entries are matched by identity (``listkeys``).

    ``local`` is the file's path inside its cluster directory, which names kindless documents.
    """
    if isinstance(old, _Text) or isinstance(new, _Text):
        return line_changes(_as_lines(old), _as_lines(new))
    keys = listkeys.table_for(new if isinstance(new, dict) else old, local)
    return tuple(sorted(_walk(old, new, (), keys), key=lambda c: c.path))


def _walk(old: Any, new: Any, at: tuple, keys: Mapping[str, tuple[str, ...]]) -> Iterable[Change]:
    """Descend while both sides have the same shape, comparing subtrees with ``==`` (fast, in C).

    A rendered file repeats whole subtrees unchanged (Cilium's peer list names every cluster), so
    only the subtrees that differ are descended into.
    """
    if old is new or (old == new and canonical(old) == canonical(new)):  # == alone says 1 == 1.0 == True
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in old.keys() | new.keys():
            yield from _walk(old.get(key, ABSENT), new.get(key, ABSENT), (*at, key), keys)
    elif isinstance(old, list) and isinstance(new, list):
        for part, a, b in listkeys.align(old, new, keys.get(listkeys.pattern(at)), ABSENT):
            yield from _walk(a, b, (*at, part), keys)
    else:
        yield Change(field_path(at), old, new)


def _as_lines(doc: Any) -> list[str]:
    return doc.lines() if isinstance(doc, _Text) else json.dumps(doc, indent=2, default=str).splitlines()


def line_changes(old: list[str], new: list[str]) -> tuple[Change, ...]:
    """Changed line ranges of a text file, each as ``lines A-B`` with the old and new text."""
    changes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        where = f"line {i1 + 1}" if i2 - i1 <= 1 else f"lines {i1 + 1}-{i2}"
        before = "\n".join(old[i1:i2]) if i2 > i1 else ABSENT
        after = "\n".join(new[j1:j2]) if j2 > j1 else ABSENT
        changes.append(Change(where, before, after))
    return tuple(changes)


def compare_trees(
    base: Mapping[str, bytes],
    head: Mapping[str, bytes],
    patches: bool = True,
) -> tuple[DocumentDiff, ...]:
    """Documents added, removed and changed between two rendered trees (path -> bytes).

    Files with identical bytes hold identical documents, so only the files that differ are parsed, and
    each distinct document text in them once (generator/fleetgen/documents.py): a document left as it was
    is then the same object on both sides, compared at no cost.
    ``patches``: also compute each changed document's RFC 6902 patch (only the JSON report shows it).
    """
    same = {rel for rel in base.keys() & head.keys() if base[rel] == head[rel]}
    parser = Parser()
    old = documents({rel: data for rel, data in base.items() if rel not in same}, parser)
    new = documents({rel: data for rel, data in head.items() if rel not in same}, parser)
    found = []
    renamed = _renamed(old, new)
    for key in sorted(old.keys() | new.keys()):
        if key in renamed:  # the old name of a template now named after other content: shown as a change
            continue
        if key in renamed.values():
            before = next(k for k, v in renamed.items() if v == key)
            changes = field_changes(old[before][1], new[key][1], local_path(new[key][0]))
            patch = _patch(old[before][1], new[key][1]) if patches else ()
            found.append(DocumentDiff(*key, new[key][0], "changed", changes, patch, kind=kind_of(new[key][1])))
        elif key not in new:
            found.append(DocumentDiff(*key, old[key][0], "removed", before=old[key][1], kind=kind_of(old[key][1])))
        elif key not in old:
            found.append(DocumentDiff(*key, new[key][0], "added", kind=kind_of(new[key][1])))
        elif changes := field_changes(old[key][1], new[key][1], local_path(new[key][0])):
            patch = _patch(old[key][1], new[key][1]) if patches else ()
            found.append(DocumentDiff(*key, new[key][0], "changed", changes, patch, kind=kind_of(new[key][1])))
    return tuple(found)


def _renamed(old: Mapping[tuple, tuple], new: Mapping[tuple, tuple]) -> dict[tuple, tuple]:
    """Old key -> new key of each Cluster API template that only got a new name because its content changed
    (``render.capi.common.content_named``): one removed and one added document of such a kind, in the same
    file, whose names are the same apart from the content digest (a first render by a fleetgen that names
    templates so compares the plain name with the digested one). Cluster API replaces it; nothing is lost,
    so the review shows one change, not a removed manifest (``--fail-on destroy``) and an added one."""

    def base(key: tuple, docs: Mapping[tuple, tuple], plain: bool) -> tuple | None:
        """(file, kind, namespace, name before the digest). A digest counts only when it is the digest of the
        document's own spec; ``plain`` (the old side): a name without one is taken as it is, as a fleetgen
        that did not name templates after their content wrote it."""
        file, doc = docs[key]
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        kind = kind_of(doc)
        if not isinstance(meta, dict) or tuple(kind.split("/", 1)) not in CONTENT_NAMED:
            return None
        name = content_base(doc) or (str(meta.get("name")) if plain else None)
        return None if name is None else (file, kind, meta.get("namespace"), name)

    gone: dict[tuple, list[tuple]] = {}
    for key in old.keys() - new.keys():
        if (b := base(key, old, plain=True)) is not None:
            gone.setdefault(b, []).append(key)
    came: dict[tuple, list[tuple]] = {}
    for key in new.keys() - old.keys():
        if (b := base(key, new, plain=False)) is not None:
            came.setdefault(b, []).append(key)
    return {gone[b][0]: came[b][0] for b in gone.keys() & came.keys() if len(gone[b]) == len(came[b]) == 1}


def _patch(old: Any, new: Any) -> tuple[dict, ...]:
    """The change as RFC 6902 operations; none for text files (README.md), which are not data."""
    if isinstance(old, _Text) or isinstance(new, _Text):
        return ()
    return tuple(jsonpatch.make_patch(old, new).patch)


# ---------------------------------------------------------------- grouping for reports


@dataclass(frozen=True)
class Shared:
    """Changes to one document seen identically in the same several clusters: shown once."""

    ident: str
    status: str
    changes: tuple[Change, ...]  # empty for a document added or removed in every listed cluster
    clusters: tuple[str, ...]


def group_shared(docs: Iterable[DocumentDiff]) -> tuple[list[Shared], list[DocumentDiff]]:
    """Split changes into those repeated across 2+ clusters (shown once) and the rest, per document."""
    docs = list(docs)
    seen: dict[tuple, list[str]] = {}
    for doc in docs:
        for change in doc.changes or (None,):
            seen.setdefault(_signature(doc, change), []).append(doc.cluster)
    repeated = {key: tuple(sorted(clusters)) for key, clusters in seen.items() if len(clusters) > 1}
    return _shared(docs, repeated), _remainder(docs, repeated)


def _signature(doc: DocumentDiff, change: Change | None) -> tuple:
    return (doc.ident, doc.status, change.key() if change else None)


def _shared(docs: list[DocumentDiff], repeated: Mapping[tuple, tuple[str, ...]]) -> list[Shared]:
    """Repeated changes gathered per (document, cluster list), in document order."""
    groups: dict[tuple, list[Change]] = {}
    for doc in docs:
        for change in doc.changes or (None,):
            clusters = repeated.get(_signature(doc, change))
            if clusters and doc.cluster == clusters[0]:  # collect each repeated change once
                groups.setdefault((doc.ident, doc.status, clusters), []).extend([change] if change else [])
    return [
        Shared(ident, status, tuple(changes), clusters)
        for (ident, status, clusters), changes in sorted(groups.items(), key=lambda kv: kv[0])
    ]


def _remainder(
    docs: list[DocumentDiff], repeated: Mapping[tuple, tuple], signature: Callable = _signature
) -> list[DocumentDiff]:
    """Each document with the changes that are not grouped (a document none of whose changes is left: gone)."""
    rest = []
    for doc in docs:
        left = tuple(c for c in doc.changes if signature(doc, c) not in repeated)
        if left or (not doc.changes and signature(doc, None) not in repeated):
            rest.append(DocumentDiff(doc.cluster, doc.ident, doc.file, doc.status, left, kind=doc.kind))
    return rest


@dataclass(frozen=True)
class Repeated:
    """Changes made identically to several documents of one kind in one cluster (the hub's store gateway
    per spoke, say): shown once, with the documents."""

    cluster: str
    kind: str
    status: str
    changes: tuple[Change, ...]
    documents: tuple[DocumentDiff, ...]  # in document order; each may have other changes of its own

    @property
    def names(self) -> list[str]:
        return [doc.name for doc in self.documents]

    @property
    def files(self) -> list[str]:
        return sorted({doc.file for doc in self.documents})


def group_repeated(docs: Iterable[DocumentDiff]) -> tuple[list[Repeated], list[DocumentDiff]]:
    """Split changes into those made identically (same path, old and new value) to 2+ documents of the same
    kind and status in one cluster, and the rest, per document. Only changes count: an added or removed
    document, and a document without a kind (a text file), stays on its own."""
    docs = list(docs)
    seen: dict[tuple, list[int]] = {}
    for index, doc in enumerate(docs):
        for change in doc.changes if doc.kind else ():
            seen.setdefault(_in_cluster(doc, change), []).append(index)
    repeated = {key: tuple(members) for key, members in seen.items() if len(members) > 1}
    groups: dict[tuple[int, ...], list[Change]] = {}
    for index, doc in enumerate(docs):
        for change in doc.changes:
            members = repeated.get(_in_cluster(doc, change))
            if members and members[0] == index:  # collect each repeated change once, at its first document
                groups.setdefault(members, []).append(change)
    found = [
        Repeated(
            docs[members[0]].cluster,
            docs[members[0]].kind,
            docs[members[0]].status,
            tuple(changes),
            tuple(docs[i] for i in members),
        )
        for members, changes in sorted(groups.items())
    ]
    return found, _remainder(docs, repeated, _in_cluster)


def _in_cluster(doc: DocumentDiff, change: Change | None) -> tuple:
    return (doc.cluster, doc.kind, doc.status, change.key() if change else None)


@dataclass(frozen=True)
class ClusterChanges:
    documents: list[DocumentDiff]  # the cluster's documents, for its counts
    entries: list[DocumentDiff | Repeated]  # what is shown: each repeated change once, in document order


def per_cluster(docs: Iterable[DocumentDiff]) -> dict[str, ClusterChanges]:
    """What ``by_cluster`` gives, with the changes repeated across documents of one kind grouped."""
    docs = list(docs)
    position = {(doc.cluster, doc.ident): i for i, doc in enumerate(docs)}
    repeated, rest = group_repeated(docs)
    entries: dict[str, list[DocumentDiff | Repeated]] = {}
    both: list[DocumentDiff | Repeated] = [*rest, *repeated]
    for entry in both:
        entries.setdefault(entry.cluster, []).append(entry)

    def order(entry: DocumentDiff | Repeated) -> tuple[int, bool]:
        """Where its (first) document is; a group before that document's own other changes."""
        first = entry.documents[0] if isinstance(entry, Repeated) else entry
        return position[first.cluster, first.ident], not isinstance(entry, Repeated)

    return {
        cluster: ClusterChanges(documents, sorted(entries.get(cluster, []), key=order))
        for cluster, documents in by_cluster(docs).items()
    }


def by_cluster(docs: Iterable[DocumentDiff]) -> dict[str, list[DocumentDiff]]:
    """Documents per cluster: hub first, then karmada, then the clusters by name."""
    grouped: dict[str, list[DocumentDiff]] = {}
    for doc in docs:
        grouped.setdefault(doc.cluster, []).append(doc)
    order = sorted(grouped, key=lambda c: (c != "hub", c != "karmada", c))
    return {c: grouped[c] for c in order}


def counts(docs: Iterable[DocumentDiff]) -> dict[str, int]:
    out = {"added": 0, "removed": 0, "changed": 0}
    for doc in docs:
        out[doc.status] += 1
    return out


def compare(
    base: Base,
    base_files: Mapping[str, bytes],
    head_files: Mapping[str, bytes],
    base_fleet: Fleet | None,
    head_fleet: Fleet,
    notes: Iterable[str] = (),
    links: Links | None = None,
    patches: bool = True,
) -> FleetDiff:
    """The whole review: manifests from the two committed trees, plan delta from the two fleet models."""
    documents_changed = compare_trees(base_files, head_files, patches)
    base_versions = {c.name: c.kubernetes_version for c in base_fleet.clusters} if base_fleet else {}
    plan = plan_delta(base_fleet, head_fleet, base_versions)
    destroys = assess(documents_changed, plan, application_sets(base_files, head_files), head_fleet)
    notes = [*notes, *waves_note(plan)]
    return FleetDiff(base.ref, documents_changed, plan, tuple(notes), base, destroys, links)


def waves_note(plan: PlanDelta) -> list[str]:
    """A change that moves the clusters of several upgrade waves is synced at once: fleet-root applies every
    changed control plane together (nothing in the rendered tree orders them), so the waves are an order to
    merge in, not one the change will keep."""
    waves = plan.upgrades or ()
    if len(waves) < 2:
        return []
    return [
        f"this change upgrades {len(waves)} waves at once: Argo CD applies every changed control plane together; "
        "merge one wave per pull request to roll the upgrade out in order"
    ]


def application_sets(
    base: Mapping[str, bytes], head: Mapping[str, bytes]
) -> dict[str, tuple[dict | None, dict | None]]:
    """ApplicationSet documents by name: (the base's, the head's), None where a tree has none."""
    sides: list[dict[str, dict]] = [{}, {}]
    for side, files in zip(sides, (base, head)):
        for rel in sorted(r for r in files if r.startswith(APPSET_DIR) and r.endswith(YAML_SUFFIXES)):
            for doc in parse(files[rel], rel) or ():
                if isinstance(doc, dict) and doc.get("kind") == "ApplicationSet":
                    side[str((doc.get("metadata") or {}).get("name"))] = doc
    return {name: (sides[0].get(name), sides[1].get(name)) for name in sorted(sides[0].keys() | sides[1].keys())}
