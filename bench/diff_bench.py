"""``fleetgen diff`` at fleet scale: ``python -m bench.diff_bench [--clusters 5000]``.

Builds a git repository with a synthetic fleet (bench/synth.py) rendered and committed on
``main``, then, on a branch, two pull requests of the kind reviewers see, each rendered and
committed, and times ``fleetgen diff --base main`` on them in a fresh process per format:

- ``add+remove``: one cluster added in the middle of the sorted list and one removed;
- ``fleet-wide``: a new Thanos image (every spoke's Prometheus and the Querier change).

Prints seconds per format and the size of the markdown comment. Not a test: nothing here asserts
a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .synth import cluster, fleet

REMOVED = 7  # a production gcp cluster that no workload weight names


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _fleetgen(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fleetgen", *args], cwd=repo, capture_output=True, check=False)


def _commit(repo: Path, data: dict, message: str) -> None:
    (repo / "fleet.yaml").write_text(json.dumps(data, indent=1))
    done = _fleetgen(repo, "render")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)


def add_and_remove(data: dict, n: int) -> dict:
    changed = json.loads(json.dumps(data))
    mesh = changed["network"]["mesh"]
    changed["clusters"] = [c for i, c in enumerate(changed["clusters"]) if i != REMOVED]
    changed["clusters"].append(cluster(n, mesh, 0 if mesh != "cilium" else 511))
    return changed


def fleet_wide(data: dict) -> dict:
    changed = json.loads(json.dumps(data))
    changed["observability"]["thanos"]["image"] = "quay.io/thanos/thanos:v0.38.1"
    return changed


def time_diff(repo: Path, fmt: str) -> tuple[float, int, int]:
    """(seconds, exit code, output characters) of one ``fleetgen diff`` in a fresh process."""
    started = time.perf_counter()
    done = _fleetgen(repo, "diff", "--base", "main", "--format", fmt)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return seconds, done.returncode, len(done.stdout.decode())


def run(n: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="fleetgen-diff-bench-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "config", "user.email", "bench@example.invalid")
        _git(repo, "config", "user.name", "bench")
        base = fleet(n)
        _commit(repo, base, f"{n} clusters")
        for name, changed in (("add+remove", add_and_remove(base, n)), ("fleet-wide", fleet_wide(base))):
            _git(repo, "checkout", "-q", "-B", name.replace("+", "-"), "main")
            _commit(repo, changed, name)
            row = {"change": name, "clusters": n}
            for fmt in ("text", "markdown", "json"):
                seconds, _, chars = time_diff(repo, fmt)
                row[fmt] = round(seconds, 2)
                row[f"{fmt} chars"] = chars
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=5000)
    args = parser.parse_args()
    print("| change | clusters | text s | markdown s | json s | markdown chars |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in run(args.clusters):
        print(
            f"| {row['change']} | {row['clusters']} | {row['text']:.2f} | {row['markdown']:.2f} | "
            f"{row['json']:.2f} | {row['markdown chars']:,} |"
        )


if __name__ == "__main__":
    main()
