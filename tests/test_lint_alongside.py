"""The lint rules in a forked child while check/render plan their units (``fleetgen.fork``, ``pipeline.load_lint_and``):
the same findings, exit codes and trees as running them first, and nothing of a fleet with errors is kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fleetgen import fork, pipeline
from fleetgen.main import cli

from tests.conftest import EXAMPLE

FLEETS = [EXAMPLE, *sorted((Path(__file__).parent / "fleets").glob("*.yaml"))]
PARENT = os.getpid()


def test_the_child_runs_the_work_and_sends_its_result():
    child = fork.Child(lambda: (os.getpid(), [{"x": 1}] * 3))
    pid, value = child.result()
    assert pid != os.getpid() and value == [{"x": 1}] * 3
    assert child.seconds >= 0


def test_a_result_larger_than_a_pipe_buffer_arrives_whole():
    big = "x" * (4 << 20)
    assert fork.Child(lambda: big).result() == big


def _fails_in_the_child(how: str):
    def work():
        if os.getpid() != PARENT:  # the child only
            if how == "raise":
                raise RuntimeError("a bug that shows only in the child")
            if how == "exit":
                os._exit(0)  # exit 0 without sending anything
            os.kill(os.getpid(), 9)
        return "run here"

    return work


@pytest.mark.parametrize("how", ["raise", "exit", "killed"])
def test_a_child_that_fails_is_not_trusted_the_work_runs_here(how):
    assert os.getpid() == PARENT  # xdist workers import this module themselves: PARENT is this process
    assert fork.Child(_fails_in_the_child(how)).result() == "run here"


def _second_stage_fails_in_the_child():
    if os.getpid() != PARENT:
        os.kill(os.getpid(), 9)
    return "second, run here"


def test_stages_arrive_in_order_and_a_stage_the_child_did_not_send_whole_runs_here():
    child = fork.Child(lambda: ("first", os.getpid()), lambda: ("second", os.getpid()))
    first, second = child.result(), child.stage(1)
    assert first[0] == "first" and second[0] == "second" and first[1] == second[1] != os.getpid()
    assert child.stage(0) is first  # collected once
    failing = fork.Child(lambda: os.getpid(), _second_stage_fails_in_the_child)
    assert failing.result() != os.getpid()  # sent whole before the child died: the child's
    assert failing.stage(1) == "second, run here"


def test_a_child_stopped_between_stages_is_reaped():
    child = fork.Child(lambda: "first", lambda: __import__("time").sleep(60))
    assert child.result() == "first"
    pid = child._pid
    child.stop()  # returns at once: the child is killed and reaped
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_stop_ends_the_child():
    child = fork.Child(lambda: __import__("time").sleep(60))
    child.stop()  # returns at once: the child is killed and reaped


def _serial(path: Path):
    loaded = pipeline.load_and_lint(path)
    return loaded.findings, loaded.suppressed


@pytest.fixture
def alongside(monkeypatch):
    monkeypatch.setattr(pipeline, "LINT_ALONGSIDE_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


@pytest.mark.parametrize("path", FLEETS, ids=lambda p: p.name)
def test_the_findings_are_those_of_the_rules_run_first(path, alongside, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    shutil.copy(path, fleet)
    seen = []
    loaded, value = pipeline.load_lint_and(fleet, lambda loaded: seen.append(loaded.model) or "planned")
    assert (loaded.findings, loaded.suppressed) == _serial(fleet)
    assert seen and (value == "planned") == loaded.ok


def _fleet_with_an_error(tmp_path: Path) -> Path:
    """The example fleet with a second cluster whose pods overlap the first's (an error of the lint rules)."""
    text = EXAMPLE.read_text()
    assert "{pods: 10.20.0.0/14," in text
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(text.replace("{pods: 10.20.0.0/14,", "{pods: 10.16.0.0/14,", 1))
    return fleet


def test_with_an_error_what_ran_alongside_is_dropped(alongside, tmp_path):
    fleet = _fleet_with_an_error(tmp_path)
    loaded, value = pipeline.load_lint_and(fleet, lambda loaded: "planned")
    assert not loaded.ok and value is None
    assert (loaded.findings, loaded.suppressed) == _serial(fleet)


def test_with_an_error_an_exception_alongside_is_dropped_too(alongside, tmp_path):
    def fails(loaded):
        raise RuntimeError("planned on a fleet that lint rejects")

    loaded, value = pipeline.load_lint_and(_fleet_with_an_error(tmp_path), fails)
    assert not loaded.ok and value is None


def test_without_an_error_an_exception_alongside_is_raised(alongside, tmp_path):
    fleet = tmp_path / "fleet.yaml"
    shutil.copy(EXAMPLE, fleet)

    def fails(loaded):
        raise RuntimeError("a bug in planning")

    with pytest.raises(RuntimeError, match="a bug in planning"):
        pipeline.load_lint_and(fleet, fails)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_render_and_check_alongside_give_the_exit_codes_findings_and_tree_of_a_serial_run(alongside, tmp_path):
    fleet = _fleet_with_an_error(tmp_path)
    code, output = _run("render", str(fleet))
    assert code == 1 and "error[cidr-overlap" in output and not (tmp_path / "rendered").exists()
    assert _run("check", str(fleet))[0] == 1
    shutil.copy(EXAMPLE, fleet)
    assert _run("render", "--profile", str(fleet))[0] == 0
    assert (tmp_path / "rendered").is_dir()
    shutil.copytree(tmp_path / "rendered", tmp_path / "alongside")
    code, output = _run("check", "--profile", str(fleet))
    assert code == 0 and "in a forked process" in output, output
    shutil.rmtree(tmp_path / "rendered")
    pipeline.LINT_ALONGSIDE_FROM = 10**9  # serial (monkeypatch restores it)
    assert _run("render", "--full", str(fleet))[0] == 0
    assert sorted(p.read_bytes() for p in (tmp_path / "rendered").rglob("*") if p.is_file()) == sorted(
        p.read_bytes() for p in (tmp_path / "alongside").rglob("*") if p.is_file()
    )
