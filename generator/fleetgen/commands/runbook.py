"""What the runbook commands (add-cluster, register, upgrade, remove-cluster) share.

Each one reads fleet.yaml, edits its text (``fleetgen.edit``), lints the edited bytes exactly
as ``fleetgen lint`` would, and only then replaces the file atomically (a temporary file in the
same directory, the original mode kept, ``os.replace``). ``--dry-run`` prints the unified diff
instead. Either way it ends with the plan delta: what Argo CD, Karmada and the upgrade waves
will do differently (``plan.delta.plan_delta``, rendered by ``report.plan_text.delta_text``).

Concurrent runs never lose an edit: each command holds fleet.yaml's lock (an flock on the file)
from before it reads the file until after it replaced it, so a second command waits, then reads
the file the first one wrote. A write that fails (full disk, read-only filesystem, a directory it
may not write) is one message and exit 2, with fleet.yaml unchanged and no temporary file left.
"""

from __future__ import annotations

import difflib
import fcntl
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import click

from .. import pipeline, tree
from ..edit import FleetText
from ..errors import FleetgenError
from ..findings import Finding
from ..model import Fleet
from ..plan.delta import plan_delta
from ..report import plan_text, text
from .check import display
from .common import colour

# The order new keys of a cluster entry are written in.
CLUSTER_KEYS = ("name", "environment", "region", "labels", "kubernetesVersion", "server", "caData", "provider",
                "network", "nodePools", "argocd", "karmada")

dry_run_option = click.option("--dry-run", is_flag=True,
                              help="Print the unified diff of fleet.yaml instead of writing it.")


def keys_before(key: str) -> tuple[str, ...]:
    """The cluster keys a new ``key`` is written after."""
    return CLUSTER_KEYS[:CLUSTER_KEYS.index(key)]


@dataclass
class Session:
    """One fleet file opened for editing: its model before the edit and its exact text."""

    path: Path  # as the user gave it
    out: Path  # the rendered tree: its lock holds the versions the clusters run now
    before: pipeline.Loaded
    text: str
    bom: bool
    crlf: bool

    @property
    def fleet(self) -> Fleet:
        assert self.before.fleet is not None
        return self.before.fleet

    @property
    def label(self) -> str:
        return display(self.path)

    @property
    def versions(self) -> Mapping[str, str]:
        return tree.read_lock(self.out).versions

    def editor(self) -> FleetText:
        return FleetText(self.text)


def open_fleet(path: Path, out: Path | None) -> Session:
    """Lock, load and lint the fleet; one that does not even build a model is reported (exit 1).

    The lock is held until the command ends (released when its click context closes).
    """
    fd = lock_fleet(path)
    click.get_current_context().call_on_close(lambda: os.close(fd))
    before = pipeline.check(path, out)
    if before.fleet is None:
        click.echo(text.render(before.findings, colour=colour()), nl=False, err=True)
        click.echo(f"fleetgen: {display(path)} must pass the schema before it can be edited", err=True)
        sys.exit(1)
    raw = pipeline.read(path)
    body = raw.decode("utf-8-sig")
    target = out or pipeline.output_dir(path, before.fleet)
    return Session(path, target, before, body.replace("\r\n", "\n"), raw.startswith(b"\xef\xbb\xbf"),
                   "\r\n" in body)


def lock_fleet(path: Path) -> int:
    """An exclusive flock on the fleet file itself; waits (with a note) while another command holds it.

    A command that replaced the file released the lock of a file no longer at ``path``: a waiter
    that wakes up holding that one locks the new file instead, so it always reads the latest edit.
    """
    waited = False
    while True:
        fd = pipeline.open_regular(path)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not waited:
                    click.echo(f"fleetgen: waiting for another fleetgen command that is editing {display(path)}",
                               err=True)
                    waited = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            info, now = os.fstat(fd), os.stat(path)
        except BaseException:
            os.close(fd)
            raise
        if (info.st_dev, info.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)


def cluster_index(session: Session, name: str) -> int:
    """Where the cluster stands in fleet.yaml's ``clusters`` list; an unknown name is a usage error."""
    cluster = session.fleet.cluster(name)
    if cluster is None:
        close = difflib.get_close_matches(name, [c.name for c in session.fleet.clusters], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise click.BadParameter(f"no cluster {name!r} in {session.label}{hint}", param_hint="NAME")
    return int(cluster.path[1])


def finish(session: Session, new_text: str, dry_run: bool) -> pipeline.Loaded | None:
    """Lint the edited text, then print its diff (dry run) or write it; print the plan delta.

    Returns the fleet after the edit, or None when the edit changes nothing.
    """
    if new_text == session.text:
        click.echo(f"{session.label}: nothing to change")
        return None
    after, candidate = _lint_candidate(session, _encode(session, new_text), dry_run)
    if dry_run:
        click.echo(unified(session, new_text), nl=False)
    else:
        _replace(session, candidate)
        click.echo(f"updated {session.label}")
    assert after.fleet is not None
    click.echo(plan_text.delta_text(plan_delta(session.fleet, after.fleet, session.versions)), nl=False)
    return after


def unified(session: Session, new_text: str) -> str:
    old, new = session.text.splitlines(keepends=True), new_text.splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"a/{session.label}", f"b/{session.label}"))


def _encode(session: Session, new_text: str) -> bytes:
    body = new_text.replace("\n", "\r\n") if session.crlf else new_text
    return ("\ufeff" if session.bom else "").encode() + body.encode("utf-8")


def _lint_candidate(session: Session, data: bytes, dry_run: bool) -> tuple[pipeline.Loaded, Path]:
    """``pipeline.check`` on the exact bytes that would be written; error findings stop here (exit 1).

    The candidate file is written next to fleet.yaml (so it can be renamed over it), or to the
    temporary directory for a dry run, where it is removed again.
    """
    candidate = _write_candidate(session, data, dry_run)
    with _unwritten(session, candidate):
        after = pipeline.check(candidate, session.out)
    if dry_run or not after.ok:
        candidate.unlink(missing_ok=True)
    if not after.ok:
        findings = [_relabel(f, str(candidate), session.label) for f in after.findings]
        click.echo(text.render(findings, colour=colour()), nl=False, err=True)
        click.echo(f"fleetgen: {session.label} not changed: the edited fleet would fail lint "
                   "(lines above refer to the edited file)", err=True)
        sys.exit(1)
    return after, candidate


def _write_candidate(session: Session, data: bytes, dry_run: bool) -> Path:
    real = session.path.resolve()
    with _unwritten(session):
        fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".fleetgen-edit",
                                    dir=None if dry_run else real.parent)
    candidate = Path(name)
    with _unwritten(session, candidate), os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return candidate


@contextmanager
def _unwritten(session: Session, candidate: Path | None = None) -> Iterator[None]:
    """On any failure or Ctrl-C the candidate goes; an OSError (ENOSPC, EROFS, EACCES…) is one message, exit 2."""
    try:
        yield
    except BaseException as exc:
        if candidate is not None:
            candidate.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            where = Path(exc.filename).parent if exc.filename else (candidate or session.path.resolve()).parent
            raise FleetgenError(f"cannot write {session.label} in {display(where)}: {exc.strerror or exc} — "
                                f"{session.label} is unchanged") from None
        raise


def _relabel(finding: Finding, old: str, new: str) -> Finding:
    related = tuple((new if f == old else f, line, col) for f, line, col in finding.related)
    return replace(finding, file=new if finding.file == old else finding.file, related=related)


def _replace(session: Session, candidate: Path) -> None:
    """Swap the linted candidate in: same mode as the original, durable before and after the rename."""
    real = session.path.resolve()
    with _unwritten(session, candidate):
        os.chmod(candidate, stat.S_IMODE(real.stat().st_mode))
        with open(candidate, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(candidate, real)
    directory = os.open(real.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
