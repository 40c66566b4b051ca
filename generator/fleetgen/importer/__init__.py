"""``fleetgen import``: fleet.yaml cluster entries from what a team already runs, never a credential.

One module per input kind, each a pure function from parsed documents to :class:`Found`
cluster entries in fleet.yaml's own shape:

- ``argocd``: Argo CD cluster Secrets (``kubectl get secrets -l argocd.argoproj.io/secret-type=cluster -o yaml``);
- ``capi``: Cluster API manifests (Cluster, the provider's control plane, machine pools);
- ``kubeconfig``: the clusters of a kubeconfig's contexts;
- ``tree``: a tree fleetgen rendered (its README table, lock and Cilium values, plus the above).

``read`` finds the kind of every input; ``merge`` folds the entries into fleet.yaml with the
comment-preserving editor and reports conflicts instead of overwriting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Found:
    """What the inputs say: cluster entries by name, and what a person must read."""

    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # cluster -> the input that named it first
    notes: list[str] = field(default_factory=list)  # credentials dropped, facts not found
    conflicts: list[str] = field(default_factory=list)  # two inputs disagree
    gaps: list[tuple[str, str]] = field(default_factory=list)  # (cluster, dotted field) no input holds

    def add(self, entry: dict[str, Any], source: str) -> None:
        """Fold one input's entry for a cluster in; the first value of a field wins, a different one is a conflict."""
        name = entry["name"]
        if name not in self.clusters:
            self.clusters[name], self.sources[name] = entry, source
            return
        self.conflicts += fold(self.clusters[name], entry, f"cluster {name!r}", self.sources[name], source)

    def note(self, source: str, message: str) -> None:
        self.notes.append(f"{source}: {message}")

    def gap(self, cluster: str, field_path: str, source: str, message: str) -> None:
        """A field fleet.yaml needs that no input holds: reported, never invented."""
        self.gaps.append((cluster, field_path))
        self.note(source, message)


def fold(
    into: dict[str, Any], new: dict[str, Any], where: str, first: str, second: str, at: tuple[str, ...] = ()
) -> list[str]:
    """Add ``new``'s fields missing from ``into``; list where both have a different value."""
    out = []
    for key, value in new.items():
        path = (*at, key)
        if key not in into:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, dict):
            out += fold(into[key], value, where, first, second, path)
        elif into[key] != value and path == ("lifecycle",):  # one input is Cluster API's objects: managed
            into[key] = "managed"
        elif into[key] != value:
            out.append(
                f"{where}: {'.'.join(path)} is {into[key]!r} in {first} but {value!r} in {second}; kept {into[key]!r}"
            )
    return out
