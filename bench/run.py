"""fleetgen at fleet scale: ``python -m bench.run [--sizes 50,500,5000] [--lint-sizes 500,5000,10000]``.

For each size, a synthetic fleet (bench/synth.py) is rendered in a fresh subprocess (so peak
memory is that run's own) and the table shows seconds per stage, the render total, ``check`` of
the unchanged tree, and the floor: PyYAML's C emitter (libyaml, ``yaml.CSafeDumper``) serialising
the very documents the render produced. ``ratio`` = render total / floor (a first render into an
empty directory); ``re-render`` is a fleet-wide change (a new Thanos image) rendered over the
existing tree, with the number of files it rewrote. ``validate-rendered`` reads the written tree
back and validates it against the upstream schemas; ``check --schemas`` renders in memory, compares
and validates every document without reading YAML back. Lint-only timings
(load + validate + lint) follow for the lint sizes, side by side with PyYAML's C loader
(``yaml.load(text, Loader=yaml.CSafeLoader)``, libyaml) loading the same file: CPU seconds
(``time.process_time``; lint is single-threaded), ``--repeat`` runs of each, alternating, every
run in a fresh process: the stage times of the median run, and the median of the ratios of each
lint run to the PyYAML run beside it. The "process" columns time the whole ``fleetgen lint``
command against a whole ``python -c "import yaml; yaml.load(…)"``, start-up and imports included
(CPU seconds of the child process). Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .synth import fleet_yaml

ROOT = Path(__file__).resolve().parents[1]


def _render_once(fleet_path: Path):
    """What ``fleetgen render`` does, stage by stage."""
    from fleetgen import pipeline, tree
    from fleetgen.produce import produce
    from fleetgen.stages import Stages

    stages = Stages()
    loaded = pipeline.load_and_lint(fleet_path, None, stages)
    assert loaded.ok, loaded.findings[:3]
    produced = produce(loaded.fleet, "fleet.yaml", stages)
    with stages.stage("write"):
        written = tree.write(pipeline.output_dir(fleet_path, loaded.fleet), produced.files, produced.versions)
    return stages, loaded, produced, len(written.written)


def _measure_render(workdir: Path) -> dict:
    from fleetgen import pipeline, tree
    from fleetgen.produce import produce
    from fleetgen.stages import Stages

    fleet_path = workdir / "fleet.yaml"
    stages, loaded, produced, _ = _render_once(fleet_path)
    out = pipeline.output_dir(fleet_path, loaded.fleet)
    render_total = sum(stages.times.values())
    started = time.perf_counter()
    check = Stages()
    again = pipeline.load_and_lint(fleet_path, None, check)
    drift = tree.compare(out, produce(again.fleet, "fleet.yaml", check).files)
    assert not drift
    check_total = time.perf_counter() - started
    validated, checked_schemas = _measure_validation(fleet_path, out)
    # A fleet-wide change (a new Thanos image: every spoke's Prometheus and the Querier) on the
    # existing tree: the everyday case, where unchanged files are kept by hard link.
    fleet_path.write_text(fleet_path.read_text().replace("thanos:v0.38.0", "thanos:v0.38.1"))
    again_stages, _, _, rewritten = _render_once(fleet_path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the floor's own documents
    return {
        "stages": stages.times,
        "render": render_total,
        "check": check_total,
        "validate": validated,
        "check_schemas": checked_schemas,
        "rerender": sum(again_stages.times.values()),
        "rewritten": rewritten,
        "files": len(produced.files),
        "floor": _floor(loaded.fleet),
        "peak_mib": peak,
    }


def _measure_validation(fleet_path: Path, out: Path) -> tuple[float, float]:
    """``validate-rendered`` of the written tree (reads the YAML back), and ``check --schemas`` (validates
    the render in memory): both must find nothing in a fresh render."""
    from fleetgen import pipeline, tree
    from fleetgen.produce import produce
    from fleetgen.stages import Stages
    from fleetgen.upstream.manifests import validate_tree

    started = time.perf_counter()
    result = validate_tree(out, "rendered")
    validated = time.perf_counter() - started
    assert not result.findings, result.findings[:3]
    started = time.perf_counter()
    loaded = pipeline.load_and_lint(fleet_path, None, Stages())
    produced = produce(loaded.fleet, "fleet.yaml", schemas="rendered")
    assert not tree.compare(out, produced.files) and not produced.upstream.findings
    return validated, time.perf_counter() - started


def _floor(fleet) -> dict:
    """libyaml's time to serialise the render's documents (README text excluded: it is not YAML)."""
    import yaml
    from fleetgen.render import targets

    docs = [doc for target in targets() for f in target(fleet) for doc in f.documents]
    started = time.perf_counter()
    yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False)
    return {"seconds": time.perf_counter() - started, "documents": len(docs)}


def _measure_floor(workdir: Path) -> dict:
    from fleetgen import pipeline

    loaded = pipeline.load_and_lint(workdir / "fleet.yaml")
    return _floor(loaded.model)


def _cli(workdir: Path, *args: str, stale: bool = False) -> tuple[float, str]:
    """Wall seconds of one ``fleetgen`` command in a fresh process (what a pre-commit hook pays), and its profile.
    ``stale``: a ``check`` that must find the tree out of date (exit 1)."""
    from fleetgen import cachedir

    for _ in range(600):  # a swapped-out tree may still be removed in the background: let it finish
        if not list(cachedir.trash(workdir / "rendered").glob("*")):
            break
        time.sleep(0.1)
    os.sync()  # the previous command's writes reach the disk first: its writeback does not slow this one
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "fleetgen", *args, "--profile", str(workdir / "fleet.yaml")],
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "1"},
    )
    seconds = time.perf_counter() - started
    if done.returncode != (1 if stale else 0):
        raise RuntimeError(f"fleetgen {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done.stderr


def _units(profile: str) -> str:
    line = next((x for x in profile.splitlines() if x.startswith("units: ")), "")
    return line.removeprefix("units: ").split(" (")[0]


EDITS = {  # (work directory, fleet.yaml text) -> the new text; an edit beside fleet.yaml returns it unchanged
    "one-cluster": lambda work, text: text.replace("    max: 9\n", "    max: 10\n", 1),
    "one-workload": lambda work, text: text.replace("  replicas: 2\n", "  replicas: 3\n", 1),
}
# An adopting team's fleet: a patch on a document every cluster has, and a hand-written hub manifest.
ADOPTION = """\
patches:
- target: {kind: Namespace, name: monitoring}
  operations:
  - {op: add, path: /metadata/annotations, value: {example.com/owner: platform}}
extraManifests:
- source: manifests/hub
"""
MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: contacts
  namespace: default
data:
  oncall: platform-team
"""


def _edit_manifest(work: Path, text: str) -> str:
    tools = work / "manifests" / "hub" / "tools.yaml"
    tools.write_text(tools.read_text().replace("oncall: platform-team\n", "oncall: platform-team-2\n"))
    return text


ADOPTION_EDITS = {**EDITS, "one-manifest": _edit_manifest}
FIRST_EDIT = ("    max: 8\n", "    max: 9\n")  # after a render into an empty directory: builds the standby tree
INCREMENTAL_STEPS = ("check (stale)", "render", "check")


def _incremental_row(n: int, adoption: bool = False) -> list:
    """Full render from scratch into an empty directory (the median of three, each into a directory of its own:
    see ``_workdir``); a first cluster edit rendered (it builds the standby tree, which a render into an empty
    directory does not leave); then one cluster edited, and one workload edited: each checked while the tree is
    stale (check must render what changed to find it), rendered, and checked again (up to date). ``adoption``: the
    fleet has a patch and a hub manifest (``ADOPTION``), and the manifest is edited too."""
    edits = ADOPTION_EDITS if adoption else EDITS
    text = fleet_yaml(n) + (ADOPTION if adoption else "")
    fleets = [_fleet_dir(_workdir(f"fleetgen-bench-inc-{n}-"), text, adoption) for _ in range(3)]
    work = fleets[-1]  # the edits go on in the last one
    floor = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.run", "--child", "floor", str(work)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    )["seconds"]
    full = _median([_cli(fleet, "render", "--full")[0] for fleet in fleets])
    text = text.replace(*FIRST_EDIT, 1)
    (work / "fleet.yaml").write_text(text)
    first, _ = _cli(work, "render")
    row = [n, f"{full:.2f}", f"{floor:.2f}", f"{full / floor:.2f}", f"{first:.2f}", f"{first / full:.2f}"]
    units = []
    for edit in edits.values():
        text = edit(work, text)
        (work / "fleet.yaml").write_text(text)
        stale, _ = _cli(work, "check", stale=True)
        rendered, profile = _cli(work, "render")
        checked, _ = _cli(work, "check")
        for seconds in (stale, rendered, checked):
            row += [f"{seconds:.2f}", f"{seconds / full:.2f}", f"{seconds / floor:.2f}"]
        units.append(_units(profile))
    return row + units


def _fleet_dir(work: Path, text: str, adoption: bool) -> Path:
    """``work`` holding the fleet file (and, ``adoption``, the hand-written manifest it copies)."""
    if adoption:
        (work / "manifests" / "hub").mkdir(parents=True)
        (work / "manifests" / "hub" / "tools.yaml").write_text(MANIFEST)
    (work / "fleet.yaml").write_text(text)
    return work


_MADE: list[str] = []  # every directory _workdir made, removed when the tables are done


def _workdir(prefix: str) -> Path:
    """A new empty directory, removed only when every table is printed (``main``), never between two timings.

    On ext4 without a journal (this project's CI VM: its root filesystem has no journal) the kernel does not reuse
    an inode freed less than 60 s ago (300 s while its inode table block is not yet written back), and every file
    created meanwhile walks past each such inode of its block group (``fs/ext4/ialloc.c``: ``find_inode_bit``,
    ``recently_deleted``). A render from scratch right after a removed tree of 35,000 files and directories took
    15-22 s here, nearly all of it system time in that walk (``perf``), where one into a directory with nothing
    removed nearby took 9-12 s. The tree removed was the bench's own (the last run's), not fleetgen's doing, so
    the bench removes nothing until it is done."""
    made = tempfile.mkdtemp(prefix=prefix)
    _MADE.append(made)
    return Path(made)


def _incremental_table(sizes: list[int], adoption: bool = False) -> str:
    edits = ADOPTION_EDITS if adoption else EDITS
    head = ["clusters", "full render", "libyaml floor", "full/floor", "first edit render", "/full"]
    for edit in edits:
        for step in INCREMENTAL_STEPS:
            head += [f"{edit} {step}", "/full", "/floor"]
    head += [f"units ({edit.replace('one-', '')} edit)" for edit in edits]
    return _markdown(head, [_incremental_row(n, adoption) for n in sizes])


def _measure_lint(workdir: Path) -> dict:
    from fleetgen import pipeline
    from fleetgen import stages as stages_module
    from fleetgen.stages import Stages

    stages_module.time.perf_counter = time.process_time  # CPU seconds: other load on the machine does not count
    stages = Stages()
    loaded = pipeline.load_and_lint(workdir / "fleet.yaml", None, stages)
    assert loaded.ok, loaded.findings[:3]
    return {
        "stages": stages.times,
        "lint_total": sum(stages.times.values()),
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _measure_pyyaml(workdir: Path) -> dict:
    import yaml

    text = (workdir / "fleet.yaml").read_text("utf-8")
    started = time.process_time()  # CPU seconds, as _measure_lint
    yaml.load(text, Loader=yaml.CSafeLoader)
    return {"seconds": time.process_time() - started}


def _child(kind: str, n: int, repeat: int = 1) -> dict:
    """Run a measurement in a fresh interpreter and return its JSON (for "lint", also the PyYAML load).

    With ``repeat`` > 1 each is run that many times, alternating (lint, PyYAML, lint, PyYAML, …), and
    the run with the median total is kept; for "lint", ``ratios`` holds each pair's lint / PyYAML
    (the two runs of a pair are seconds apart, so they share the machine's load).
    """
    tmp = str(_workdir(f"fleetgen-bench-{n}-"))
    (Path(tmp) / "fleet.yaml").write_text(fleet_yaml(n))
    kinds = (kind, "pyyaml") if kind == "lint" else (kind,)
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(repeat):
        for k in kinds:
            out = subprocess.run(
                [sys.executable, "-m", "bench.run", "--child", k, tmp],
                check=True,
                capture_output=True,
                text=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            got = json.loads(out.stdout)
            if k == "lint":  # the whole command as a user runs it: interpreter start-up and imports count
                got["cli"] = _process_cpu([sys.executable, "-m", "fleetgen", "lint", "fleet.yaml"], tmp)
            elif k == "pyyaml":
                got["cli"] = _process_cpu([sys.executable, "-c", _PYYAML_PROCESS], tmp)
            runs[k].append({**got, "_total": got.get("lint_total", got.get("seconds", got.get("render", 0)))})
    result = _median_run(runs[kind])
    if kind == "lint":
        result["pyyaml"] = _median_run(runs["pyyaml"])["seconds"]
        result["ratios"] = [a["_total"] / b["_total"] for a, b in zip(runs["lint"], runs["pyyaml"])]
        result["cli_ratios"] = [a["cli"] / b["cli"] for a, b in zip(runs["lint"], runs["pyyaml"])]
        result["cli_seconds"] = (
            _median([r["cli"] for r in runs["lint"]]),
            _median([r["cli"] for r in runs["pyyaml"]]),
        )
    result["lines"] = (Path(tmp) / "fleet.yaml").read_text().count("\n")
    return result


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["_total"])[len(runs) // 2]


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


# PyYAML's side of the whole-process comparison: start Python, import PyYAML, load the file (the
# cyclic collector off, as fleetgen runs a command).
_PYYAML_PROCESS = "; ".join(
    (
        "import gc",
        "gc.disable()",
        "import yaml",
        "yaml.load(open('fleet.yaml', encoding='utf-8').read(), Loader=yaml.CSafeLoader)",
    )
)


def _process_cpu(command: list[str], cwd: str) -> float:
    """CPU seconds (user + system) of one process, start-up included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True, cwd=cwd, env={**os.environ, "CI": "1"})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _render_table(sizes: list[int]) -> str:
    stage_names = ("load", "validate", "lint", "render+emit", "write")
    head = [
        "clusters",
        "fleet lines",
        "files",
        "documents",
        *stage_names,
        "render",
        "check",
        "check/render",
        "libyaml floor",
        "ratio",
        "re-render (files)",
        "re-render ratio",
        "validate-rendered",
        "validate/render",
        "check --schemas",
        "check --schemas/render",
        "peak MiB",
    ]
    rows = []
    for n in sizes:
        r = _child("render", n)
        s = r["stages"]
        rows.append(
            [
                n,
                r["lines"],
                r["files"],
                r["floor"]["documents"],
                *(f"{s.get(k, 0):.2f}" for k in stage_names),
                f"{r['render']:.2f}",
                f"{r['check']:.2f}",
                f"{r['check'] / r['render']:.2f}",
                f"{r['floor']['seconds']:.2f}",
                f"{r['render'] / r['floor']['seconds']:.2f}",
                f"{r['rerender']:.2f} ({r['rewritten']})",
                f"{r['rerender'] / r['floor']['seconds']:.2f}",
                f"{r['validate']:.2f}",
                f"{r['validate'] / r['render']:.2f}",
                f"{r['check_schemas']:.2f}",
                f"{r['check_schemas'] / r['render']:.2f}",
                f"{r['peak_mib']:.0f}",
            ]
        )
    return _markdown(head, rows)


def _lint_table(sizes: list[int], repeat: int) -> str:
    head = [
        "clusters",
        "fleet lines",
        "load",
        "validate",
        "lint",
        "total",
        "PyYAML C load",
        "ratio (median)",
        "ratios (min–max)",
        "process: fleetgen lint",
        "process: python + PyYAML load",
        "process ratio (median)",
        "peak MiB",
    ]
    rows = []
    for n in sizes:
        r = _child("lint", n, repeat)
        s = r["stages"]
        ratios = sorted(r["ratios"])
        rows.append(
            [
                n,
                r["lines"],
                *(f"{s.get(k, 0):.2f}" for k in ("load", "validate", "lint")),
                f"{r['lint_total']:.2f}",
                f"{r['pyyaml']:.2f}",
                f"{ratios[len(ratios) // 2]:.2f}",
                f"{ratios[0]:.2f}–{ratios[-1]:.2f}",
                f"{r['cli_seconds'][0]:.2f}",
                f"{r['cli_seconds'][1]:.2f}",
                f"{_median(r['cli_ratios']):.2f}",
                f"{r['peak_mib']:.0f}",
            ]
        )
    return _markdown(head, rows)


def _markdown(head: list, rows: list[list]) -> str:
    lines = ["| " + " | ".join(map(str, head)) + " |", "|" + "---:|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows]) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="50,500,5000")
    ap.add_argument("--lint-sizes", default="500,5000,10000")
    ap.add_argument("--repeat", type=int, default=5, help="lint: alternating runs of each side; medians are shown")
    ap.add_argument("--only", choices=("render", "lint", "incremental"), help="print one table only")
    ap.add_argument("--incremental-sizes", default="500,5000")
    ap.add_argument(
        "--adoption", action="store_true", help="incremental: the fleet also has a patch and a hand-written manifest"
    )
    ap.add_argument("--child", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        gc.disable()  # as the fleetgen CLI does (generator/fleetgen/main.py)
        kind, workdir = args.child
        measure = {
            "render": _measure_render,
            "lint": _measure_lint,
            "pyyaml": _measure_pyyaml,
            "floor": _measure_floor,
        }[kind]
        print(json.dumps(measure(Path(workdir))))
        return 0
    with tempfile.TemporaryDirectory(prefix="fleetgen-bench-pycache-") as pycache:
        # Every child runs as an installed fleetgen does, with its modules' bytecode cached: a machine that sets
        # PYTHONDONTWRITEBYTECODE (some containers do) would otherwise compile every module in every timed
        # command (0.2 s of each here). The bytecode goes to this run's directory, never into the source tree.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = pycache
        try:
            _tables(args)
        finally:
            for made in _MADE:
                shutil.rmtree(made, ignore_errors=True)
    return 0


def _tables(args: argparse.Namespace) -> None:
    if args.only in (None, "render"):
        print("render (seconds per stage; ratio = render / libyaml floor)\n")
        print(_render_table([int(x) for x in args.sizes.split(",") if x]))
    if args.only in (None, "incremental"):
        print(
            "incremental (wall seconds of `fleetgen render` / `check` in a fresh process; ratios to the full "
            "render from scratch and to the libyaml floor)\n"
        )
        print(_incremental_table([int(x) for x in args.incremental_sizes.split(",") if x], args.adoption))
    if args.only in (None, "lint"):
        print("lint (load + validate + lint, seconds; ratio = total / PyYAML C load of the same file)\n")
        print(_lint_table([int(x) for x in args.lint_sizes.split(",") if x], args.repeat))


if __name__ == "__main__":
    sys.exit(main())
