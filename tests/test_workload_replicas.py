"""workload-replicas: fleet.yaml's workloads[].replicas against the spec.replicas Karmada divides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen.main import cli

BASE = (Path(__file__).parent / "fleets" / "base.yaml").read_text()  # workload orders: replicas 6, workloads/orders


def deployment(replicas: int | None, name: str = "orders", kind: str = "Deployment") -> str:
    spec = f"spec:\n  replicas: {replicas}\n" if replicas is not None else "spec: {}\n"
    return f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: {name}\n{spec}"


def findings(tmp_path: Path, manifests: dict[str, str], fleet: str = BASE) -> list[dict]:
    (tmp_path / "fleet.yaml").write_text(fleet)
    for rel, text in manifests.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    result = CliRunner().invoke(cli, ["lint", "--format", "json", str(tmp_path / "fleet.yaml")])
    return [f for f in json.loads(result.output)["findings"] if f["rule"] == "workload-replicas"]


def test_a_manifest_with_other_replicas_is_a_warning_at_the_workloads_replicas(tmp_path):
    [found] = findings(tmp_path, {"workloads/orders/deploy.yaml": "---\n" + deployment(12)})
    line = next(n for n, text in enumerate(BASE.splitlines(), 1) if text == "    replicas: 6")
    assert (found["severity"], found["line"]) == ("warning", line)
    assert "spec.replicas 12" in found["message"] and "workloads/orders/deploy.yaml" in found["message"]


@pytest.mark.parametrize(
    "manifests",
    [
        {"workloads/orders/deploy.yaml": deployment(6)},  # the same number
        {"workloads/orders/other.yaml": deployment(12, name="sidecar")},  # not a listed resource
        {"workloads/orders/nested/deploy.yaml": deployment(12)},  # Argo CD's directory source is not recursive
        {"workloads/orders/Chart.yaml": "apiVersion: v2\nname: orders\n"},  # a chart: not read
        {},  # nothing in this repository
    ],
)
def test_only_a_listed_plain_manifest_with_other_replicas_counts(tmp_path, manifests):
    assert findings(tmp_path, manifests) == []


def test_unset_replicas_are_one_as_for_kubernetes_and_karmada(tmp_path):
    assert findings(tmp_path, {"workloads/orders/deploy.yaml": deployment(None)}) != []  # 1, not 6
    one = BASE.replace("    replicas: 6\n", "    replicas: 1\n")
    weights = one.replace("weights: {prod-a: 2, prod-b: 1}", "weights: {prod-a: 1, prod-b: 1}")
    assert findings(tmp_path, {"workloads/orders/deploy.yaml": deployment(None)}, weights) == []


def test_a_source_path_linked_outside_fleet_yamls_directory_is_not_read(tmp_path):
    """The schema refuses `..`; a symbolic link out of the repository is not followed either."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "deploy.yaml").write_text(deployment(12))
    repo = tmp_path / "repo"
    (repo / "workloads").mkdir(parents=True)
    (repo / "workloads" / "orders").symlink_to(outside)
    assert findings(repo, {}) == []
    (repo / "workloads" / "orders").unlink()
    assert findings(repo, {"workloads/orders/deploy.yaml": deployment(12)}) != []  # the same file, inside
