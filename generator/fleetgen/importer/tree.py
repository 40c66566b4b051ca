"""A tree fleetgen rendered -> its cluster entries, so a rendered fleet imports back to an equivalent one.

Read in this order, the first value of a field winning: the cluster table of the tree's
``README.md`` (environment, region, provider, mesh id, CIDRs, registration, Karmada membership)
with the exact versions of ``.fleetgen.lock``; each cluster's Cilium values (per-node mask);
the Argo CD cluster Secrets (``hub/argocd/clusters``: server, labels, caData, identity); the
Cluster API files (``hub/capi``: provider fields and node pools). A cluster of a real provider
that has an Argo CD Secret but no Cluster API file was rendered ``lifecycle: external``.

What the tree does not hold is reported, never invented: AWS ``accountID`` of a cluster without
an Argo CD Secret, Azure ``subscriptionID`` (it lives in ASO's credential Secret), the API
endpoint of a pull-mode cluster (its Secret points at argocd-agent's resource proxy), and the
labels of a pending cluster that Cluster API does not provision and of a pull-mode cluster (whose
cluster Secret ``argocd-agentctl agent create`` makes): no rendered file names them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..load import load_all_data
from ..model import default_mesh_member
from ..render.index import CLUSTER_COLUMNS
from ..tree import read_lock
from . import Found
from .argocd import from_secret, is_cluster_secret
from .capi import from_documents

_ROW = re.compile(r"^\| `(?P<name>[a-z0-9-]+)` \| (?P<cells>.*) \|$")
# What fleet.yaml requires of each provider (the schema's if/then), to report what the tree lacks.
REQUIRED = {
    "aws": ("accountID", "roleARN"),
    "gcp": ("project",),
    "azure": ("subscriptionID", "resourceGroup"),
    "vsphere": ("server", "datacenter", "template"),
}
_COLUMNS = CLUSTER_COLUMNS


def is_tree(path: Path) -> bool:
    return path.is_dir() and (path / ".fleetgen.lock").is_file()


def from_tree(out: Path, found: Found) -> None:
    label = out.as_posix()
    versions = read_lock(out).versions
    readme = _text(out / "README.md")
    rows = _cluster_rows(readme)
    if not rows:
        found.note(label, "README.md has no cluster table; reading the manifests only")
    for name, row in rows.items():
        found.add(_row_entry(name, row, versions, out), f"{label}/README.md")
    for path in sorted((out / "hub" / "argocd" / "clusters").glob("*.yaml")):
        for doc in _docs(path):
            if is_cluster_secret(doc) and path.stem != "karmada":
                from_secret(doc, _rel(path, out), found)
    for path in sorted((out / "hub" / "capi").glob("*.yaml")):
        from_documents(_docs(path), _rel(path, out), found)
    for name, row in rows.items():
        _gaps(name, row, out, found)


def _rel(path: Path, out: Path) -> str:
    return f"{out.as_posix()}/{path.relative_to(out).as_posix()}"


def _text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except OSError:
        return ""


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in load_all_data(_text(path), str(path)) or () if isinstance(d, dict)]


def _cluster_rows(readme: str) -> dict[str, dict[str, str]]:
    """``| `name` | env | region | … |`` rows of the README's "Clusters" table, by cluster name."""
    section = readme.split("## Clusters", 1)[1].split("\n## ", 1)[0] if "## Clusters" in readme else ""
    rows = {}
    for line in section.splitlines():
        found = _ROW.match(line)
        if found is None:
            continue
        cells = [c.strip().strip("`") for c in found["cells"].split(" | ")]
        if len(cells) == len(_COLUMNS):
            rows[found["name"]] = dict(zip(_COLUMNS, cells))
    return rows


def _row_entry(name: str, row: dict[str, str], versions: Mapping[str, str], out: Path) -> dict[str, Any]:
    network: dict[str, Any] = {"pods": row["pods"], "services": row["services"]}
    if row["mesh id"].isdigit():
        network["meshID"] = int(row["mesh id"])
    values = _docs(out / "clusters" / name / "cilium" / "values.yaml")
    operator = ((values[0].get("ipam") or {}).get("operator") or {}) if values else {}
    mask = operator.get("clusterPoolIPv4MaskSize", operator.get("clusterPoolIPv6MaskSize"))
    if mask is not None and mask != (24 if ":" not in row["pods"] else 64):
        network["nodeMask"] = mask
    entry: dict[str, Any] = {
        "name": name,
        "environment": row["environment"],
        "region": row["region"],
        "kubernetesVersion": versions.get(name, row["version"]),
        "provider": {"type": row["provider"]},
    }
    capi = (out / "hub" / "capi" / f"{name}.yaml").is_file()
    if row["provider"] != "imported":
        entry["lifecycle"] = "managed" if capi else "external"
    entry["network"] = network
    if row["registration"].startswith("pull") or row["registration"].endswith("pull mode)"):
        entry["argocd"] = {"mode": "pull"}
    if values:  # mesh: cilium; a member's values carry the clustermesh block (render/cilium.py)
        member = "clustermesh" in values[0]
        mode = (entry.get("argocd") or {}).get("mode", "push")
        if member != default_mesh_member(mode, row["provider"]):
            network["clustermesh"] = {"member": member}
    if row["karmada member"] == "no" and not row["registration"].startswith("pending"):
        entry["karmada"] = {"member": False}
    return entry


def _gaps(name: str, row: dict[str, str], out: Path, found: Found) -> None:
    entry, where = found.clusters.get(name, {}), f"{out.as_posix()}: cluster {name!r}"
    provider = entry.get("provider") or {}
    missing = REQUIRED.get(provider.get("type", ""), ())
    if row["registration"].startswith("pending") and not (out / "hub" / "capi" / f"{name}.yaml").is_file():
        found.gap(
            name,
            "labels",
            where,
            "pending and not provisioned: its labels are in no rendered file; add them to fleet.yaml",
        )
    if row["registration"].startswith("pull") and "labels" not in entry:
        # argocd-agentctl creates a pull-mode cluster's Secret; fleetgen renders only its agent namespace
        found.gap(
            name,
            "labels",
            where,
            "pull mode: its cluster Secret is made by argocd-agentctl, so its labels "
            "are in no rendered file; add them to fleet.yaml",
        )
    if row["registration"].startswith("pull") and "server" not in entry:
        found.gap(
            name,
            "server",
            where,
            "pull mode: its API endpoint is in no rendered file (Argo CD reaches it "
            "through argocd-agent); add server to fleet.yaml",
        )
    for key in missing:
        if key not in provider:
            found.gap(
                name, f"provider.{key}", where, f"provider.{key} is not in the rendered tree; add it to fleet.yaml"
            )
