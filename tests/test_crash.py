"""SIGKILL a real ``fleetgen render`` at many moments: the tree is always the old one or the new one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.synth import fleet_yaml

CLUSTERS = 400
ENV = {**os.environ, "CI": "1"}


def snapshot(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def render(fleet: Path, *extra: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "fleetgen", "render", str(fleet), *extra], check=True, env=ENV, capture_output=True
    )


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """The old tree (A), the expected new tree (B) rendered elsewhere from the changed fleet, and the fleet and
    tree of an intermediate render (A', another revision) that leaves A behind as the standby tree."""
    base = tmp_path_factory.mktemp("crash")
    old_text = fleet_yaml(CLUSTERS)
    new_text = old_text.replace("thanos:v0.38.0", "thanos:v0.38.1").replace("revision: main", "revision: release")
    between_text = old_text.replace("revision: main", "revision: staging")
    assert len({old_text, new_text, between_text}) == 3
    snapshots = {}
    for name, text in [("expected", new_text), ("between", between_text), ("seed", old_text)]:
        (base / name).mkdir()
        (base / name / "fleet.yaml").write_text(text)
        render(base / name / "fleet.yaml")
        snapshots[name] = snapshot(base / name / "rendered")
    return base / "seed", snapshots["seed"], new_text, snapshots["expected"], between_text, snapshots["between"]


# fleetgen render, telling the test (a flag file) the moment it starts building the new tree: in the standby
# tree (swap._update) or, without one, in a fresh staging directory (swap._stage).
FLAGGED_RENDER = """
import sys
from pathlib import Path
from fleetgen import swap
from fleetgen.main import cli

def flagged(build):
    def run(*args, **kwargs):
        Path(sys.argv[1]).write_text("building")
        return build(*args, **kwargs)
    return run

swap._update, swap._stage = flagged(swap._update), flagged(swap._stage)
cli(sys.argv[2:], prog_name="fleetgen")
"""


def kill_during_render(fleet: Path, delay: float) -> int | None:
    """Start a render, SIGKILL it ``delay`` seconds after it starts building the new tree."""
    flag = fleet.parent.parent / "building"
    proc = subprocess.Popen(
        [sys.executable, "-c", FLAGGED_RENDER, str(flag), "render", str(fleet)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert flag.exists(), "the render ended before it built a tree"
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=600)


@pytest.mark.parametrize(
    "standby,delay",
    [(False, delay) for delay in (0.0, 0.01, 0.05, 0.1, 0.2)]
    + [(True, delay) for delay in (0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08)],
)
def test_sigkill_leaves_old_or_new_tree(tmp_path, trees, delay, standby):
    """Killed while building the new tree from nothing, or while bringing a standby tree (the one the previous
    render swapped out, sharing the unchanged files' inodes with the live tree) up to date."""
    seed, old, new_text, new, between_text, between = trees
    shutil.copytree(seed, tmp_path / "repo", symlinks=True)
    fleet = tmp_path / "repo" / "fleet.yaml"
    if standby:  # a render that swaps: the tree it swaps out is the standby the next render builds in
        fleet.write_text(between_text)
        render(fleet)
        old = between
        assert snapshot(tmp_path / "repo" / "rendered") == old
        assert (tmp_path / "repo" / ".fleetgen-cache" / "standby").is_dir()
    fleet.write_text(new_text)
    kill_during_render(fleet, delay)
    now = snapshot(tmp_path / "repo" / "rendered")
    assert now == old or now == new, f"mixed tree after SIGKILL at +{delay}s"
    render(fleet)  # the next run recovers: staging leftovers removed, the standby repaired, tree complete
    assert snapshot(tmp_path / "repo" / "rendered") == new
    assert not (tmp_path / "repo" / ".rendered.fleetgen-staging").exists()


def test_two_concurrent_renders_never_mix(tmp_path, trees):
    seed, old, new_text, new, *_ = trees
    shutil.copytree(seed, tmp_path / "repo", symlinks=True)
    fleet = tmp_path / "repo" / "fleet.yaml"
    fleet.write_text(new_text)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "fleetgen", "render", str(fleet)],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(p.returncode, err) for p in procs for _, err in [p.communicate(timeout=600)]]  # no full-pipe stall
    assert all(code == 0 or (code == 2 and "another fleetgen render" in err) for code, err in outcomes), outcomes
    assert any(code == 0 for code, _ in outcomes)
    assert snapshot(tmp_path / "repo" / "rendered") == new
