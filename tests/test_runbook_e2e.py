"""The platform runbook, end to end through the real CLI on a copy of a small fleet.

add-cluster -> render -> register -> render -> upgrade waves until done (render after each) ->
remove-cluster -> render, with ``fleetgen check`` and ``fleetgen lint`` clean after every step.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen.main import cli

from tests.conftest import ADD_EKS_PROD_C

# prod-b runs on Docker here: upgrade writes minors, and a GKE cluster needs the GKE patch
# release, which only its operator can pick (lint gke-version refuses a bare minor).
BASE = (
    (Path(__file__).resolve().parent / "fleets" / "base.yaml")
    .read_text()
    .replace("    provider: {type: gcp, project: example-project}\n", "    provider: {type: docker}\n")
    .replace('    kubernetesVersion: "1.30.2"\n', "")
)
POOLS = (
    "network:\n"
    "  allocation: {pods: 10.0.0.0/12, podPrefix: 16, services: 10.100.0.0/14, servicePrefix: 20,\n"
    "               nodes: 172.16.0.0/12, nodePrefix: 16}\n"
)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def fleet(tmp_path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(BASE.replace("defaults:", POOLS + "defaults:", 1))
    return path


def step(fleet: Path, *args: str) -> str:
    """Run one runbook command, then settle."""
    result = run(*args, str(fleet))
    assert result.exit_code == 0, result.output
    settle(fleet)
    return result.output


def settle(fleet: Path) -> None:
    """Render, then require ``check`` and ``lint`` to be clean."""
    rendered = run("render", str(fleet))
    assert rendered.exit_code == 0, rendered.output
    checked = run("check", str(fleet))
    assert checked.exit_code == 0, checked.output
    linted = run("lint", str(fleet))
    assert linted.exit_code == 0 and "0 errors" in linted.output, linted.output


def plan(fleet: Path) -> dict:
    result = run("plan", "--format", "json", str(fleet))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_runbook(fleet):
    assert run("render", str(fleet)).exit_code == 0

    added = step(fleet, *ADD_EKS_PROD_C, "--label", "tier=standard")
    assert "+ pending registration: prod-c" in added
    assert "kubectl wait --for=condition=ControlPlaneInitialized cluster/prod-c -n prod-c" in added
    assert "fleetgen register prod-c" in added and "karmadactl join prod-c" in added
    assert (fleet.parent / "rendered" / "hub" / "capi" / "prod-c.yaml").exists()
    assert "prod-c" in plan(fleet)["pending"]

    assert "--server https://<api-endpoint> --ca-data <certificate-authority-data>" in added  # EKS needs its CA
    ca = next(line for line in BASE.splitlines() if line.startswith("    caData: ")).split()[1]
    registered = step(fleet, "register", "prod-c", "--server", "https://prod-c.example.com:6443", "--ca-data", ca)
    assert "+ application prod-c-web (services)" in registered
    assert "- pending registration: prod-c" in registered
    assert (fleet.parent / "rendered" / "hub" / "argocd" / "clusters" / "prod-c.yaml").exists()
    after = plan(fleet)
    assert "prod-c" not in after["pending"] and "prod-c-web" in {a["name"] for a in after["applications"]}

    waves = []
    while True:
        out = run("upgrade", "--to", "1.31", str(fleet)).output
        if out.startswith("nothing to do"):
            break
        waves.append(out.splitlines()[0])
        again = run("upgrade", "--to", "1.31", str(fleet)).output
        assert "is set in fleet.yaml but not rendered yet" in again  # one wave per PR
        settle(fleet)
        assert len(waves) < 10
    # staging already runs 1.31; production moves one region per wave, regions in order
    assert waves == [f"wave 1: 1.30 -> 1.31: {c}" for c in ("prod-c", "prod-b", "prod-a")]
    assert plan(fleet)["upgrades"] == []

    removed = step(fleet, "remove-cluster", "prod-a")  # prod-b and prod-c still run orders
    assert "karmadactl unjoin prod-a" in removed and "Cluster API DELETES" in removed
    assert "prod-a" not in json.dumps(plan(fleet))
    assert "prod-a" not in fleet.read_text()


def test_remove_refuses_to_strand_a_workload(fleet):
    assert run("render", str(fleet)).exit_code == 0
    step(fleet, "remove-cluster", "prod-a")
    before = fleet.read_bytes()
    refused = run("remove-cluster", "prod-b", str(fleet))
    assert refused.exit_code == 1 and "orders would have no cluster left" in refused.output
    assert fleet.read_bytes() == before
    forced = step(fleet, "remove-cluster", "prod-b", "--force")
    assert "warning: workload 'orders' has no cluster left" in forced
    assert "weights" not in fleet.read_text()


def test_wave_all_moves_every_cluster_one_minor(fleet):
    assert run("render", str(fleet)).exit_code == 0
    out = step(fleet, "upgrade", "--to", "1.32", "--wave", "all")
    # one minor per cluster before the tree moves: staging 1.31 -> 1.32, production 1.30 -> 1.31
    assert "1.31 -> 1.32: stage-a" in out and "1.30 -> 1.31: prod-a" in out and "1.30 -> 1.31: prod-b" in out
    assert run("upgrade", "--to", "1.31", str(fleet)).output.startswith("nothing to do")
    second = step(fleet, "upgrade", "--to", "1.32", "--wave", "all")
    assert "1.31 -> 1.32: prod-a" in second and "stage-a" not in second
    assert run("upgrade", "--to", "1.32", str(fleet)).output.startswith("nothing to do")
