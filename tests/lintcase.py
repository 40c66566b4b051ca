"""Lint fixtures with the expected findings marked inline, ruff-style.

A line ending in ``# expect[rule]: TEXT`` expects a finding of ``rule`` at that line, at the
column where TEXT starts. Any finding not marked, or marked but not found, fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

from fleetgen import pipeline

_EXPECT = re.compile(r"#\s*expect\[([a-z-]+)\]:\s*(.+?)(?=\s+#\s*expect|\s*$)")


def expected(text: str) -> set[tuple[str, int, int]]:
    out = set()
    for number, line in enumerate(text.splitlines(), 1):
        for match in _EXPECT.finditer(line):
            rule, anchor = match.group(1), match.group(2)
            column = line.index(anchor) + 1
            out.add((rule, number, column))
    return out


def actual(path: Path) -> set[tuple[str, int, int]]:
    result = pipeline.load_and_lint(path)
    return {(f.rule, f.line, f.column) for f in result.findings}


def run_case(tmp_path: Path, text: str) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(text)
    assert actual(fleet) == expected(text)
