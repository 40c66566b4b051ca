"""The loader: positions for every value, and every kind of bad YAML as a positioned finding."""

from __future__ import annotations

import math

import pytest
from fleetgen.load import load_bytes, load_text


def test_positions_of_values_and_keys():
    doc, findings = load_text("a:\n  b: [1, {c: x}]\n", "f.yaml")
    assert not findings
    assert doc.positions[("a", "b", 1, "c")] == (2, 14)
    assert doc.key_positions[("a", "b")] == (2, 3)


def test_yaml_12_core_scalars():
    doc, _ = load_text("a: 0o17\nb: 1e3\nc: on\nd: ~\ne: .inf\nf: '1'\ng: 1.30\nh: 2024-01-01\ni: -7\n", "f")
    assert doc.data == {
        "a": 15,
        "b": 1000.0,
        "c": "on",
        "d": None,
        "e": math.inf,
        "f": "1",
        "g": 1.3,
        "h": "2024-01-01",
        "i": -7,
    }


BAD = {
    "empty": (b"", 1, 1, "empty"),
    "comments only": (b"# nothing\n", 1, 1, "empty"),
    "duplicate key": (b"a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a'"),
    "tab": (b"a:\n\tb: 1\n", 2, 1, "tab"),
    "not a mapping": (b"- a\n- b\n", 1, 1, "not a mapping"),
    "scalar document": (b"just text\n", 1, 1, "not a mapping"),
    "invalid utf-8": (b"a: ok\nb: \xff\xfe\n", 2, 4, "not valid UTF-8"),
    "binary": (b"a: \x00\x01\x02", 1, 1, "binary"),
    "custom tag": (b"a: !python/object x\n", 1, 4, "unsupported tag"),
    "merge key": (b"x: &x {a: 1}\ny:\n  <<: *x\n", 3, 3, "merge keys"),
    "two documents": (b"a: 1\n---\nb: 2\n", 2, 1, "single document"),
    "recursive alias": (b"a: &a [*a]\n", 1, 4, "recursive"),
    "deep nesting": (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", 1, 68, "deeper than"),
    "huge integer": (b"a: " + b"9" * 5000 + b"\n", 1, 4, "digit number"),
    "unclosed flow": (
        b"a: [1, 2\n",
        2,
        1,
        "expected ',' or ']', but got '<stream end>' (while parsing a flow sequence at line 1)",
    ),
    "complex key": (b"? [a]\n: 1\n", 1, 3, "plain scalar"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_yaml_is_a_positioned_finding(name):
    raw, line, col, words = BAD[name]
    doc, findings = load_bytes(raw, "f.yaml")
    assert doc is None
    (finding,) = findings
    assert finding.rule == "yaml-syntax" and finding.severity == "error"
    assert (finding.line, finding.column) == (line, col), finding
    assert words in finding.message


def test_alias_bomb_is_stopped_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    doc, findings = load_bytes("\n".join(lines).encode(), "f.yaml")
    assert doc is None and "alias" in findings[0].message


def test_suppression_comments_are_collected():
    doc, _ = load_text("a: 1  # fleetgen: ignore[mesh-id, cidr-overlap]\nb: 2\n", "f")
    assert doc.suppressions == {1: frozenset({"mesh-id", "cidr-overlap"})}


def test_bom_is_accepted():
    doc, findings = load_bytes(b"\xef\xbb\xbfa: 1\n", "f")
    assert doc.data == {"a": 1} and not findings
