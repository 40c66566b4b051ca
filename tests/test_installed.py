"""Settings fixed at install are recorded in the lock at render; lint, render and check refuse a change.

The Cilium chart says ``clustermesh.maxConnectedClusters`` "cannot be changed on running clusters";
``cluster.id`` is part of every identity the cluster allocated; CAPA's AWSManagedControlPlane webhook
refuses a changed IP family. The finding uses the
`# expect` fixture convention (tests/lintcase.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from fleetgen.main import cli

from .lintcase import actual, expected

BASE = (Path(__file__).parent / "fleets" / "base.yaml").read_text()
GKE_NET = "pods: 10.1.0.0/16, services: 10.101.0.0/16, meshID: 2}"
DOCKER_NET = "pods: 10.2.0.0/16, services: 10.102.0.0/16, meshID: 3}"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rendered(tmp_path: Path, text: str = BASE) -> Path:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(text)
    result = run("render", str(fleet))
    assert result.exit_code == 0, result.output
    return fleet


def lock(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "rendered" / ".fleetgen.lock").read_text())


def test_render_records_mesh_ids_limit_and_families(tmp_path):
    rendered(tmp_path)
    assert lock(tmp_path)["installed"] == {
        "maxConnectedClusters": 255,  # the default (fleet-format.md)
        "meshIDs": {"prod-a": 1, "prod-b": 2, "stage-a": 3},
        "ipFamilies": {"prod-a": "ipv4", "prod-b": "ipv4", "stage-a": "ipv4"},
    }


def test_no_mesh_ids_without_cilium(tmp_path):
    rendered(tmp_path, BASE.replace("defaults:", "network: {mesh: none}\ndefaults:", 1))
    assert lock(tmp_path)["installed"] == {
        "meshIDs": {},
        "ipFamilies": {"prod-a": "ipv4", "prod-b": "ipv4", "stage-a": "ipv4"},
    }


def test_changed_mesh_id_is_a_finding_for_lint_render_and_check(tmp_path):
    fleet = rendered(tmp_path)
    text = BASE.replace(GKE_NET, GKE_NET.replace("meshID: 2}", "meshID: 7}  # expect[immutable-setting]: 7}"))
    fleet.write_text(text)
    assert actual(fleet) == expected(text)
    before = (tmp_path / "rendered" / "clusters" / "prod-b" / "cilium" / "values.yaml").read_bytes()
    result = run("render", str(fleet))
    assert result.exit_code == 1 and "nothing rendered" in result.output
    assert "was installed as Cilium cluster.id 2, now 7" in result.output
    assert (tmp_path / "rendered" / "clusters" / "prod-b" / "cilium" / "values.yaml").read_bytes() == before
    checked = run("check", str(fleet))
    assert checked.exit_code == 1 and "immutable-setting" in checked.output


def test_changed_max_connected_clusters(tmp_path):
    fleet = rendered(tmp_path)
    text = BASE.replace(
        "defaults:", "network:\n  maxConnectedClusters: 511  # expect[immutable-setting]: 511\ndefaults:", 1
    )
    fleet.write_text(text)
    assert actual(fleet) == expected(text)


def test_changed_ip_family(tmp_path):
    fleet = rendered(tmp_path)
    new = 'pods: "fd00:2::/56", services: "fd00:102::/108", meshID: 3, nodeMask: 64}'
    # Docker pods are IPv4-only as fleetgen renders them (ip-family), and the family was installed as IPv4.
    text = BASE.replace(DOCKER_NET, new + '  # expect[immutable-setting]: "fd00  # expect[ip-family]: "fd00')
    fleet.write_text(text)
    assert actual(fleet) == expected(text)


def test_a_suppressed_change_is_recorded_and_then_clean(tmp_path):
    fleet = rendered(tmp_path)
    suppressed = "meshID: 7}  # fleetgen: ignore[immutable-setting]"
    fleet.write_text(BASE.replace(GKE_NET, GKE_NET.replace("meshID: 2}", suppressed)))
    assert run("render", str(fleet)).exit_code == 0
    assert lock(tmp_path)["installed"]["meshIDs"]["prod-b"] == 7
    fleet.write_text(BASE.replace(GKE_NET, GKE_NET.replace("meshID: 2}", "meshID: 7}")))
    assert actual(fleet) == set()


def with_gone(mesh_id: int) -> str:
    gone = (
        '  - name: gone\n    environment: staging\n    region: us-east-1\n    kubernetesVersion: "1.31"\n'
        "    provider: {type: docker}\n"
        f"    network: {{pods: 10.3.0.0/16, services: 10.103.0.0/16, meshID: {mesh_id}}}\n"
    )
    return BASE.replace("applicationSets:", gone + "applicationSets:", 1)


def test_removed_cluster_is_forgotten(tmp_path):
    fleet = rendered(tmp_path, with_gone(4))
    assert lock(tmp_path)["installed"]["meshIDs"]["gone"] == 4
    rendered(tmp_path)
    assert "gone" not in lock(tmp_path)["installed"]["meshIDs"]
    fleet.write_text(with_gone(5))
    assert actual(fleet) == set()


def test_a_lock_without_the_record_changes_nothing(tmp_path):
    fleet = rendered(tmp_path)
    body = lock(tmp_path)
    del body["installed"]
    (tmp_path / "rendered" / ".fleetgen.lock").write_text(json.dumps(body))
    fleet.write_text(BASE.replace("meshID: 2}", "meshID: 7}"))
    assert actual(fleet) == set()
