"""The shipped list-key table is what the maintainer script extracts from the vendored upstream schemas."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("list_map_keys", ROOT / "tools" / "list_map_keys.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_matches_the_vendored_schemas():
    shipped = json.loads((ROOT / "generator" / "fleetgen" / "schemas" / "list_keys.json").read_text())
    assert _script().extract(ROOT / "generator" / "fleetgen" / "schemas" / "upstream") == shipped


def test_containers_are_keyed_by_name_as_the_api_server_merges_them():
    shipped = json.loads((ROOT / "generator" / "fleetgen" / "schemas" / "list_keys.json").read_text())
    # k8s.io/api apps/v1 DeploymentSpec.template.spec.containers: +listType=map, +listMapKey=name
    assert shipped["apps/v1 Deployment"]["spec.template.spec.containers"] == ["name"]
