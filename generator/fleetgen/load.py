"""YAML text -> plain data plus the 1-based position of every value and key.

generator/fleetgen/compose.py parses the text into a node graph with marks (libyaml where it reads the
text as YAML 1.2 does, ruamel.yaml's pure parser otherwise); generator/fleetgen/construct.py builds plain
dicts/lists/scalars from it under the fleet file's limits, and the positions when a finding
needs them. Every problem is a ``yaml-syntax`` finding with a position, never an exception.
"""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass, field
from typing import Any

from . import chunks, compose
from .construct import MAX_DEPTH, Builder, Node, Stop, index, position
from .construct import syntax as _syntax
from .findings import Finding, Issue, Path
from .hints import syntax_message

MAX_BYTES = 32 * 1024 * 1024  # a 5,000-cluster fleet is ~1.5 MB; anything this big is not a fleet
_SUPPRESS = re.compile(r"#\s*fleetgen:\s*ignore\[([^\]]*)\]")


@dataclass
class Document:
    """A loaded YAML file: its data and where each value (and mapping key) stands."""

    file: str
    data: Any
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)
    text: str = ""  # the source, for checks that are cheaper on the text than on the data
    node: Node = None  # the node graph the data was built from; positions are computed from it on demand
    # Read cluster by cluster (fleetgen.chunks): no node graph yet; the text is parsed whole when a position is asked.
    chunked: bool = False
    # fleetgen.chunks' cache of this text, when it differs from the cache read: ``render`` saves it.
    parts: bytes | None = field(default=None, repr=False, compare=False)
    # The clusters (indexes) read from that cache in the context they passed the schema in (fleetgen.chunks.context):
    # fleetgen.schema checks only the others.
    checked: frozenset[int] = field(default=frozenset(), repr=False, compare=False)
    _index: tuple[dict, dict] | None = field(default=None, repr=False, compare=False)
    _composed: bool = field(default=False, repr=False, compare=False)

    @property
    def root(self) -> Node:
        """The node graph (parsed now if the data was read cluster by cluster; None if the text has none)."""
        if self.node is None and self.chunked and not self._composed:
            self._composed = True
            try:
                self.node = compose.single(self.text)
            except (*compose.ParseError, compose.TooDeep, RecursionError):
                pass  # it parsed part by part: positions fall back to the top of the file
        return self.node

    @property
    def positions(self) -> dict[Path, tuple[int, int]]:
        """1-based (line, column) of every value by path; computed on first use (a clean fleet never asks)."""
        if self._index is None:
            self._index = index(self.root) if self.root is not None else ({}, {})
        return self._index[0]

    @property
    def key_positions(self) -> dict[Path, tuple[int, int]]:
        """1-based (line, column) of every mapping key by the path of its value."""
        self.positions  # noqa: B018 - computes both tables
        assert self._index is not None
        return self._index[1]

    def locate(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path``; falls back to ``defaults`` for merged cluster values, then to the parent."""
        found = self._nodes_at(tuple(path))
        if found is not None and (found[1] if key else found[0]) is not None:
            return position(found[1] if key else found[0])
        for candidate in _fallbacks(tuple(path)):
            found = self._nodes_at(candidate)
            if found is not None:
                return position(found[0])
        return (1, 1)

    def place(self, found: Issue) -> Finding:
        """Position an Issue: at its value (or its key, for unknown or misnamed keys)."""
        line, col = self.locate(found.path, key=found.on_key)
        related = tuple((self.file, *self.locate(p)) for p in found.related)
        return Finding(self.file, line, col, found.rule, found.severity, found.message, found.path, found.hint, related)

    def _nodes_at(self, path: Path) -> tuple[Node, Node | None] | None:
        """(value node, key node or None) at ``path`` by walking the node graph; None when it is not there.

        A finding needs a handful of positions: walking to each is cheaper than indexing every node.
        """
        if self.root is None:
            return None
        node, key_node = self.root, None
        for part in path:
            if node.id == "sequence" and type(part) is int and 0 <= part < len(node.value):
                node, key_node = node.value[part], None
            elif node.id == "mapping" and isinstance(part, str):
                pair = next(((k, v) for k, v in node.value if k.id == "scalar" and k.value == part), None)
                if pair is None:
                    return None
                key_node, node = pair
            else:
                return None
        return node, key_node

    def suppressed(self, finding: Finding) -> bool:
        rules = self.suppressions.get(finding.line)
        return rules is not None and (finding.rule in rules or "*" in rules)


def _fallbacks(path: Path):
    """Where a value of ``path`` may really come from: the cluster's defaults, else an ancestor."""
    if len(path) > 2 and path[0] == "clusters":
        rest = path[2:]
        for cut in range(len(rest), 0, -1):
            yield ("defaults", *rest[:cut])
    for cut in range(len(path) - 1, -1, -1):
        yield path[:cut]


def load_text(
    text: str, file: str, cache: pathlib.Path | None = None, *, read_cache: bool = True, keep: bool = False
) -> tuple[Document | None, list[Finding]]:
    """Parse one YAML document. Returns (document or None, yaml-syntax findings).

    ``cache``: the file of fleetgen.chunks' cache (read, never written here); the clusters whose lines it holds
    are not parsed again. ``read_cache`` False (``--full``: trust nothing) parses the whole text. ``keep``
    (``render``, the one command that writes the cache): ``Document.parts`` holds the cache of this text when
    it differs from the one read."""
    wanted = cache is not None and (read_cache or keep)
    parts = chunks.split(text) if wanted else None
    if parts is not None and cache is not None and read_cache:
        cached, known = chunks.read(cache)
        assembled = chunks.assemble(parts, file, cached)
        if assembled is not None:
            data, entries, new, from_cache = assembled
            now = chunks.context(data)
            pending = chunks.blob(entries, now) if (new or known != now) and keep else None
            checked = from_cache if known == now else frozenset()
            chunked = Document(file, data, _suppressions(text), text, chunked=True, parts=pending, checked=checked)
            return chunked, []
    document, findings = _whole(text, file)
    if keep and parts is not None and document is not None and not findings:
        filled = chunks.parts_of(parts, document.data)  # the next load parses only what changes meanwhile
        document.parts = chunks.blob(filled, chunks.context(document.data)) if filled is not None else None
    return document, findings


def _whole(text: str, file: str) -> tuple[Document | None, list[Finding]]:
    try:
        node = compose.single(text)
    except compose.TooDeep as exc:
        mark = exc.problem_mark
        return None, [_syntax(file, mark.line + 1, mark.column + 1, f"nesting is deeper than {MAX_DEPTH} levels")]
    except (*compose.ParseError, RecursionError) as exc:
        return None, [_syntax(file, *syntax_message(exc, text))]
    if node is None:
        return None, [_syntax(file, 1, 1, "the file is empty: expected a mapping with apiVersion: fleetgen/v1alpha1")]
    try:
        data = Builder(file, aliases="*" in text).data(node)
    except Stop as stop:
        return None, [stop.finding]
    if not isinstance(data, dict):
        mark = node.start_mark
        return None, [
            _syntax(
                file,
                mark.line + 1,
                mark.column + 1,
                "the document is not a mapping: expected apiVersion, kind, clusters, …",
            )
        ]
    return Document(file, data, _suppressions(text), text, node), []


def load_bytes(
    raw: bytes, file: str, cache: pathlib.Path | None = None, *, read_cache: bool = True, keep: bool = False
) -> tuple[Document | None, list[Finding]]:
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
    return load_text(text, file, cache, read_cache=read_cache, keep=keep)


def load_all_data(text: str, file: str) -> list[Any] | None:
    """Every non-empty document of a multi-document stream (a rendered file) as plain data.

    Same resolver and limits as fleet.yaml; None when the text does not parse (``diff`` then
    compares the file as text).
    """
    try:
        docs = [Builder(file).data(node) for node in compose.documents(text)]
    except (*compose.ParseError, RecursionError, Stop):
        return None
    return [d for d in docs if d is not None]


def _suppressions(text: str) -> dict[int, frozenset[str]]:
    if "fleetgen:" not in text:
        return {}
    out: dict[int, frozenset[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _SUPPRESS.search(line)
        if match:
            out[number] = frozenset(r.strip() for r in match.group(1).split(",") if r.strip())
    return out
