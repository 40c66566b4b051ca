"""Findings: every problem fleetgen reports, from YAML syntax to drift, is one of these values."""

from __future__ import annotations

import os
import pathlib
from dataclasses import dataclass, replace

ERROR = "error"
WARNING = "warning"

Path = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Finding:
    """One reported problem. ``line``/``column`` are 1-based and point at the offending value."""

    file: str
    line: int
    column: int
    rule: str
    severity: str
    message: str
    path: Path = ()
    hint: str = ""
    related: tuple[tuple[str, int, int], ...] = ()  # (file, line, column) of the other side, e.g. an overlap

    def at(self, file: str, line: int, column: int) -> Finding:
        return replace(self, file=file, line=line, column=column)


@dataclass(frozen=True)
class Issue:
    """What a rule reports: paths only. The runner turns it into a positioned Finding."""

    rule: str
    path: Path
    message: str
    severity: str = ERROR
    hint: str = ""
    related: tuple[Path, ...] = ()
    on_key: bool = False


def issue(rule: str, path: Path, message: str, *, severity: str = ERROR, hint: str = "", **kw) -> Issue:
    return Issue(rule, tuple(path), message, severity, hint, **kw)


def issue_data(i: Issue) -> list:
    """An Issue as marshal-able data, for the caches that keep what rules and patches reported (``issue_from_data``
    gives it back)."""
    return [i.rule, list(i.path), i.message, i.severity, i.hint, [list(r) for r in i.related], i.on_key]


def issue_from_data(data: list) -> Issue:
    rule, path, message, severity, hint, related, on_key = data
    return Issue(rule, tuple(path), message, severity, hint, tuple(tuple(r) for r in related), on_key)


def path_str(path: Path) -> str:
    """``('clusters', 3, 'network', 'pods')`` -> ``clusters[3].network.pods``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def count(findings: list[Finding]) -> dict[str, int]:
    errors = sum(1 for f in findings if f.severity == ERROR)
    return {"errors": errors, "warnings": len(findings) - errors}


def exit_code(findings: list[Finding]) -> int:
    return 1 if any(f.severity == ERROR for f in findings) else 0


def printable(name: str) -> str:
    """A file name read from the filesystem, as text any output can carry: bytes that are not UTF-8 (which
    Python keeps as lone surrogates, and a UTF-8 stream refuses to write) are shown escaped, ``bad\\xff.yaml``."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no file name decodes to (not from surrogateescape): shown as is
        return name.encode("utf-8", "backslashreplace").decode("utf-8")


def display(path: pathlib.Path) -> str:
    """A file path as the user would type it: relative to the working directory when inside it."""
    rel = os.path.relpath(path)
    return path.as_posix() if rel.startswith("..") else pathlib.Path(rel).as_posix()
