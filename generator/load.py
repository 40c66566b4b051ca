"""YAML text -> plain data plus the 1-based position of every value and key.

libyaml (ruamel's C composer) builds the node graph with marks in one pass; we
then construct plain dicts/lists/scalars ourselves, which is where we enforce
what a fleet file may contain: no duplicate keys, no custom tags, a bounded
nesting depth and a bounded alias expansion ("billion laughs"). Every problem
is a ``yaml-syntax`` finding with a position, never an exception.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.cyaml import CBaseLoader
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .findings import ERROR, Finding, Issue, Path

MAX_BYTES = 32 * 1024 * 1024  # a 5,000-cluster fleet is ~1.5 MB; anything this big is not a fleet
MAX_DEPTH = 64  # fleet.yaml nests about 8 deep; deeper is hostile or a mistake
ALIAS_BUDGET = 100_000  # values reached again through aliases; a "billion laughs" file blows past it

_SUPPRESS = re.compile(r"#\s*fleetgen:\s*ignore\[([^\]]*)\]")
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
# YAML 1.2 core schema, resolved here rather than by ruamel's per-scalar Python resolver (3x faster).
_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL = {
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
}
_MAYBE_TYPED = set("-+.0123456789~nNtTfF")
MAX_INT_DIGITS = 4000  # Python refuses to parse longer decimal ints; a fleet has no use for them


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

    def place(self, found: Issue) -> Finding:
        """Position an Issue: at its value (or its key, for unknown or misnamed keys)."""
        on_key = found.on_key or (found.path not in self.positions and found.path in self.key_positions)
        line, col = self.locate(found.path, key=on_key)
        related = tuple((self.file, *self.locate(p)) for p in found.related)
        return Finding(self.file, line, col, found.rule, found.severity, found.message, found.path, found.hint, related)

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
        node = CBaseLoader(text).get_single_node()
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
        return None, [
            _syntax(file, *_mark(node), "the document is not a mapping: expected apiVersion, kind, clusters, …")
        ]
    doc = Document(file, data, builder.positions, builder.key_positions, _suppressions(text))
    return doc, builder.findings


def load_bytes(raw: bytes, file: str) -> tuple[Document | None, list[Finding]]:
    """Decode strictly as UTF-8 (a BOM is allowed); undecodable bytes are a finding at their position."""
    if len(raw) > MAX_BYTES:
        return None, [
            _syntax(
                file,
                1,
                1,
                f"the file is larger than {MAX_BYTES // 2**20} MiB, the limit for a fleet "
                "file (a 5,000-cluster fleet is about 2 MiB)",
            )
        ]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [
            _syntax(file, line, col, f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8")
        ]
    if "\x00" in text:
        return None, [_syntax(file, 1, 1, "the file contains NUL bytes: it is binary, not YAML")]
    return load_text(text, file)


def load_all_data(text: str, file: str) -> list[Any] | None:
    """Every non-empty document of a multi-document stream (a rendered file) as plain data.

    Same resolver and limits as fleet.yaml; None when the text does not parse (``diff`` then
    compares the file as text).
    """
    loader, docs = CBaseLoader(text), []
    try:
        while loader.check_node():
            docs.append(_Builder(file).build(loader.get_node(), (), 0))
    except (YAMLError, RecursionError, _Stop):
        return None
    return [d for d in docs if d is not None]


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
        self.seen: set[int] = set()
        self.reused = 0
        self.active: set[int] = set()

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.positions[path] = _mark(node)
        if id(node) in self.seen:
            self.reused += 1
            if self.reused > ALIAS_BUDGET:
                self._stop(
                    node, "aliases expand to more values than a fleet can hold (an alias bomb?); remove the anchors"
                )
        else:
            self.seen.add(id(node))
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
        if node.tag != _MAP:
            self._stop(node, f"unsupported tag {node.tag!r}; fleet.yaml uses plain mappings, lists and scalars")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._stop(key_node, "a mapping key must be a plain scalar, not a list or mapping")
            if key_node.value == "<<" and not key_node.style:
                self._stop(key_node, "merge keys (<<) are not supported; write the values out or use defaults:")
            key = str(key_node.value)
            if key in out:
                first = self.key_positions[(*path, key)]
                self._stop(key_node, f"duplicate key {key!r} (first defined at line {first[0]}); remove one")
            self.key_positions[(*path, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*path, key), depth + 1)
        return out

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag != _STR:
            self._stop(node, f"unsupported tag {node.tag!r}; use a plain string, number, boolean or null")
        value = node.value
        if node.style or (value and value[0] not in _MAYBE_TYPED):
            return value  # quoted, block, or cannot be anything but a string
        return self._typed(node, value)

    def _typed(self, node: ScalarNode, value: str) -> Any:
        if value in _NULL:
            return None
        if value in _BOOL:
            return _BOOL[value]
        if _INT.fullmatch(value):
            if len(value) > MAX_INT_DIGITS:
                self._stop(node, f"a {len(value)}-digit number; no fleet field takes one")
            return int(value, 0) if value[:2] in ("0o", "0x") else int(value)
        if _FLOAT.fullmatch(value):
            return float(value)
        return _SPECIAL.get(value, value)

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
