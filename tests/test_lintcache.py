"""The lint rules' findings kept by ``render`` for the next command (fleetgen.lintcache): taken only for the very
input they were found on, never written by ``check`` or ``lint``, ignored by ``--full``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import cachedir, lint, lintcache, pipeline
from fleetgen.main import cli

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
    assert not cachedir.lint_cache(path).exists()
    assert run("render", str(path))[0] == 0
    return path


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
    monkeypatch.setattr(lintcache, "read", lambda *a: None)
    assert run("lint", str(fleet)) == (0, kept) and rules_run == [1]  # the rules find the same


def test_any_input_of_the_rules_that_changes_runs_them_again(fleet, rules_run, monkeypatch):
    """The text (even a comment: it may suppress a finding, or move one), the lock's versions (a version bump, which
    render does not keep: its new lock gives the rules other versions), the extra manifests, and fleetgen's code."""
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

    monkeypatch.setattr(cachedir, "code_digest", lambda: "another fleetgen")
    run("check", str(fleet))
    assert len(rules_run) == 7


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
    assert run("render", str(fleet))[0] == 0 and not kept.exists()  # no lock before it: nothing kept
    assert run("render", "--full", str(fleet))[0] == 0 and kept.exists() and rules_run == [1, 1, 1, 1]
    assert run("check", "--full", str(fleet))[0] == 0 and len(rules_run) == 5
    assert run("check", str(fleet))[0] == 0 and len(rules_run) == 5


def test_the_kept_findings_are_the_findings(fleet):
    """What render kept reads back as the very findings (positions, hints, related places), and a cache of another
    shape or key is no cache."""
    loaded = pipeline.load_and_lint(fleet)
    kept = lintcache.read(fleet, loaded.lint_key or "")
    assert kept is not None and loaded.linted is not None
    assert kept == loaded.linted and kept.findings and kept.findings[0].rule == "endpoint-port"
    assert lintcache.read(fleet, "another key") is None
    cachedir.lint_cache(fleet).write_bytes(b"not marshal")
    assert lintcache.read(fleet, loaded.lint_key or "") is None


def test_a_big_fleet_takes_the_kept_findings_without_forking_the_rules(fleet, monkeypatch):
    """From 300 clusters the rules run in a child beside the unit pass; with findings kept, none is forked."""
    monkeypatch.setattr(pipeline, "LINT_ALONGSIDE_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for command in ("check", "render"):
        code, output = run(command, "--profile", str(fleet))
        assert code == 0 and "lint rules: the last render's findings" in output
        assert "in a forked process, alongside the stages after model" not in output
    monkeypatch.setattr(lintcache, "read", lambda *a: None)
    code, output = run("check", "--profile", str(fleet))
    assert code == 0 and "lint rules: 0." in output and "in a forked process" in output
