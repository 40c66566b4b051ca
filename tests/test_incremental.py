"""Incremental render and check (fleetgen.units, fleetgen.incremental).

Random sequences of edits are rendered incrementally into one tree and from scratch into another,
and every byte is compared (lock included); changing fleetgen's version or a renderer's source
invalidates every unit; a one-cluster edit renders exactly the units that read that cluster; a
hand edit is found by ``check`` even where the cache recorded the file.
"""

from __future__ import annotations

import copy
import io
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import units
from fleetgen.incremental import produce
from fleetgen.main import cli
from ruamel.yaml import YAML

from bench.synth import cluster as synth_cluster
from bench.synth import fleet as synth_fleet
from tests.conftest import fleet_from_text

SIZE = 10


def dump(data: dict) -> str:
    buf = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    yaml.dump(data, buf)
    return buf.getvalue()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def weighted(data: dict) -> set[str]:
    return {name for w in data["workloads"] for name in w.get("weights", {})}


# ---------------------------------------------------------------- random edits (each keeps the fleet lint-clean)


def edit_pool(data, rng):
    c = rng.choice(data["clusters"])
    c["nodePools"][0]["max"] = rng.randint(2, 12)


def edit_tier(data, rng):
    candidates = [c for c in data["clusters"] if c["labels"]["tier"] != "edge" and c["name"] not in weighted(data)]
    if candidates:
        c = rng.choice(candidates)
        c["labels"]["tier"] = "gpu" if c["labels"]["tier"] == "standard" else "standard"


def edit_replicas(data, rng):
    data["workloads"][1]["replicas"] = rng.randint(1, 6)


def edit_image(data, rng):
    data["observability"]["thanos"]["image"] = f"quay.io/thanos/thanos:v0.38.{rng.randint(0, 9)}"


def edit_remove(data, rng):
    candidates = [c for c in data["clusters"] if c["name"] not in weighted(data)]
    if len(data["clusters"]) > 4 and candidates:
        data["clusters"].remove(rng.choice(candidates))


def edit_add(data, rng):
    used = {c["network"]["meshID"] for c in data["clusters"]}
    names = {c["name"] for c in data["clusters"]}
    index = rng.choice([i for i in range(12, 60) if not any(n.endswith(f"-{i:05d}") for n in names)])
    mesh_id = rng.choice([m for m in range(300, 500) if m not in used])
    data["clusters"].append(synth_cluster(index, "cilium", mesh_id))


def edit_shuffle(data, rng):
    rng.shuffle(data["clusters"])  # every cluster's position in fleet.yaml changes, its content does not


def edit_revision(data, rng):
    data["repo"]["revision"] = rng.choice(["main", "release", "v2"])


def edit_server(data, rng):
    c = rng.choice([c for c in data["clusters"] if "server" in c])
    if c["provider"]["type"] == "vsphere":  # kube-vip serves an IPv4 address on 6443 (lint control-plane-vip)
        c["server"] = f"https://10.9.{rng.randint(0, 99)}.10:6443"
    else:
        c["server"] = f"https://api-{rng.randint(0, 99)}.fleet.example.com"


EDITS = [
    edit_pool,
    edit_tier,
    edit_replicas,
    edit_image,
    edit_remove,
    edit_add,
    edit_shuffle,
    edit_revision,
    edit_server,
]


def tamper(out: Path, rng) -> None:
    """A hand edit or a deleted file in the rendered tree: ``check`` must see it, ``render`` must repair it."""
    files = sorted(p for p in out.rglob("*.yaml") if p.is_file() and "clusters" in p.parts)  # cluster units
    victim = rng.choice(files)
    if rng.random() < 0.5:
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes().replace(b"fleetgen", b"fleetgem", 1))  # same size, new bytes


@pytest.mark.parametrize("seed,racy", [(1, units.RACY_NS), (2, 0), (3, 0)])
def test_random_edit_sequences_render_incrementally_as_from_scratch(tmp_path, monkeypatch, seed, racy):
    """``racy`` 0 trusts every recorded stat (the fast path a hand edit must still not slip through)."""
    monkeypatch.setattr(units, "RACY_NS", racy)
    rng = random.Random(seed)
    data = synth_fleet(SIZE, "cilium")
    repo = tmp_path / "repo"
    repo.mkdir()
    fleet = repo / "fleet.yaml"
    for step in range(12):
        if step % 4 == 3:  # on an unchanged fleet every unit is reused: the recorded stats must not hide it
            tamper(repo / "rendered", rng)
            code, output = run("check", str(fleet))
            assert code == 1, (step, output)
        edit = rng.choice(EDITS)
        edit(data, rng)
        fleet.write_text(dump(data))
        code, output = run("render", str(fleet))
        assert code == 0, (step, edit.__name__, output)
        scratch = tmp_path / f"scratch-{step}"
        scratch.mkdir()
        shutil.copy(fleet, scratch / "fleet.yaml")
        assert run("render", "--full", str(scratch / "fleet.yaml"))[0] == 0
        assert snapshot(repo / "rendered") == snapshot(scratch / "rendered"), (step, edit.__name__)
        code, output = run("check", str(fleet))
        assert code == 0, (step, output)
        shutil.rmtree(scratch)


def rendered_synth_fleet(tmp_path: Path, monkeypatch) -> tuple[dict, Path]:
    """A synthetic fleet of SIZE clusters rendered, every recorded stat trusted (the fast path)."""
    monkeypatch.setattr(units, "RACY_NS", 0)
    data = synth_fleet(SIZE, "cilium")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    return data, fleet


def test_a_one_cluster_edit_renders_the_units_that_read_it(tmp_path, monkeypatch):
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    data["clusters"][2]["nodePools"][0]["max"] = 11
    fleet.write_text(dump(data))
    name = data["clusters"][2]["name"]
    result = produce(fleet_from_text(fleet.read_text()), data, "fleet.yaml", tmp_path / "rendered")
    rendered = {line.split(":")[0] + ":" + line.split(":")[1] for line in result.named}
    # Hand-checked: cluster 2 is a provisioned, registered push cluster (gcp) in the mesh; its own units render
    # (six files: capi, Argo CD Secret, access, Prometheus, store gateway, Cilium values; push: no agent
    # project), and every unit that lists clusters reads fleet.clusters. No other cluster's unit is rendered:
    # the other members' Cilium values read only the members' names (Fleet.mesh_members), which stay.
    own = {
        f"fleetgen.render.{m}:cluster/{name}"
        for m in ("capi", "argocd", "projects", "access", "observability", "cilium")
    }
    whole = {f"fleetgen.render.{m}:all" for m in ("karmada", "security", "index")}
    split = {f"fleetgen.render.{m}:fleet" for m in ("capi", "argocd", "projects", "observability")}
    assert rendered == own | whole | split
    # 6 split targets x 10 clusters, and the rest of access and of cilium (nothing), neither reading clusters
    assert result.reused == 6 * SIZE + 2 - len(own)
    assert not any("differs on disk" in line for line in result.named)


def test_a_pull_mode_cluster_edit_renders_its_own_agent_project_only(tmp_path, monkeypatch):
    """The agent AppProject of a pull-mode cluster is that cluster's unit: the others' are reused."""
    monkeypatch.setattr(units, "RACY_NS", 0)
    data = synth_fleet(SIZE, "cilium")
    # synth: every 6th cluster is imported (pull mode); 5 has no server yet (every 23rd from 5), so it is not
    # registered and has no agent project. 11 and 17 are registered pull-mode clusters.
    data["clusters"] += [synth_cluster(11, "cilium", 300), synth_cluster(17, "cilium", 301)]
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    agents = sorted(p.name for p in (tmp_path / "rendered/hub/argocd/projects").glob("fleet-agent-*.yaml"))
    assert agents == ["fleet-agent-prod-imported-00017.yaml", "fleet-agent-stag-imported-00011.yaml"]
    data["clusters"][-2]["nodePools"][0]["max"] = 11
    fleet.write_text(dump(data))
    result = produce(fleet_from_text(fleet.read_text()), data, "fleet.yaml", tmp_path / "rendered")
    rendered = {line.split(":")[0] + ":" + line.split(":")[1] for line in result.named}
    assert "fleetgen.render.projects:cluster/stag-imported-00011" in rendered
    assert not any(":cluster/" in name and not name.endswith("/stag-imported-00011") for name in rendered), rendered
    assert not any("differs on disk" in line for line in result.named)


def test_a_mesh_membership_edit_renders_every_members_cilium_values(tmp_path, monkeypatch):
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    before = fleet_from_text(fleet.read_text())
    leaving = data["clusters"][2]
    leaving["network"].setdefault("clustermesh", {})["member"] = False
    after = fleet_from_text(dump(data))
    assert set(before.mesh_members) - set(after.mesh_members) == {leaving["name"]}
    result = produce(after, data, "fleet.yaml", tmp_path / "rendered")
    cilium = {line.split(":")[1] for line in result.named if line.startswith("fleetgen.render.cilium:")}
    assert cilium == {f"cluster/{c.name}" for c in before.clusters if c.network.mesh_id is not None}
    assert any("fleet.mesh_members" in line for line in result.named if line.startswith("fleetgen.render.cilium:"))


def test_a_workload_edit_reuses_every_cluster_unit(tmp_path, monkeypatch):
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    data["workloads"][1]["replicas"] = 5
    result = produce(fleet_from_text(dump(data)), data, "fleet.yaml", tmp_path / "rendered")
    assert not any(":cluster/" in line for line in result.named), result.named
    assert all("fleet.workloads" in line for line in result.named), result.named


def test_fleetgen_version_and_renderer_source_are_in_every_key(tmp_path, monkeypatch):
    root = Path(units.__file__).parent
    copy_root = tmp_path / "fleetgen"
    shutil.copytree(root, copy_root, ignore=shutil.ignore_patterns("__pycache__", "schemas"))
    same = units.source_digest(copy_root, "0.1.0")
    assert same == units.source_digest(root, "0.1.0")
    assert units.source_digest(copy_root, "0.1.1") != same
    aws = copy_root / "render" / "capi" / "aws.py"
    aws.write_text(aws.read_text() + "\n# a comment is a change too: if in doubt, render\n")
    assert units.source_digest(copy_root, "0.1.0") != same

    data = synth_fleet(6, "cilium")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    again = produce(fleet_from_text(fleet.read_text()), data, "fleet.yaml", tmp_path / "rendered")
    assert again.reasons == {} and again.reused > 0
    monkeypatch.setattr(units, "code_digest", lambda: units.source_digest(copy_root, "0.1.0"))
    changed = produce(fleet_from_text(fleet.read_text()), data, "fleet.yaml", tmp_path / "rendered")
    assert changed.reused == 0 and sum(changed.reasons.values()) == again.reused
    code, output = run("render", "--profile", str(fleet))
    assert code == 0 and "units: 0 reused" in output


def test_an_unknown_section_of_the_fleet_file_invalidates_every_unit(tmp_path):
    """Sections outside clusters/workloads/defaults (patches, extra manifests) may be read outside the model."""
    data = synth_fleet(4, "cilium")
    base = units.salt(data, "fleet.yaml")
    other = copy.deepcopy(data)
    other["patches"] = [{"op": "add", "path": "/x", "value": 1}]
    assert units.salt(other, "fleet.yaml") != base
    other = copy.deepcopy(data)
    other["clusters"][0]["region"] = "elsewhere"
    assert units.salt(other, "fleet.yaml") == base  # read through the model: keyed per unit instead
    assert units.salt(data, "other.yaml") != base  # the header names the fleet file


def test_traced_fleet_records_fields_and_counts_methods_as_everything(example_fleet):
    reads: set[str] = set()
    traced = units.Traced(example_fleet, reads)
    assert traced.mesh == example_fleet.mesh and traced.mesh == example_fleet.mesh
    assert traced.mesh_members == example_fleet.mesh_members  # derived, keyed by its own value
    traced.cluster(example_fleet.clusters[0].name)
    assert reads == {"mesh", "mesh_members", units.EVERYTHING}
    with pytest.raises(AttributeError):
        traced.mesh = "none"


def test_check_finds_a_same_size_hand_edit_of_a_recorded_file(tmp_path, monkeypatch):
    monkeypatch.setattr(units, "RACY_NS", 0)
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(synth_fleet(4, "cilium")))
    assert run("render", str(fleet))[0] == 0
    assert run("check", str(fleet))[0] == 0
    target = tmp_path / "rendered" / "hub" / "observability" / "thanos-querier.yaml"
    target.write_bytes(target.read_bytes().replace(b"thanos", b"thanoz", 1))
    code, output = run("check", str(fleet))
    assert code == 1 and "hand-edit" in output and "thanos-querier.yaml" in output
    assert run("check", "--full", str(fleet))[0] == 1


def test_the_cache_lives_beside_the_tree_and_git_ignores_it(tmp_path, monkeypatch):
    """Without $FLEETGEN_CACHE_DIR the cache is ``.fleetgen-cache/`` next to ``rendered/``: inside the repository
    (nothing outside it is read or written), ignored by git through its own ``.gitignore``."""
    import subprocess

    monkeypatch.delenv("FLEETGEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # nothing may land in ~/.cache either
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "fleet.yaml").write_text((Path(__file__).parent / "fleets" / "base.yaml").read_text())
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert run("render", str(repo / "fleet.yaml"))[0] == 0
    cache = repo / ".fleetgen-cache"
    assert (cache / ".gitignore").read_text().endswith("\n*\n")
    assert [p.suffix for p in (cache / "render").iterdir()] == [".json"]
    assert not (tmp_path / "home").exists()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout
    assert ".fleetgen-cache" not in status and "fleet.yaml" in status and "rendered/" in status
    assert run("check", str(repo / "fleet.yaml"))[0] == 0
