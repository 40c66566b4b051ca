"""The example GitHub workflow and the pinning advice: what a copy of them needs to work."""

from __future__ import annotations

from pathlib import Path

import yaml
from fleetgen.report.markdown import MARKER

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = yaml.safe_load((ROOT / "examples" / "github-workflow.yaml").read_text())
STEPS = WORKFLOW["jobs"]["render-and-diff"]["steps"]


def step(name_part: str) -> dict:
    return next(s for s in STEPS if name_part in s.get("name", s.get("uses", "")))


def test_least_privilege_permissions():
    assert WORKFLOW["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_checks_out_the_pull_request_head_with_history_for_the_merge_base():
    checkout = step("actions/checkout")["with"]
    assert checkout == {"ref": "${{ github.event.pull_request.head.sha }}", "fetch-depth": 0}


def test_one_sticky_comment_found_by_the_markers_fleetgen_writes():
    script = step("Post or update")["run"]
    assert f'startswith("{MARKER}")' in script and "--method PATCH" in script and "--method POST" in script
    # posted only when the diff step wrote a whole comment, and never from a fork's read-only token
    assert step("Diff against")["id"] == "diff" and "fleetgen diff --base" in step("Diff against")["run"]
    condition = step("Post or update")["if"]
    assert "steps.diff.outcome == 'success'" in condition and "head.repo.full_name == github.repository" in condition


def test_destruction_gate_keeps_the_exit_code():
    gate = step("approve-destroy")
    assert "--fail-on destroy" in gate["run"] and 'exit "$status"' in gate["run"]
    assert "labeled" in WORKFLOW[True]["pull_request"]["types"]  # PyYAML reads the key `on` as True


def test_no_pin_to_a_tag_that_does_not_exist():
    for path in ("README.md", "examples/github-workflow.yaml", ".pre-commit-hooks.yaml"):
        assert "v0.1.0" not in (ROOT / path).read_text(), path


def test_the_workflow_init_writes_is_the_example():
    """``fleetgen init`` ships generator/fleetgen/templates/github-workflow.yaml (a symlink to the example
    in the source tree, a file in the wheel); the README points at examples/: one workflow, not two."""
    shipped = ROOT / "generator" / "fleetgen" / "templates" / "github-workflow.yaml"
    assert shipped.read_bytes() == (ROOT / "examples" / "github-workflow.yaml").read_bytes()
