"""Drift between the committed tree and what fleet.yaml renders, as Findings with bounded diffs."""

from __future__ import annotations

import difflib

from .findings import ERROR, Finding, printable
from .lint import BY_ID
from .tree import Drift

MAX_DIFF_LINES = 40  # per file: enough to see the change, not a wall of text for a big re-render


def first_difference(old: bytes | None, new: bytes | None) -> int:
    """1-based line of the first difference (1 when a side is missing)."""
    if not old or not new:
        return 1
    for number, (a, b) in enumerate(zip(old.splitlines(), new.splitlines()), 1):
        if a != b:
            return number
    return min(len(old.splitlines()), len(new.splitlines())) + 1


def as_finding(d: Drift, out_label: str) -> Finding:
    name = printable(f"{out_label}/{d.path}")
    return Finding(name, first_difference(d.old, d.new), 1, d.rule, ERROR, d.message, hint=BY_ID[d.rule].fix)


def unified(d: Drift, out_label: str, limit: int = MAX_DIFF_LINES) -> str:
    """A unified diff of committed -> rendered, cut to ``limit`` lines with a note of what was cut."""
    old, new = (_text(side) for side in (d.old, d.new))
    name = printable(f"{out_label}/{d.path}")
    lines = list(difflib.unified_diff(old, new, f"{name} (committed)", f"{name} (rendered)", n=2))
    shown = [ln if ln.endswith("\n") else ln + "\n" for ln in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"... {len(lines) - limit} more diff lines\n")
    return "".join(shown)


def _text(data: bytes | None) -> list[str]:
    """Lines of a side; CRLF is read as LF, as ``tree.same_text`` compares (a CRLF checkout is not every line)."""
    return (data or b"").decode("utf-8", "replace").replace("\r\n", "\n").splitlines(keepends=True)
