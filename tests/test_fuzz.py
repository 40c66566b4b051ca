"""Fuzzing: random YAML and random mutations of the example fleet give findings or success, never a crash."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from fleetgen import lint, schema
from fleetgen.findings import exit_code
from fleetgen.load import load_bytes, load_text
from fleetgen.model import build
from fleetgen.report import json_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLE_TEXT = (Path(__file__).resolve().parents[1] / "fleet.yaml").read_text()
EXAMPLE = load_text(EXAMPLE_TEXT, "fleet.yaml")[0].data

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "10.0.0.0/8",
            "1.30",
            "https://x.example.com",
            "",
            "{{ .name }}",
            "${HOME}",
            "../../etc",
            "a" * 70,
            "prod-us-east-1",
            "‮evil",
            "раb",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def run_pipeline(raw: bytes) -> int:
    """The lint command's pipeline without the file system: must return 0 or 1, never raise."""
    doc, findings = load_bytes(raw, "fleet.yaml")
    if doc is not None:
        findings += schema.validate(doc)
        fleet = build(doc.data) if not any(f.severity == "error" for f in findings) else None
        findings += lint.run(doc, fleet).findings
    json.loads(json_report.render(findings))
    for f in findings:
        assert f.line >= 1 and f.column >= 1 and f.rule
    return exit_code(findings)


def paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths(v, (*prefix, i))


ALL_PATHS = [p for p in paths(EXAMPLE) if p]


def mutate(data, path, value, delete):
    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return data


FAST = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), values, st.booleans()), min_size=1, max_size=3))
def test_mutated_example_never_crashes(edits):
    data = EXAMPLE
    for path, value, delete in edits:
        try:
            data = mutate(data, path, value, delete)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed the path
    assert run_pipeline(json.dumps(data, default=str).encode()) in (0, 1)


@FAST
@given(values)
def test_random_documents_never_crash(value):
    assert run_pipeline(json.dumps(value).encode()) in (0, 1)


@settings(max_examples=1000, deadline=None)
@given(st.integers(0, len(EXAMPLE_TEXT) - 1), st.text(max_size=6), st.integers(0, 8))
def test_text_splices_never_crash(at, insert, cut):
    text = EXAMPLE_TEXT[:at] + insert + EXAMPLE_TEXT[at + cut :]
    assert run_pipeline(text.encode("utf-8", "surrogatepass")) in (0, 1)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(raw):
    assert run_pipeline(raw) in (0, 1)
