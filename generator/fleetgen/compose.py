"""YAML text -> node graph, read as YAML 1.2 reads it, fast where that is safe.

Two parsers, one answer:

- the fast path is libyaml 0.2.5 (PyYAML's C extension) composing the node graph in C;
- the correct path is ruamel.yaml's pure-Python parser, which follows YAML 1.2 where libyaml
  does not, at about a twentieth of the speed.

The fast path is used unless it refuses the text or the text holds a construct libyaml reads
differently from YAML 1.2 (``_UNTRUSTED``); then the pure parser decides, and its verdict is
final: a text it refuses is a ``yaml-syntax`` finding. libyaml refuses valid YAML that PyYAML's
composer forbids (duplicate anchor names, YAML spec example 7.1) and a few block-scalar and
flow forms; it accepts some invalid YAML and reads the non-specific tag ``!`` as "resolve me".
tests/test_yaml_suite.py runs both against the official yaml-test-suite.

Neither parser resolves scalar types: every plain scalar without a tag gets the tag
``IMPLICIT`` and generator/fleetgen/construct.py resolves it by the YAML 1.2 core schema; an explicitly
tagged scalar keeps its tag (``!!str 0777`` stays the string "0777").
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.docinfo import DocInfo, Version
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.parser import Parser
from ruamel.yaml.reader import Reader
from ruamel.yaml.scanner import Scanner
from ruamel.yaml.tag import Tag

try:  # PyYAML's wheels bundle libyaml; without it every text takes the pure path
    from yaml import CBaseLoader as _CLoader
    from yaml import YAMLError as PyYAMLError
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _CLoader = None  # type: ignore[misc, assignment]  # the fallback the stubs cannot express
    from ruamel.yaml.error import YAMLError as PyYAMLError  # type: ignore[assignment]

IMPLICIT = "?"  # a plain scalar with no tag: the core schema decides (generator/fleetgen/construct.py)
STR = "tag:yaml.org,2002:str"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
MAX_NESTING = 65  # the pure composer recurses: it stops one level past the loader's MAX_DEPTH (64)

# Where libyaml's reading differs from YAML 1.2 on text it accepts, found with the yaml-test-suite:
# the non-specific tag "!" (libyaml resolves `! 12` as the number 12; YAML 1.2 says the string
# "12"), an anchor name holding ':' (libyaml ends it there), and '#' right after a block scalar
# indicator (a comment needs a space before it; libyaml lets it pass). A match only costs speed.
# Each pattern runs only when the text holds its leading character: a regex that may start at any
# position costs 0.35 s on a 10,000-cluster fleet, a substring test a millisecond.
_UNTRUSTED = (
    ("!", re.compile(r"(?:^|[\s\[{,])!(?=[\s\]},]|$)", re.MULTILINE)),
    ("&", re.compile(r"&[^\s,\[\]{}]*:")),
    ("|", re.compile(r"\|[-+0-9]*#")),
    (">", re.compile(r">[-+0-9]*#")),
)

ParseError = (PyYAMLError, RuamelError)
TooDeep = MaxDepthExceededError


class _Fast(_CLoader or object):  # type: ignore[misc]  # libyaml's loader when built with it
    """libyaml, with every plain untagged scalar marked IMPLICIT instead of resolved."""

    def __init__(self, text: str):
        super().__init__(text)
        # libyaml's composer calls these two around every node to follow path resolvers, which
        # this loader has none of: C no-ops instead of PyYAML's Python methods (0.1 s at 10,000 clusters).
        no_resolvers: dict[Any, None] = {}
        self.descend_resolver = no_resolvers.get  # (parent, index) -> None
        self.ascend_resolver = tuple  # () -> ()

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind.id == "scalar":
            return IMPLICIT if implicit[0] else STR
        return SEQ if kind.id == "sequence" else MAP


class _Resolver:
    """The same marking for ruamel's pure parser (which calls it with node classes too)."""

    processing_version = (1, 2)

    def __init__(self, loader: Any = None):
        self.loader = loader

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Tag:
        if kind.id == "scalar":
            return Tag(suffix=IMPLICIT if implicit[0] else STR)
        return Tag(suffix=SEQ if kind.id == "sequence" else MAP)

    def descend_resolver(self, parent: Any, index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class _Pure(Reader, Scanner, Parser, Composer):
    """ruamel.yaml's pure-Python YAML 1.2 parser and composer, without its type resolution."""

    processing_version = (1, 2)

    def __init__(self, text: str):
        self.comment_handling = None
        self.max_depth = MAX_NESTING
        self.doc_infos = [DocInfo(requested_version=Version(1, 2))]  # where the parser records %YAML/%TAG
        Reader.__init__(self, text, loader=self)
        Scanner.__init__(self, loader=self)
        Parser.__init__(self, loader=self)
        Composer.__init__(self, loader=self)
        self.warn_double_anchors = False  # YAML 1.2 lets a later anchor of the same name win
        self._resolver = _Resolver(self)

    @property
    def resolver(self) -> _Resolver:
        return self._resolver

    def compose_scalar_node(self, anchor: Any) -> Any:
        event = self.parser.peek_event()
        if event.ctag is not None and str(event.ctag) == "!":
            event.implicit = (False, False)  # YAML 1.2: `! 12` is the string "12", not "resolve me"
        return super().compose_scalar_node(anchor)


def trusted(text: str) -> bool:
    """Whether libyaml reads ``text`` as YAML 1.2 would, as far as the test suite shows."""
    return _CLoader is not None and not any(lead in text and p.search(text) for lead, p in _UNTRUSTED)


def single(text: str) -> Any:
    """The root node of a one-document text (None when empty); raises a ParseError when invalid."""
    if trusted(text):
        try:
            return _Fast(text).get_single_node()
        except PyYAMLError:
            pass  # libyaml refuses some valid YAML: the pure parser decides
    return _Pure(text).get_single_node()


def documents(text: str) -> list[Any]:
    """The root nodes of every document in a stream; raises a ParseError when invalid."""
    if trusted(text):
        try:
            return _all(_Fast(text))
        except PyYAMLError:
            pass
    return _all(_Pure(text))


def _all(loader: Any) -> list[Any]:
    nodes = []
    while loader.check_node():
        nodes.append(loader.get_node())
    return nodes
