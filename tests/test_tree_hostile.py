"""Review 19: what a rendered tree may hold that is neither a file nor a directory, read by ``check`` and ``render``.

Run as subprocesses with a timeout: the failure these tests guard against is a command that never returns.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fleetgen(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLEETGEN_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [sys.executable, "-m", "fleetgen", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_fifo_in_the_tree_is_reported_not_read(tmp_path):
    """A named pipe where fleetgen reads a file (a stray ``*.yaml``, or in place of an owned file that the
    incremental render reads to verify a reused unit) made ``check`` and ``render`` block forever in ``read``."""
    (tmp_path / "fleet.yaml").write_text((ROOT / "fleet.yaml").read_text())
    assert fleetgen("render", "fleet.yaml", cwd=tmp_path).returncode == 0
    live = tmp_path / "rendered"
    os.mkfifo(live / "pipe.yaml")  # a stray manifest, as check shows its content
    (live / "README.md").unlink()
    os.mkfifo(live / "README.md")  # an owned file of a unit the next run reuses
    checked = fleetgen("check", "fleet.yaml", cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr
    assert "pipe.yaml" in checked.stdout and "README.md" in checked.stdout
    rendered = fleetgen("render", "fleet.yaml", cwd=tmp_path)
    assert rendered.returncode == 1 and "pipe.yaml" in rendered.stdout + rendered.stderr  # the stray, kept
    assert (live / "README.md").is_file() and (live / "README.md").read_bytes() == (
        ROOT / "rendered/README.md"
    ).read_bytes()


def test_diff_skips_a_fifo_in_the_working_tree(tmp_path):
    """``fleetgen diff`` read every file of the working tree with ``read_bytes``: a named pipe there blocked it."""

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (tmp_path / ".gitignore").write_text("cache/\n")
    (tmp_path / "fleet.yaml").write_text((ROOT / "fleet.yaml").read_text())
    assert fleetgen("render", "fleet.yaml", cwd=tmp_path).returncode == 0
    git("add", "-A")
    git("commit", "-qm", "base")
    os.mkfifo(tmp_path / "rendered" / "pipe.yaml")
    result = fleetgen("diff", "fleet.yaml", "--base", "HEAD", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
