"""The fast schema path (jsonschema-rs) and jsonschema give identical findings, on valid and invalid fleets.

jsonschema-rs only decides "valid"; a fleet it rejects is explained by jsonschema. So findings
are identical exactly when jsonschema-rs never accepts what jsonschema rejects, which these tests
hold on hand-made invalid fleets (one per schema keyword the fleet schema uses) and on random
mutations of the example fleet.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from fleetgen import schema
from fleetgen.load import load_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.synth import fleet_yaml

EXAMPLE = (Path(__file__).resolve().parents[1] / "fleet.yaml").read_text()


def _doc(text: str):
    doc, syntax = load_text(text, "fleet.yaml")
    assert doc is not None and not syntax, syntax
    return doc


def _slow_findings(doc, monkeypatch):
    """validate() with jsonschema alone: the fast validator made to reject everything."""
    with monkeypatch.context() as m:
        m.setattr(schema, "_fast_validator", lambda: _RejectAll())
        return schema.validate(doc)


class _RejectAll:
    def is_valid(self, data) -> bool:
        return False


def _agree(data, monkeypatch) -> list:
    doc = _doc(json.dumps(data, indent=1))
    fast_valid = schema._fast_validator().is_valid(schema.merged_view(doc.data))
    slow_errors = list(schema._validator().iter_errors(schema.merged_view(doc.data)))
    assert not (fast_valid and slow_errors), [e.message for e in slow_errors]
    fast = schema.validate(doc)
    assert fast == _slow_findings(doc, monkeypatch)
    return fast


@pytest.mark.parametrize("text", [EXAMPLE, fleet_yaml(40), fleet_yaml(700)], ids=["example", "synth-40", "synth-700"])
def test_valid_fleets_are_valid_on_both_paths(text, monkeypatch):
    doc = _doc(text)
    assert schema._fast_validator().is_valid(schema.merged_view(doc.data))
    assert schema.validate(doc) == _slow_findings(doc, monkeypatch) == []


def _example():
    return _doc(EXAMPLE).data


# One edit per keyword of fleet.schema.json: (path, new value); None as path[-1]'s value deletes the key.
INVALID = {
    "type": (("clusters", 0, "name"), 7),
    "pattern": (("clusters", 0, "name"), "Not_DNS"),
    "enum": (("clusters", 0, "environment"), "prod-ish"),
    "required": (("clusters", 0, "name"), ...),
    "additionalProperties": (("clusters", 0, "surprise"), 1),
    "format cidr": (("clusters", 0, "network", "pods"), "10.0.0.1/8"),
    "format url": (("repo", "url"), "http://git.example.com/x"),
    "const": (("kind",), "Fleets"),
    "minimum": (("clusters", 0, "nodePools", 0, "min"), -1),
    "maxLength": (("clusters", 0, "name"), "a" * 300),
    "propertyNames": (("clusters", 0, "labels"), {"bad key!": "x"}),
    "minItems": (("applicationSets", 0, "apps"), []),
    "oneOf": (("workloads", 0, "globalService"), "yes"),
    "not": (("clusters", 0, "labels"), {"region": "x"}),
    "uniqueItems": (("environments",), ["staging", "staging"]),
    "if/then": (("clusters", 0, "provider"), {"type": "aws"}),
}


@pytest.mark.parametrize("keyword", sorted(INVALID))
def test_invalid_fleets_give_the_same_findings(keyword, monkeypatch):
    data = _example()
    path, value = INVALID[keyword]
    _set(data, path, value)
    assert [f for f in _agree(data, monkeypatch) if f.rule == "schema"], keyword


def _set(data, path, value):
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


BASE = _example()
PATHS = [p for p in _paths(BASE) if p]
VALUES = [
    None,
    True,
    0,
    -1,
    70000,
    10**30,
    1.5,
    "",
    "x",
    "UPPER",
    "10.0.0.0/8",
    "10.0.0.1/8",
    "fd00::/48",
    "1.30",
    "https://a.example.com",
    "http://a",
    "v1.30.2",
    "a" * 70,
    "abc\n",
    [],
    {},
    ["x"],
    {"k": "v"},
    ...,
]


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(VALUES)), min_size=1, max_size=3))
def test_random_mutations_give_the_same_findings(edits):
    data = copy.deepcopy(BASE)
    for path, value in edits:
        try:
            _set(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced the parent
    with pytest.MonkeyPatch.context() as monkeypatch:
        _agree(data, monkeypatch)
