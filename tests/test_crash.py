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
    """The old tree (A), and the expected new tree (B) rendered elsewhere from the changed fleet."""
    base = tmp_path_factory.mktemp("crash")
    old_text = fleet_yaml(CLUSTERS)
    new_text = old_text.replace("thanos:v0.38.0", "thanos:v0.38.1").replace("revision: main", "revision: release")
    assert new_text != old_text
    expected = base / "expected"
    expected.mkdir()
    (expected / "fleet.yaml").write_text(new_text)
    render(expected / "fleet.yaml")
    (base / "old-fleet.yaml").write_text(old_text)
    (base / "old-fleet.yaml").parent.joinpath("seed").mkdir()
    seed = base / "seed"
    (seed / "fleet.yaml").write_text(old_text)
    render(seed / "fleet.yaml")
    return seed, snapshot(seed / "rendered"), new_text, snapshot(expected / "rendered")


def kill_during_render(fleet: Path, delay: float) -> int | None:
    """Start a render, SIGKILL it ``delay`` seconds after its staging directory appears."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fleetgen", "render", str(fleet)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = fleet.parent / ".rendered.fleetgen-staging"
    deadline = time.monotonic() + 60
    while not staging.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=600)


@pytest.mark.parametrize("delay", [0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8])
def test_sigkill_leaves_old_or_new_tree(tmp_path, trees, delay):
    seed, old, new_text, new = trees
    shutil.copytree(seed, tmp_path / "repo", symlinks=True)
    fleet = tmp_path / "repo" / "fleet.yaml"
    fleet.write_text(new_text)
    kill_during_render(fleet, delay)
    now = snapshot(tmp_path / "repo" / "rendered")
    assert now == old or now == new, f"mixed tree after SIGKILL at +{delay}s"
    render(fleet)  # the next run recovers: staging leftovers removed, tree complete
    assert snapshot(tmp_path / "repo" / "rendered") == new
    assert not (tmp_path / "repo" / ".rendered.fleetgen-staging").exists()


def test_two_concurrent_renders_never_mix(tmp_path, trees):
    seed, old, new_text, new = trees
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
