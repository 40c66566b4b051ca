"""Incremental render and check (fleetgen.units, fleetgen.incremental).

Random sequences of edits are rendered incrementally into one tree and from scratch into another,
and every byte is compared (lock included); changing fleetgen's version or a renderer's source
invalidates every unit; a one-cluster edit renders exactly the units that read that cluster; a
hand edit is found by ``check`` even where the cache recorded the file.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.metadata
import io
import json
import os
import random
import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import cachedir, pipeline, tracing, units
from fleetgen.incremental import produce
from fleetgen.load import load_text
from fleetgen.main import cli
from fleetgen.model import ExtraFile
from fleetgen.render import index
from fleetgen.sources import cluster_sources
from hypothesis import given, settings
from hypothesis import strategies as st
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


def _without_sources(init):
    return lambda self, fleet, previous=None, sources=None, rows=None: init(self, fleet, previous, None, rows)


def tamper(out: Path, rng) -> None:
    """A hand edit or a deleted file in the rendered tree: ``check`` must see it, ``render`` must repair it."""
    files = sorted(p for p in out.rglob("*.yaml") if p.is_file() and "clusters" in p.parts)  # cluster units
    victim = rng.choice(files)
    if rng.random() < 0.5:
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes().replace(b"fleetgen", b"fleetgem", 1))  # same size, new bytes


@pytest.mark.parametrize(
    "seed,racy,by_source,alongside",
    [(1, units.RACY_NS, True, False), (2, 0, True, False), (3, 0, False, False), (4, 0, True, True)],
)
def test_random_edit_sequences_render_incrementally_as_from_scratch(
    tmp_path, monkeypatch, seed, racy, by_source, alongside
):
    """``racy`` 0 trusts every recorded stat (the fast path a hand edit must still not slip through);
    ``by_source`` False keys clusters by their model objects, as for a fleet file with aliases; ``alongside``
    runs the lint rules in a forked child while the units are planned (as from 300 clusters)."""
    monkeypatch.setattr(units, "RACY_NS", racy)
    if alongside:
        monkeypatch.setattr(pipeline, "LINT_ALONGSIDE_FROM", 0)
    if not by_source:
        monkeypatch.setattr(tracing.Inputs, "__init__", _without_sources(tracing.Inputs.__init__))
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


def rendered_repo(tmp_path: Path, data: dict) -> Path:
    """``tmp_path/repo/fleet.yaml`` holding ``data``, rendered: its path."""
    fleet = tmp_path / "repo" / "fleet.yaml"
    fleet.parent.mkdir()
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    return fleet


def rendered_synth_fleet(tmp_path: Path, monkeypatch) -> tuple[dict, Path]:
    """A synthetic fleet of SIZE clusters rendered, every recorded stat trusted (the fast path)."""
    monkeypatch.setattr(units, "RACY_NS", 0)
    data = synth_fleet(SIZE, "cilium")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    return data, fleet


OWN = ("capi", "argocd", "projects", "access", "observability", "cilium")  # the targets with a unit per cluster


def as_the_cli(text: str, out: Path):
    """``incremental.produce`` as ``render`` and ``check`` call it: clusters keyed by their source digests."""
    doc, findings = load_text(text, "fleet.yaml")
    assert doc is not None and not findings, findings
    return produce(fleet_from_text(text), doc.data, "fleet.yaml", out, sources=cluster_sources(doc))


def rendered_after(tmp_path: Path, data: dict, fleet: Path) -> tuple[set[str], object]:
    """The units an incremental render of the edited ``data`` renders ("<module>:<unit>"), and the result."""
    fleet.write_text(dump(data))
    result = as_the_cli(fleet.read_text(), tmp_path / "rendered")
    assert not any("differs on disk" in line for line in result.named)
    return {
        line.split(":")[0].removeprefix("fleetgen.render.") + ":" + line.split(":")[1] for line in result.named
    }, result


def test_a_node_pool_edit_renders_that_clusters_units_only(tmp_path, monkeypatch):
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    data["clusters"][2]["nodePools"][0]["max"] = 11
    rendered, result = rendered_after(tmp_path, data, fleet)
    # Hand-checked: cluster 2 is a provisioned, registered push cluster (azure) in the mesh; its own units render
    # (six files: capi, Argo CD Secret, access, Prometheus, store gateway, Cilium values; push: no agent
    # project). No fleet-wide unit shows node pools (the README, AppProjects, ApplicationSets, Karmada
    # policies, the Querier list names, labels, servers, versions), so none is rendered; the other members'
    # Cilium values read only the members' names (Fleet.mesh_members), which stay.
    assert rendered == {f"{m}:cluster/{data['clusters'][2]['name']}" for m in OWN}
    assert result.reused == len(OWN) * SIZE + len(OWN) + 3 - len(OWN)  # each split target's rest, 3 whole targets


@pytest.mark.parametrize(
    "edit,fleet_wide",
    [
        # the README's cluster table shows the version; nothing else fleet-wide does (upgrade waves are plan's)
        (lambda c: c.update(kubernetesVersion="1.31.4"), {"index:all"}),
        # labels select clusters: AppProjects' destinations, Karmada placements, the README; Argo CD's
        # ApplicationSets read them only to place a registered pull-mode cluster's Applications, and this fleet
        # has none (prod-imported-00005 has no server yet), so its ApplicationSets never read a label
        (
            lambda c: c.setdefault("labels", {}).update(tier="gold"),
            {"projects:fleet", "karmada:all", "index:all"},
        ),
        # the API server: every list of registered clusters (Querier endpoints, Karmada members, principal
        # namespaces, push ApplicationSets, the README)
        (
            lambda c: c.update(server="https://10.9.9.10:6443"),
            {"argocd:fleet", "projects:fleet", "karmada:all", "index:all", "observability:fleet", "security:all"},
        ),
    ],
    ids=["version", "labels", "server"],
)
def test_a_cluster_edit_renders_the_fleet_wide_units_that_show_the_field(tmp_path, monkeypatch, edit, fleet_wide):
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    edit(data["clusters"][2])
    rendered, _ = rendered_after(tmp_path, data, fleet)
    own = {f"{m}:cluster/{data['clusters'][2]['name']}" for m in OWN}
    assert rendered - own == fleet_wide


def test_labels_reach_the_applicationsets_once_a_pull_mode_cluster_is_registered(tmp_path, monkeypatch):
    """With a registered pull-mode cluster the ApplicationSets match its labels, so the render records that they
    read the clusters' labels: then any cluster's labels are in their key (a push cluster's label could make it
    match a set, for all the unit knows)."""
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    data["clusters"][5]["server"] = "https://10.9.5.10:6443"  # prod-imported-00005, pull mode
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    data["clusters"][2]["labels"]["tier"] = "gold"  # a push cluster's labels
    rendered, _ = rendered_after(tmp_path, data, fleet)
    assert rendered - {f"{m}:cluster/{data['clusters'][2]['name']}" for m in OWN} == {
        "argocd:fleet",
        "projects:fleet",
        "karmada:all",
        "index:all",
    }


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
    result = as_the_cli(fleet.read_text(), tmp_path / "rendered")
    rendered = {line.split(":")[0] + ":" + line.split(":")[1] for line in result.named}
    assert "fleetgen.render.projects:cluster/stag-imported-00011" in rendered
    assert not any(":cluster/" in name and not name.endswith("/stag-imported-00011") for name in rendered), rendered
    assert not any("differs on disk" in line for line in result.named)


def test_a_mesh_membership_edit_renders_every_members_cilium_values(tmp_path, monkeypatch):
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    before = fleet_from_text(fleet.read_text())
    leaving = next(c for c in data["clusters"] if c["provider"]["type"] in ("aws", "gcp"))  # a member by default
    leaving["network"].setdefault("clustermesh", {})["member"] = False
    after = fleet_from_text(dump(data))
    assert set(before.mesh_members) - set(after.mesh_members) == {leaving["name"]}
    result = as_the_cli(dump(data), tmp_path / "rendered")
    cilium = {line.split(":")[1] for line in result.named if line.startswith("fleetgen.render.cilium:")}
    assert cilium == {f"cluster/{c.name}" for c in before.clusters if c.network.mesh_id is not None}
    assert any("fleet.mesh_members" in line for line in result.named if line.startswith("fleetgen.render.cilium:"))


def test_a_workload_edit_renders_only_the_units_that_read_the_field_it_changed(tmp_path, monkeypatch):
    """No cluster unit, and of the fleet-wide units only those that read the edited field of a workload: replicas
    are shown in the README only, failover is Karmada's, the source path Argo CD's."""
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    for edit, expected in [
        (lambda: data["workloads"][1].update(replicas=5), {"index:all"}),
        (lambda: data["workloads"][0]["failover"].update(unreachableSeconds=90), {"karmada:all"}),
        (lambda: data["workloads"][1]["source"].update(path="workloads/elsewhere"), {"argocd:fleet"}),
    ]:
        edit()
        rendered, result = rendered_after(tmp_path, data, fleet)
        assert rendered == expected, result.named
        assert all("fleet.workloads." in line for line in result.named), result.named
        assert run("render", str(fleet))[0] == 0


def test_a_file_rendered_again_is_scanned_from_its_last_version_and_finds_what_a_whole_scan_finds(
    tmp_path, monkeypatch
):
    """A file rendered again is scanned for secrets only where its last version (on disk, as the cache recorded it)
    did not hold the line clean (``secrets.scan_text_since``): the hits are a whole render's, a credential added is
    found, and one taken out again is no longer reported."""
    from fleetgen import produce as whole
    from fleetgen import secrets

    monkeypatch.setattr(whole, "SCAN_SINCE_FROM", 0)  # every file, not only the big ones
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    since: list[int] = []
    scan = secrets.scan_text_since
    monkeypatch.setattr(
        secrets, "scan_text_since", lambda text, *before: since.append(len(before[1])) or scan(text, *before)
    )
    labels = data["clusters"][2].setdefault("labels", {})
    for value, leaking in [("payments", False), ("AKIAIOSFODNN7EXAMPLE", True), ("payments", False)]:
        data["workloads"][1]["replicas"] += 1  # the README is rendered again
        labels["team"] = value  # the cluster's own units, and the fleet-wide ones that read labels
        since.clear()
        rendered, result = rendered_after(tmp_path, data, fleet)
        full = whole.produce(fleet_from_text(fleet.read_text()), "fleet.yaml")
        assert sorted(result.leaks) == sorted(full.leaks) and bool(result.leaks) == leaking
        assert "index:all" in rendered and len(since) >= len(rendered), (
            "each unit's files scanned from their last version"
        )
        if not leaking:
            assert run("render", str(fleet))[0] == 0


def test_fleetgen_version_and_renderer_source_are_in_every_key(tmp_path, monkeypatch):
    root = Path(units.__file__).parent
    copy_root = tmp_path / "fleetgen"
    upstream = root / "schemas" / "upstream"
    shutil.copytree(
        root,
        copy_root,
        ignore=lambda d, names: [n for n in names if n == "__pycache__" or Path(d) / n == upstream],
    )
    same = cachedir.source_digest(copy_root, "0.1.0")
    assert same == cachedir.source_digest(root, "0.1.0")
    assert cachedir.source_digest(copy_root, "0.1.1") != same
    # the data renderers read counts as their code: how patches merge lists, a vendored manifest
    for data in ("schemas/list_keys.json", "templates/vsphere-csi-driver-v3.3.1.yaml"):
        original = (copy_root / data).read_bytes()
        (copy_root / data).write_bytes(original + b"\n")
        assert cachedir.source_digest(copy_root, "0.1.0") != same, data
        (copy_root / data).write_bytes(original)
    # bytecode and the upstream schemas (which only validate) do not
    (copy_root / "__pycache__").mkdir()
    (copy_root / "__pycache__" / "units.cpython-311.pyc").write_bytes(b"compiled")
    (copy_root / "schemas" / "upstream").mkdir()
    (copy_root / "schemas" / "upstream" / "x.json").write_text("{}")
    assert cachedir.source_digest(copy_root, "0.1.0") == same
    aws = copy_root / "render" / "capi" / "aws.py"
    aws.write_text(aws.read_text() + "\n# a comment is a change too: if in doubt, render\n")
    assert cachedir.source_digest(copy_root, "0.1.0") != same

    data = synth_fleet(6, "cilium")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    again = as_the_cli(fleet.read_text(), tmp_path / "rendered")
    assert again.reasons == {} and again.reused > 0
    monkeypatch.setattr(units, "code_digest", lambda: cachedir.source_digest(copy_root, "0.1.0"))
    changed = as_the_cli(fleet.read_text(), tmp_path / "rendered")
    assert changed.reused == 0 and sum(changed.reasons.values()) == again.reused
    code, output = run("render", "--profile", str(fleet))
    assert code == 0 and "units: 0 reused" in output


def test_the_libraries_that_decide_cached_results_are_in_every_key_by_their_versions(tmp_path, monkeypatch):
    """An upgrade of detect-secrets, a YAML parser, a schema validator or jsonpatch renders everything again, as a
    new fleetgen does; every runtime requirement is either keyed or said to decide nothing cached."""
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    required = {cachedir._normalized(re.split(r"[<>=!~ ;\[]", r)[0]) for r in project["dependencies"]}
    said = {cachedir._normalized(n) for n in (*cachedir.KEYED_DISTRIBUTIONS, *cachedir.UNKEYED_DISTRIBUTIONS)}
    assert required <= said, required - said
    keyed = cachedir.KEYED_DISTRIBUTIONS
    assert cachedir.installed_versions(keyed) == {name: importlib.metadata.version(name) for name in keyed}
    site = tmp_path / "site"
    (site / "detect_secrets-9.9.9.dist-info").mkdir(parents=True)  # the first on the path is the one imported
    (site / "PyYAML-7.0-py3.11.egg-info").mkdir()
    (site / "ruamel_yaml.dist-info").mkdir()  # no version: not a distribution's
    found = cachedir.installed_versions(("detect-secrets", "PyYAML", "ruamel.yaml", "not-installed"), [str(site)])
    assert found == {"detect-secrets": "9.9.9", "PyYAML": "7.0", "ruamel.yaml": None, "not-installed": None}

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(synth_fleet(4, "cilium")))
    assert run("render", str(fleet))[0] == 0
    assert as_the_cli(fleet.read_text(), tmp_path / "rendered").reasons == {}
    monkeypatch.setattr(sys, "path", [str(site), *sys.path])  # detect-secrets 9.9.9 "installed"
    cachedir.code_digest.cache_clear()
    try:
        upgraded = as_the_cli(fleet.read_text(), tmp_path / "rendered")
        assert upgraded.reused == 0 and upgraded.reasons
    finally:
        cachedir.code_digest.cache_clear()
    before = cachedir.code_digest()
    monkeypatch.setattr(sys, "version_info", (*sys.version_info[:2], sys.version_info[2] + 1, "final", 0))
    cachedir.code_digest.cache_clear()
    try:
        assert cachedir.code_digest() != before  # a Python patch release too
    finally:
        monkeypatch.undo()
        cachedir.code_digest.cache_clear()


def _counted(section, calls: list[str]):
    def counted(fleet):
        calls.append(section.__name__)
        return section(fleet)

    return counted


def test_the_readme_renders_only_the_sections_whose_inputs_changed(tmp_path, monkeypatch):
    """A workload's replicas change the README's placements only: the other sections are taken from the README as
    last rendered. Not from a README edited by hand (its digest is not the recorded one), nor with patches."""
    calls: list[str] = []
    names = sorted(section.__name__ for section in index.SECTIONS)
    monkeypatch.setattr(index, "SECTIONS", tuple(_counted(section, calls) for section in index.SECTIONS))
    data = synth_fleet(6, "cilium")
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0 and sorted(calls) == names

    def edited() -> list[str]:
        calls.clear()
        data["workloads"][-1]["replicas"] += 1
        fleet.write_text(dump(data))
        assert run("render", str(fleet))[0] == 0
        rendered = sorted(calls)
        assert run("check", "--full", str(fleet))[0] == 0  # byte for byte a full render's
        return rendered

    assert edited() == ["_placements"]
    code, output = run("check", "--profile", str(fleet))  # up to date: nothing rendered, nothing to take
    assert code == 0 and "sections taken" not in output
    data["workloads"][-1]["replicas"] += 1
    fleet.write_text(dump(data))
    code, output = run("render", "--profile", str(fleet))
    assert code == 0 and "fleetgen.render.index:all: 7 of 8 sections taken from its file as last rendered" in output
    data["clusters"][2]["region"] = "elsewhere-1"  # a cluster's region: its rows, the diagram's groups
    fleet.write_text(dump(data))
    calls.clear()
    assert run("render", str(fleet))[0] == 0
    assert "_clusters" in calls and "_title" not in calls and "_bootstrap" not in calls  # selectors read regions
    assert run("check", "--full", str(fleet))[0] == 0
    cache = units.cache_path(tmp_path / "rendered")  # parts of a shape fleetgen does not write: rendered whole
    for broken in ([None] * 8, "parts", [[("x",), "8"]] * 8, [[[1], 8]] * 8):
        body = units.read_body(tmp_path / "rendered")  # the base with the changes since: written as a base
        body.pop("base")
        body["parts"] = {"fleetgen.render.index:all": broken}
        cachedir.write(cache, cachedir.encode(body), cache.parent)
        units.changes_path(tmp_path / "rendered").unlink(missing_ok=True)
        assert edited() == names
    readme = tmp_path / "rendered" / "README.md"
    readme.write_text(readme.read_text().replace("## Clusters", "## Our clusters"))
    assert edited() == names
    annotate = [{"op": "add", "path": "/metadata/annotations", "value": {"example.com/patched": "yes"}}]
    data["patches"] = [{"target": {"kind": "Namespace", "name": "monitoring"}, "operations": annotate}]
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    assert edited() == names  # a fleet with patches renders the README whole


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
    traced = tracing.Traced(example_fleet, reads)
    assert traced.mesh == example_fleet.mesh and traced.mesh == example_fleet.mesh
    assert traced.mesh_members == example_fleet.mesh_members  # derived, keyed by its own value
    traced.cluster(example_fleet.clusters[0].name)
    assert reads == {"mesh", "mesh_members", tracing.EVERYTHING}
    with pytest.raises(AttributeError):
        traced.mesh = "none"


def test_a_per_argument_method_is_recorded_per_call_and_keyed_by_what_it_returns(example_fleet):
    reads: set[str] = set()
    traced = tracing.Traced(example_fleet, reads)
    assert traced.spoke_extras("prod-a") == example_fleet.spoke_extras("prod-a")
    traced.spoke_extras("edge-1")
    assert reads == {'spoke_extras("prod-a")', 'spoke_extras("edge-1")'}
    assert tracing.per_call('spoke_extras("prod-a")') == ("spoke_extras", "prod-a")
    assert tracing.per_call("spoke_extras") is None and tracing.per_call('cluster("prod-a")') is None
    extra = ExtraFile("clusters/prod-a/extra/x.yaml", b"", ({"kind": "ConfigMap"},), cluster="prod-a")
    with_extra = dataclasses.replace(example_fleet, extra_files=(extra,))
    inputs, before = tracing.Inputs(with_extra), tracing.Inputs(example_fleet)
    assert inputs.field('spoke_extras("prod-a")') != before.field('spoke_extras("prod-a")')  # what it returns
    assert inputs.field('spoke_extras("prod-b")') == before.field('spoke_extras("prod-b")')  # another cluster's
    traced.spoke_extras(object())  # an argument JSON cannot spell: everything
    assert tracing.EVERYTHING in reads


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.integers(), st.lists(st.text(max_size=3), max_size=3), st.none()))
def test_a_per_call_read_gives_back_the_argument_json_spelt(argument):
    """``per_call`` takes a plain string's text as it is (the common case, a cluster's name) and decodes anything
    else as JSON: either way the argument recorded is the argument read back."""
    name = f"spoke_extras({json.dumps(argument)})"
    assert tracing.per_call(name) == ("spoke_extras", argument)
    assert tracing.per_call(f"spoke_extras({json.dumps(argument, ensure_ascii=False)})") == ("spoke_extras", argument)


def test_a_per_call_value_is_printed_once_per_object(example_fleet, monkeypatch):
    """Every cluster's units read their own ``spoke_extras``; clusters given the same object (the empty tuple) share
    one digest, printed once, and a different value still gets its own."""
    printed = []
    canonical = tracing.canonical
    monkeypatch.setattr(tracing, "canonical", lambda value: printed.append(value) or canonical(value))
    names = [c.name for c in example_fleet.clusters]
    extra = ExtraFile(f"clusters/{names[0]}/extra/x.yaml", b"", ({"kind": "ConfigMap"},), cluster=names[0])
    inputs = tracing.Inputs(dataclasses.replace(example_fleet, extra_files=(extra,)))
    digests = {name: inputs.field(f"spoke_extras({json.dumps(name)})") for name in names}
    assert printed.count(()) == 1 and printed.count((extra,)) == 1 and len(printed) == 3  # (extra_files: below)
    assert digests[names[0]] != digests[names[-1]] and len(set(digests.values())) == 2


def test_a_per_call_read_is_taken_as_recorded_while_the_field_its_value_comes_from_is(example_fleet):
    """``Fleet.PER_ARGUMENT`` names the field each method's value is computed from (``spoke_extras``: the extra
    manifests' files): while that field's digest is the recorded one, a call's digest is the recorded one, not
    computed again for each of 5,000 clusters; once it changes, every call's is computed."""
    import ast
    import inspect
    import textwrap

    from fleetgen.model import Fleet

    name = f"spoke_extras({json.dumps(example_fleet.clusters[0].name)})"
    first = tracing.Inputs(example_fleet)
    first.field(name)
    recorded = first.computed()[0]
    assert set(recorded) == {name, "extra_files"}
    assert tracing.Inputs(example_fleet, {**recorded, name: "as recorded"}).field(name) == "as recorded"
    extra = ExtraFile(f"clusters/{example_fleet.clusters[0].name}/extra/x.yaml", b"", ({"kind": "A"},), cluster="x")
    other = dataclasses.replace(example_fleet, extra_files=(extra,))
    assert tracing.Inputs(other, {**recorded, name: "as recorded"}).field(name) == tracing.Inputs(other).field(name)
    for method, source in Fleet.PER_ARGUMENT.items():  # what the methods read of the fleet: that field alone
        read: set[str] = set()
        for function in (getattr(Fleet, method), Fleet._extras_by_cluster.func):
            tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
            read |= {
                n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "self"
            }
        assert read == {source, "_extras_by_cluster"}, (method, read)


def _one_cluster_edited(fleet, edited, monkeypatch, **changes):
    """``fleet`` with ``changes`` made to its cluster ``edited``, and the names of the clusters whose projection rows
    are printed from now on (``Inputs._row``)."""
    changed = dataclasses.replace(edited, **changes)
    printed: list[str] = []
    row = tracing.Inputs._row
    monkeypatch.setattr(
        tracing.Inputs, "_row", lambda self, cluster, fields: printed.append(cluster.name) or row(self, cluster, fields)
    )
    return dataclasses.replace(fleet, clusters=tuple(changed if c is edited else c for c in fleet.clusters)), printed


def test_a_projection_whose_rows_did_not_change_is_the_recorded_one(example_fleet, monkeypatch):
    """An edit of a field a projection does not show: the edited cluster's row is printed, found as recorded at its
    place, and the projection is the recorded one (5,000 rows are not joined again); its rows are recorded again under
    the clusters' new digests."""
    name = tracing.PROJECTION + "name,region"
    first = tracing.Inputs(example_fleet)
    before = first.field(name)
    edited = example_fleet.clusters[1]
    fleet, printed = _one_cluster_edited(example_fleet, edited, monkeypatch, kubernetes_version="1.20")
    again = tracing.Inputs(fleet, {**first.computed()[0], name: "as recorded"}, rows=first.rows())
    assert again.field(name) == "as recorded" and printed == [edited.name]
    assert list(again.rows()[name]) == [again.cluster(c) for c in fleet.clusters]
    assert tracing.Inputs(fleet).field(name) == before  # what computing it from nothing gives


def test_the_cluster_fields_a_fleet_wide_unit_reads(example_fleet):
    """What narrows a fleet-wide unit's key: the fields read (properties through their fields), and every field
    once a cluster is copied, compared or printed (those read all of them, or its reduce protocol)."""
    from fleetgen.model import Cluster

    cluster = example_fleet.clusters[0]
    provider = cluster.provider
    before = {k: v for k, v in vars(Cluster).items() if k != "__slotnames__"}
    for action, fields in [
        (lambda: cluster.name, ["name"]),
        (lambda: (cluster.name, cluster.name, example_fleet.clusters[1].name), ["name"]),
        (lambda: cluster.registered, ["server"]),  # a property: the field it reads
        (lambda: cluster.provisioned, ["lifecycle", "provider"]),
        (lambda: cluster.lifecycle, ["lifecycle"]),  # a field with a default on the class
        (lambda: Cluster.lifecycle, []),  # the default itself: no cluster's value
        (lambda: object.__getattribute__(cluster, "region"), ["region"]),
        (lambda: dataclasses.replace(cluster, name="x").name, None),  # every field but the new name, read
        (lambda: copy.copy(cluster), None),
        (lambda: cluster.__reduce_ex__(2), None),
        (lambda: cluster == example_fleet.clusters[1], None),
        (lambda: hash(provider), []),  # a provider's fields are not the cluster's
        (lambda: repr(cluster), None),
    ]:
        found: set[str] = set()
        with tracing.clusters_read(found):
            action()
            action()  # a second read, once the stand-in stepped aside, is a plain read of the same value
        assert {k: v for k, v in vars(Cluster).items() if k != "__slotnames__"} == before  # every stand-in is gone
        # (copyreg caches __slotnames__ on a class it copies)
        narrowed = tracing.narrowed({"clusters", "mesh"}, found) - {"mesh"}
        content = sorted(tracing.CLUSTER_FIELDS - {"path"})  # all but its position, which repr and == leave out
        every = [  # the same key, in effect (or more: a unit that reads the position renders when it moves)
            {"clusters"},
            {tracing.PROJECTION + ",".join(content)},
            {tracing.PROJECTION + ",".join(sorted(tracing.CLUSTER_FIELDS))},
        ]
        assert narrowed in every if fields is None else narrowed == {tracing.PROJECTION + ",".join(fields)}
    assert tracing.narrowed({"mesh"}, {"name"}) == {"mesh"}  # a unit that never read fleet.clusters


def test_a_model_object_is_built_read_and_copied_alike_while_its_reads_are_recorded(example_fleet):
    """The stand-ins change what is recorded, never what a cluster is: made (a frozen dataclass's ``__init__`` writes
    through them), copied and compared, it is the cluster made without them; a read that fails fails alike."""
    from fleetgen.model import Cluster

    cluster = example_fleet.clusters[0]
    outside = (dataclasses.replace(cluster, region="x"), copy.copy(cluster), copy.copy(cluster.provider))
    found: set[str] = set()
    with tracing.clusters_read(found):
        made = dataclasses.replace(cluster, region="x")
        inside = (made, copy.copy(cluster), copy.copy(cluster.provider))
        assert vars(made) == vars(outside[0]) and made.region == "x"
        with pytest.raises(AttributeError):
            Cluster.name  # noqa: B018 - a field without a default is no class attribute, stand-in or not
        with pytest.raises(RuntimeError, match="does not nest"):
            with tracing.clusters_read(set()):
                pass
    assert inside == outside and [repr(x) for x in inside] == [repr(x) for x in outside]
    assert vars(cluster) == vars(copy.copy(cluster))


def test_no_fleetgen_code_reads_a_model_objects_dict():
    """``vars()`` and ``__dict__`` give every field of a cluster without reading one by its name, and no stand-in can
    see them (``tracing.WHOLE``): nothing in fleetgen may read them, but the one ``ipaddress`` network copy the model
    makes (``model._ipv4_state``), ``model.made``, which sets a new model object's dict (a write, before any unit
    runs), and a cluster network's CIDRs, parsed when first read (``model._Cidr``, ``ClusterNetwork.family``: after
    the cluster's ``network`` field was read, which counts as reading all of it)."""
    import re

    package = Path(units.__file__).parent
    found = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bvars\(|__dict__", line.split("#")[0]) and path.name != "tracing.py"
    ]
    assert found == [
        "model.py:67: return sorted(vars(net)), net.network_address, net.netmask, net.prefixlen, "
        "net.broadcast_address, hash(net)",
        'model.py:181: texts = self.__dict__.get("_cidrs")',
        'model.py:198: texts = instance.__dict__.get("_cidrs") if instance is not None else None',
        "model.py:204: instance.__dict__[self.name] = value",
        "model.py:626: instance.__dict__.update(values)",
    ]


def test_the_workload_fields_a_unit_reads(example_fleet):
    """``workloads`` narrows as ``clusters`` does, for every unit; a copy or a print of a workload reads it all."""
    from fleetgen.model import Workload

    workload = example_fleet.workloads[0]
    before = {k: v for k, v in vars(Workload).items() if k != "__slotnames__"}
    for action, fields in [
        (lambda: workload.replicas, ["replicas"]),
        (lambda: (workload.name, workload.failover), ["failover", "name"]),
        (lambda: copy.copy(workload), None),
        (lambda: repr(workload), None),
    ]:
        found: set[str] = set()
        with tracing.fields_read(Workload, found):
            action()
        assert {k: v for k, v in vars(Workload).items() if k != "__slotnames__"} == before
        narrowed = tracing.narrowed({"workloads", "clusters"}, None, found)
        if fields is None:
            assert narrowed in (
                {"workloads", "clusters"},
                {"clusters", tracing.WORKLOADS + ",".join(sorted(tracing.WORKLOAD_FIELDS))},
            )
        else:
            assert narrowed == {"clusters", tracing.WORKLOADS + ",".join(fields)}
    assert tracing.narrowed({"workloads"}, None, None) == {"workloads"}  # not narrowed
    digest = tracing.Inputs(example_fleet).field(tracing.WORKLOADS + "name,replicas")
    more = dataclasses.replace(example_fleet, workloads=(*example_fleet.workloads, example_fleet.workloads[0]))
    assert tracing.Inputs(more).field(tracing.WORKLOADS + "name,replicas") != digest
    assert tracing.Inputs(example_fleet).field(tracing.WORKLOADS + "name") != digest
    with pytest.raises(tracing.Unkeyable):
        tracing.Inputs(example_fleet).field(tracing.WORKLOADS + "no_such_field")


@pytest.mark.parametrize("fleet_of", ["example", "synth"])
def test_the_workloads_are_hooked_from_the_first_read_of_fleet_workloads_with_the_reads_of_hooking_them_always(
    fleet_of, example_fleet, monkeypatch
):
    """A unit's Workload fields are recorded from its first read of ``fleet.workloads`` on (tracing.Recording):
    every unit of both fleets has the reads, files and leaks it has with the class hooked for the whole unit, and
    the units that never read the field (every cluster unit here) never hook the class."""
    from fleetgen import incremental
    from fleetgen.model import Workload
    from fleetgen.render import targets

    fleet = example_fleet if fleet_of == "example" else fleet_from_text(dump(synth_fleet(12, "cilium")))
    assert fleet.workloads

    class Always(tracing.Recording):
        def __enter__(self):
            self._hooks.enter_context(tracing.fields_read(Workload, self.workload_reads))
            return super().__enter__()

        def _first_read(self, name):
            pass

    hooked: list[str] = []
    real = tracing.fields_read

    def counted(cls, found):
        hooked.append(cls.__name__)
        return real(cls, found)

    plan = units.plan(targets())(fleet)
    for number, unit in enumerate(plan):
        monkeypatch.setattr(tracing, "fields_read", counted)
        hooked.clear()
        lazy = incremental._run(fleet, plan, number, "fleet.yaml")
        lazy_hooked = list(hooked)
        monkeypatch.setattr(tracing, "Recording", Always)
        always = incremental._run(fleet, plan, number, "fleet.yaml")
        monkeypatch.undo()
        assert lazy == always, unit.name
        reads_workloads = any(r == "workloads" or r.startswith(tracing.WORKLOADS) for r in lazy[4])
        assert ("Workload" in lazy_hooked) == reads_workloads, unit.name
        assert unit.cluster is None or not reads_workloads, unit.name


def test_a_cached_property_on_a_model_class_is_refused_by_the_recorder():
    """A cached value would be read again without the fields it was computed from: the recorder refuses the class."""
    from functools import cached_property

    @dataclasses.dataclass(frozen=True)
    class Thing:
        a: int

        @cached_property
        def double(self) -> int:
            return self.a * 2

    with pytest.raises(RuntimeError, match="cached_property double"):
        with tracing.fields_read(Thing, set()):
            pass


def test_only_an_address_in_a_repr_makes_a_value_unkeyable():
    """An object printed by its address has no content to key; text that says " at 0x" is content (a manifest's
    comment would otherwise render every unit that reads the extra manifests, every time)."""
    assert tracing.canonical(("seen at 0x10", {"a": "stop at 0x"})) == "('seen at 0x10', {'a': 'stop at 0x'})"
    for value in (object(), lambda: None, [1, tracing.Inputs.__init__]):
        with pytest.raises(tracing.Unkeyable):
            tracing.canonical(value)


def test_a_projection_is_taken_from_the_cache_only_for_the_same_clusters(example_fleet):
    name = tracing.PROJECTION + "name,server"
    fresh = tracing.Inputs(example_fleet)
    digest = fresh.field(name)
    recorded = {"clusters": fresh.field("clusters"), name: "recorded"}
    assert tracing.Inputs(example_fleet, recorded).field(name) == "recorded"  # same clusters: not computed again
    assert tracing.Inputs(example_fleet, {**recorded, "clusters": "other"}).field(name) == digest
    assert tracing.Inputs(example_fleet).field(tracing.PROJECTION + "name") != digest
    with pytest.raises(tracing.Unkeyable):
        tracing.Inputs(example_fleet).field(tracing.PROJECTION + "no_such_field")


def test_a_projection_prints_only_the_rows_of_clusters_it_has_not_recorded(example_fleet, monkeypatch):
    """After a one-cluster change, a projection's rows of the other clusters are taken from the cache under their
    cluster's digest: one row is printed, and the digest equals a projection computed from nothing."""
    name = tracing.PROJECTION + "name,region,kubernetes_version"
    first = tracing.Inputs(example_fleet)
    before = first.field(name)
    edited = example_fleet.clusters[1]
    fleet, printed = _one_cluster_edited(example_fleet, edited, monkeypatch, region=edited.region + "-x")
    again = tracing.Inputs(fleet, first.computed()[0], rows=first.rows())
    after = again.field(name)
    assert printed == [edited.name]
    printed.clear()
    assert after == tracing.Inputs(fleet).field(name) != before
    assert len(printed) == len(fleet.clusters)  # from nothing: every row
    assert set(again.rows()[name]) == {again.cluster(c) for c in fleet.clusters}  # only this fleet's rows are kept
    positioned = tracing.PROJECTION + "name,path"  # a field a cluster's digest does not decide: never taken recorded
    printed.clear()
    tracing.Inputs(fleet, rows={positioned: first.rows().get(name, {})}).field(positioned)
    assert len(printed) == len(fleet.clusters)


POSITIONED = ("clusters", "nodePools")  # model objects whose position in fleet.yaml is not in their repr


@pytest.mark.parametrize(
    "source",
    ["fleet.yaml", "examples/fleet.yaml", "tests/fleets/base.yaml", "tests/fleets/onprem.yaml", "synthetic"],
)
def test_nothing_rendered_reads_a_clusters_position(source, monkeypatch):
    """A cluster's and a node pool's ``path`` (their index in fleet.yaml) are left out of their repr, so out of
    every render unit's key: a cluster added or removed above others does not render those again. That holds
    only while no renderer reads them: every target and the patches run here with the reads recorded."""
    from fleetgen.model import Cluster, NodePool
    from fleetgen.produce import produce as whole

    root = Path(__file__).resolve().parents[1]
    text = dump(synth_fleet(SIZE, "cilium")) if source == "synthetic" else (root / source).read_text()
    fleet = fleet_from_text(text)
    assert fleet.clusters and any(c.node_pools for c in fleet.clusters)
    read: list[str] = []
    for kind in (Cluster, NodePool):

        def recording(self, name, kind=kind):
            if name == "path":
                read.append(f"{kind.__name__}.path")
            return object.__getattribute__(self, name)

        monkeypatch.setattr(kind, "__getattribute__", recording, raising=False)
    whole(fleet, "fleet.yaml")
    assert read == []
    assert "path=" not in repr(fleet.clusters[0])
    assert fleet.clusters[0].path == ("clusters", fleet.clusters[0].path[1])  # a read shows: the hook works
    assert read == ["Cluster.path", "Cluster.path"]


def test_a_cluster_removed_above_others_renders_no_other_cluster(tmp_path, monkeypatch):
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    removed = data["clusters"].pop(3)
    rendered, _ = rendered_after(tmp_path, data, fleet)
    others = {name for name in rendered if ":cluster/" in name and not name.endswith(f"/{removed['name']}")}
    cilium = {f"cilium:cluster/{c['name']}" for c in data["clusters"] if c["network"].get("meshID") is not None}
    assert others <= cilium  # only the mesh members' values, whose peer list lost it


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


def test_a_render_writes_the_changes_since_the_cache_base_and_a_new_base_when_they_grow(tmp_path, monkeypatch):
    """units.save: a one-cluster edit leaves the cache's base file as it was and writes the units and stat records
    it changed (and this run's digests); read back, base and changes are the cache a new base would hold. Past
    CHANGES_UP_TO changes a new base is written under a new token and the changes file removed; changes saved over
    another base are never applied to this one."""
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    out = tmp_path / "rendered"
    base, changes = units.cache_path(out), units.changes_path(out)
    written = base.stat()
    data["clusters"][2]["nodePools"][0]["max"] = 11
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    assert (base.stat().st_ino, base.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    body = cachedir.read(changes)
    name = data["clusters"][2]["name"]
    assert body["base"] == cachedir.read(base)["token"]
    assert set(body["units"]) == {f"fleetgen.render.{m}:cluster/{name}" for m in OWN}
    assert 0 < len(body["stats"]) <= len(OWN)  # the files written anew (rewritten in place: a new inode)
    assert set(body["clusters"]) == {name}  # the digests recorded, as changes too: the edited cluster's
    assert all(len(rows) <= 2 for rows in body["rows"].values())  # its row under its new digest, None under the old
    assert len(body["fields"]) < 10  # (the fields its digest is in: its per-argument calls)
    merged = units.load(out, units.salt(data, "fleet.yaml"))
    assert ", 0 rendered" in run("render", "--profile", str(fleet))[1]  # base and changes: every unit reused
    full = tmp_path / "full"
    shutil.copytree(tmp_path, full, ignore=shutil.ignore_patterns("full", "rendered", "cache"))
    assert run("render", str(full / "fleet.yaml"))[0] == 0
    fresh = units.load(full / "rendered", units.salt(data, "fleet.yaml"))
    assert merged.units == fresh.units and merged.fields == fresh.fields and merged.rows == fresh.rows
    assert merged.clusters == fresh.clusters
    # the same records, but for a file written within a clock tick of a save (not recorded: read next time)
    recorded = {rel: record[4] for rel, record in merged.stats.items()}
    assert recorded.items() <= {rel: record[4] for rel, record in fresh.stats.items()}.items()
    assert len(recorded) >= len(fresh.stats) - len(OWN)
    changes.write_bytes(cachedir.encode({**body, "base": "another base"}))
    assert units.load(out, units.salt(data, "fleet.yaml")).clusters != merged.clusters  # the base's own
    changes.write_bytes(cachedir.encode({**body, "stats": list(body["stats"].items())}))  # not all of a shape
    assert units.load(out, units.salt(data, "fleet.yaml")).units != merged.units  # the base alone, none of it
    data["clusters"][3]["nodePools"][0]["max"] = 12
    fleet.write_text(dump(data))
    monkeypatch.setattr(units, "CHANGES_UP_TO", 0)
    assert run("render", str(fleet))[0] == 0
    assert not changes.exists() and cachedir.read(base)["token"] != body["base"]
    full_again = tmp_path / "full-again"
    shutil.copytree(tmp_path, full_again, ignore=shutil.ignore_patterns("full*", "rendered", "cache"))
    assert run("render", str(full_again / "fleet.yaml"))[0] == 0
    assert snapshot(out) == snapshot(full_again / "rendered")


def test_what_changed_since_the_base_is_what_is_not_its_own_object():
    """units._changed: a value is unchanged only as the very object the base holds (a unit reused, a record carried);
    an equal copy counts as changed (written again, harmless), and a key gone is None."""
    same, other = ("reads",), tuple(["reads"])  # equal, not the same object
    base = {"x": same, "y": same, "z": same}
    assert units._changed({"x": same, "y": same, "z": same}, base) == {}
    assert units._changed({"x": same, "y": other}, base) == {"y": other, "z": None}
    assert units._changed({"x": same, "y": same, "z": same, "w": same}, base) == {"w": same}
    assert units._changed({"x": same, "w": same}, base) == {"w": same, "y": None, "z": None}


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
    assert [p.suffix for p in (cache / "render").iterdir()] == [".marshal"]
    assert not (tmp_path / "home").exists()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout
    assert ".fleetgen-cache" not in status and "fleet.yaml" in status and "rendered/" in status
    assert run("check", str(repo / "fleet.yaml"))[0] == 0


def test_a_render_killed_while_saving_its_cache_leaves_no_temporary_file_behind(tmp_path, monkeypatch):
    """Review 19: the cache was written to ``<name>.json.<pid>.tmp`` and renamed: a render killed in between left
    that file (megabytes at 5,000 clusters) in the cache directory for good, a new name every time; likewise
    the clock probe ``.rendered.fleetgen-now-<pid>`` beside the tree, in the repository, where ``git add -A``
    would stage it. Both names are now fixed (only the render holding the tree's lock saves its cache), so the
    next render takes them over."""
    monkeypatch.setenv("FLEETGEN_CACHE_DIR", str(tmp_path / "cache"))  # this test's own: it lists the directory
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(dump(synth_fleet(4, "cilium")))
    real_replace, real_getpid = units.os.replace, units.os.getpid
    cache = units.cache_path(tmp_path / "rendered")

    def killed(source, target, *args, **kwargs):
        if Path(target) == cache:  # (the other cache files, written before it, are written)
            raise KeyboardInterrupt  # as a SIGKILL between the write and the rename would leave it
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(units.os, "getpid", lambda: 999_999_999)
    monkeypatch.setattr(units.os, "replace", killed)
    assert run("render", str(fleet))[0] != 0  # click turns the interrupt into Abort
    assert len(list(cache.parent.iterdir())) == 1  # the temporary file, under whatever name
    monkeypatch.setattr(units.os, "getpid", real_getpid)
    monkeypatch.setattr(units.os, "replace", real_replace)
    probe = tmp_path / ".rendered.fleetgen-now"  # the clock probe beside the tree, as a kill would leave it
    probe.write_bytes(b"")
    assert run("render", str(fleet))[0] == 0
    assert sorted(p.name for p in cache.parent.iterdir()) == [cache.name]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "fleet.yaml", "rendered"]


def test_a_fleet_wide_unit_whose_documents_are_built_while_they_are_written_is_keyed_by_what_they_read(
    tmp_path, monkeypatch
):
    """Review 19: the cluster fields a fleet-wide unit reads were recorded only while its function ran, not while its
    documents were serialized: documents given as a generator (built as ``emit.dump`` iterates them) read the
    clusters unrecorded, so a region edit reused a file that lists the regions. Serialization is recorded too."""
    from fleetgen.render import File, cilium

    def regions(fleet):
        clusters = fleet.clusters
        return [File("hub/regions.yaml", ({"regions": [c.region for c in clusters]} for _ in (0,)))]

    monkeypatch.setattr(cilium, "fleet_files", regions)
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    data["clusters"][3]["region"] = "elsewhere-1"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    assert b"elsewhere-1" in (tmp_path / "rendered" / "hub" / "regions.yaml").read_bytes()


# ---------------------------------------------------------------- edits of every kind a fleet-wide unit may read


def unweighted(data: dict) -> list[dict]:
    return [c for c in data["clusters"] if c["name"] not in weighted(data)]


def edit_lifecycle(data, rng):
    c = rng.choice([c for c in data["clusters"] if c["provider"]["type"] != "imported"])
    c["lifecycle"] = "external" if c.get("lifecycle", "managed") == "managed" else "managed"


def edit_mode(data, rng):
    c = rng.choice([c for c in data["clusters"] if c["provider"]["type"] == "imported" and "server" in c])
    c["argocd"] = {"mode": "push" if c.get("argocd", {}).get("mode") == "pull" else "pull"}


def edit_karmada_member(data, rng):
    c = rng.choice(unweighted(data))
    c["karmada"] = {"member": not c.get("karmada", {}).get("member", True)}


def edit_mesh_member(data, rng):
    mesh = rng.choice(data["clusters"])["network"].setdefault("clustermesh", {})
    mesh["member"] = not mesh.get("member", True)


def edit_defaults(data, rng):
    data["defaults"] = rng.choice(
        [
            {},
            {"labels": {"team": rng.choice(["a", "b"])}},
            {"karmada": {"member": False}},
            {"lifecycle": "external"},
            {"nodePools": [{"name": "general", "instanceType": "m6i.large", "min": 1, "max": rng.randint(2, 9)}]},
        ]
    )


def edit_environments(data, rng):
    data["environments"] = ["development", "staging", "production"]
    if rng.random() < 0.5:
        data["environments"].insert(1, "qa")


def edit_rename(data, rng):
    c = rng.choice(unweighted(data))
    c["name"] = c["name"][:-5] + f"{rng.randint(100, 999):05d}"


def edit_hub(data, rng):
    data["hub"]["name"] = rng.choice(["hub", "hub-2"])
    data["hub"]["argocdNamespace"] = rng.choice(["argocd", "gitops"])


def edit_thanos_label(data, rng):
    data["observability"]["thanos"]["clusterLabel"] = rng.choice(["cluster", "k8s_cluster"])
    data["observability"]["grafana"] = {"enabled": rng.random() < 0.5}


def edit_fleet_name(data, rng):
    data["name"] = rng.choice(["synthetic-a", "synthetic-b"])


def edit_selector(data, rng):
    tier = rng.choice(["edge", "standard", None])
    data["applicationSets"][2]["clusters"] = {"matchLabels": {"tier": tier}} if tier else {}


def edit_region(data, rng):
    c = rng.choice(data["clusters"])
    c["region"] = c["region"][:-1] if c["region"].endswith("x") else c["region"] + "x"


def workload(data, name: str) -> dict:
    return next(w for w in data["workloads"] if w["name"] == name)


def edit_workload_failover(data, rng):
    workload(data, "orders")["failover"]["unreachableSeconds"] = rng.choice([30, 60, 90, 120])


def edit_workload_source(data, rng):
    workload(data, "inventory")["source"]["path"] = rng.choice(["workloads/inventory", "workloads/inventory-v2"])


def edit_workload_namespace(data, rng):
    workload(data, "inventory")["namespace"] = rng.choice(["edge", "production"])


def edit_workload_weights(data, rng):
    orders = workload(data, "orders")
    values = list(orders["weights"].values())
    rng.shuffle(values)
    orders["weights"] = dict(zip(orders["weights"], values))


def edit_workload_selector(data, rng):
    workload(data, "inventory")["clusters"] = rng.choice(
        [{"matchLabels": {"tier": "edge"}}, {"matchLabels": {"tier": "edge", "environment": "production"}}]
    )


def edit_workload_global_service(data, rng):
    w = workload(data, "orders")
    w["globalService"] = not w.get("globalService", False)


def edit_workload_order(data, rng):
    data["workloads"].reverse()  # the same workloads, their order (and positions) changed


WORKLOAD_EDITS = [
    edit_workload_failover,
    edit_workload_source,
    edit_workload_namespace,
    edit_workload_weights,
    edit_workload_selector,
    edit_workload_global_service,
    edit_workload_order,
]


EVERY_KIND = (
    EDITS
    + WORKLOAD_EDITS
    + [
        edit_lifecycle,
        edit_mode,
        edit_karmada_member,
        edit_mesh_member,
        edit_defaults,
        edit_environments,
        edit_rename,
        edit_hub,
        edit_thanos_label,
        edit_fleet_name,
        edit_selector,
        edit_region,
    ]
)


@pytest.mark.parametrize("seed", [7, 8])
def test_random_edits_of_every_kind_render_incrementally_as_from_scratch(tmp_path, monkeypatch, seed):
    """Edits that change which cluster fields a fleet-wide unit reads (a lifecycle, a registration mode, a membership
    first read after the edit), defaults and environments sections, renames. An edit that lint refuses is undone."""
    monkeypatch.setattr(units, "RACY_NS", 0)
    rng = random.Random(seed)
    data = synth_fleet(SIZE, "cilium")
    data["clusters"].append(synth_cluster(11, "cilium", 300))  # a registered pull-mode cluster (SIZE has none)
    fleet = rendered_repo(tmp_path, data)
    repo = fleet.parent
    applied = []
    sequence = rng.sample(EVERY_KIND, len(EVERY_KIND)) + [rng.choice(EVERY_KIND) for _ in range(6)]  # each kind
    for step, edit in enumerate(sequence):
        edited = copy.deepcopy(data)
        edit(edited, rng)
        fleet.write_text(dump(edited))
        if run("render", str(fleet))[0] != 0:  # lint refused it (nothing rendered): undone
            fleet.write_text(dump(data))
            continue
        data = edited
        applied.append(edit.__name__)
        scratch = tmp_path / f"scratch-{step}"
        scratch.mkdir()
        shutil.copy(fleet, scratch / "fleet.yaml")
        assert run("render", "--full", str(scratch / "fleet.yaml"))[0] == 0
        assert snapshot(repo / "rendered") == snapshot(scratch / "rendered"), applied
        shutil.rmtree(scratch)
    assert {"edit_lifecycle", "edit_mode", "edit_defaults", "edit_rename", "edit_mesh_member"} <= set(applied), applied
    assert len({e.__name__ for e in WORKLOAD_EDITS} & set(applied)) >= 5, applied  # lint refuses few of them


@pytest.mark.parametrize("body", [b"", b"\x00\x01garbage", b"{}", b"\xfb" * 7], ids=["empty", "garbage", "json", "bad"])
def test_a_broken_render_cache_is_a_full_render_never_an_error(tmp_path, monkeypatch, body):
    """The cache is marshal data now: whatever the file holds (truncated, another format, a JSON cache of an
    older fleetgen), it is no cache: everything is rendered and the tree is what a full render writes."""
    data, fleet = rendered_synth_fleet(tmp_path, monkeypatch)
    before = snapshot(tmp_path / "rendered")
    cache = units.cache_path(tmp_path / "rendered")
    cache.write_bytes(body)
    code, output = run("render", "--profile", str(fleet))
    assert code == 0 and "units: 0 reused" in output, output
    assert snapshot(tmp_path / "rendered") == before
    assert units.load(tmp_path / "rendered", units.salt(data, "fleet.yaml")).units  # written anew


# ---------------------------------------------------------------- a fleet with patches


def patched_synth_fleet() -> dict:
    """The synthetic fleet with patches on a cluster unit's document chosen by labels, on a document in every
    cluster's files, on a fleet-wide document and on one cluster's Cluster API object."""
    data = synth_fleet(SIZE, "cilium")
    data["clusters"].append(synth_cluster(11, "cilium", 300))
    third = data["clusters"][2]["name"]
    annotate = [{"op": "add", "path": "/metadata/annotations", "value": {"example.com/patched": "yes"}}]
    data["patches"] = [
        {"target": {"kind": "Prometheus", "name": "fleet", "clusters": {"matchLabels": {"tier": "gpu"}}},
         "operations": [{"op": "add", "path": "/spec/retention", "value": "30d"}]},
        {"target": {"kind": "Namespace", "name": "monitoring"}, "operations": annotate},
        {"target": {"kind": "AppProject", "name": "fleet-platform"}, "operations": annotate},
        {"target": {"kind": "Cluster", "name": third, "clusters": {"matchLabels": {"environment": "production"}}},
         "operations": annotate},
    ]  # fmt: skip
    return data


def edit_patch_value(data, rng):
    data["patches"][1]["operations"][0]["value"] = {"example.com/patched": rng.choice(["yes", "again"])}


def edit_patch_selector(data, rng):
    data["patches"][0]["target"]["clusters"] = {"matchLabels": {"tier": rng.choice(["gpu", "standard", "edge"])}}


def edit_patch_failing(data, rng):
    """An operation that fails on some documents (a ``test`` of a value only some have): patch-failed."""
    data["patches"][1]["operations"] = [{"op": "test", "path": "/metadata/name", "value": "monitoring"}] + [
        {"op": "test", "path": "/metadata/labels/tier", "value": rng.choice(["gpu", "standard"])}
    ]


def edit_tier_freely(data, rng):
    """Any cluster's tier, weighted or not: a label a patch selects by (it may then select no cluster)."""
    c = rng.choice([c for c in data["clusters"] if c["labels"]["tier"] != "edge"])
    c["labels"]["tier"] = "gpu" if c["labels"]["tier"] == "standard" else "standard"


def edit_no_gpu(data, rng):
    """Every gpu cluster made standard: a cluster edit after which the tier-selected patch may match nothing."""
    for c in data["clusters"]:
        if c["labels"]["tier"] == "gpu":
            c["labels"]["tier"] = "standard"


def edit_rename_target(data, rng):
    """The cluster the last patch names renamed: that patch matches nothing, every other unit is reused."""
    target = data["patches"][3]["target"]["name"]
    c = next((c for c in data["clusters"] if c["name"] == target), None)
    if c is not None:
        c["name"] = target[:-5] + f"{rng.randint(100, 999):05d}"


PATCH_KINDS = [
    edit_patch_value,
    edit_no_gpu,
    edit_patch_failing,
    edit_rename_target,
    edit_patch_selector,
    edit_tier_freely,
    edit_remove,
    edit_rename,
]


def render_output(fleet: Path, *args: str) -> tuple[int, str]:
    """The exit code and the findings (not the summary of files written, which differs by design)."""
    code, output = run("render", *args, str(fleet))
    lines = output.replace(str(fleet), "fleet.yaml").splitlines(True)
    return code, "".join(x for x in lines if not x.startswith("rendered "))


@pytest.mark.parametrize("seed,parallel", [(5, False), (6, True)])
def test_random_edits_of_a_patched_fleet_render_and_refuse_incrementally_as_from_scratch(
    tmp_path, monkeypatch, seed, parallel
):
    """Patches apply per unit, and a reused unit counts with what it recorded: the same bytes, and the same
    ``patch-target`` (a patch no unit matched) and ``patch-failed`` findings, as a render from scratch.
    ``parallel``: units rendered in forked workers, as from 300 clusters on."""
    import fleetgen.incremental
    import fleetgen.produce

    monkeypatch.setattr(units, "RACY_NS", 0)
    if parallel:
        monkeypatch.setattr(fleetgen.incremental, "PARALLEL_FROM", 1)
        monkeypatch.setattr(fleetgen.produce, "PARALLEL_FROM", 1)
    rng = random.Random(seed)
    data = patched_synth_fleet()
    fleet = rendered_repo(tmp_path, data)
    repo = fleet.parent
    outcomes = []
    for step in range(18):
        edited = copy.deepcopy(data)
        edit = PATCH_KINDS[step] if step < len(PATCH_KINDS) else rng.choice(PATCH_KINDS + EDITS)
        edit(edited, rng)
        fleet.write_text(dump(edited))
        scratch = tmp_path / f"scratch-{step}"
        scratch.mkdir()
        shutil.copy(fleet, scratch / "fleet.yaml")
        incremental, full = render_output(fleet), render_output(scratch / "fleet.yaml", "--full")
        assert incremental == full, (step, edit.__name__)
        outcomes.append(
            incremental[0] == 0
            or {line.split("[")[1].split("]")[0] for line in full[1].splitlines() if "[patch-" in line}
        )
        if incremental[0] == 0:
            data = edited
            assert snapshot(repo / "rendered") == snapshot(scratch / "rendered"), (step, edit.__name__)
        else:
            fleet.write_text(dump(data))
        shutil.rmtree(scratch)
    refused = [o for o in outcomes if o is not True]
    assert any("patch-target" in o for o in refused) and any("patch-failed" in o for o in refused), outcomes
    assert outcomes.count(True) >= 6, outcomes


# ---------------------------------------------------------------- a fleet with extraManifests


def extras_synth_fleet(root: Path) -> dict:
    """The synthetic fleet with hand-written manifests for the hub and for the gpu spokes, written under ``root``."""
    from tests.test_extra_manifests import TOOLS as HUB_TOOLS
    from tests.test_spoke_extras import TOOLS as SPOKE_TOOLS

    for where, text in (("hub", HUB_TOOLS), ("spoke", SPOKE_TOOLS)):
        (root / "manifests" / where).mkdir(parents=True)
        (root / "manifests" / where / "tools.yaml").write_text(text)
    data = synth_fleet(SIZE, "cilium")
    data["clusters"].append(synth_cluster(11, "cilium", 300))
    data["extraManifests"] = [
        {"source": "manifests/hub"},
        {"source": "manifests/spoke", "clusters": {"matchLabels": {"tier": "gpu"}}},
    ]
    return data


def edit_hub_copy(data, rng, root: Path):
    tools = root / "manifests/hub/tools.yaml"
    tools.write_text(
        tools.read_text().replace(tools.read_text().splitlines()[-1], f"  oncall: team-{rng.randint(0, 9)}")
    )


def edit_hub_files(data, rng, root: Path):
    """A second hub manifest appears, or goes."""
    more = root / "manifests/hub/more.yaml"
    if more.exists():
        more.unlink()
    else:
        more.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n  namespace: platform-tools\n")


def edit_spoke_copy(data, rng, root: Path):
    tools = root / "manifests/spoke/tools.yaml"
    tools.write_text(tools.read_text().replace("get, list]", "get, list, watch]", 1).replace("watch, watch", "watch"))


def edit_spoke_selector(data, rng, root: Path):
    data["extraManifests"][1]["clusters"] = {"matchLabels": {"tier": rng.choice(["gpu", "standard"])}}


EXTRA_KINDS = [edit_hub_copy, edit_hub_files, edit_spoke_copy, edit_spoke_selector]


@pytest.mark.parametrize("seed", [9])
def test_random_edits_of_a_fleet_with_extra_manifests_render_incrementally_as_from_scratch(tmp_path, monkeypatch, seed):
    """The copies of extraManifests are one unit keyed by their bytes: an edit of a manifest on disk, a manifest
    added or removed, the spokes a selector picks, renders as from scratch, and every other unit is reused."""
    monkeypatch.setattr(units, "RACY_NS", 0)
    rng = random.Random(seed)
    root = tmp_path / "repo"
    root.mkdir()
    data = extras_synth_fleet(root)
    fleet = root / "fleet.yaml"
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    kinds = [lambda d, r: None] + [lambda d, r, e=e: e(d, r, root) for e in EXTRA_KINDS]  # 0: nothing changed
    applied = []
    for step in range(16):
        edited = copy.deepcopy(data)
        pick = step if step < len(kinds) else rng.randrange(len(kinds) + len(EDITS))
        edit = kinds[pick] if pick < len(kinds) else EDITS[pick - len(kinds)]
        edit(edited, rng)
        fleet.write_text(dump(edited))
        scratch = tmp_path / f"scratch-{step}"
        shutil.copytree(root / "manifests", scratch / "manifests")
        shutil.copy(fleet, scratch / "fleet.yaml")
        code, output = run("render", "--profile", str(fleet))
        assert (code, run("render", "--full", str(scratch / "fleet.yaml"))[0]) == (0, 0), output
        assert snapshot(root / "rendered") == snapshot(scratch / "rendered"), (step, pick)
        data = edited
        applied.append(output.split("units: ")[1].split("\n")[0].split(" (")[0])
        shutil.rmtree(scratch)
    assert applied[0] == "76 reused, 0 rendered", applied  # nothing changed: the copies' unit is reused too
    # A hub manifest edited or added: the copies and the platform AppProject that names their kinds; a spoke
    # manifest edited: also the units that asked for the copies of the one gpu cluster (Fleet.spoke_extras, keyed
    # per cluster asked for), never another cluster's units, nor the fleet-wide ones that read only which clusters
    # get copies (Fleet.extra_spokes).
    assert applied[1:4] == ["74 reused, 2 rendered", "74 reused, 2 rendered", "72 reused, 4 rendered"], applied


def test_a_pool_of_workers_only_when_the_work_besides_the_heaviest_unit_pays_for_it(monkeypatch):
    """A one-cluster edit renders a few cluster units in this process (forking the pool cost more than rendering
    them); many cluster units, or two fleet-wide ones in a large fleet, go to the pool."""
    from fleetgen.incremental import PARALLEL_FROM, _parallel

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    data = synth_fleet(PARALLEL_FROM)
    fleet = fleet_from_text(dump(data))
    everything = units.plan(__import__("fleetgen.render", fromlist=["targets"]).targets())(fleet)
    per_cluster = [i for i, unit in enumerate(everything) if unit.cluster is not None]
    fleet_wide = [i for i, unit in enumerate(everything) if unit.cluster is None]
    one_cluster = [i for i in per_cluster if everything[i].cluster.name == fleet.clusters[0].name]
    assert not _parallel(fleet, everything, one_cluster)
    assert not _parallel(fleet, everything, one_cluster + fleet_wide[:1])  # the heaviest runs alone anyway
    assert _parallel(fleet, everything, one_cluster + fleet_wide[:2])
    assert not _parallel(fleet, everything, per_cluster[:PARALLEL_FROM])  # the rest weighs PARALLEL_FROM - 1
    assert _parallel(fleet, everything, per_cluster[: PARALLEL_FROM + 1])
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert not _parallel(fleet, everything, per_cluster)


def test_the_cache_carries_a_stat_record_only_with_the_digest_its_file_has_now(tmp_path):
    """``save`` keeps the records this run found as recorded and takes the others again: a carried record whose
    digest is not the file's now (``incremental.Taken`` never carries one) is taken again too, and a record of a file
    no longer owned is dropped."""
    out = tmp_path / "rendered"
    out.mkdir()
    for name in ("a.yaml", "b.yaml", "c.yaml"):
        (out / name).write_text(name)
        past = os.lstat(out / name).st_mtime_ns - 10**10  # not racy: written 10 s before the cache
        os.utime(out / name, ns=(past, past))
    old = [1, 2, 3, 4]
    carried = {"a.yaml": [*old, "da"], "b.yaml": [*old, "stale"], "gone.yaml": [*old, "dg"]}
    owned = {"a.yaml": "da", "b.yaml": "db", "c.yaml": "dc"}
    assert units._carried(carried, owned) == {"a.yaml": [*old, "da"]}
    assert units._carried({"a.yaml": [*old, "da"]}, owned) == {"a.yaml": [*old, "da"]}
    cache = units.Cache("salt", stats=carried)
    units.save(out, cache, owned)
    stats = units.load(out, "salt").stats
    assert stats["a.yaml"] == [*old, "da"] and "gone.yaml" not in stats
    for name, digest in (("b.yaml", "db"), ("c.yaml", "dc")):
        info = os.lstat(out / name)
        assert stats[name] == [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, digest]
