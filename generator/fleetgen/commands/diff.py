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
from .common import colour, fleet_argument, format_option, out_option, write_stdout


def git(args: list[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise FleetgenError("git is not installed: `fleetgen diff` reads the base from git") from None


def git_failed(done: subprocess.CompletedProcess, what: str) -> FleetgenError:
    """An error that says what git could not do and repeats git's own reason and advice."""
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()[-GIT_LINES:]
    body = "".join(f"\n  {line}" for line in said) if said else f" (git exited {done.returncode}, saying nothing)"
    return FleetgenError(f"git cannot {what}:{body}")


GIT_LINES = 12  # enough for git's reason and its advice (safe.directory, promisor fetch errors)


def repo_root(start: Path) -> Path:
    done = git(["rev-parse", "--show-toplevel"], start)
    if done.returncode != 0 and b"not a git repository" in done.stderr:
        raise FleetgenError(f"{start} is not in a git repository: `fleetgen diff` compares with a git ref")
    if done.returncode != 0:  # e.g. "detected dubious ownership": git names the fix (safe.directory)
        raise git_failed(done, f"use the repository at {start}")
    return Path(done.stdout.decode().strip()).resolve()


def resolve_ref(ref: str, root: Path) -> str:
    """The commit REF names; a REF that does not exist is a usage error (exit 2)."""
    done = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], root)
    if done.returncode != 0:
        raise FleetgenError(
            f"--base {ref}: no such commit, branch or tag in {root} "
            "(in CI, fetch it first: actions/checkout with fetch-depth: 0)"
        )
    return done.stdout.decode().strip()


SYMLINK = b"120000"
MAX_LINKS = 40  # as the kernel's path resolution: more is a loop


def entry(commit: str, rel: PurePosixPath, root: Path) -> tuple[bytes, bytes, bytes] | None:
    """(mode, type, object id) of ``rel`` at ``commit``, or None when no such path exists there."""
    done = git(["ls-tree", "-z", "--full-tree", commit, "--", rel.as_posix()], root)
    if done.returncode != 0:
        raise git_failed(done, f"list {rel} at {commit[:12]}")
    for line in filter(None, done.stdout.split(b"\0")):
        meta, path = line.split(b"\t", 1)
        if path.decode() == rel.as_posix():
            mode, kind, oid = meta.split()
            return mode, kind, oid
    return None


def blob(oid: bytes, rel: PurePosixPath, commit: str, root: Path) -> bytes:
    done = git(["cat-file", "blob", oid.decode()], root)
    if done.returncode != 0:  # e.g. a partial clone that cannot fetch the object from its promisor remote
        raise git_failed(done, f"read {rel} at {commit[:12]}")
    return done.stdout


def resolve_in_tree(commit: str, rel: PurePosixPath, root: Path) -> PurePosixPath:
    """``rel`` with every symlink in it followed inside the tree committed at ``commit``.

    A committed ``rendered -> out/prod`` resolves to ``out/prod``, as the working tree's path does.
    """
    done: list[str] = []
    todo, links = list(rel.parts), 0
    while todo:
        part = todo.pop(0)
        if part == "/" or part == ".." and not done:
            raise FleetgenError(
                f"{rel} at {commit[:12]} is a symlink out of the repository: git does not hold the files it points to"
            )
        if part in (".", ".."):
            done = done[:-1] if part == ".." else done
            continue
        found = entry(commit, PurePosixPath(*done, part), root)
        if found is None or found[0] != SYMLINK:
            done.append(part)
            continue
        links += 1
        if links > MAX_LINKS:
            raise FleetgenError(f"{rel} at {commit[:12]}: too many levels of symbolic links")
        target = blob(found[2], PurePosixPath(*done, part), commit, root).decode("utf-8", "surrogateescape")
        todo = list(PurePosixPath(target).parts) + todo
    return PurePosixPath(*done)


def show(commit: str, rel: PurePosixPath, root: Path) -> bytes | None:
    """A file's bytes at ``commit``, or None when it did not exist there; git's error when it cannot say."""
    rel = resolve_in_tree(commit, rel, root)
    found = entry(commit, rel, root)
    return blob(found[2], rel, commit, root) if found and found[1] == b"blob" else None


def committed_tree(commit: str, rel_dir: PurePosixPath, root: Path) -> dict[str, bytes]:
    """Every blob under ``rel_dir`` at ``commit``, by path relative to it, read in one cat-file batch.

    Symlinks on the way to ``rel_dir`` are followed; symlinks inside it are skipped, as in the working tree.
    """
    rel_dir = resolve_in_tree(commit, rel_dir, root)
    done = git(["ls-tree", "-r", "-z", "--full-tree", commit, "--", rel_dir.as_posix()], root)
    if done.returncode != 0:
        raise git_failed(done, f"list {rel_dir} at {commit[:12]}")
    blobs = []
    for line in filter(None, done.stdout.split(b"\0")):
        meta, path = line.split(b"\t", 1)
        mode, kind, oid = meta.split()
        rel = PurePosixPath(path.decode()).relative_to(rel_dir).as_posix()
        if kind == b"blob" and mode != SYMLINK and rel != tree.LOCK_NAME:
            blobs.append((rel, oid))
    if not blobs:
        return {}
    batch = git(["cat-file", "--batch"], root, stdin=b"".join(oid + b"\n" for _, oid in blobs))
    contents = split_batch(batch.stdout)
    if batch.returncode != 0 or len(contents) != len(blobs) or None in contents:
        missing = [rel for (rel, _), data in zip(blobs, contents) if data is None]
        what = f"{rel_dir / missing[0]} (and {len(missing) - 1} more)" if missing else f"the files under {rel_dir}"
        raise git_failed(batch, f"read {what} at {commit[:12]}")
    return {rel: data for (rel, _), data in zip(blobs, contents, strict=True) if data is not None}  # all are


def split_batch(output: bytes) -> list[bytes | None]:
    """Contents from ``git cat-file --batch`` output: ``<oid> <type> <size>\\n<bytes>\\n`` per object,
    None for ``<oid> missing`` (an object git neither has nor could fetch)."""
    contents: list[bytes | None] = []
    at = 0
    while at < len(output):
        header_end = output.index(b"\n", at)
        header = output[at:header_end].split()
        if len(header) != 3:
            contents.append(None)
            at = header_end + 1
            continue
        size = int(header[2])
        contents.append(output[header_end + 1 : header_end + 1 + size])
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
    """Every regular file of the tree (a symlink or a named pipe is not one, and is never read)."""
    return {rel: data for rel, path in tree.scan(out).items() if (data := tree.read_regular(path)) is not None}


def stale_note(out: Path, model: Fleet, fleet_path: Path) -> list[str]:
    drift = tree.compare(out, produce(model, fleet_path.name).files)
    if not drift:
        return []
    return [
        f"{display(out)} is not what {fleet_path.name} renders ({len(drift)} file(s) differ): the "
        "manifests below are the tree as committed; run `fleetgen render` and commit the result"
    ]


def relative(path: Path, root: Path) -> PurePosixPath:
    try:
        return PurePosixPath(path.resolve().relative_to(root).as_posix())
    except ValueError:
        raise FleetgenError(f"{path} is outside the git repository {root}") from None


@click.command("diff")
@fleet_argument
@click.option("--base", "ref", required=True, metavar="REF", help="Git ref to compare with (origin/main).")
@click.option(
    "--no-merge-base", "exact", is_flag=True, help="Compare with REF itself, not with the merge base of REF and HEAD."
)
@click.option(
    "--fail-on",
    "fail_on",
    type=click.Choice(["destroy"]),
    default=None,
    help="Exit 1 when the change deletes anything (a cluster, Application, placement, peer or manifest) "
    "or switches a running cluster Cluster API cannot adopt (vSphere, Docker) to managed.",
)
@out_option
@format_option("text", "markdown", "json")
def command(fleet, ref, exact, fail_on, out, fmt) -> int:
    """Compare the fleet and rendered tree at the merge base of git REF and HEAD with the working tree."""
    loaded = pipeline.load_and_lint(fleet, out)  # an unreadable FLEET is a usage error before anything else
    root = repo_root(fleet.resolve().parent)
    base = gitbase.choose(git, ref, resolve_ref(ref, root), root, exact)
    commit = base.commit
    if not loaded.ok:
        write_stdout(LINT_FORMATS.get(fmt, LINT_FORMATS["text"])(loaded.findings, colour=colour()))
        return 1
    fleet_rel = relative(fleet, root)
    old_model, notes = base_fleet(show(commit, fleet_rel, root), fleet_rel.as_posix())
    target = out or pipeline.output_dir(fleet, loaded.model)
    old_dir = relative(target, root) if out or not old_model else fleet_rel.parent / old_model.rendered_dir
    notes += stale_note(target, loaded.model, fleet)
    base_files = committed_tree(commit, old_dir, root)
    urls = links.from_environment(os.environ, relative(target, root), old_dir, commit)
    result = compare(base, base_files, working_tree(target), old_model, loaded.model, notes, urls, fmt == "json")
    write_stdout({"json": diff_json.render, "markdown": markdown.render, "text": diff_text.render}[fmt](result))
    return 1 if fail_on == "destroy" and result.destroys.any else 0
