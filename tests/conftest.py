"""Shared test fixtures: the example fleet, fleets built from text, and upstream-schema validation."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from generator.load import load_text
from generator.model import Fleet, build
from generator.schema import validate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EXAMPLE = ROOT / "fleet.yaml"


def fleet_from_text(text: str) -> Fleet:
    """Build a Fleet from YAML text, failing the test on any syntax or schema finding."""
    doc, findings = load_text(text, "fleet.yaml")
    assert doc is not None and not findings, findings
    errors = validate(doc)
    assert not errors, errors
    return build(doc.data)


@pytest.fixture(scope="session")
def example_text() -> str:
    return EXAMPLE.read_text()


@pytest.fixture(scope="session")
def example_fleet(example_text) -> Fleet:
    return fleet_from_text(example_text)


def _upstream_checker():
    spec = importlib.util.spec_from_file_location("shared_validate", SHARED / "schemas" / "validate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["shared_validate"] = module
    spec.loader.exec_module(module)
    return module, module.Checker(str(SHARED / "schemas" / "k8s"))


@pytest.fixture(scope="session")
def upstream():
    """``upstream(doc)`` -> list of error strings from the real upstream schema (strict); fails on unknown kinds."""
    module, checker = _upstream_checker()

    def check(doc: dict) -> list[str]:
        known, errors = checker.errors(doc)
        assert known, f"no upstream schema for {doc.get('apiVersion')} {doc.get('kind')}"
        return errors

    return check


@pytest.fixture(scope="session")
def cilium_values_schema():
    import json

    import jsonschema

    path = SHARED / "schemas" / "helm" / "cilium" / "1.20.0" / "values.schema.json"
    return jsonschema.Draft7Validator(json.loads(path.read_text()))
