"""The loader against the official YAML test suite (tests/yaml_suite/, see PROVENANCE.md there).

Every valid single-document case whose top level is a mapping must load to the suite's own
expected JSON (or, where the suite gives none, load), except the refusals below; every invalid
case must be a ``yaml-syntax`` finding, except the known deviations below. The sets are exact:
a case that starts passing, or stops, fails this test until the lists (and README counts) follow.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fleetgen.load import load_text

CASES = json.loads((Path(__file__).parent / "yaml_suite" / "cases.json").read_text("utf-8"))

# Intended refusals (documented in README "How fleet.yaml is read"): each is a yaml-syntax finding.
CUSTOM_TAGS = {"2XXW", "565N", "7FWL", "CUP7", "M5C3", "UGM3", "Z67P"}  # !!set, !!binary, !foo, !local, …
COMPLEX_KEYS = {"6BFJ", "6PBE", "KK5P", "LX3P", "M2N8/01", "M5DY", "Q9WF", "RZP5", "SBG9", "X38W", "XW4D"}
DUPLICATE_KEYS = {"2JQS"}  # two empty keys: the same key twice
REFUSAL_WORDS = {
    "unsupported tag": CUSTOM_TAGS,
    "must be a plain scalar": COMPLEX_KEYS,
    "duplicate key": DUPLICATE_KEYS,
}

# Known deviations: neither libyaml nor ruamel.yaml's pure parser reads these as YAML 1.2 does.
REFUSED_VALID = {
    "4MUZ/00",
    "4MUZ/01",
    "4MUZ/02",
    "5MUD",
    "K3WX",
    "VJP3/01",  # flow mapping ':' on the line after its key
    "A2M4",
    "DK95/00",
    "DK95/03",
    "DK95/04",
    "Q5MG",  # a tab as separation space before content
}
MISREAD_VALID = {"652Z", "L24T/01"}  # `{ ?foo : bar }` (key "?foo"); a last line of spaces in a literal scalar
ACCEPTED_INVALID = {"9C9N", "DK95/01", "QB6E", "S98Z", "SU5Z"}  # under-indented flow/quoted lines, `"x"#c`, …

VALID = [c for c in CASES if not c["error"]]
INVALID = [c for c in CASES if c["error"]]


def _outcome(case: dict) -> str:
    doc, findings = load_text(case["yaml"], "suite.yaml")
    if doc is None:
        assert findings and all(f.rule == "yaml-syntax" for f in findings), findings
        return next((word for word in REFUSAL_WORDS if word in findings[0].message), "refused")
    if "json" not in case:
        return "loaded"
    return "equal" if _same(doc.data, case["json"]) else "different"


def _same(got, want) -> bool:
    """Equal as JSON values, types included (True is not 1, 1 is not "1")."""
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, float) and isinstance(got, float) and math.isnan(want):
        return math.isnan(got)
    if isinstance(want, int | float) and not isinstance(want, bool):
        return type(got) in (int, float) and got == want
    return type(got) is type(want) and got == want


@pytest.mark.parametrize("case", VALID, ids=[c["id"] for c in VALID])
def test_valid_case_loads_to_the_suite_json(case):
    ident, outcome = case["id"], _outcome(case)
    if ident in REFUSED_VALID:
        assert outcome == "refused", f"{ident} now loads: take it off REFUSED_VALID"
    elif ident in MISREAD_VALID:
        assert outcome == "different", f"{ident} now loads right: take it off MISREAD_VALID"
    elif any(ident in ids for ids in REFUSAL_WORDS.values()):
        assert ident in REFUSAL_WORDS.get(outcome, ()), (ident, outcome)
    else:
        assert outcome in ("equal", "loaded"), (ident, case["name"], outcome)


@pytest.mark.parametrize("case", INVALID, ids=[c["id"] for c in INVALID])
def test_invalid_case_is_a_yaml_syntax_finding(case):
    doc, findings = load_text(case["yaml"], "suite.yaml")
    if case["id"] in ACCEPTED_INVALID:
        assert doc is not None, f"{case['id']} is now refused: take it off ACCEPTED_INVALID"
        return
    assert doc is None, (case["id"], case["name"])
    assert [f.rule for f in findings] == ["yaml-syntax"]
    assert findings[0].line >= 1 and findings[0].column >= 1


def test_counts_match_the_readme():
    """The README quotes these numbers."""
    refusals = CUSTOM_TAGS | COMPLEX_KEYS | DUPLICATE_KEYS
    assert (len(VALID), len(INVALID)) == (137, 94)
    assert len(refusals) == 19 and len(REFUSED_VALID | MISREAD_VALID) == 13
    assert len(VALID) - len(refusals) - len(REFUSED_VALID | MISREAD_VALID) == 105
    assert len(INVALID) - len(ACCEPTED_INVALID) == 89
