"""Shared test fixtures: the example fleet, fleets built from text, and upstream-schema validation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fleetgen import lint
from fleetgen.findings import ERROR, Finding
from fleetgen.load import load_text
from fleetgen.model import Fleet, build
from fleetgen.schema import validate
from fleetgen.upstream.cel import Rules
from fleetgen.upstream.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _render_cache_in_tmp(tmp_path_factory):
    """The incremental render's cache (fleetgen.cachedir) goes to a temporary directory, not ~/.cache."""
    os.environ["FLEETGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("fleetgen-cache"))


EXAMPLE = ROOT / "fleet.yaml"


def fleet_from_text(text: str) -> Fleet:
    """Build a Fleet from YAML text, failing the test on any syntax or schema finding."""
    doc, findings = load_text(text, "fleet.yaml")
    assert doc is not None and not findings, findings
    errors = validate(doc)
    assert not errors, errors
    return build(doc.data)


def lint_text(text: str) -> list[Finding]:
    """What ``fleetgen lint`` reports for ``text`` with no rendered tree: syntax, schema, then every rule."""
    doc, found = load_text(text, "fleet.yaml")
    assert doc is not None, found
    found = [*found, *validate(doc)]
    fleet = None if any(f.severity == ERROR for f in found) else build(doc.data)
    return sorted(set(found + lint.run(doc, fleet).findings))


@pytest.fixture(scope="session")
def example_text() -> str:
    return EXAMPLE.read_text()


@pytest.fixture(scope="session")
def example_fleet(example_text) -> Fleet:
    return fleet_from_text(example_text)


@pytest.fixture(scope="session")
def upstream():
    """``upstream(doc)`` -> list of error strings from the vendored upstream schema (strict) and its CEL rules;
    fails on kinds without a vendored schema."""
    store, rules = Store(), Rules()

    def check(doc: dict) -> list[str]:
        compiled = store.kind(doc.get("apiVersion"), doc.get("kind"))
        assert compiled is not None, f"no upstream schema for {doc.get('apiVersion')} {doc.get('kind')}"
        return [f"{message} at {list(path)}" for path, message in compiled.errors(doc)] + [
            f"{f.message} (CEL: {f.rule}) at {list(f.path)}" for f in rules.check(compiled.schema, doc)
        ]

    return check


@pytest.fixture(scope="session")
def cilium_values_schema():
    """The Cilium chart's values schema as validate-rendered applies it (closed: unknown keys fail)."""
    return Store().chart("cilium").explainer


# `fleetgen add-cluster` of an EKS production cluster prod-c in ap-south-1 (account 123456789012):
# the runbook and the repository-fleet tests add it the same way.
ADD_EKS_PROD_C = (
    "add-cluster",
    "prod-c",
    "--environment",
    "production",
    "--region",
    "ap-south-1",
    "--provider",
    "aws",
    "--provider-field",
    "accountID=123456789012",
    "--provider-field",
    "roleARN=arn:aws:iam::123456789012:role/argocd",
)
