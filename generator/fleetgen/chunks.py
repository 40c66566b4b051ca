"""fleet.yaml's clusters read one by one: each cluster's lines are parsed only when they changed.

Parsing the whole of a 5,000-cluster fleet.yaml (98,000 lines) costs 0.4–0.7 s, and every command pays it
whatever changed. Most edits change one cluster. So the ``clusters`` list is cut into each cluster's lines
(``split``, from the text alone), and each cluster's data is kept in a cache under the digest of its lines
(``.fleetgen-cache/load/``, beside fleet.yaml, written by ``render`` once the tree is written: the only
command that writes fleetgen's cache); the next load parses only the clusters whose lines are not in it,
and the rest of the file (every other section) as one small document.

A cluster's lines are parsed as the document ``clusters:`` + its lines: the same parent, the same columns,
the same nesting depth as in the file, so the same data. Cutting the text into lines is only trusted where
nothing can reach across them: ``split`` refuses a file with an alias or anchor (``*``, ``&``), a tag or
directive (``!``, ``%``), a document marker, line breaks other than ``\\n``, a ``clusters`` key that is not a
plain ``clusters:`` line at the top level, or a list whose items do not each start with ``-`` in one column;
any cluster or rest that does not parse alone, or parses to anything but one item, makes the whole file be
parsed as before. Whatever goes wrong, the answer is the whole parse's: ``tests/test_chunks.py`` edits the
text at random and holds every chunked load to the data of the whole parse, which then also has no finding.

Positions are not kept: a chunked ``Document`` parses the whole text the first time a finding asks where it
is (a clean fleet never asks).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from . import cachedir, compose
from .construct import Builder, Stop

WHOLE_FROM = 0.25  # parse the whole file when more than this share of its clusters is not in the cache
# What may reach across lines, or break them where the cut does not: aliases and anchors, tags and directives,
# and every line break but "\n" (YAML 1.1's and the ones str.splitlines knows).
_REFUSED = "*&!%\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_FORMAT = f"fleetgen-load-2 {cachedir.PYTHON}"  # 2: the context every cached cluster passed the schema in


@dataclass(frozen=True)
class Split:
    """fleet.yaml cut at its clusters: each cluster's text (``text[starts[i]:starts[i + 1]]``, the last one's
    ending at ``end``) and the rest. Offsets are those of whole lines."""

    text: str
    key_end: int  # just after the ``clusters:`` line
    dash: int  # the column every item's "-" stands in
    starts: tuple[int, ...]  # where each cluster's first line starts
    end: int  # where the last cluster's lines end: at the next top-level key, or the end of the text

    def cluster_text(self, index: int) -> str:
        stop = self.starts[index + 1] if index + 1 < len(self.starts) else self.end
        return self.text[self.starts[index] : stop]

    @cached_property  # the load's cache keys and the render's cluster sources (fleetgen.sources) both need them
    def digests(self) -> tuple[str, ...]:
        """The :func:`digest` of each cluster's text."""
        return tuple(digest(self.cluster_text(i)) for i in range(len(self.starts)))

    def rest_text(self) -> str:
        """Everything but the clusters' lines: ``clusters:`` is left with no value."""
        return self.text[: self.key_end] + self.text[self.end :]

    def lines(self) -> list[int]:
        """The 0-based line each cluster starts on."""
        numbers, line, at = [], 0, 0
        for start in self.starts:
            line += self.text.count("\n", at, start)
            numbers.append(line)
            at = start
        return numbers


@lru_cache(maxsize=2)  # the load and the render's cluster digests (fleetgen.sources) cut the same text
def split(text: str) -> Split | None:
    """``text`` cut at its clusters, or None when its lines may not be read one cluster at a time.

    Every search of the 2.6 MB text of a 5,000-cluster fleet starts with a literal (``str.find``, or a pattern
    that starts with ``\\n``, which the regex engine skips to as ``find`` does): ``^`` patterns in MULTILINE mode
    tried every position, 0.1 s of every load. ``tests/test_chunks.py`` holds this to those patterns."""
    if any(char in text for char in _REFUSED) or _document_marker(text):
        return None
    keys = _clusters_keys(text)
    if len(keys) != 1:
        return None
    key_end = text.find("\n", keys[0]) + 1
    first = _first_content(text, key_end) if key_end else None
    if first is None:
        return None
    start, dash = first
    if text[start + dash] != "-" or text[start + dash + 1 : start + dash + 2] != " ":
        return None  # "-" alone on its line: the cluster's mapping starts below it, where the parser says it does
    next_key = (_TOP_LEVEL_INDENTLESS if dash == 0 else _TOP_LEVEL).search(text, start - 1)
    end = next_key.start() + 1 if next_key else len(text)
    # The last cluster's lines run to the next top-level key, blank and comment lines included, as every other
    # cluster's run to the next "-": a block scalar kept with "|+" ends the list and owns the blank lines after it.
    starts = [m.start() + 1 for m in _items(dash).finditer(text, start - 1, end)]
    return Split(text, key_end, dash, tuple(starts), end)


def _line_starts(text: str, prefix: str) -> list[int]:
    """Where the lines that start with ``prefix`` start."""
    found = [0] if text.startswith(prefix) else []
    needle = "\n" + prefix
    at = text.find(needle)
    while at != -1:
        found.append(at + 1)
        at = text.find(needle, at + 1)
    return found


def _document_marker(text: str) -> bool:
    """A line that starts with ``---`` or ``...`` followed by a blank or its end (the pattern
    ``^(---|\\.\\.\\.)([ \\t]|$)``)."""
    return any(
        at + 3 == len(text) or text[at + 3] in " \t\n" for marker in ("---", "...") for at in _line_starts(text, marker)
    )


def _clusters_keys(text: str) -> list[int]:
    """Where each line that is a plain ``clusters:`` key at the top level, with at most a comment after it, ends
    (the pattern ``^clusters:[ \\t]*(?:#.*)?$``)."""
    keys = []
    for at in _line_starts(text, "clusters:"):
        line_end = text.find("\n", at)
        line_end = len(text) if line_end == -1 else line_end
        rest = text[at + len("clusters:") : line_end].lstrip(" \t")
        if not rest or rest.startswith("#"):
            keys.append(line_end)
    return keys


def _first_content(text: str, at: int) -> tuple[int, int] | None:
    """The first line from the line start ``at`` with anything but a comment on it: where it starts and how many
    spaces it starts with (the pattern ``^( *)([^ #\\n])``)."""
    while at < len(text):
        line_end = text.find("\n", at)
        line_end = len(text) if line_end == -1 else line_end
        spaces = len(text[at:line_end]) - len(text[at:line_end].lstrip(" "))
        if at + spaces < line_end and text[at + spaces] != "#":
            return at, spaces
        at = line_end + 1
    return None


# The next top-level key: a line that starts with anything but a blank or a comment (after the "\n" ending the
# line before: every search starts at one) ...
_TOP_LEVEL = re.compile(r"\n[^ #\n]")
# ... and, when the items' "-" is in column 0, not with an item's "- " (or a "-" that ends its line)
_TOP_LEVEL_INDENTLESS = re.compile(r"\n(?!-[ \n]|-\Z)[^ #\n]")


@lru_cache(maxsize=8)
def _items(dash: int) -> re.Pattern[str]:
    return re.compile(rf"\n {{{dash}}}- ")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def parse_cluster(text: str, file: str) -> Any:
    """One cluster's lines as data, read as the file reads them; raises Unsplittable."""
    data = _parse(f"clusters:\n{text}", file)
    if not isinstance(data, dict) or list(data) != ["clusters"]:
        raise Unsplittable
    items = data["clusters"]
    if not isinstance(items, list) or len(items) != 1:
        raise Unsplittable
    return items[0]


def parse_rest(text: str, file: str) -> dict:
    """Every section but the clusters' lines; raises Unsplittable."""
    data = _parse(text, file)
    if not isinstance(data, dict) or data.get("clusters", False) is not None:
        raise Unsplittable
    return data


class Unsplittable(Exception):
    """A part that does not read alone as it reads in the file: the whole file is parsed instead."""


def _parse(text: str, file: str) -> Any:
    try:
        node = compose.single(text)
        if node is None:
            raise Unsplittable
        return Builder(file).data(node)
    except (*compose.ParseError, compose.TooDeep, RecursionError, Stop) as exc:
        raise Unsplittable from exc


def assemble(
    parts: Split, file: str, cache: dict[str, Any]
) -> tuple[dict, dict[str, Any], bool, frozenset[int]] | None:
    """The fleet's data from ``cache`` (digest -> data) and the parts not in it, parsed one by one; the cache
    entries of this text's parts (the same objects: save them before anything reads the data); whether any
    part was new; the indexes of the clusters read from the cache. None when too many are new (one whole parse
    is faster), two clusters have the same lines, or a part does not read alone."""
    rest = parts.rest_text()
    digests = parts.digests
    rest_digest = digest(rest)
    if len(set(digests)) != len(digests):
        return None
    missing = [i for i, d in enumerate(digests) if d not in cache]
    if len(missing) > WHOLE_FROM * len(digests):
        return None
    entries: dict[str, Any] = {d: cache.get(d) for d in digests}
    try:
        for i in missing:
            entries[digests[i]] = parse_cluster(parts.cluster_text(i), file)
        entries[rest_digest] = cache[rest_digest] if rest_digest in cache else parse_rest(rest, file)
    except Unsplittable:
        return None
    data = {**entries[rest_digest], "clusters": [entries[d] for d in digests]}
    cached = frozenset(range(len(digests))).difference(missing)
    return data, entries, bool(missing) or rest_digest not in cache, cached


def parts_of(parts: Split, data: dict) -> dict[str, Any] | None:
    """The cache entries of a whole parse's ``data`` (digest -> data), when ``parts`` cuts it as it was read."""
    clusters = data.get("clusters")
    if not isinstance(clusters, list) or len(clusters) != len(parts.starts):
        return None
    entries = dict(zip(parts.digests, clusters))
    entries[digest(parts.rest_text())] = {**data, "clusters": None}
    return entries


# ---------------------------------------------------------------- the cache file (written by cachedir.write)


def read(path: Path) -> tuple[dict[str, Any], str | None]:
    """The cache's parts (digest -> data) and the context they passed the schema in (:func:`context`); no parts
    and no context when it is missing, unreadable, or written by another Python or fleetgen."""
    body = cachedir.read(path)
    if not isinstance(body, dict) or body.get("format") != _FORMAT or not isinstance(body.get("parts"), dict):
        return {}, None
    known = body.get("context")
    return body["parts"], known if isinstance(known, str) else None


def blob(entries: dict[str, Any], known: str) -> bytes | None:
    """The cache file's bytes for ``entries``, taken now (before anything can change the data they share with the
    document), with the context they are read in (``render``, the one writer, writes them only once the whole
    fleet passed the schema and every check: each cluster among them passed in that context); None when a value
    cannot be held."""
    return cachedir.encode({"format": _FORMAT, "parts": entries, "context": known})


def context(data: dict) -> str:
    """What, besides its own lines, decides whether a cluster passes fleet.yaml's schema: fleetgen's code (the
    schema and its format checks are in the package) and ``defaults``, merged under every cluster before it is
    checked. A cluster read from the cache in the context it was written in passed then, and passes now."""
    return digest(f"{cachedir.code_digest()}\n{defaults_text(data)}")


def defaults_text(data: dict) -> str:
    """``defaults`` as text, merged under every cluster: part of what each cluster is read in (here, and
    ``fleetgen.sources``)."""
    return json.dumps(data.get("defaults"), sort_keys=True, default=repr, ensure_ascii=False)
