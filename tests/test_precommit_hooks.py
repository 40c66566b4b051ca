"""The hooks in .pre-commit-hooks.yaml, run by the real ``pre-commit try-repo`` on a temporary GitOps repo.

try-repo installs fleetgen into a fresh virtualenv (dependencies from PyPI), exactly as a user's
``pre-commit`` would. It takes the hooks from a git repository; this project's working tree
(tracked and untracked files, .gitignore honoured) is committed into a temporary snapshot
repository first, so the test exercises the hooks as they are now, committed or not. try-repo
keeps its own throw-away store per call, so each call runs every hook at once and the
per-hook results are read from its report.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from fleetgen.main import cli

pytest.importorskip(
    "pre_commit",
    reason="pre-commit is not installed (pip install -e '.[test]'): "
    "the hooks can only be tested with the real pre-commit try-repo",
)

ROOT = Path(__file__).resolve().parents[1]
FLEET = (ROOT / "tests" / "fleets" / "base.yaml").read_text()
HOOKS = {"fleetgen-lint": "fleetgen lint", "fleetgen-render": "fleetgen render", "fleetgen-check": "fleetgen check"}
RESULT = re.compile(r"^(fleetgen \w+)\.+(?:\(no files to check\))?(Passed|Failed|Skipped)$", re.M)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def init_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "test")
    return path


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """A one-commit git repository holding this project's working tree (the hooks as they are now)."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    snapshot = init_repo(tmp_path_factory.mktemp("hooks") / "fleetgen")
    for rel in filter(None, listed):
        if (ROOT / rel).is_file() and not rel.startswith("rendered/"):
            (snapshot / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, snapshot / rel)
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot


@pytest.fixture
def gitops(tmp_path) -> Path:
    """A user's GitOps repository: fleet.yaml and its rendered tree, committed."""
    repo = init_repo(tmp_path / "gitops")
    (repo / "fleet.yaml").write_text(FLEET)
    assert CliRunner().invoke(cli, ["render", str(repo / "fleet.yaml")]).exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet and rendered tree")
    return repo


def try_repo(hooks_repo: Path, gitops: Path, tmp_path: Path) -> tuple[int, dict[str, str], str]:
    """Run every hook of ``hooks_repo`` on all files of ``gitops``; (exit code, {hook name: result}, output)."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks_repo), "--all-files", "--color", "never"],
        cwd=gitops,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    return done.returncode, dict(RESULT.findall(output)), output


def test_manifest_settings():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {hid: h["name"] for hid, h in hooks.items()} == HOOKS
    assert all(h["language"] == "python" for h in hooks.values())
    assert hooks["fleetgen-lint"]["pass_filenames"] is True  # `fleetgen lint` takes the one FLEET file
    for hid in ("fleetgen-render", "fleetgen-check"):
        assert hooks[hid]["pass_filenames"] is False and hooks[hid]["require_serial"] is True
    lint, tree = re.compile(hooks["fleetgen-lint"]["files"]), re.compile(hooks["fleetgen-check"]["files"])
    assert lint.search("fleet.yaml") and lint.search("infra/fleet.yml") and not lint.search("myfleet.yaml")
    assert tree.search("rendered/hub/capi/a.yaml") and tree.search("fleet.yaml") and not tree.search("README.md")


def test_clean_after_render_then_failing_after_an_unrendered_change(hooks_repo, gitops, tmp_path):
    code, results, output = try_repo(hooks_repo, gitops, tmp_path)
    assert code == 0, output
    assert results == {name: "Passed" for name in HOOKS.values()}, output

    (gitops / "fleet.yaml").write_text(FLEET.replace("replicas: 6", "replicas: 9"))  # not rendered
    code, results, output = try_repo(hooks_repo, gitops, tmp_path)
    assert code == 1, output
    assert results == {"fleetgen lint": "Passed", "fleetgen render": "Failed", "fleetgen check": "Failed"}, output
    assert "files were modified by this hook" in output  # render failed the formatter way
    assert "stale-render" in output
    assert "rendered/.fleetgen.lock" in git(gitops, "diff", "--name-only")  # and re-rendered the tree
    assert CliRunner().invoke(cli, ["check", str(gitops / "fleet.yaml")]).exit_code == 0
