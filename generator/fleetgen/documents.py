"""Rendered YAML files -> documents, each distinct document text parsed once.

A rendered tree repeats documents: every cluster's ``monitoring/prometheus.yaml`` holds the same
ServiceAccount, ClusterRole and ClusterRoleBinding, and a change to one document of a file leaves
its other documents as they were. ``Parser`` splits a stream at its document markers (a ``---``
line) and parses each distinct document text once, for every file and both sides of a diff; the
documents of equal texts are then the same objects (read them, never change them).

The split reads as the whole stream does: YAML forbids a line starting with ``---`` and a space,
tab or line break inside any scalar (it always starts a document, or is an error), aliases never
reach across documents, and a stream with a directive (a line starting with ``%``, which
applies to the next document) is parsed whole. So is a stream where any part fails to parse, so
an invalid file is refused exactly as ``load_all_data`` refuses it. Comment lines before the
first document are left out: a header naming the fleet file does not make every document new.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .load import load_all_data


class KubernetesLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml when built
    """PyYAML's safe loader with timestamps left as the strings go-yaml leaves them: a manifest read as Kubernetes tools
    read it (sigs.k8s.io/yaml: YAML 1.1 scalars), by the extra manifests and by ``validate-rendered``."""


KubernetesLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


_MARKER = re.compile(r"^---(?=[ \t\r\n]|\Z)", re.MULTILINE)
_DIRECTIVE = re.compile(r"^%", re.MULTILINE)


def split(text: str) -> list[str] | None:
    """The text of each document of a stream, markers included; None when the stream has a directive."""
    if "%" in text and _DIRECTIVE.search(text):
        return None
    starts = [m.start() for m in _MARKER.finditer(text)]
    bounds = [_after_comments(text), *(s for s in starts if s), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def _after_comments(text: str) -> int:
    """Where the stream's leading comment lines end: they are not data (fleetgen's header names the fleet file)."""
    start = 0
    while text.startswith("#", start):
        end = text.find("\n", start)
        if end < 0:
            return len(text)
        start = end + 1
    return start


class Parser:
    """``load_all_data`` for many files, caching each document text's data."""

    def __init__(self) -> None:
        self._cache: dict[str, list[Any] | None] = {}

    def parse(self, text: str, file: str) -> list[Any] | None:
        """Every non-empty document of ``text``, or None when it does not parse (as ``load_all_data``)."""
        parts = split(text)
        if parts is None or len(parts) == 1:
            return self._one(text, file)
        out: list[Any] = []
        for part in parts:
            docs = self._one(part, file)
            if docs is None:
                return load_all_data(text, file)  # the whole stream decides: same refusal, same position
            out.extend(docs)
        return out

    def _one(self, text: str, file: str) -> list[Any] | None:
        if text not in self._cache:
            self._cache[text] = load_all_data(text, file)
        return self._cache[text]
