"""Each cluster's source in fleet.yaml as a digest: the cheap identity an incremental render keys clusters by.

An incremental render keys every cluster unit by its cluster (``fleetgen.units``). Printing 5,000 model
objects to digest them costs about 0.2 s per run; the text each cluster was read from is already in memory
and hashes in milliseconds. The model is a pure function of the fleet file's text (``model.build`` reads a
cluster's own mapping merged over ``defaults``), so the same text, read in the same context, gives the same
cluster. The digest therefore covers, besides the cluster's lines:

- ``defaults``, merged under every cluster (its data, whatever its form in the file);
- everything that decides how the lines are read: the text before the document's root mapping (``%YAML``
  and ``%TAG`` directives), the root mapping's column, and which parser reads the file
  (``compose.trusted``: both must give the same nodes, so this is only caution).

It is refused (``None``: the render keys clusters by their model objects, as before) whenever the lines
alone may not decide the cluster: a file with an alias (``*``: a cluster could take its value from an
anchor elsewhere), or a root or ``clusters`` collection in flow style (``{...}``/``[...]``, where items
share lines). Different text for the same cluster (a comment, a reordered key) only renders the cluster's
units again: if in doubt, render. A cluster's lines run from the line its item starts on to the line the
next item starts on (comments between them included) and carry its indentation, but not its line number:
moving a cluster in the file does not change it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from . import compose
from .load import Document

# Line breaks other than "\n" ("\r", and those YAML 1.1 parsers count: NEL, LS, PS; and what str.splitlines
# splits on): a file holding one is not cut into lines here, so no parser's idea of a line can differ.
_OTHER_BREAKS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def cluster_sources(doc: Document) -> Mapping[str, str] | None:
    """Cluster name -> digest of the source it is read from, or None when the text alone does not decide it."""
    root, text = doc.root, doc.text
    if root is None or "*" in text or root.id != "mapping" or root.flow_style or _OTHER_BREAKS.intersection(text):
        return None
    sequence = next((v for k, v in root.value if k.id == "scalar" and k.value == "clusters"), None)
    raws = doc.data.get("clusters") if isinstance(doc.data, dict) else None
    if sequence is None or sequence.id != "sequence" or sequence.flow_style or not isinstance(raws, list):
        return None
    items = sequence.value
    if len(items) != len(raws) or not all(isinstance(raw, dict) and isinstance(raw.get("name"), str) for raw in raws):
        return None
    names = [raw["name"] for raw in raws]
    if len(set(names)) != len(names):
        return None
    lines = text.split("\n")
    dash = sequence.start_mark.column  # every item's "-" stands in this column, on the line its cluster starts
    starts = [item.start_mark.line for item in items]
    if not all(lines[line][:dash].isspace() or not dash for line in starts) or any(
        lines[line][dash : dash + 1] != "-" for line in starts
    ):
        return None  # an item whose mapping starts below its "-" ("-" alone on a line): its lines are not its own
    bounds = [*starts[1:], sequence.end_mark.line + (1 if sequence.end_mark.column else 0)]
    if any(start >= stop for start, stop in zip(starts, bounds)):
        return None
    context = _context(doc, lines, root, dash)
    return {name: _sha(context + "\n".join(lines[start:stop])) for name, start, stop in zip(names, starts, bounds)}


def _context(doc: Document, lines: list[str], root: Any, dash: int) -> str:
    """What every cluster's lines are read with: parser, directives, the root's and the items' columns, defaults."""
    defaults = json.dumps(doc.data.get("defaults"), sort_keys=True, default=repr, ensure_ascii=False)
    header = "\n".join(lines[: root.start_mark.line])
    return (
        f"{compose.trusted(doc.text)} {root.start_mark.column} {dash}\n"
        f"{len(header)}:{header}\n{len(defaults)}:{defaults}\n"
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
