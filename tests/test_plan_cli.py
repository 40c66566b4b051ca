"""``fleetgen plan``: the JSON contract, failover, UID tie order, the rendered versions, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen.main import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fleet.yaml"
# Karmada binding_test.go's UIDs: FNV-1a-32 even -> names ascending, odd -> names descending.
EVEN_UID = "4858ca61-3ff8-4095-8267-f3d059d8074c"
ODD_UID = "d43fdeeb-d750-4e2b-bee3-64eb94534f4c"

TIES = (
    """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: ties
repo:
  url: https://github.com/example/fleet
hub:
  name: hub
  karmada:
    server: https://karmada.example.com:5443
defaults:
  kubernetesVersion: "1.30"
  environment: production
  labels: {tier: standard}
  provider: {type: docker}
clusters:
"""
    + "".join(
        f"""\
  - name: {name}
    region: r{i}
    server: https://{name}.example.com
    network: {{pods: 10.{i}.0.0/16, services: 10.10{i}.0.0/16, meshID: {i + 1}}}
"""
        for i, name in enumerate("abc")
    )
    + """\
workloads:
  - name: web
    namespace: web
    source: {path: workloads/web}
    resources: [{apiVersion: apps/v1, kind: Deployment, name: web}]
    clusters: {matchLabels: {tier: standard}}
    replicas: 7
    weights: {a: 1, b: 1, c: 1}
"""
)


def run(*args: str):
    return CliRunner().invoke(cli, ["plan", *args], catch_exceptions=False)


def plan_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def ties(tmp_path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(TIES)
    return path


def test_json_is_the_contract_shape():
    plan = plan_json(str(EXAMPLE))
    assert list(plan) == ["applications", "placements", "uncertain", "pending", "upgrades"]
    assert all(
        list(a) == ["applicationSet", "name", "cluster", "server", "path", "namespace"] for a in plan["applications"]
    )
    split = {"prod-ap-south-1": 10, "prod-eu-west-1": 20, "prod-us-east-1": 30}  # 60 over 1:2:3
    assert plan["placements"]["order-service"] == split
    assert plan["pending"] == ["dev-local", "gpu-inference-us-central1"]
    assert "prod-us-east-1-production-services" in {a["name"] for a in plan["applications"]}


def test_fail_shows_where_replicas_go():
    plan = plan_json(str(EXAMPLE), "--fail", "prod-us-east-1")
    assert list(plan)[3] == "failover"
    assert plan["failover"]["order-service"] == {"prod-ap-south-1": 20, "prod-eu-west-1": 40}


def test_empty_uid_breaks_ties_ascending_and_reports_uncertainty(ties):
    plan = plan_json(str(ties))
    assert plan["placements"]["web"] == {"a": 3, "b": 2, "c": 2}  # 7 over 1:1:1, empty UID
    assert plan["uncertain"]["web"] == {"a": [2, 3], "c": [2, 3]}


@pytest.mark.parametrize(("uid", "split"), [(EVEN_UID, {"a": 3, "b": 2, "c": 2}), (ODD_UID, {"a": 2, "b": 2, "c": 3})])
def test_uid_resolves_the_tie(ties, uid, split):
    plan = plan_json(str(ties), "--uid", f"web={uid}")
    assert plan["placements"]["web"] == split and plan["uncertain"] == {}


def test_current_versions_come_from_the_rendered_lock(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(TIES)
    assert CliRunner().invoke(cli, ["render", str(fleet)]).exit_code == 0
    assert plan_json(str(fleet))["upgrades"] == []
    fleet.write_text(TIES.replace('kubernetesVersion: "1.30"', 'kubernetesVersion: "1.31"'))
    waves = plan_json(str(fleet))["upgrades"]  # production: one region per wave
    assert waves == [{"wave": n, "clusters": [name], "from": "1.30", "to": "1.31"} for n, name in enumerate("abc", 1)]


def test_text_and_markdown_views(ties):
    text = run(str(ties), "--fail", "a").output
    assert "  web: a 3 (2–3 by UID), b 2, c 2 (2–3 by UID)\n" in text
    assert "Failover (lost: a)\n  web: a 3 → lost, b 2 → 4, c 2 → 3\n" in text
    markdown = run(str(ties), "--format", "markdown").output
    assert "| web | a | 3 | 2–3 |" in markdown and markdown.startswith("## fleetgen plan")


@pytest.mark.parametrize(
    "args", [["--fail", "nope"], ["--uid", "web"], ["--uid", "=x"], ["--uid", "nope=x"], ["--format", "xml"]]
)
def test_bad_options_exit_two(ties, args):
    result = CliRunner().invoke(cli, ["plan", str(ties), *args])
    assert result.exit_code == 2, result.output


def test_fleet_with_errors_exits_one(tmp_path):
    bad = tmp_path / "fleet.yaml"
    bad.write_text(TIES.replace("meshID: 2}", "meshID: 1}"))
    result = run(str(bad), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.output)["findings"][0]["rule"] == "mesh-id"
