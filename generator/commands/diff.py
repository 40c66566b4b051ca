"""``fleetgen diff --base REF``: what a change does, for the pull-request comment.

Two sources, on purpose:
- manifests: the rendered tree COMMITTED at REF (read with ``git ls-tree``/``git cat-file``)
  against the rendered tree in the working tree. Re-rendering the base fleet with today's
  renderer would mix renderer upgrades into the diff; the committed trees show what really
  changes in git, which is what Argo CD will sync.
- plan delta: the fleet model at REF against the working tree's model (placements, Applications,
  pending clusters, upgrade waves do not exist in the tree, only in the model).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path, PurePosixPath

import click

from .. import gitbase, links, pipeline, tree
from ..diff import compare
from ..errors import FleetgenError
from ..load import load_bytes
from ..model import Fleet, build
from ..produce import produce
from ..report import LINT_FORMATS, diff_json, diff_text, markdown
from ..schema import validate
from .check import display
from .common import colour, emit, fleet_argument, format_option, out_option


def git(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise FleetgenError("git is not installed: `fleetgen diff` reads the base from git") from None


def repo_root(start: Path) -> Path:
    done = git(["rev-parse", "--show-toplevel"], start)
    if done.returncode != 0:
        raise FleetgenError(f"{start} is not in a git repository: `fleetgen diff` compares with a git ref")
    return Path(done.stdout.decode().strip()).resolve()


def resolve_ref(ref: str, root: Path) -> str:
    """The commit REF names; a REF that does not exist is a usage error (exit 2)."""
    done = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root)
    if done.returncode != 0:
        raise FleetgenError(f"--base {ref}: no such commit, branch or tag in {root} "
                            "(in CI, fetch it first: actions/checkout with fetch-depth: 0)")
    return done.stdout.decode().strip()


def show(commit: str, rel: PurePosixPath, root: Path) -> bytes | None:
    """A file's bytes at ``commit``, or None when it did not exist there."""
    done = git(["cat-file", "blob", f"{commit}:{rel.as_posix()}"], root)
    return done.stdout if done.returncode == 0 else None


def committed_tree(commit: str, rel_dir: PurePosixPath, root: Path) -> dict[str, bytes]:
    """Every blob under ``rel_dir`` at ``commit``, by path relative to it, read in one cat-file batch."""
    listing = git(["ls-tree", "-r", "-z", "--full-tree", commit, "--", rel_dir.as_posix()], root).stdout
    blobs = []
    for entry in filter(None, listing.split(b"\0")):
        meta, path = entry.split(b"\t", 1)
        _mode, kind, oid = meta.split()
        rel = PurePosixPath(path.decode()).relative_to(rel_dir).as_posix()
        if kind == b"blob" and rel != tree.LOCK_NAME:
            blobs.append((rel, oid))
    if not blobs:
        return {}
    batch = git(["cat-file", "--batch"], root, stdin=b"".join(oid + b"\n" for _, oid in blobs)).stdout
    return dict(zip([rel for rel, _ in blobs], split_batch(batch), strict=True))


def split_batch(output: bytes) -> list[bytes]:
    """Contents from ``git cat-file --batch`` output: ``<oid> <type> <size>\\n<bytes>\\n`` per object."""
    contents, at = [], 0
    while at < len(output):
        header_end = output.index(b"\n", at)
        size = int(output[at:header_end].split()[2])
        contents.append(output[header_end + 1: header_end + 1 + size])
        at = header_end + 1 + size + 1
    return contents


def base_fleet(raw: bytes | None, label: str) -> tuple[Fleet | None, list[str]]:
    """The fleet model at the base, or None with a note why (absent, or not a valid fleet)."""
    if raw is None:
        return None, [f"{label} does not exist at the base: the plan delta starts from an empty fleet"]
    doc, findings = load_bytes(raw, label)
    if doc is not None and not findings and not any(f.severity == "error" for f in validate(doc)):
        return build(doc.data), []
    return None, [f"{label} at the base is not a valid fleet: the plan delta starts from an empty fleet"]


def working_tree(out: Path) -> dict[str, bytes]:
    return {rel: path.read_bytes() for rel, path in tree.scan(out).items() if not path.is_symlink()}


def stale_note(out: Path, model: Fleet, fleet_path: Path) -> list[str]:
    drift = tree.compare(out, produce(model, fleet_path.name).files)
    if not drift:
        return []
    return [f"{display(out)} is not what {fleet_path.name} renders ({len(drift)} file(s) differ): the "
            "manifests below are the tree as committed; run `fleetgen render` and commit the result"]


def relative(path: Path, root: Path) -> PurePosixPath:
    try:
        return PurePosixPath(path.resolve().relative_to(root).as_posix())
    except ValueError:
        raise FleetgenError(f"{path} is outside the git repository {root}") from None


@click.command("diff")
@fleet_argument
@click.option("--base", "ref", required=True, metavar="REF", help="Git ref to compare with (origin/main).")
@click.option("--no-merge-base", "exact", is_flag=True,
              help="Compare with REF itself, not with the merge base of REF and HEAD.")
@click.option("--fail-on", "fail_on", type=click.Choice(["destroy"]), default=None,
              help="Exit 1 when the change deletes anything (a cluster, Application, placement, peer or manifest).")
@out_option
@format_option("text", "markdown", "json")
def command(fleet, ref, exact, fail_on, out, fmt) -> None:
    """Compare the fleet and rendered tree at the merge base of git REF and HEAD with the working tree."""
    loaded = pipeline.check(fleet, out)  # an unreadable FLEET is a usage error before anything else
    root = repo_root(fleet.resolve().parent)
    base = gitbase.choose(git, ref, resolve_ref(ref, root), root, exact)
    commit = base.commit
    if not loaded.ok:
        emit(LINT_FORMATS.get(fmt, LINT_FORMATS["text"])(loaded.findings, colour=colour()))
        sys.exit(1)
    fleet_rel = relative(fleet, root)
    old_model, notes = base_fleet(show(commit, fleet_rel, root), fleet_rel.as_posix())
    target = out or pipeline.output_dir(fleet, loaded.fleet)
    old_dir = relative(target, root) if out or not old_model else fleet_rel.parent / old_model.rendered_dir
    notes += stale_note(target, loaded.fleet, fleet)
    base_files = committed_tree(commit, old_dir, root)
    urls = links.from_environment(os.environ, relative(target, root), old_dir, commit)
    result = compare(base, base_files, working_tree(target), old_model, loaded.fleet, notes, urls, fmt == "json")
    emit({"json": diff_json.render, "markdown": markdown.render, "text": diff_text.render}[fmt](result))
    sys.exit(1 if fail_on == "destroy" and result.destroys.any else 0)
