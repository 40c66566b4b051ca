"""Comment-preserving edits of fleet.yaml: every byte outside the edited lines survives.

ruamel.yaml's round-trip mode reads the file (``YAML(typ="rt").compose``: every node with its
exact start and end in the text) and writes the new values (``YAML(typ="rt")`` with
``preserve_quotes``, the file's own indentation, no line wrapping). The edit itself is a splice
of the original text at those positions, not a re-dump of the whole document: a re-dump
normalises indentation, flow mappings split over lines, spacing before comments and where a
comment between two entries is attached, none of which an edit should touch.

Every edit is also applied to a plain copy of the data; ``FleetText.result`` re-reads the new
text and checks it means exactly that copy, so a splice can never silently change something else.

``Session`` is one fleet file opened for editing by the runbook commands (add-cluster, register,
upgrade, remove-cluster): it holds fleet.yaml's lock (an flock on the file) from before it reads
the file until the command ends, so a second command waits, then reads the file the first one
wrote. ``Session.lint`` lints the edited bytes exactly as ``fleetgen lint`` would, and
``Session.write`` replaces the file atomically (``tree.replace_file``). A write that fails (full
disk, read-only filesystem, a directory it may not write) is one FleetgenError (exit 2), with
fleet.yaml unchanged and no temporary file left; an edit that would fail lint is ``Refused`` (exit 1).
"""

from __future__ import annotations

import copy
import difflib
import fcntl
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from . import pipeline, tree
from .errors import FleetgenError, Refused
from .findings import Finding, display
from .load import load_text
from .model import Fleet

Key = str | int
DEFAULT_INDENT = (2, 4, 2)  # mapping, sequence, offset: the layout of the shipped example


class EditError(FleetgenError):
    """An edit that cannot be expressed in this file's layout (the CLI reports it, exit 2)."""


@dataclass(frozen=True)
class Indent:
    mapping: int
    sequence: int
    offset: int


def round_trip(indent: Indent) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never re-wrap a long line
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    return yaml


# ---------------------------------------------------------------- scalars


def _plain_ok(text: str, flow: bool = False) -> bool:
    """``text`` written plain reads back as the same string (inside ``[...]`` when ``flow``)."""
    if not text or text != text.strip() or "\n" in text:
        return False
    doc, findings = load_text(f"k: [{text}]\n" if flow else f"k: {text}\n", "probe")
    if findings or doc is None:
        return False
    return doc.data["k"] == ([text] if flow else text)


def scalar_text(value: Any, style: str | None = None, flow: bool = False) -> str:
    """One scalar as YAML text: the given quote style kept, plain when safe, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if style == "'" and "\n" not in value:
        return "'" + value.replace("'", "''") + "'"
    if style is None and _plain_ok(value, flow):
        return value
    return json.dumps(value, ensure_ascii=False)


def _prepared(value: Any, template: Node | None, flow: bool = False) -> Any:
    """``value`` as ruamel data styled like ``template``: collections flow where the matching node is,
    and every string that cannot stay plain (in its context) double-quoted, the file's convention."""
    flow = flow or bool(getattr(template, "flow_style", False))
    if isinstance(value, dict):
        children = {k.value: v for k, v in template.value} if isinstance(template, MappingNode) else {}
        out: Any = CommentedMap((k, _prepared(item, children.get(k), flow)) for k, item in value.items())
    elif isinstance(value, list):
        child = template.value[-1] if isinstance(template, SequenceNode) and template.value else None
        out = CommentedSeq(_prepared(item, child, flow) for item in value)
    elif isinstance(value, str) and not _plain_ok(value, flow):
        return DoubleQuotedScalarString(value)
    else:
        return value
    if flow:
        out.fa.set_flow_style()
    return out


def _merged_template(items: Sequence[Node]) -> Node | None:
    """One mapping node holding, per key, the value node of the last item that has the key."""
    mappings = [item for item in items if isinstance(item, MappingNode)]
    if not mappings:
        return None
    entries = {k.value: (k, v) for item in mappings for k, v in item.value}
    return MappingNode(mappings[-1].tag, list(entries.values()))


# ---------------------------------------------------------------- the text


def detect_indent(root: Node) -> Indent:
    """The file's indentation: the most common step of nested block mappings and sequences."""
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    for parent_col, node in _block_children(root):
        if isinstance(node, MappingNode):
            maps[node.start_mark.column - parent_col] += 1
        elif isinstance(node, SequenceNode) and isinstance(node.value[0], MappingNode):
            dash = node.start_mark.column
            seqs[(node.value[0].start_mark.column - parent_col, dash - parent_col)] += 1
    mapping = maps.most_common(1)[0][0] if maps else DEFAULT_INDENT[0]
    sequence, offset = seqs.most_common(1)[0][0] if seqs else DEFAULT_INDENT[1:]
    return Indent(mapping, sequence, offset)


def _block_children(node: Node) -> Iterator[tuple[int, Node]]:
    """(parent key column, value) for every block collection that is the value of a mapping key."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(value, MappingNode | SequenceNode) and value.value and not value.flow_style:
                yield key.start_mark.column, value
            yield from _block_children(value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _block_children(item)


def content_end(node: Node) -> int:
    """Index just past the node's last character of content (block collections end at their last leaf)."""
    if isinstance(node, MappingNode | SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return content_end(last[1] if isinstance(node, MappingNode) else last)
    return node.end_mark.index  # a block scalar ends past its last newline: the same line end


class FleetText:
    """fleet.yaml as text plus the data it must mean; each edit splices the text and updates the data."""

    def __init__(self, text: str):
        self.text = text
        doc, findings = load_text(text, "fleet.yaml")
        if doc is None:
            raise EditError("fleet.yaml does not parse: " + "; ".join(f.message for f in findings))
        self.data: Any = copy.deepcopy(doc.data)
        self._compose()
        self.indent = detect_indent(self.root)

    # ------------------------------------------------------------ public edits

    def set(self, path: Sequence[Key], value: Any, after: Sequence[str] = ()) -> None:
        """Set the scalar at ``path``: replaced in place (quote style kept), or inserted after the
        last existing key of ``after`` (else at the end of the mapping)."""
        *parent_path, key = path
        parent = self._node(parent_path)
        if not isinstance(parent, MappingNode):
            raise EditError(f"{_dotted(parent_path)} is not a mapping")
        found = _entry(parent, key)
        if found is not None:
            self._replace_scalar(found[1], value, bool(parent.flow_style))
        else:
            self._insert_key(parent, str(key), value, after)
        _data(self.data, parent_path)[key] = value

    def delete(self, path: Sequence[Key]) -> None:
        """Remove a mapping key or a list item with its own lines (and the comments just above an item)."""
        *parent_path, key = path
        parent = self._node(parent_path)
        if isinstance(parent, MappingNode):
            self._delete_key(parent, key)
            del _data(self.data, parent_path)[key]
        elif isinstance(parent, SequenceNode):
            self._delete_item(parent, int(key), parent_path)
            del _data(self.data, parent_path)[int(key)]
        else:
            raise EditError(f"{_dotted(parent_path)} is not a mapping or a list")

    def append(self, path: Sequence[Key], value: Any) -> None:
        """Append ``value`` to the list at ``path`` (created at the end of the document when absent),
        styled like the list's last item and separated like its items are."""
        node = self._node(path[:-1])
        found = _entry(node, path[-1]) if isinstance(node, MappingNode) else None
        if found is None and len(path) == 1:
            self._splice(len(self.text), len(self.text), self._top_level_list(str(path[0]), value))
            self.data[path[0]] = []
        elif found is not None and isinstance(found[1], SequenceNode) and not found[1].flow_style:
            self._append_block(found[1], [value])
        elif found is not None and isinstance(found[1], SequenceNode) and not found[1].value:
            self._replace_empty_flow(found, value)
        else:
            raise EditError(f"cannot append to {_dotted(path)}: not a block list or an empty []")
        _data(self.data, path).append(value)

    def extend(self, path: Sequence[Key], values: Sequence[Any]) -> None:
        """``append`` each of ``values``, re-reading the file twice instead of once per item."""
        if not values:
            return
        self.append(path, values[0])
        if len(values) > 1:
            node = self._node(path)
            assert isinstance(node, SequenceNode)  # append made it a block list or failed
            self._append_block(node, values[1:])
            _data(self.data, path).extend(values[1:])

    def result(self) -> str:
        """The edited text, after checking it reads back as exactly the edited data."""
        doc, findings = load_text(self.text, "fleet.yaml")
        if doc is None or doc.data != self.data:
            detail = "; ".join(f.message for f in findings) or "the data differs"
            raise EditError(f"internal error: the edited fleet.yaml does not mean the edit ({detail})")
        return self.text

    # ------------------------------------------------------------ navigation

    def _compose(self) -> None:
        self.root = round_trip(Indent(*DEFAULT_INDENT)).compose(io.StringIO(self.text))

    def _node(self, path: Sequence[Key]) -> Node:
        node = self.root
        for key in path:
            if isinstance(node, MappingNode):
                found = _entry(node, key)
                if found is None:
                    raise EditError(f"{_dotted(path)}: no key {key!r}")
                node = found[1]
            elif isinstance(node, SequenceNode):
                node = node.value[int(key)]
            else:
                raise EditError(f"{_dotted(path)}: cannot descend into a scalar")
        return node

    def _splice(self, start: int, end: int, new: str) -> None:
        self.text = self.text[:start] + new + self.text[end:]
        self._compose()

    def _line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def _line_end(self, index: int) -> int:
        """Index just past the newline of the line holding ``index - 1`` (the end of a node)."""
        nl = self.text.find("\n", max(index - 1, 0))
        return len(self.text) if nl < 0 else nl + 1

    def _blank(self, start: int) -> bool:
        end = self.text.find("\n", start)
        return start < len(self.text) and not self.text[start : end if end >= 0 else None].strip()

    # ------------------------------------------------------------ scalars and keys

    def _replace_scalar(self, node: Node, value: Any, flow: bool) -> None:
        if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
            raise EditError(f"line {node.start_mark.line + 1}: only a one-line scalar can be replaced")
        style = node.style if node.style in ("'", '"') else None
        self._splice(node.start_mark.index, node.end_mark.index, scalar_text(value, style, flow))

    def _insert_key(self, mapping: MappingNode, key: str, value: Any, after: Sequence[str]) -> None:
        anchor = _anchor(mapping, after)
        text = scalar_text(value, flow=bool(mapping.flow_style))
        if mapping.flow_style:
            if not mapping.value:
                self._splice(mapping.end_mark.index - 1, mapping.end_mark.index - 1, f"{key}: {text}")
            else:
                at = (anchor or mapping.value[-1])[1].end_mark.index
                self._splice(at, at, f", {key}: {text}")
            return
        column = mapping.value[0][0].start_mark.column
        at = self._line_end(content_end((anchor or mapping.value[-1])[1]))
        prefix = "" if self.text[:at].endswith("\n") else "\n"
        self._splice(at, at, f"{prefix}{' ' * column}{key}: {text}\n")

    def _delete_key(self, mapping: MappingNode, key: Key) -> None:
        index = next((i for i, (k, _) in enumerate(mapping.value) if k.value == key), None)
        if index is None:
            raise EditError(f"no key {key!r} to delete")
        if mapping.flow_style:
            self._delete_flow(mapping.value, index, lambda entry: entry[0], lambda entry: entry[1])
        elif len(mapping.value) == 1:
            raise EditError(f"deleting {key!r} would leave an empty mapping: delete its parent instead")
        elif index == 0 and self._shares_line(mapping.value[0][0]):
            self._splice(mapping.value[0][0].start_mark.index, mapping.value[1][0].start_mark.index, "")
        else:
            entry_key, entry_value = mapping.value[index]
            self._splice(self._line_start(entry_key.start_mark.index), self._line_end(content_end(entry_value)), "")

    def _shares_line(self, node: Node) -> bool:
        """The node follows a ``- `` on its line (first key of a list item)."""
        return bool(self.text[self._line_start(node.start_mark.index) : node.start_mark.index].strip())

    def _delete_flow(self, entries: list, index: int, first, last) -> None:
        """Remove one flow entry with the separator on one side: ``{a: 1, b: 2}`` -> ``{a: 1}``."""
        if index + 1 < len(entries):
            nxt = first(entries[index + 1]).start_mark.index
            self._splice(first(entries[index]).start_mark.index, nxt, "")
        elif index > 0:
            self._splice(last(entries[index - 1]).end_mark.index, last(entries[index]).end_mark.index, "")
        else:
            self._splice(first(entries[0]).start_mark.index, last(entries[0]).end_mark.index, "")

    # ------------------------------------------------------------ list items

    def _delete_item(self, seq: SequenceNode, index: int, path: Sequence[Key]) -> None:
        items = seq.value
        if seq.flow_style:
            self._delete_flow(items, index, lambda n: n, lambda n: n)
            return
        if len(items) == 1:
            self._empty_block_list(seq, path)
            return
        start = self._item_start(items[index])
        end = self._line_end(content_end(items[index]))
        if index + 1 < len(items):
            while self._blank(end):  # the separator after it goes with it
                end = self._line_end(end + 1)
        else:
            while start > 0 and self._blank(self._line_start(start - 1)):
                start = self._line_start(start - 1)
        self._splice(start, end, "")

    def _item_start(self, item: Node) -> int:
        """Start of the item's ``-`` line, or of the comment lines directly above it at the dash column."""
        start = self._line_start(item.start_mark.index)
        dash = self.text.rfind("-", start, item.start_mark.index) - start
        while start > 0:
            above = self._line_start(start - 1)
            line = self.text[above:start]
            if not line.lstrip().startswith("#") or len(line) - len(line.lstrip()) != dash:
                break
            start = above
        return start

    def _empty_block_list(self, seq: SequenceNode, path: Sequence[Key]) -> None:
        parent = self._node(path[:-1])
        key = next(k for k, v in parent.value if v is seq)
        colon = self.text.index(":", key.end_mark.index)
        end = self._line_end(content_end(seq))
        self._splice(colon + 1, end, " []\n")

    def _append_block(self, seq: SequenceNode, values: Sequence[Any]) -> None:
        last = seq.value[-1]
        at = self._line_end(content_end(last))
        dash = self.text.rfind("-", self._line_start(last.start_mark.index), last.start_mark.index)
        column = dash - self._line_start(dash)
        gap, template = self._separator(seq), _merged_template(seq.value)
        blocks = "".join(gap + self._block_item(value, template, column) for value in values)
        prefix = "" if self.text[:at].endswith("\n") else "\n"
        self._splice(at, at, prefix + blocks)

    def _separator(self, seq: SequenceNode) -> str:
        """The blank lines between the last two items (the file's item separator), if any."""
        if len(seq.value) < 2:
            return ""
        end = self._line_end(content_end(seq.value[-2]))
        blanks = 0
        while self._blank(end):
            blanks, end = blanks + 1, self._line_end(end + 1)
        return "\n" * blanks

    def _block_item(self, value: Any, template: Node | None, column: int) -> str:
        """``value`` as one block list item whose ``-`` stands at ``column``."""
        item = _prepared(value, template)
        out = io.StringIO()
        round_trip(self.indent).dump(CommentedSeq([item]), out)
        lines = out.getvalue().splitlines(keepends=True)
        shift = column - (len(lines[0]) - len(lines[0].lstrip()))
        return "".join(" " * shift + line if shift >= 0 else line[-shift:] for line in lines)

    def _top_level_list(self, key: str, value: Any) -> str:
        prefix = "" if not self.text or self.text.endswith("\n") else "\n"
        return f"{prefix}{key}:\n{self._block_item(value, None, self.indent.offset)}"

    def _replace_empty_flow(self, found: tuple[Node, Node], value: Any) -> None:
        key, seq = found
        column = key.start_mark.column + self.indent.offset
        block = self._block_item(value, None, column).rstrip("\n")
        colon = self.text.index(":", key.end_mark.index)
        self._splice(colon + 1, seq.end_mark.index, "\n" + block)


def _entry(mapping: MappingNode, key: Key) -> tuple[Node, Node] | None:
    return next(((k, v) for k, v in mapping.value if k.value == key), None)


def _anchor(mapping: MappingNode, after: Sequence[str]) -> tuple[Node, Node] | None:
    """The entry a new key goes after: the last of ``after`` present in the mapping."""
    present = [(k, v) for k, v in mapping.value if k.value in after]
    return max(present, key=lambda e: after.index(e[0].value)) if present else None


def _data(data: Any, path: Sequence[Key]) -> Any:
    for key in path:
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data


def _dotted(path: Sequence[Key]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".") or "the document"


def set_weights(editor: FleetText, cluster: str, weights: dict[str, int]) -> None:
    """Give ``cluster`` a static weight in each named workload (``add-cluster --weight``).

    Only a workload that is already weighted takes one: adding ``weights`` to a Duplicated workload
    would turn it into a Divided one, a different placement than a new cluster's share.
    """
    workloads = editor.data.get("workloads") or []
    index = {w.get("name"): i for i, w in enumerate(workloads)}
    for name, weight in sorted(weights.items()):
        if name not in index:
            raise EditError(f"--weight: no workload {name!r} in fleet.yaml")
        if not workloads[index[name]].get("weights"):
            raise EditError(f"--weight: workload {name!r} has no weights (every cluster runs all its replicas)")
        editor.set(("workloads", index[name], "weights", cluster), weight)


# ---------------------------------------------------------------- a fleet file opened for editing

# The order new keys of a cluster entry are written in.
CLUSTER_KEYS = (
    "name",
    "environment",
    "region",
    "labels",
    "kubernetesVersion",
    "server",
    "caData",
    "provider",
    "lifecycle",
    "network",
    "nodePools",
    "argocd",
    "karmada",
)


def keys_before(key: str) -> tuple[str, ...]:
    """The cluster keys a new ``key`` is written after."""
    return CLUSTER_KEYS[: CLUSTER_KEYS.index(key)]


@dataclass
class Session:
    """One fleet file opened for editing: its model before the edit and its exact text."""

    path: Path  # as the user gave it
    out: Path  # the rendered tree: its lock holds the versions the clusters run now
    before: pipeline.Loaded
    text: str
    bom: bool
    crlf: bool
    lock: int  # the descriptor holding fleet.yaml's flock; ``close`` releases it

    @property
    def fleet(self) -> Fleet:
        assert self.before.fleet is not None
        return self.before.fleet

    @property
    def label(self) -> str:
        return display(self.path)

    @property
    def versions(self) -> Mapping[str, str]:
        return tree.read_lock(self.out).versions

    def editor(self) -> FleetText:
        return FleetText(self.text)

    def close(self) -> None:
        os.close(self.lock)

    def unified(self, new_text: str) -> str:
        old, new = self.text.splitlines(keepends=True), new_text.splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{self.label}", f"b/{self.label}"))

    def encode(self, new_text: str) -> bytes:
        """The edited text as the file's bytes: its BOM and line ends kept."""
        return encode(new_text, self.bom, self.crlf)

    def lint(self, data: bytes, dry_run: bool) -> tuple[pipeline.Loaded, Path]:
        """``pipeline.load_and_lint`` on the exact bytes that would be written; an error finding is ``Refused``.

        The candidate file is written next to fleet.yaml (so ``write`` can rename it over it), or to
        the temporary directory for a dry run, where it is removed again.
        """
        real = self.path.resolve()
        with self._unwritten():
            candidate = tree.write_candidate(real, data, ".fleetgen-edit", None if dry_run else real.parent)
        with self._unwritten(candidate):
            after = pipeline.load_and_lint(candidate, self.out)
        if dry_run or not after.ok:
            candidate.unlink(missing_ok=True)
        if not after.ok:
            findings = [_relabel(f, str(candidate), self.label) for f in after.findings]
            raise Refused(
                f"{self.label} not changed: the edited fleet would fail lint (lines above refer to the edited file)",
                findings,
            )
        return after, candidate

    def write(self, candidate: Path) -> None:
        """Swap the linted candidate in: same mode as the original, durable before and after the rename."""
        with self._unwritten(candidate):
            tree.replace_file(candidate, self.path.resolve())

    @contextmanager
    def _unwritten(self, candidate: Path | None = None) -> Iterator[None]:
        """On any failure or Ctrl-C the candidate goes; an OSError (ENOSPC, EROFS, EACCES…) is one message, exit 2."""
        try:
            yield
        except BaseException as exc:
            if candidate is not None:
                candidate.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise write_failure(self.label, exc, (candidate or self.path.resolve()).parent) from None
            raise


def write_failure(label: str, exc: OSError, directory: Path) -> FleetgenError:
    """A failed write of the fleet file (ENOSPC, EROFS, EACCES…) as one line: where, and the OS's reason."""
    where = Path(exc.filename).parent if exc.filename else directory
    return FleetgenError(f"cannot write {label} in {display(where)}: {exc.strerror or exc} — {label} is unchanged")


def open_session(path: Path, out: Path | None, waiting: Callable[[str], None]) -> Session:
    """Lock, load and lint the fleet; one that does not even build a model is ``Refused`` (exit 1).

    The lock is held until ``Session.close``; ``waiting`` is told when another command holds it.
    """
    fd = lock_fleet(path, waiting)
    try:
        before = pipeline.load_and_lint(path, out)
        if before.fleet is None:
            raise Refused(f"{display(path)} must pass the schema before it can be edited", before.findings)
        raw = pipeline.read(path)
        target = out or pipeline.output_dir(path, before.fleet)
    except BaseException:
        os.close(fd)
        raise
    return Session(path, target, before, *decode(raw), fd)


def decode(raw: bytes) -> tuple[str, bool, bool]:
    """(text with LF line ends, had a BOM, had CRLF line ends): what the editor works on, and how to write it back."""
    body = raw.decode("utf-8-sig")
    return body.replace("\r\n", "\n"), raw.startswith(b"\xef\xbb\xbf"), "\r\n" in body


def encode(text: str, bom: bool, crlf: bool) -> bytes:
    """Edited text as the file's bytes: its BOM and line ends as ``decode`` found them."""
    body = text.replace("\n", "\r\n") if crlf else text
    return ("\ufeff" if bom else "").encode() + body.encode("utf-8")


def lock_fleet(path: Path, waiting: Callable[[str], None]) -> int:
    """An exclusive flock on the fleet file itself; waits (``waiting`` says so) while another command holds it.

    A command that replaced the file released the lock of a file no longer at ``path``: a waiter
    that wakes up holding that one locks the new file instead, so it always reads the latest edit.
    """
    waited = False
    while True:
        fd = pipeline.open_regular(path)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    waiting(f"fleetgen: waiting for another fleetgen command that is editing {display(path)}")
                    waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            info, now = os.fstat(fd), os.stat(path)
        except BaseException:
            os.close(fd)
            raise
        if (info.st_dev, info.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)


def _relabel(finding: Finding, old: str, new: str) -> Finding:
    related = tuple((new if f == old else f, line, col) for f, line, col in finding.related)
    return replace(finding, file=new if finding.file == old else finding.file, related=related)
