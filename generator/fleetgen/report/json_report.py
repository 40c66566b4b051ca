"""The contract's machine-readable lint output (fleet-format.md, "What commands must print")."""

from __future__ import annotations

import json

from ..findings import Finding, count, path_str


def as_dict(f: Finding) -> dict:
    out = {
        "rule": f.rule,
        "severity": f.severity,
        "message": f.message,
        "file": f.file,
        "line": f.line,
        "column": f.column,
        "path": path_str(f.path),
    }
    if f.hint:
        out["hint"] = f.hint
    if f.related:
        out["related"] = [{"file": r[0], "line": r[1], "column": r[2]} for r in f.related]
    return out


def render(findings: list[Finding], *, suppressed: int = 0, **_) -> str:
    body = {"findings": [as_dict(f) for f in findings], "summary": {**count(findings), "suppressed": suppressed}}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
