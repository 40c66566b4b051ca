"""The lint rules' findings kept by ``render`` for the next command (fleetgen.lintcache): taken only for the very
input they were found on, never written by ``check`` or ``lint``, ignored by ``--full``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import cachedir, lint, lintcache, pipeline, secrets
from fleetgen.load import load_text
from fleetgen.main import cli
from fleetgen.sources import cluster_sources
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synth import fleet as synth_fleet
from tests.conftest import fleet_from_text
from tests.test_incremental import dump

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str]:
    """Exit code, and stdout with stderr (the findings' report) after it."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """tests/fleets/onprem.yaml (one warning, endpoint-port), rendered twice: the first render finds no lock, so
    the rules were given no versions, and its lock gives them the fleet's (it keeps nothing); the second keeps."""
    path = tmp_path / "fleet.yaml"
    shutil.copy(ROOT / "tests" / "fleets" / "onprem.yaml", path)
    assert run("render", str(path))[0] == 0
    assert not kept_findings(path)
    assert run("render", str(path))[0] == 0
    return path


def kept_findings(fleet: Path) -> bool:
    """Whether the lint cache beside ``fleet`` keeps findings (under a key), not only what the rules remember."""
    body = cachedir.read(cachedir.lint_cache(fleet))
    return isinstance(body, dict) and body.get("key") is not None


@pytest.fixture
def rules_run(monkeypatch) -> list[int]:
    """How many times the rules ran in this process (the fleet is small: no child)."""
    ran: list[int] = []
    real = lint.run

    def counted(*args, **kwargs):
        ran.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(lint, "run", counted)
    return ran


def test_check_and_lint_after_render_take_the_findings_render_linted_with(fleet, rules_run, monkeypatch):
    code, kept = run("lint", str(fleet))
    assert rules_run == [] and code == 0 and "warning[endpoint-port]" in kept  # what render found, kept
    code, output = run("check", str(fleet))
    assert code == 0 and output.endswith("rendered: up to date with the fleet file\n") and rules_run == []
    monkeypatch.setattr(lintcache, "read", lambda *a: lintcache.Kept(None, {}))
    assert run("lint", str(fleet)) == (0, kept) and rules_run == [1]  # the rules find the same


def test_any_input_of_the_rules_that_changes_runs_them_again(fleet, rules_run, monkeypatch):
    """The text (even a comment: it may suppress a finding, or move one), the lock's versions (a version bump, which
    render does not keep: its new lock gives the rules other versions), the extra manifests, fleetgen's code and the
    vendored schemas override-path walks."""
    assert run("check", str(fleet))[0] == 0 and rules_run == []
    fleet.write_text(fleet.read_text() + "# a comment\n")
    assert run("check", str(fleet))[0] == 0 and rules_run == [1]  # the tree is as it was; the rules ran
    assert run("render", str(fleet))[0] == 0 and rules_run == [1, 1]
    assert run("check", str(fleet))[0] == 0 and rules_run == [1, 1]  # kept by that render

    fleet.write_text(fleet.read_text().replace('kubernetesVersion: "1.32.1"', 'kubernetesVersion: "1.32.2"', 1))
    assert run("render", str(fleet))[0] == 0 and len(rules_run) == 3
    assert run("check", str(fleet))[0] == 0 and len(rules_run) == 4, "render kept nothing: its lock changed"
    assert run("render", str(fleet))[0] == 0 and len(rules_run) == 5
    assert run("check", str(fleet))[0] == 0 and len(rules_run) == 5

    lock = (fleet.parent / "rendered" / ".fleetgen.lock").read_text()
    (fleet.parent / "rendered" / ".fleetgen.lock").write_text(lock.replace('"1.32.2"', '"1.31.4"', 1))
    run("check", str(fleet))
    assert len(rules_run) == 6  # the versions the rules compare with are the lock's
    (fleet.parent / "rendered" / ".fleetgen.lock").write_text(lock)

    code = cachedir.code_digest
    monkeypatch.setattr(cachedir, "code_digest", lambda: "another fleetgen")
    run("check", str(fleet))
    assert len(rules_run) == 7
    monkeypatch.setattr(cachedir, "code_digest", code)
    assert run("check", str(fleet))[0] == 0 and len(rules_run) == 7
    from fleetgen.lint import overrides  # the vendored schemas override-path walks: not in the code digest

    monkeypatch.setattr(overrides, "schemas_digest", lambda kinds: "other schemas")
    run("check", str(fleet))
    assert len(rules_run) == 8


def test_after_a_node_pool_edit_only_the_rules_that_read_what_changed_run(fleet, monkeypatch):
    """The rules that read no node pool (nor the raw data) are taken from what the last render recorded of each
    (``lint/reuse.py``), by ``check`` as by ``render``, and find what every rule run afresh finds."""
    fleet.write_text(fleet.read_text().replace("max: 3", "max: 1", 1))  # below its min: pool-min-max
    code, output = run("check", "--profile", str(fleet))
    note = next(
        line for line in output.splitlines() if line.endswith("reused from the last render (nothing they read changed)")
    )
    reused = int(note.split("lint rules: ")[1].split(" of ")[0])
    assert code == 1 and 0 < reused < len(lint.LINT_RULES) and "error[pool-min-max]" in output
    linted = run("lint", str(fleet))
    code, rendered = run("render", "--profile", str(fleet))
    assert (
        code == 1 and note in rendered and "nothing rendered" in rendered
    )  # the same rules reused; the error stops it
    monkeypatch.setattr(lintcache, "read", lambda *a: lintcache.Kept(None, {}))
    assert run("lint", str(fleet)) == linted


def test_an_extra_manifest_is_part_of_the_key(tmp_path, rules_run):
    fleet = tmp_path / "fleet.yaml"
    shutil.copy(ROOT / "tests" / "fleets" / "onprem.yaml", fleet)
    manifest = tmp_path / "hub-extra" / "quota.yaml"
    manifest.parent.mkdir()
    manifest.write_text("apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n  namespace: default\n")
    fleet.write_text(fleet.read_text() + "extraManifests:\n  - source: hub-extra\n")
    assert run("render", str(fleet))[0] == 0 and run("render", str(fleet))[0] == 0 and rules_run == [1, 1]
    assert run("check", str(fleet))[0] == 0 and rules_run == [1, 1]
    manifest.write_text(manifest.read_text().replace("name: q", "name: r"))
    run("check", str(fleet))
    assert rules_run == [1, 1, 1]


def test_only_render_keeps_findings_and_full_reads_none(tmp_path, rules_run):
    fleet = tmp_path / "fleet.yaml"
    shutil.copy(ROOT / "tests" / "fleets" / "onprem.yaml", fleet)
    kept = cachedir.lint_cache(fleet)
    run("lint", str(fleet))
    run("check", str(fleet))
    assert not kept.exists() and rules_run == [1, 1]
    assert run("render", str(fleet))[0] == 0 and not kept_findings(fleet)  # no lock before it: no findings kept
    assert run("render", "--full", str(fleet))[0] == 0 and kept_findings(fleet) and rules_run == [1, 1, 1, 1]
    assert run("check", "--full", str(fleet))[0] == 0 and len(rules_run) == 5
    assert run("check", str(fleet))[0] == 0 and len(rules_run) == 5


def test_the_kept_findings_are_the_findings(fleet):
    """What render kept reads back as the very findings (positions, hints, related places), and a cache of another
    shape or key is no cache."""
    loaded = pipeline.load_and_lint(fleet)
    kept, remembered, memory = lintcache.read(fleet, loaded.lint_key or "")
    assert kept is not None and loaded.linted is not None and memory is not None and memory == kept.memory
    assert kept == loaded.linted and kept.findings and kept.findings[0].rule == "endpoint-port"
    assert remembered == kept.remembered and remembered["secret-material"]
    assert lintcache.read(fleet, "another key") == (None, remembered, memory)  # neither is keyed so
    body = cachedir.read(cachedir.lint_cache(fleet))
    body["remembered"] = {"secret-material": 5, "other": [1], 7: ["x"], "fine": ["a", "b"]}  # no crash: left out
    cachedir.lint_cache(fleet).write_bytes(cachedir.encode(body))
    assert lintcache.read(fleet, loaded.lint_key or "")[1] == {"fine": ["a", "b"]}
    assert run("lint", str(fleet))[0] == 0
    cachedir.lint_cache(fleet).write_bytes(b"not marshal")
    assert lintcache.read(fleet, loaded.lint_key or "") == (None, {}, None)


def test_a_big_fleet_takes_the_kept_findings_without_forking_the_rules(fleet, monkeypatch):
    """From 300 clusters the rules run in a child beside the unit pass; with findings kept, none is forked."""
    monkeypatch.setattr(pipeline, "LINT_ALONGSIDE_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for command in ("check", "render"):
        code, output = run(command, "--profile", str(fleet))
        assert code == 0 and "lint rules: the last render's findings" in output
        assert "in a forked process, alongside the stages after model" not in output
    monkeypatch.setattr(lintcache, "read", lambda *a: lintcache.Kept(None, {}))
    code, output = run("check", "--profile", str(fleet))
    assert code == 0 and "lint rules: 0." in output and "in a forked process" in output


SECRET = "AKIAIOSFODNN7EXAMPLE"  # an AWS access key id's shape (AWS's documented example)
ONLY_SECRETS = frozenset({"secret-material"})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["leak", "mend", "region", "move", "comment"])), max_size=10)
)
def test_the_clusters_secret_material_remembers_as_clean_hold_no_credential(steps):
    """Run after run, with what the last run remembered, the rule finds what it finds with no memory: a credential
    put into a cluster it remembers clean, taken out, a cluster moved, edited or commented."""
    data = synth_fleet(6, "cilium")
    comments: dict[str, str] = {}
    remembered: dict = {}
    for index, how in [(0, "leak"), *steps]:
        cluster = data["clusters"][index]
        if how == "leak":
            cluster["labels"]["team"] = SECRET
        elif how == "mend":
            cluster["labels"].pop("team", None)
        elif how == "region":
            cluster["region"] = "eu-west-1" if cluster["region"] != "eu-west-1" else "us-east-1"
        elif how == "move":
            data["clusters"].append(data["clusters"].pop(index))
        else:
            comments[cluster["name"]] = f"  # {how} {len(comments)}"
        text = dump(data)
        for name, comment in comments.items():
            text = text.replace(f"- name: {name}\n", f"- name: {name}{comment}\n", 1)
        doc, _ = load_text(text, "fleet.yaml")
        assert doc is not None
        sources = cluster_sources(doc)
        assert sources is not None
        fleet = fleet_from_text(text)
        memory = lint.run(doc, fleet, select=ONLY_SECRETS, sources=sources, remembered=remembered)
        assert memory.findings == lint.run(doc, fleet, select=ONLY_SECRETS).findings
        leaking = {c["name"] for c in data["clusters"] if c["labels"].get("team") == SECRET}
        assert len(memory.findings) == len(leaking)
        assert set(memory.remembered["secret-material"]) == {sources[n] for n in sources if n not in leaking}
        remembered = memory.remembered


def test_lint_after_render_scans_only_the_clusters_render_did_not_find_clean(tmp_path, monkeypatch):
    """What render's rules remembered is kept (its lock may differ: the memory does not depend on it), read by the
    next command, and only for the code that wrote it."""
    fleet = tmp_path / "fleet.yaml"
    data = synth_fleet(8, "cilium")
    fleet.write_text(dump(data))
    assert run("render", str(fleet))[0] == 0
    skipped: list[int] = []
    real = secrets.scan_data

    def counted(data):
        skipped.append(sum(1 for cluster in data["clusters"] if cluster == {}))  # remembered: an empty mapping
        return real(data)

    monkeypatch.setattr(secrets, "scan_data", counted)
    text = fleet.read_text()
    data["clusters"][3]["labels"]["team"] = SECRET
    fleet.write_text(dump(data))
    code, output = run("lint", str(fleet))
    assert code == 1 and "error[secret-material]" in output and skipped == [7]
    fleet.write_text(text)
    run("check", str(fleet))
    assert skipped == [7, 8]  # render kept no findings (it found no lock before it), but what its rules remember
    monkeypatch.setattr(cachedir, "code_digest", lambda: "another fleetgen")
    run("lint", str(fleet))
    assert skipped[-1] == 0  # remembered by other code: nothing trusted
