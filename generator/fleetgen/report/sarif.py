"""SARIF 2.1.0 for GitHub code scanning; the rule table comes from the registry."""

from __future__ import annotations

import json

from .. import __version__
from ..findings import Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _rules() -> list[dict]:
    from ..lint import RULES

    return [
        {
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.doc or r.summary},
            "help": {"text": f"Fix: {r.fix}"},
            "defaultConfiguration": {"level": "error" if r.severity == "error" else "warning"},
        }
        for r in RULES
    ]


def _location(file: str, line: int, column: int) -> dict:
    return {
        "physicalLocation": {"artifactLocation": {"uri": file}, "region": {"startLine": line, "startColumn": column}}
    }


def _result(f: Finding, index: dict[str, int]) -> dict:
    out = {
        "ruleId": f.rule,
        "ruleIndex": index[f.rule],
        "level": "error" if f.severity == "error" else "warning",
        "message": {"text": f.message + (f" Fix: {f.hint}" if f.hint else "")},
        "locations": [_location(f.file, f.line, f.column)],
    }
    if f.related:
        out["relatedLocations"] = [{"id": i, **_location(*r)} for i, r in enumerate(f.related)]
    return out


def render(findings: list[Finding], **_) -> str:
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "fleetgen",
                "version": __version__,
                "informationUri": "https://github.com/fleetgen/fleetgen",
                "rules": rules,
            }
        },
        "results": [_result(f, index) for f in findings],
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
