"""YAML text -> plain data plus the 1-based position of every value and key.

generator/compose.py parses the text into a node graph with marks (libyaml where it reads the
text as YAML 1.2 does, ruamel.yaml's pure parser otherwise); we then construct plain
dicts/lists/scalars ourselves, resolving plain scalars by the YAML 1.2 core schema and honouring
the standard tags !!str !!int !!float !!bool !!null. This is where we enforce what a fleet file
may contain: no duplicate keys, no other tags, no complex keys, a bounded nesting depth and a
bounded alias expansion ("billion laughs"). Every problem is a ``yaml-syntax`` finding with a
position, never an exception.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from . import compose
from .findings import ERROR, Finding, Issue, Path
from .hints import GENERIC, syntax_message

MAX_BYTES = 32 * 1024 * 1024  # a 5,000-cluster fleet is ~1.5 MB; anything this big is not a fleet
MAX_DEPTH = 64  # fleet.yaml nests about 8 deep; deeper is hostile or a mistake
ALIAS_BUDGET = 100_000  # values reached again through aliases; a "billion laughs" file blows past it

_SUPPRESS = re.compile(r"#\s*fleetgen:\s*ignore\[([^\]]*)\]")
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {compose.IMPLICIT, compose.STR, *(_CORE + t for t in ("int", "float", "bool", "null"))}
Node = Any  # a PyYAML or ruamel.yaml node: .id, .tag, .value, .style, .start_mark
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
    text: str = ""  # the source, for checks that are cheaper on the text than on the data

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
        node = compose.single(text)
    except compose.TooDeep as exc:
        mark = exc.problem_mark
        return None, [_syntax(file, mark.line + 1, mark.column + 1, f"nesting is deeper than {MAX_DEPTH} levels")]
    except (*compose.ParseError, RecursionError) as exc:
        return None, [_syntax(file, *syntax_message(exc, text))]
    if node is None:
        return None, [_syntax(file, 1, 1, "the file is empty: expected a mapping with apiVersion: fleetgen/v1alpha1")]
    builder = _Builder(file, aliases="*" in text)
    try:
        data = builder.build(node, (), 0)
    except _Stop as stop:
        return None, [stop.finding]
    if not isinstance(data, dict):
        return None, [
            _syntax(file, *_mark(node), "the document is not a mapping: expected apiVersion, kind, clusters, …")
        ]
    doc = Document(file, data, builder.positions, builder.key_positions, _suppressions(text), text)
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
    try:
        docs = [_Builder(file).build(node, (), 0) for node in compose.documents(text)]
    except (*compose.ParseError, RecursionError, _Stop):
        return None
    return [d for d in docs if d is not None]


class _Stop(Exception):
    def __init__(self, finding: Finding):
        self.finding = finding


class _Builder:
    """Constructs plain data from nodes, recording positions and enforcing the limits above."""

    def __init__(self, file: str, aliases: bool = True):
        self.file = file
        self.positions: dict[Path, tuple[int, int]] = {}
        self.key_positions: dict[Path, tuple[int, int]] = {}
        self.findings: list[Finding] = []
        self.aliases = aliases  # False when the text has no '*': every node is then reached once
        self.seen: set[int] = set()
        self.reused = 0
        self.active: set[int] = set()

    def build(self, node: Node, path: Path, depth: int) -> Any:
        mark = node.start_mark
        self.positions[path] = (mark.line + 1, mark.column + 1)
        if self.aliases:
            self._reached(node)
        if depth > MAX_DEPTH:
            self._stop(node, f"nesting is deeper than {MAX_DEPTH} levels")
        kind = node.id
        if kind == "scalar":
            value = node.value
            if node.tag == compose.STR or (node.tag == compose.IMPLICIT and value and value[0] not in _MAYBE_TYPED):
                return value  # quoted, block, !!str, or cannot be anything but a string
            return self._scalar(node)
        if self.aliases:
            if id(node) in self.active:
                self._stop(node, "an alias refers to a node that contains it (a recursive structure)")
            self.active.add(id(node))
        try:
            if kind == "sequence":
                if node.tag != compose.SEQ:
                    self._unsupported_tag(node, "a list")
                return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
            return self._mapping(node, path, depth)
        finally:
            self.active.discard(id(node))

    def _reached(self, node: Node) -> None:
        if id(node) in self.seen:
            self.reused += 1
            if self.reused > ALIAS_BUDGET:
                self._stop(
                    node, "aliases expand to more values than a fleet can hold (an alias bomb?); remove the anchors"
                )
        else:
            self.seen.add(id(node))

    def _mapping(self, node: Node, path: Path, depth: int) -> dict:
        if node.tag != compose.MAP:
            self._unsupported_tag(node, "a mapping")
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.id != "scalar":
                self._stop(key_node, "a mapping key must be a plain scalar, not a list or mapping")
            if key_node.value == "<<" and key_node.tag == compose.IMPLICIT:
                self._stop(key_node, "merge keys (<<) are not supported; write the values out or use defaults:")
            key = key_node.value if key_node.tag == compose.IMPLICIT else self._key(key_node)
            child = (*path, key)
            if key in out:
                first = self.key_positions[child]
                self._stop(key_node, f"duplicate key {key!r} (first defined at line {first[0]}); remove one")
            self.key_positions[child] = _mark(key_node)
            out[key] = self.build(value_node, child, depth + 1)
        return out

    def _key(self, node: Node) -> str:
        """Mapping keys are strings: a key that reads as a number or boolean keeps its text."""
        if node.tag not in _SCALAR_TAGS:
            self._unsupported_tag(node, "a key")
        self._scalar(node)  # a tagged key must be valid for its tag
        return node.value

    def _scalar(self, node: Node) -> Any:
        tag, value = node.tag, node.value
        if tag == compose.STR:
            return value  # quoted, block, or tagged !!str
        if tag == compose.IMPLICIT:
            if value and value[0] not in _MAYBE_TYPED:
                return value  # cannot be anything but a string
            return self._typed(node, value)
        if tag not in _SCALAR_TAGS:
            self._unsupported_tag(node, "a scalar")
        return self._tagged(node, tag[len(_CORE):], value)

    def _tagged(self, node: Node, kind: str, value: str) -> Any:
        """An explicit !!int, !!float, !!bool or !!null: the text must be one of that type's forms."""
        typed = self._typed(node, value)
        if kind == "float" and type(typed) is int:
            typed = float(typed)
        wanted = {"int": int, "float": float, "bool": bool, "null": type(None)}[kind]
        if type(typed) is not wanted:
            self._stop(node, f"{value!r} is not a valid !!{kind} (YAML 1.2 core schema); remove the tag or the value")
        return typed

    def _typed(self, node: Node, value: str) -> Any:
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

    def _unsupported_tag(self, node: Node, what: str):
        self._stop(
            node,
            f"unsupported tag {_short_tag(node.tag)!r} on {what}; fleet.yaml takes untagged values and the standard "
            "tags !!str, !!int, !!float, !!bool and !!null",
        )

    def _stop(self, node: Node, message: str):
        raise _Stop(_syntax(self.file, *_mark(node), message))


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _syntax(file: str, line: int, col: int, message: str, hint: str = GENERIC) -> Finding:
    return Finding(file, line, col, "yaml-syntax", ERROR, message, (), hint)


def _suppressions(text: str) -> dict[int, frozenset[str]]:
    if "fleetgen:" not in text:
        return {}
    out: dict[int, frozenset[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUPPRESS.search(line)
        if match:
            out[number] = frozenset(r.strip() for r in match.group(1).split(",") if r.strip())
    return out
