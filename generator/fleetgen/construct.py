"""Loaded YAML nodes -> plain data, and the position of every value and key.

Plain scalars are resolved by the YAML 1.2 core schema here (three times faster than ruamel's
per-scalar resolver) and the standard tags !!str !!int !!float !!bool !!null are honoured. This
is where we enforce what a fleet file may contain: no duplicate keys, no other tags, no complex
or merge keys, a bounded nesting depth and a bounded alias expansion ("billion laughs"). A
violation stops construction with one positioned ``yaml-syntax`` finding.

Positions are not needed for a clean fleet, so ``data`` builds without them and ``index``
computes them from the same nodes when a finding is first placed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from . import compose
from .findings import ERROR, Finding, Path
from .hints import GENERIC

MAX_DEPTH = 64  # fleet.yaml nests about 8 deep; deeper is hostile or a mistake
ALIAS_BUDGET = 100_000  # values reached again through aliases; a "billion laughs" file blows past it

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


class Stop(Exception):
    """Construction refused the document: ``finding`` says where and why."""

    def __init__(self, finding: Finding):
        self.finding = finding


class Builder:
    """Constructs plain data from nodes, enforcing the limits above."""

    def __init__(self, file: str, aliases: bool = True):
        self.file = file
        self.aliases = aliases  # False when the text has no '*': every node is then reached once
        self.seen: set[int] = set()
        self.reused = 0
        self.active: set[int] = set()

    def data(self, node: Node, depth: int = 0) -> Any:
        if not self.aliases:
            return self._tree(node, depth)
        self._reached(node)
        if depth > MAX_DEPTH:
            self._stop(node, f"nesting is deeper than {MAX_DEPTH} levels")
        if node.id == "scalar":
            return self._leaf(node)
        if id(node) in self.active:
            self._stop(node, "an alias refers to a node that contains it (a recursive structure)")
        self.active.add(id(node))
        try:
            return self._collection(node, depth, self.data)
        finally:
            self.active.discard(id(node))

    def _tree(self, node: Node, depth: int) -> Any:
        """``data`` for a text without aliases: every node is reached once, so nothing is counted."""
        if depth > MAX_DEPTH:
            self._stop(node, f"nesting is deeper than {MAX_DEPTH} levels")
        if node.id == "scalar":
            return self._leaf(node)
        return self._collection(node, depth, self._tree)

    def _leaf(self, node: Node) -> Any:
        value = node.value
        if node.tag == compose.STR or (node.tag == compose.IMPLICIT and value and value[0] not in _MAYBE_TYPED):
            return value  # quoted, block, !!str, or cannot be anything but a string
        return self._scalar(node)

    def _collection(self, node: Node, depth: int, child: Callable[[Node, int], Any]) -> Any:
        if node.id == "sequence":
            if node.tag != compose.SEQ:
                self._unsupported_tag(node, "a list")
            return [child(item, depth + 1) for item in node.value]
        return self._mapping(node, depth, child)

    def _reached(self, node: Node) -> None:
        if id(node) in self.seen:
            self.reused += 1
            if self.reused > ALIAS_BUDGET:
                self._stop(
                    node, "aliases expand to more values than a fleet can hold (an alias bomb?); remove the anchors"
                )
        else:
            self.seen.add(id(node))

    def _mapping(self, node: Node, depth: int, child: Callable[[Node, int], Any]) -> dict:
        if node.tag != compose.MAP:
            self._unsupported_tag(node, "a mapping")
        # A string value is taken here, without a call per value (most of a fleet), where ``child``
        # would do nothing else: no alias counting, and not past the nesting limit.
        inline = not self.aliases and depth < MAX_DEPTH
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.id != "scalar":
                self._stop(key_node, "a mapping key must be a plain scalar, not a list or mapping")
            key = key_node.value
            if key_node.tag != compose.IMPLICIT:
                self._key(key_node)
            elif key == "<<":
                self._stop(key_node, "merge keys (<<) are not supported; write the values out or use defaults:")
            if key in out:
                first = next(k for k, _ in node.value if k.id == "scalar" and k.value == key)
                self._stop(key_node, f"duplicate key {key!r} (first defined at line {position(first)[0]}); remove one")
            if inline and value_node.id == "scalar":
                value, tag = value_node.value, value_node.tag
                if tag == compose.STR or (tag == compose.IMPLICIT and value and value[0] not in _MAYBE_TYPED):
                    out[key] = value
                    continue
            out[key] = child(value_node, depth + 1)
        return out

    def _key(self, node: Node) -> None:
        """A tagged key keeps its text as the key, but must be valid for its tag."""
        if node.tag not in _SCALAR_TAGS:
            self._unsupported_tag(node, "a key")
        self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        tag, value = node.tag, node.value
        if tag == compose.STR:
            return value
        if tag == compose.IMPLICIT:
            return self._typed(node, value)
        if tag not in _SCALAR_TAGS:
            self._unsupported_tag(node, "a scalar")
        return self._tagged(node, tag[len(_CORE) :], value)

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
        raise Stop(syntax(self.file, *position(node), message))


def index(root: Node) -> tuple[dict[Path, tuple[int, int]], dict[Path, tuple[int, int]]]:
    """(positions of values, positions of keys) by path, 1-based, for a root ``Builder.data`` accepted."""
    positions: dict[Path, tuple[int, int]] = {}
    keys: dict[Path, tuple[int, int]] = {}
    stack: list[tuple[Node, Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        mark = node.start_mark
        positions[path] = (mark.line + 1, mark.column + 1)
        if node.id == "sequence":
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
        elif node.id == "mapping":
            for key_node, value_node in node.value:
                child = (*path, key_node.value)
                keys[child] = position(key_node)
                stack.append((value_node, child))
    return positions, keys


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def position(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def syntax(file: str, line: int, col: int, message: str, hint: str = GENERIC) -> Finding:
    return Finding(file, line, col, "yaml-syntax", ERROR, message, (), hint)
