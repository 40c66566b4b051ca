"""Faults from the git checkout around fleetgen, on real repositories: CRLF checkouts
(core.autocrlf=true), a committed symlink as the output directory, a repository owned by another
user, and a partial clone whose objects cannot be fetched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen.main import cli

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "tests" / "fleets" / "base.yaml").read_text()
MORE = BASE.replace("replicas: 6", "replicas: 9")  # orders: prod-a 4 -> 6, prod-b 2 -> 3 (weights 2:1)
NOBODY = 65534


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,  # a git that waits (a prompt, a fetch from a gone remote) fails the test, never hangs it
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    ).stdout


def commit(repo: Path, fleet_text: str, message: str) -> None:
    (repo / "fleet.yaml").write_text(fleet_text)
    assert run("render", repo / "fleet.yaml").exit_code == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def new_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


def snapshot(top: Path) -> dict[str, bytes]:
    return {p.relative_to(top).as_posix(): p.read_bytes() for p in sorted(top.rglob("*")) if p.is_file()}


def findings(fleet: Path) -> list[tuple[str, str]]:
    result = run("check", fleet, "--format", "json")
    return sorted((f["rule"], f["file"].rsplit("rendered/", 1)[1]) for f in json.loads(result.output)["findings"])


# ---------------------------------------------------------------- CRLF checkouts


@pytest.fixture
def crlf_clone(tmp_path) -> Path:
    origin = new_repo(tmp_path / "origin")
    commit(origin, BASE, "base")
    git(tmp_path, "-c", "core.autocrlf=true", "clone", "-q", str(origin), "clone")
    clone = tmp_path / "clone"
    git(clone, "config", "core.autocrlf", "true")
    assert b"\r\n" in (clone / "rendered" / "hub" / "capi" / "prod-a.yaml").read_bytes()  # git converted it
    return clone


def test_crlf_checkout_is_up_to_date_and_render_leaves_it_alone(crlf_clone):
    fleet = crlf_clone / "fleet.yaml"
    before = snapshot(crlf_clone / "rendered")
    checked = run("check", fleet)
    assert checked.exit_code == 0 and checked.output.endswith("rendered: up to date with the fleet file\n")
    rendered = run("render", fleet)
    files = len(git(crlf_clone, "ls-files", "rendered").split()) - 1  # every rendered file but the lock
    assert rendered.exit_code == 0, rendered.output
    assert f": 0 written, {files} unchanged, 0 deleted" in rendered.output, rendered.output
    assert snapshot(crlf_clone / "rendered") == before
    assert git(crlf_clone, "status", "--porcelain") == ""


def test_crlf_checkout_still_sees_hand_edits_and_stale_files(crlf_clone):
    fleet = crlf_clone / "fleet.yaml"
    capi = crlf_clone / "rendered" / "hub" / "capi" / "prod-a.yaml"
    capi.write_bytes(capi.read_bytes().replace(b"version: v1.30\r\n", b"version: v1.29\r\n", 1))
    assert findings(fleet) == [("hand-edit", "hub/capi/prod-a.yaml")]
    shown = run("check", fleet).output  # the diff is the one edited line, not every line's ending
    assert [ln for ln in shown.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")] == [
        "-  version: v1.29",
        "+  version: v1.30",
    ]
    capi.write_bytes(capi.read_bytes().replace(b"version: v1.29\r\n", b"version: v1.30\r\n", 1))
    fleet.write_bytes(fleet.read_bytes().replace(b"replicas: 6\r\n", b"replicas: 9\r\n"))
    assert {rule for rule, _ in findings(fleet)} == {"stale-render"}


# ---------------------------------------------------------------- a committed symlink as the output directory


def test_diff_follows_a_committed_rendered_symlink_in_the_base(tmp_path):
    repo = new_repo(tmp_path / "repo")
    (repo / "out" / "prod").mkdir(parents=True)
    (repo / "rendered").symlink_to("out/prod")
    commit(repo, BASE, "base")
    assert git(repo, "ls-files", "-s", "rendered").startswith("120000 ")  # committed as a symlink
    (repo / "fleet.yaml").write_text(MORE)
    assert run("render", repo / "fleet.yaml").exit_code == 0
    result = run("diff", repo / "fleet.yaml", "--base", "HEAD", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    manifests = {(m["cluster"], m["id"], m["status"]) for m in body["manifests"]}
    # Hand-checked: the PropagationPolicy carries the 2:1 weights, not the count, so only the
    # placement table of the generated README changes (the old code: 90 added, the symlink removed).
    assert manifests == {("hub", "README.md", "changed")}, manifests
    assert body["plan"]["placements"]["orders"] == {"prod-a": {"old": 4, "new": 6}, "prod-b": {"old": 2, "new": 3}}


# ---------------------------------------------------------------- git refuses, or cannot fetch


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository to another user")
def test_dubious_ownership_reports_gits_reason_and_fix(tmp_path, monkeypatch):
    repo = new_repo(tmp_path / "repo")
    commit(repo, BASE, "base")
    commit(repo, MORE, "more orders")
    for path in [repo, *repo.rglob("*")]:
        os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")  # no safe.directory exception from the machine
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    before = snapshot(repo)
    result = CliRunner().invoke(cli, ["diff", str(repo / "fleet.yaml"), "--base", "HEAD~1"])
    assert result.exit_code == 2
    assert result.output.startswith(
        f"fleetgen: git cannot use the repository at {repo}:\n"
        f"  fatal: detected dubious ownership in repository at '{repo}'\n"
    )
    assert f"git config --global --add safe.directory {repo}" in result.output
    assert "not in a git repository" not in result.output
    assert snapshot(repo) == before


@pytest.fixture
def unfetchable(tmp_path):
    """A blobless partial clone whose promisor remote is gone: the base commit's blobs cannot be read."""

    def make(first: str, second: str, touch_base=None) -> Path:
        origin = new_repo(tmp_path / "origin")
        git(origin, "config", "uploadpack.allowFilter", "true")
        (origin / "fleet.yaml").write_text(first)
        assert run("render", origin / "fleet.yaml").exit_code == 0
        if touch_base:
            touch_base(origin)
        git(origin, "add", "-A")
        git(origin, "commit", "-q", "-m", "base")
        commit(origin, second, "head")
        git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{origin}", "clone")
        shutil.move(origin, tmp_path / "gone")
        return tmp_path / "clone"

    return make


def test_partial_clone_missing_base_fleet_is_gits_error_not_absent(unfetchable):
    clone = unfetchable(BASE, MORE)
    before = snapshot(clone)
    result = CliRunner().invoke(cli, ["diff", str(clone / "fleet.yaml"), "--base", "HEAD~1"])
    base = git(clone, "rev-parse", "HEAD~1").strip()[:12]
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"fleetgen: git cannot read fleet.yaml at {base}:\n  "), result.output
    assert "from promisor remote" in result.output and "does not exist at the base" not in result.output
    assert snapshot(clone) == before


def test_partial_clone_missing_base_manifest_is_gits_error_not_a_crash(unfetchable):
    def edit_readme(origin: Path) -> None:  # the base tree differs from the head's only in one manifest
        readme = origin / "rendered" / "README.md"
        readme.write_text(readme.read_text() + "\nedited at the base\n")

    clone = unfetchable(BASE, BASE, edit_readme)
    result = CliRunner().invoke(cli, ["diff", str(clone / "fleet.yaml"), "--base", "HEAD~1"])
    base = git(clone, "rev-parse", "HEAD~1").strip()[:12]
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"fleetgen: git cannot read the files under rendered at {base}:\n  ")
    assert "from promisor remote" in result.output and "Traceback" not in result.output
