"""Lint fixtures with the expected findings marked inline, ruff-style.

A line ending in ``# expect[rule]: TEXT`` expects a finding of ``rule`` at that line, at the
column where TEXT starts. Any finding not marked, or marked but not found, fails the test.

One exception: ``mesh-datapath``, a fleet-wide warning that every case adding an AKS, vSphere or
imported ClusterMesh member to the base fleet's EKS and GKE ones would carry, counts only in the
cases that mark it (tests/lint_golden.json still counts it in every case).
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


FLEET_WIDE = "mesh-datapath"


def run_case(tmp_path: Path, text: str) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(text)
    found = actual(fleet)
    if f"expect[{FLEET_WIDE}]" not in text:
        found = {f for f in found if f[0] != FLEET_WIDE}
    assert found == expected(text)
