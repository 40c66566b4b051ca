"""YAML text -> plain data plus the 1-based position of every value and key.

libyaml (ruamel's C composer) builds the node graph with marks in one pass; we
then construct plain dicts/lists/scalars ourselves, which is where we enforce
what a fleet file may contain: no duplicate keys, no custom tags, a bounded
nesting depth and a bounded alias expansion ("billion laughs"). Every problem
is a ``yaml-syntax`` finding with a position, never an exception.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.cyaml import CSafeLoader
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .findings import ERROR, Finding, Path

MAX_BYTES = 32 * 1024 * 1024  # a 5,000-cluster fleet is ~1.5 MB; anything this big is not a fleet
MAX_DEPTH = 64  # fleet.yaml nests about 8 deep; deeper is hostile or a mistake
MIN_EXPANSION_BUDGET = 200_000  # values an alias may expand to, at the least

# ruamel warns (to stderr) about YAML 1.1 float spellings; the value is still read correctly.
warnings.filterwarnings("ignore", module="ruamel.yaml.constructor")

_SUPPRESS = re.compile(r"#\s*fleetgen:\s*ignore\[([^\]]*)\]")
_PLAIN = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class Document:
    """A loaded YAML file: its data and where each value (and mapping key) stands."""

    file: str
    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path``; falls back to ``defaults`` for merged cluster values, then to the parent."""
        table = self.key_positions if key else self.positions
        if tuple(path) in table:
            return table[tuple(path)]
        for candidate in _fallbacks(tuple(path)):
            if candidate in self.positions:
                return self.positions[candidate]
        return (1, 1)

    def suppressed(self, finding: Finding) -> bool:
        rules = self.suppressions.get(finding.line)
        return bool(rules) and (finding.rule in rules or "*" in rules)


def _fallbacks(path: Path):
    """Where a value of ``path`` may really come from: the cluster's defaults, else an ancestor."""
    if len(path) > 2 and path[0] == "clusters":
        rest = path[2:]
        for cut in range(len(rest), 0, -1):
            yield ("defaults", *rest[:cut])
    for cut in range(len(path) - 1, -1, -1):
        yield path[:cut]


def load_text(text: str, file: str) -> tuple[Document | None, list[Finding]]:
    """Parse one YAML document. Returns (document or None, yaml-syntax findings)."""
    try:
        node = CSafeLoader(text).get_single_node()
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [_syntax(file, line, col, _yaml_message(exc, text, line))]
    except (YAMLError, RecursionError) as exc:
        return None, [_syntax(file, 1, 1, f"cannot parse YAML: {_oneline(str(exc))}")]
    if node is None:
        return None, [_syntax(file, 1, 1, "the file is empty: expected a mapping with apiVersion: fleetgen/v1alpha1")]
    builder = _Builder(file)
    try:
        data = builder.build(node, (), 0)
    except _Stop as stop:
        return None, [stop.finding]
    if not isinstance(data, dict):
        return None, [_syntax(file, *_mark(node), "the document is not a mapping: expected apiVersion, kind, clusters, …")]
    doc = Document(file, data, builder.positions, builder.key_positions, _suppressions(text))
    return doc, builder.findings


def load_bytes(raw: bytes, file: str) -> tuple[Document | None, list[Finding]]:
    """Decode strictly as UTF-8 (a BOM is allowed); undecodable bytes are a finding at their position."""
    if len(raw) > MAX_BYTES:
        return None, [_syntax(file, 1, 1, f"the file is {len(raw)} bytes; fleet files are limited to {MAX_BYTES}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [_syntax(file, line, col, f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8")]
    if "\x00" in text:
        return None, [_syntax(file, 1, 1, "the file contains NUL bytes: it is binary, not YAML")]
    return load_text(text, file)


class _Stop(Exception):
    def __init__(self, finding: Finding):
        self.finding = finding


class _Builder:
    """Constructs plain data from nodes, recording positions and enforcing the limits above."""

    def __init__(self, file: str):
        self.file = file
        self.positions: dict[Path, tuple[int, int]] = {}
        self.key_positions: dict[Path, tuple[int, int]] = {}
        self.findings: list[Finding] = []
        self.built = 0
        self.budget = MIN_EXPANSION_BUDGET
        self.constructor = CSafeLoader("")
        self.active: set[int] = set()

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.positions[path] = _mark(node)
        self.built += 1
        if self.built > self.budget:
            self._stop(node, "aliases expand to more values than a fleet can hold (an alias bomb?); remove the anchors")
        if depth > MAX_DEPTH:
            self._stop(node, f"nesting is deeper than {MAX_DEPTH} levels")
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self.active:
            self._stop(node, "an alias refers to a node that contains it (a recursive structure)")
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            return self._mapping(node, path, depth)
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict:
        if node.tag != "tag:yaml.org,2002:map":
            self._stop(node, f"unsupported tag {node.tag!r}; fleet.yaml uses plain mappings, lists and scalars")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._stop(key_node, "a mapping key must be a plain scalar, not a list or mapping")
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._stop(key_node, "merge keys (<<) are not supported; write the values out or use defaults:")
            key = str(key_node.value)
            if key in out:
                first = self.key_positions[(*path, key)]
                self._stop(key_node, f"duplicate key {key!r} (first defined at line {first[0]}); remove one")
            self.key_positions[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key), depth + 1)
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _PLAIN:
            self._stop(node, f"unsupported tag {node.tag!r}; use a plain string, number, boolean or null")
        if node.tag == "tag:yaml.org,2002:str" or node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        try:
            return self.constructor.construct_object(node)
        except (YAMLError, ValueError, OverflowError) as exc:
            self._stop(node, f"cannot read scalar {node.value[:40]!r}: {_oneline(str(exc))}")

    def _stop(self, node: Node, message: str):
        raise _Stop(_syntax(self.file, *_mark(node), message))


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _syntax(file: str, line: int, col: int, message: str) -> Finding:
    return Finding(file, line, col, "yaml-syntax", ERROR, message, (), "fix the YAML at this position")


def _yaml_message(exc: MarkedYAMLError, text: str, line: int) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    message = "; ".join(parts) or "invalid YAML"
    lines = text.splitlines()
    if 0 < line <= len(lines) and "\t" in lines[line - 1]:
        message += " (a tab: YAML forbids tabs for indentation, use spaces)"
    return _oneline(message)


def _oneline(text: str) -> str:
    return " ".join(text.split())[:300]


def _suppressions(text: str) -> dict[int, frozenset[str]]:
    if "fleetgen:" not in text:
        return {}
    out: dict[int, frozenset[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUPPRESS.search(line)
        if match:
            out[number] = frozenset(r.strip() for r in match.group(1).split(",") if r.strip())
    return out
