"""``network.mesh: submariner`` is removed (issue 13 §5): fleetgen rendered nothing for it.

An on-prem fleet (two vSphere/kubeadm clusters and a Docker dev cluster) is the case the issue
reported. With ``submariner`` it is a positioned schema error whose hint names the way out; the
migration target ``none`` renders a tree that validates strictly and whose README draws no mesh;
with ``cilium`` the README marks exactly the ClusterMesh peers, the clusters whose Cilium values
list peers. Expected values are worked out by hand from the fleet below.
"""

from __future__ import annotations

import json

from click.testing import CliRunner
from fleetgen.main import cli

FLEET = """\
apiVersion: fleetgen/v1alpha1
kind: Fleet
name: onprem
repo: {url: https://github.com/example/onprem}
hub: {name: hub}
network:
  mesh: MESH
defaults:
  kubernetesVersion: "1.30.7"
  nodePools: [{name: workers, instanceType: 4x16, min: 1, max: 3}]
clusters:
  - name: vs-a
    environment: production
    region: dc1
    server: https://192.168.10.10:6443
    provider: {type: vsphere, server: vcenter.example.com, datacenter: DC1, template: ubuntu-2204,
               thumbprint: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD', datastore: ds1,
               resourcePool: pool1}
    network: {pods: 10.60.0.0/16, services: 10.61.0.0/20MESH_ID_1}
  - name: vs-b
    environment: production
    region: dc2
    labels: {tier: standard}
    server: https://192.168.20.10:6443
    provider: {type: vsphere, server: vcenter.example.com, datacenter: DC2, template: ubuntu-2204,
               thumbprint: 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD', datastore: ds2,
               resourcePool: pool2}
    network: {pods: 10.62.0.0/16, services: 10.63.0.0/20MESH_ID_2}
  - name: dev
    environment: development
    region: local
    server: https://127.0.0.1:6443
    kubernetesVersion: "1.31.2"
    provider: {type: docker}
    network: {pods: 10.250.0.0/16, services: 10.251.0.0/20MESH_ID_3}
"""


def fleet_text(mesh: str) -> str:
    text = FLEET.replace("mesh: MESH", f"mesh: {mesh}")
    for i in (1, 2, 3):
        text = text.replace(f"MESH_ID_{i}", f", meshID: {i}" if mesh == "cilium" else "")
    return text


def lint_json(tmp_path, text: str) -> tuple[int, dict]:
    (tmp_path / "fleet.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["lint", str(tmp_path / "fleet.yaml"), "--format", "json"])
    return result.exit_code, json.loads(result.output)


def render(tmp_path, mesh: str):
    (tmp_path / "fleet.yaml").write_text(fleet_text(mesh))
    result = CliRunner().invoke(cli, ["render", str(tmp_path / "fleet.yaml")])
    assert result.exit_code == 0, result.output
    return tmp_path / "rendered"


def test_submariner_is_a_schema_error_on_the_value_with_a_migration_hint(tmp_path):
    code, report = lint_json(tmp_path, fleet_text("submariner"))
    assert code == 1
    (finding,) = report["findings"]
    # line 7 is "  mesh: submariner"; the value starts after "  mesh: " (8 characters)
    assert (finding["rule"], finding["line"], finding["column"]) == ("schema", 7, 9)
    assert finding["path"] == "network.mesh"
    assert finding["message"] == 'mesh: \'submariner\' is no longer supported; allowed: "cilium", "none"'
    assert "set mesh: none and install Submariner with subctl" in finding["hint"]
    assert "docs/controllers/submariner.md" in finding["hint"]


def test_a_misspelt_mesh_keeps_the_plain_enum_message(tmp_path):
    code, report = lint_json(tmp_path, fleet_text("cillium"))
    assert code == 1
    (finding,) = report["findings"]
    assert finding["message"] == 'mesh: \'cillium\' is not one of "cilium", "none"'


def test_mesh_none_renders_no_mesh_and_validates_strictly(tmp_path):
    out = render(tmp_path, "none")
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert not [f for f in files if "cilium" in f or "submariner" in f.lower()]
    readme = (out / "README.md").read_text()
    assert "classDef mesh" not in readme and " mesh\n" not in readme
    assert "Blue border" not in readme and "mesh" not in readme.split("## Clusters")[0].lower()
    result = CliRunner().invoke(cli, ["validate-rendered", str(out)])
    assert result.exit_code == 0, result.output


def test_mesh_cilium_marks_exactly_the_clustermesh_peers(tmp_path):
    out = render(tmp_path, "cilium")
    readme = (out / "README.md").read_text()
    # push-mode vSphere clusters are members by default; a docker cluster is not (model.default_mesh_member)
    assert [line.strip() for line in readme.splitlines() if line.endswith(" mesh")] == [
        "class c_vs_a mesh",
        "class c_vs_b mesh",
    ]
    assert "Blue border: member of the cilium mesh." in readme
    # the README marks those whose Cilium values carry a clustermesh block, and no others
    assert "clustermesh" in (out / "clusters/vs-a/cilium/values.yaml").read_text()
    assert "clustermesh" not in (out / "clusters/dev/cilium/values.yaml").read_text()
    result = CliRunner().invoke(cli, ["validate-rendered", str(out)])
    assert result.exit_code == 0, result.output
