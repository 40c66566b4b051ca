"""Each cluster's source in fleet.yaml as a digest: the cheap identity an incremental render keys clusters by.

An incremental render keys every cluster unit by its cluster (``fleetgen.units``). Printing 5,000 model
objects to digest them costs about 0.2 s per run; the text each cluster was read from is already in memory
and hashes in milliseconds. The model is a pure function of the fleet file's text (``model.build`` reads a
cluster's own mapping merged over ``defaults``), so the same text, read in the same context, gives the same
cluster. A cluster's text is what ``fleetgen.chunks`` cuts for it (its lines, from its ``-`` to the next
cluster's, indentation included, line numbers not: moving a cluster does not change it), and the digest also
covers ``defaults`` (merged under every cluster, as data) and what decides how the lines are read: the
column of the items' ``-`` and which parser reads the file (``compose.trusted``: both must give the same
nodes, so this is only caution): it is the digest of that context's digest and the text's, which the load
already took (``chunks.Split.digests``, the load cache's keys). ``chunks.split`` refuses what could reach across
lines (aliases, anchors, tags, directives, document markers, other line breaks, a ``clusters`` value not in block
style).

Where the fleet was parsed whole, the parser's clusters must start on the lines the text was cut at;
where it was read cluster by cluster, each cluster's lines were parsed alone. Otherwise there are no
digests (None), and the render keys clusters by their model objects. Different text for the same cluster
(a comment, a reordered key) only renders the cluster's units again: if in doubt, render.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import chunks, compose
from .load import Document


def cluster_sources(doc: Document) -> Mapping[str, str] | None:
    """Cluster name -> digest of the source it is read from, or None when the text alone does not decide it."""
    parts = chunks.split(doc.text)
    raws = doc.data.get("clusters") if isinstance(doc.data, dict) else None
    if parts is None or not isinstance(raws, list) or len(raws) != len(parts.starts):
        return None
    if not all(isinstance(raw, dict) and isinstance(raw.get("name"), str) for raw in raws):
        return None
    names = [raw["name"] for raw in raws]
    if len(set(names)) != len(names):
        return None
    if not doc.chunked and not _cut_as_parsed(doc, parts):
        return None  # read whole: the parser must have found each cluster where the text is cut
    defaults = chunks.defaults_text(doc.data)
    context = f"{compose.trusted(doc.text)} {parts.dash}\n{len(defaults)}:{defaults}\n"
    within = chunks.digest(context)
    return {name: chunks.digest(f"{within} {text}") for name, text in zip(names, parts.digests)}


def _cut_as_parsed(doc: Document, parts: chunks.Split) -> bool:
    """The whole parse's clusters start on the lines ``parts`` cuts at (a chunked read was checked part by part)."""
    root = doc.root
    if root is None or root.id != "mapping" or root.flow_style or root.start_mark.column != 0:
        return False
    sequence = next((v for k, v in root.value if k.id == "scalar" and k.value == "clusters"), None)
    if sequence is None or sequence.id != "sequence" or sequence.flow_style:
        return False
    return [item.start_mark.line for item in sequence.value] == parts.lines()
