"""fleet.yaml ``extraManifests``: hand-written manifests copied byte for byte into the owned tree, validated,
scanned, drift-checked, named in the platform AppProject, and never read from outside fleet.yaml's directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner
from fleetgen.main import cli
from fleetgen.tree import digest

from .lintcase import run_case

BASE = (Path(__file__).parent / "fleets" / "base.yaml").read_text()
EXTRA = BASE + "extraManifests:\n  - source: manifests/hub\n"
TOOLS = """\
# the platform team's tools namespace, its own ClusterRole, and a contact list
apiVersion: v1
kind: Namespace
metadata:
  name: platform-tools
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: platform-tools-reader
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: contacts
  namespace: platform-tools
data:
  oncall: platform-team
"""
COPY = "rendered/hub/extra/manifests/hub/tools.yaml"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def repo(tmp_path: Path, fleet: str = EXTRA, tools: str = TOOLS) -> Path:
    (tmp_path / "manifests/hub").mkdir(parents=True)
    (tmp_path / "manifests/hub/tools.yaml").write_text(tools)
    (tmp_path / "manifests/hub/README.md").write_text("not a manifest: not copied\n")
    (tmp_path / "fleet.yaml").write_text(fleet)
    return tmp_path / "fleet.yaml"


def test_a_hub_manifest_is_copied_owned_and_validated(tmp_path):
    fleet = repo(tmp_path)
    result = run("render", str(fleet))
    assert result.exit_code == 0, result.output
    copied = (tmp_path / COPY).read_bytes()
    assert (
        copied
        == (
            "# copied by fleetgen from manifests/hub/tools.yaml (fleet.yaml extraManifests) — edit the "
            "source, not this copy\n"
        ).encode()
        + TOOLS.encode()
    )
    assert not (tmp_path / "rendered/hub/extra/manifests/hub/README.md").exists()
    lock = json.loads((tmp_path / "rendered/.fleetgen.lock").read_text())
    assert lock["files"]["hub/extra/manifests/hub/tools.yaml"] == digest(copied)
    # fleet-root syncs hub/ under fleet-platform, which permits cluster-scoped objects only by name.
    project = (tmp_path / "rendered/hub/argocd/projects/fleet-platform.yaml").read_text()
    # Namespaces are allowed by kind already; the ClusterRole is named (sorted by group, kind, name).
    assert project.count("kind: Namespace\n") == 1
    assert (
        "    - group: rbac.authorization.k8s.io\n      kind: ClusterRole\n      name: platform-tools-reader\n"
    ) in project
    assert "name: contacts" not in project  # namespaced: no whitelist entry needed
    # ... but its namespace is one of the hub destinations fleet-root may write
    assert "    - server: https://kubernetes.default.svc\n      namespace: platform-tools\n" in project
    assert run("check", str(fleet), "--schemas").exit_code == 0
    validated = run("validate-rendered", str(tmp_path / "rendered"))
    assert validated.exit_code == 0, validated.output


def test_check_detects_drift_of_a_copied_manifest(tmp_path):
    fleet = repo(tmp_path)
    assert run("render", str(fleet)).exit_code == 0
    copy = tmp_path / COPY
    copy.write_text(copy.read_text().replace("platform-team", "someone-else"))
    checked = run("check", str(fleet), "--format", "json")
    assert checked.exit_code == 1
    [finding] = json.loads(checked.output)["findings"]
    # line 23: the header line, then line 22 of the source (oncall)
    assert (finding["rule"], finding["line"]) == ("hand-edit", 23)
    assert finding["file"].endswith(COPY)
    assert run("render", str(fleet)).exit_code == 0  # the copy is owned: render restores it
    (tmp_path / "manifests/hub/tools.yaml").write_text(TOOLS.replace("platform-team", "sre"))
    checked = run("check", str(fleet), "--format", "json")
    assert [(f["rule"], f["line"]) for f in json.loads(checked.output)["findings"]] == [("stale-render", 23)]
    fleet.write_text(BASE)  # the entry removed: the copy is fleetgen's, so the next render deletes it
    assert run("render", str(fleet)).exit_code == 0
    assert not copy.exists()


def test_copied_manifests_are_checked_against_upstream_schemas(tmp_path):
    fleet = repo(tmp_path, tools=TOOLS.replace("\ndata:\n", "\ndataa:\n"))
    assert run("render", str(fleet)).exit_code == 0
    checked = run("check", str(fleet), "--schemas", "--format", "json")
    [finding] = json.loads(checked.output)["findings"]
    # at the ConfigMap holding the unknown key: its mapping starts on source line 16, line 17 below the header
    assert (finding["rule"], finding["line"], finding["path"]) == ("upstream-schema", 17, "[2]")
    assert finding["file"].endswith(COPY) and "'dataa' was unexpected" in finding["message"]


def test_a_credential_in_a_manifest_is_never_copied(tmp_path):
    fleet = repo(tmp_path, tools=TOOLS.replace("oncall: platform-team", "key: AKIAIOSFODNN7EXAMPLE"))
    result = run("render", str(fleet))
    assert result.exit_code == 1 and "secret-material" in result.output
    assert not (tmp_path / "rendered").exists()


def test_escapes_are_refused_at_the_entry(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "stolen.yaml").write_text(TOOLS)
    base = tmp_path / "repo"
    (base / "manifests/hub").mkdir(parents=True)
    (base / "manifests/hub/tools.yaml").write_text(TOOLS)
    (base / "manifests/linked").mkdir()
    os.symlink(outside / "stolen.yaml", base / "manifests/linked/stolen.yaml")
    os.symlink(outside, base / "manifests/out")
    (base / "manifests/dirlink").mkdir()
    os.symlink(base / "manifests/hub", base / "manifests/dirlink/hub")
    os.mkfifo(base / "manifests/pipe.yaml")  # would block a reader forever
    (base / "rendered/hub").mkdir(parents=True)
    (base / "rendered/hub/x.yaml").write_text(TOOLS)
    # A schema error stops the stages after it, so the '..' path is its own case.
    run_case(base, BASE + "extraManifests:\n  - source: ../outside/stolen.yaml  # expect[schema]: ../outside\n")
    text = (
        BASE
        + """\
extraManifests:
  - source: manifests/hub
  - source: manifests/linked  # expect[extra-manifest]: manifests/linked
  - source: manifests/out/stolen.yaml  # expect[extra-manifest]: manifests/out
  - source: manifests/dirlink  # expect[extra-manifest]: manifests/dirlink
  - source: rendered/hub  # expect[extra-manifest]: rendered/hub
  - source: manifests/missing.yaml  # expect[extra-manifest]: manifests/missing
  - source: manifests/hub/tools.yaml  # expect[extra-manifest]: manifests/hub/tools
  - source: manifests/pipe.yaml  # expect[extra-manifest]: manifests/pipe
"""
    )
    run_case(base, text)
    checked = run("lint", str(base / "fleet.yaml"), "--format", "json")
    messages = {f["path"]: f["message"] for f in json.loads(checked.output)["findings"]}
    assert messages["extraManifests[1].source"] == (
        f"manifests/linked/stolen.yaml resolves to {outside}/stolen.yaml, outside fleet.yaml's directory {base}"
    )
    assert messages["extraManifests[3].source"] == (
        "manifests/dirlink/hub is a symbolic link to a directory; name its target itself"
    )
    assert messages["extraManifests[4].source"] == (
        f"rendered/hub is inside the rendered tree {base}/rendered: fleetgen would copy its own output"
    )
    assert messages["extraManifests[6].source"] == (
        "manifests/hub/tools.yaml is already copied by an earlier extraManifests entry"
    )
    assert messages["extraManifests[2].source"] == (
        f"manifests/out/stolen.yaml resolves to {outside}/stolen.yaml, outside fleet.yaml's directory {base}"
    )
    assert messages["extraManifests[7].source"] == "manifests/pipe.yaml is not a regular file"
    assert sorted(p.name for p in outside.iterdir()) == ["stolen.yaml"]  # nothing was written outside
    assert run("render", str(base / "fleet.yaml")).exit_code == 1


def test_a_manifest_kubernetes_cannot_read_is_positioned_in_it(tmp_path):
    fleet = repo(tmp_path, tools=TOOLS.replace("  oncall: platform-team\n", "  oncall: [platform-team\n"))
    (tmp_path / "manifests/hub/second.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n---\nkind: x\n")
    result = run("lint", str(fleet), "--format", "json")
    assert result.exit_code == 1
    found = [(f["file"], f["line"], f["column"]) for f in json.loads(result.output)["findings"]]
    # the unclosed flow sequence is reported where libyaml gives up (the end of the 22-line file);
    # the second file's two documents at their starts
    second = f"{tmp_path.as_posix()}/manifests/hub/second.yaml"
    assert found == [(second, 1, 1), (second, 4, 1), (f"{tmp_path.as_posix()}/manifests/hub/tools.yaml", 23, 1)]


def test_the_orphan_hint_points_at_extra_manifests_and_patches(tmp_path):
    fleet = repo(tmp_path, fleet=BASE)
    assert run("render", str(fleet)).exit_code == 0
    (tmp_path / "rendered/hub/mine.yaml").write_text(TOOLS)
    [finding] = json.loads(run("check", str(fleet), "--format", "json").output)["findings"]
    assert finding["rule"] == "orphan"
    assert "`extraManifests`" in finding["hint"] and "`patches`" in finding["hint"]
