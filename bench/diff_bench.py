"""``fleetgen diff`` at fleet scale: ``python -m bench.diff_bench [--clusters 5000]``.

Builds a git repository with a synthetic fleet (bench/synth.py) rendered and committed on
``main``, then, on a branch, two pull requests of the kind reviewers see, each rendered and
committed, and times ``fleetgen diff --base main`` on them in a fresh process per format:

- ``add+remove``: one cluster added in the middle of the sorted list and one removed;
- ``fleet-wide``: a new Thanos image (every spoke's Prometheus, the Querier and the hub's store gateway
  per cluster change);
- ``servers-moved``: every cluster's API server moves to another domain, a change that differs in
  every cluster, so the markdown comment is far over GitHub's limit before it is cut (markdown only).

Prints seconds per format, the size of the markdown comment and how many "cut to fit" notes it
carries, and stops with an error when the comment is over 65,536 characters or its code fences
and ``<details>`` do not balance. Not a test: nothing here asserts a time.
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


def servers_moved(data: dict) -> dict:
    changed = json.loads(json.dumps(data))
    for c in changed["clusters"]:
        if "server" in c:
            c["server"] = c["server"].replace(".fleet.example.com", ".fleet.example.net")
    return changed


def time_diff(repo: Path, fmt: str) -> tuple[float, str]:
    """(seconds, output) of one ``fleetgen diff`` in a fresh process."""
    started = time.perf_counter()
    done = _fleetgen(repo, "diff", "--base", "main", "--format", fmt)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return seconds, done.stdout.decode()


def check_comment(text: str) -> int:
    """The number of cut notes in a markdown comment that fits GitHub's limit; an error when it does not."""
    from fleetgen.report.markdown import LIMIT, LIMIT_NOTE

    assert len(text) <= LIMIT, f"markdown comment of {len(text):,} characters"
    fences = [line for line in text.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0 and text.count("<details>") == text.count("</details>"), "unbalanced markdown"
    return text.count(LIMIT_NOTE)


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
        changes = (
            ("add+remove", add_and_remove(base, n), ALL_FORMATS),
            ("fleet-wide", fleet_wide(base), ALL_FORMATS),
            ("servers-moved", servers_moved(base), ("markdown",)),
        )
        for name, changed, formats in changes:
            _git(repo, "checkout", "-q", "-B", name.replace("+", "-"), "main")
            _commit(repo, changed, name)
            row: dict = {"change": name, "clusters": n}
            for fmt in formats:
                seconds, text = time_diff(repo, fmt)
                row[fmt] = round(seconds, 2)
                row[f"{fmt} chars"] = len(text)
            row["cuts"] = check_comment(text)  # formats end with markdown
            rows.append(row)
    return rows


ALL_FORMATS = ("text", "json", "markdown")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=5000)
    args = parser.parse_args()
    print("| change | clusters | text s | markdown s | json s | markdown chars | cut notes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in run(args.clusters):
        seconds = [f"{row[f]:.2f}" if f in row else "—" for f in ("text", "markdown", "json")]
        print(
            f"| {row['change']} | {row['clusters']} | {' | '.join(seconds)} | {row['markdown chars']:,} | "
            f"{row['cuts']} |"
        )


if __name__ == "__main__":
    main()
