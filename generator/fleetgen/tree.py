"""The rendered tree on disk: ownership lock, atomic replacement, and drift checks.

Writing is all-or-nothing. The new tree is assembled complete beside the live one and then swapped
with it in one ``renameat2(RENAME_EXCHANGE)`` call. It is assembled in the *standby* tree: the tree
the previous render swapped out, kept in fleetgen's cache directory, whose unchanged files are hard
links of the live tree's, so only the files that differ are unlinked, linked or written (``_update``).
Without a standby (a first render, a cache directory on another filesystem, a standby that cannot be
updated) it is assembled in a fresh sibling staging directory, unchanged files and files fleetgen does
not own hard-linked in (``_stage``). A crash or SIGKILL at any moment leaves either the old tree or the
complete new one at the output path; a half-updated standby is repaired by the next run, staging
leftovers removed. A run that fails (a full disk, a read-only filesystem, a directory it may not write)
or is interrupted (Ctrl-C) leaves the previous tree as it was.

Equality is the text modulo line endings: a file whose bytes differ from the rendered ones only
by CRLF line breaks is up to date (git with ``core.autocrlf=true`` checks LF files out that way
and commits them back as LF; YAML and JSON parsers read the same documents either way).

Ownership: ``.fleetgen.lock`` in the tree lists every file fleetgen wrote with its
SHA-256. Only those files are ever replaced or deleted.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import cachedir
from .atomic import create_file as create_file  # re-exported: fleetgen's one way to write a file whole
from .atomic import replace_file as replace_file
from .atomic import write_candidate as write_candidate
from .errors import FleetgenError
from .settled import NOTHING, Settled, from_json

LOCK_NAME = ".fleetgen.lock"
CHECKED_SUFFIXES = (".yaml", ".yml", ".json")  # what Argo CD would sync from a directory source
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_RENAME_EXCHANGE = 2
WRITERS = 4
BACKGROUND_REMOVAL_FROM = 1000  # files: smaller old trees are removed before render returns


@dataclass(frozen=True)
class Lock:
    """The ownership record: file -> sha256, each cluster's rendered Kubernetes version, and the settings
    fixed at install (``installed``: Cilium cluster ids, maxConnectedClusters, IP families)."""

    files: Mapping[str, str]
    versions: Mapping[str, str]
    settled: Settled = NOTHING  # settings fixed at install (settled.py)

    def to_bytes(self) -> bytes:
        body = {
            "generator": "fleetgen",
            "format": 1,
            "files": dict(sorted(self.files.items())),
            "kubernetesVersions": dict(sorted(self.versions.items())),
            "installed": self.settled.to_json(),
        }
        return (json.dumps(body, indent=2, sort_keys=False) + "\n").encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_relpath(rel: str) -> str:
    """A rendered path must stay inside the output dir: relative, no '..', portable characters only."""
    if not _SAFE_PATH.match(rel) or any(part in (".", "..") for part in rel.split("/")):
        raise FleetgenError(
            f"refusing to write {rel!r}: rendered paths must be relative and stay inside the output directory"
        )
    return rel


def read_lock(out: Path) -> Lock:
    """The lock in ``out``; an empty one when there is none (first render) or it is unreadable."""
    try:
        body = json.loads((out / LOCK_NAME).read_text("utf-8"))
        files = {str(k): str(v) for k, v in body.get("files", {}).items() if _SAFE_PATH.match(str(k))}
        versions = {str(k): str(v) for k, v in body.get("kubernetesVersions", {}).items()}
        return Lock(files, versions, from_json(body.get("installed")))
    except (OSError, ValueError, AttributeError):
        return Lock({}, {})


def scan(out: Path) -> dict[str, Path]:
    """Every regular file and symlink under ``out`` (never following links), by POSIX relative path."""
    return {rel: out / rel for rel in sorted(listing(out).files)}


@dataclass(frozen=True)
class Listing:
    """What a directory tree holds: every entry that is not a directory (files, symlinks, anything else) with
    its inode number, and every directory, by POSIX relative path; the lock file at its top is left out."""

    files: dict[str, int]
    dirs: set[str]


def listing(top: Path) -> Listing:
    """``top``'s :class:`Listing`, read with ``scandir`` alone: the inode and the entry type come with the
    directory entries, so no file is ``stat``-ed (a 20,000-file tree in about 0.1 s; ``os.walk`` with
    ``Path`` objects took 0.45 s)."""
    files: dict[str, int] = {}
    dirs: set[str] = set()
    pending = [""]
    while pending:
        rel = pending.pop()
        try:
            entries = os.scandir(f"{top}/{rel}" if rel else top)
        except OSError:  # as os.walk does: a directory that cannot be read is skipped
            continue
        with entries:
            for entry in entries:
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    dirs.add(path)
                    pending.append(path)
                else:
                    files[path] = entry.inode()
    files.pop(LOCK_NAME, None)
    return Listing(files, dirs)


# ---------------------------------------------------------------- drift


@dataclass(frozen=True, order=True)
class Drift:
    rule: str  # stale-render | hand-edit | orphan
    path: str
    message: str
    old: bytes | None = None
    new: bytes | None = None


STRAY = (
    "fleetgen did not write it and never deletes it, yet Argo CD would sync it: delete it or move it out of "
    "the rendered tree"
)


def compare(out: Path, rendered: Mapping[str, bytes], known: Mapping[str, str] | None = None) -> list[Drift]:
    """What differs between the tree at ``out`` and ``rendered``: bytes only, never parsed YAML.

    ``known``: files an incremental check already proved equal to what fleet.yaml renders (not compared again).
    """
    known = known or {}
    lock, present = read_lock(out), listing(out).files
    drift = [d for rel, data in rendered.items() if (d := _compare_one(rel, data, out, present, lock))]
    drift += [
        Drift("stale-render", rel, "missing: fleet.yaml renders it but it is not in the tree")
        for rel in known
        if rel not in present
    ]
    for rel in sorted(set(present) - set(rendered) - set(known)):
        if rel.endswith(CHECKED_SUFFIXES):
            owned = rel in lock.files
            why = (
                "fleetgen rendered it before, but fleet.yaml no longer produces it: `fleetgen render` deletes it"
                if owned
                else STRAY
            )
            drift.append(Drift("orphan", rel, why, old=read_regular(out / rel)))
    return sorted(drift)


def same_text(current: bytes | None, rendered: bytes) -> bool:
    """The committed file holds the rendered text: equal bytes, or equal once CRLF is read as LF."""
    if current == rendered:
        return True
    return current is not None and b"\r" in current and _lf(current) == _lf(rendered)


def _lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def _compare_one(rel: str, data: bytes, out: Path, present: Mapping[str, int], lock: Lock) -> Drift | None:
    if rel not in present:
        return Drift("stale-render", rel, "missing: fleet.yaml renders it but it is not in the tree", new=data)
    current = read_regular(out / rel)
    if same_text(current, data):
        return None
    if rel in lock.files and digest(_lf(current or b"")) != lock.files[rel]:
        return Drift("hand-edit", rel, "edited by hand: its bytes no longer match what fleetgen wrote", current, data)
    return Drift("stale-render", rel, "out of date: fleet.yaml now renders it differently", current, data)


def read_regular(path: Path | str) -> bytes | None:
    """The bytes of the regular file at ``path``; None for anything else: missing or unreadable, a symlink (never
    followed out of the tree), a directory, a named pipe or a device (a plain ``read`` of a pipe blocks forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    except OSError:
        return None
    finally:
        os.close(fd)


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: int
    deleted: tuple[str, ...]
    strays: tuple[str, ...] = ()  # manifests left in the tree that fleetgen does not own (check's orphans)


def write(
    out: Path,
    rendered: Mapping[str, bytes],
    versions: Mapping[str, str],
    known: Mapping[str, str] | None = None,
    digests: Mapping[str, str] | None = None,
    after: Callable[[Path], None] | None = None,
    settled: Settled = NOTHING,
) -> WriteResult:
    """Replace the owned part of the tree at ``out`` with ``rendered`` (plus ``known``: files already in the tree
    with these digests, verified by an incremental render, kept by hard link unread), atomically.

    ``digests``: the digests of ``rendered`` when already computed; ``after(out)`` runs once the tree is in
    place, still under the render lock (the incremental render records its cache there)."""
    known = known or {}
    for rel in [*rendered, *known]:
        check_relpath(rel)
    with _exclusive(out) as held:
        _clear_leftovers(_sibling(out, "staging"))
        _clear_trash(out)
        _clear_orphans(out)
        lock, live = read_lock(out), listing(out)
        present = live.files
        _refuse_foreign(out, rendered, present, lock)
        gone = sorted(rel for rel in known if rel not in present)
        if gone:  # verified through a symlink standing where the tree has a directory, or removed meanwhile
            _refuse_in_the_way(live, set(gone), set())
            raise FleetgenError(f"{gone[0]} disappeared from {out} while rendering; run fleetgen render again")
        owned = {rel: (digests[rel] if digests and rel in digests else digest(data)) for rel, data in rendered.items()}
        new_lock = Lock({**owned, **known}, versions, settled)
        changed = tuple(
            rel
            for rel in sorted(rendered)
            if rel not in present or not same_text(read_regular(out / rel), rendered[rel])
        )
        deleted = tuple(sorted(rel for rel in present if rel in lock.files and rel not in new_lock.files))
        if changed or deleted or lock != new_lock:
            _refuse_in_the_way(live, set(changed), set(deleted))
            _check_removable(out, present)
            _swap_in(out, _Change(rendered, live, set(changed), set(deleted), new_lock), held)
        if after is not None:
            after(out)
        strays = tuple(
            sorted(
                rel
                for rel in present
                if rel not in new_lock.files and rel not in lock.files and rel.endswith(CHECKED_SUFFIXES)
            )
        )
        return WriteResult(changed, len(new_lock.files) - len(changed), deleted, strays)


def _clear_leftovers(staging: Path) -> None:
    """A killed run's staging directory (its old or new tree, never the live one)."""
    try:
        _remove(staging)
    except OSError as exc:
        raise FleetgenError(
            f"cannot remove {staging}, left by an earlier run: {exc.strerror}; remove it as its owner"
        ) from None


def _clear_trash(out: Path) -> None:
    """Old trees whose background removal was killed: handed to a new remover; one still at work (it holds
    the trash's flock) is left alone. Never blocks a render."""
    for trash in cachedir.trash(out).glob("*"):
        try:
            fd = os.open(trash, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # its remover is at work
        finally:
            os.close(fd)
        _spawn_remover(trash)


def _check_removable(out: Path, present: Mapping[str, int]) -> None:
    """Refuse before swapping when the old tree could not be removed or updated afterwards.

    The swap itself only needs the parent directory, so without this a read-only ``rendered/``
    (mode 555, or owned by another user) would be replaced and then fail half-removed, or become a standby
    tree the next render cannot update.
    """
    for directory in (f"{out}/{rel}" if rel else str(out) for rel in sorted({"", *_ancestors(present)})):
        if not os.access(directory, os.W_OK | os.X_OK, effective_ids=True):
            info = os.stat(directory)
            why = (
                os.strerror(errno.EROFS)
                if os.statvfs(directory).f_flag & os.ST_RDONLY
                else f"{os.strerror(errno.EACCES)}: mode {stat.S_IMODE(info.st_mode):04o}, owner uid {info.st_uid}, "
                f"this is uid {os.geteuid()}"
            )
            raise FleetgenError(
                f"cannot write {out}: {directory} is not writable ({why}) — the previous tree is "
                "unchanged; make it writable (chmod u+w) or render as its owner"
            )


def _refuse_foreign(out: Path, rendered: Mapping[str, bytes], present: Mapping[str, int], lock: Lock) -> None:
    foreign = sorted(
        rel
        for rel in rendered
        if rel in present and rel not in lock.files and not same_text(read_regular(out / rel), rendered[rel])
    )
    if foreign:
        raise FleetgenError(
            f"refusing to overwrite {foreign[0]} (and {len(foreign) - 1} more): fleetgen did not "
            "write it (it is not in .fleetgen.lock); move it out of the output directory first"
        )


def _refuse_in_the_way(live: Listing, changed: set[str], deleted: set[str]) -> None:
    """Refuse when a file the new tree keeps (one fleetgen did not write) stands where it needs a directory, or
    sits in a directory where it needs a file: neither can be kept in place, and fleetgen never moves or
    deletes a file it did not write. Only a file written now can meet one (the others are in the tree as
    they are), so only those are looked at."""
    blocking = {rel for rel in _ancestors(changed) if rel in live.files and rel not in deleted}
    for directory in changed & live.dirs:
        blocking.update(rel for rel in live.files if rel.startswith(directory + "/") and rel not in deleted)
    if blocking:
        first = min(blocking)
        raise FleetgenError(
            f"refusing to move {first} (and {len(blocking) - 1} more): fleetgen did not write it (it is not in "
            ".fleetgen.lock) and the rendered tree needs its place (a file where a directory goes, or the "
            "reverse); move it out of the output directory first"
        )


@dataclass(frozen=True)
class _Change:
    """What one write does to the tree: the new bytes, what the tree holds now, which files change or go, the
    new lock."""

    rendered: Mapping[str, bytes]
    live: Listing
    changed: set[str]
    deleted: set[str]
    lock: Lock

    @property
    def kept(self) -> list[str]:
        """The files of the tree now that the new tree keeps as they are: not fleetgen's, or unchanged."""
        return [rel for rel in self.live.files if rel not in self.changed and rel not in self.deleted]


def _swap_in(out: Path, change: _Change, held: list[int]) -> None:
    """Make the new tree complete beside the live one, then swap the two in one call.

    The new tree is built in the *standby* tree when there is one (``_update``): the tree the previous render
    swapped out, kept in fleetgen's cache directory, which already holds every file that did not change
    since. Otherwise, and when bringing the standby up to date fails, in a fresh sibling staging directory
    as before (``_stage``); a first render (nothing to keep) always does that."""
    standby = _standby(out) if change.live.files else None
    if standby is not None:
        try:
            _update(standby, out, change, held)
            _exchange(standby, out)
            return
        except OSError:  # an unusable standby (foreign permissions, a full disk): start from nothing
            _discard(standby, out)
    staging = _sibling(out, "staging")
    swapped = False
    try:
        _stage(staging, out, change, held)
        _exchange(staging, out)
        swapped = True
    except OSError as exc:
        raise FleetgenError(f"cannot write {out}: {exc.strerror or exc} — the previous tree is unchanged") from exc
    finally:  # the new tree after a failure or Ctrl-C, the previous tree after the swap: never left behind
        if swapped and standby is not None:
            _keep_as_standby(staging, standby)
        elif swapped and len(change.live.files) >= BACKGROUND_REMOVAL_FROM:
            _remove_in_background(staging, out)
        _clear_leftovers(staging)


def _standby(out: Path) -> Path | None:
    """Where ``out``'s standby tree lives; None when the cache directory cannot be made or is on another
    filesystem (``renameat2`` swaps two directories of one filesystem only), or the tree is on overlayfs:
    there a file of a lower layer and one of the upper layer may show the same inode number (layers on
    different filesystems without ``xino``), and ``_update`` takes the same inode number for the same file."""
    path = cachedir.standby(out)
    try:
        if _filesystem(out) == "overlay":
            return None
        cachedir.make(path.parent, out)
        if os.stat(path.parent).st_dev != os.stat(out).st_dev:
            return None
        marker = cachedir.standby_owner(out)
        if not marker.exists():  # which output directory it stands by for (_clear_orphans reads it)
            marker.write_text(str(out.resolve()), "utf-8", errors="surrogateescape")
    except OSError:
        return None
    return path


def _filesystem(path: Path) -> str | None:
    """The type of the filesystem ``path`` is on (``/proc/self/mountinfo``); None where that cannot be read."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text("utf-8", errors="surrogateescape")
    except OSError:
        return None
    return mount_type(mountinfo, os.path.realpath(path))


def mount_type(mountinfo: str, path: str) -> str | None:
    """The filesystem type of the mount holding the absolute ``path``, from the text of a mountinfo file: the
    longest mount point above it, the last one mounted there (proc(5): the mount point is the fifth field,
    with octal escapes; the type follows the `` - `` separator)."""
    found: tuple[int, str] | None = None
    for line in mountinfo.splitlines():
        fields, separator, rest = line.partition(" - ")
        parts = fields.split(" ")
        if not separator or len(parts) < 5 or not rest:
            continue
        mount = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), parts[4])
        if (path == mount or path.startswith(mount.rstrip("/") + "/")) and (found is None or len(mount) >= found[0]):
            found = (len(mount), rest.split(" ", 1)[0])
    return found[1] if found else None


def _clear_orphans(out: Path) -> None:
    """Standby trees of output directories that are gone (renamed, removed, ``renderedDir`` changed): each
    holds a whole tree of files no other name links to. Each is handed to a background remover, with its
    render cache; one a render is using (locked) is left alone."""
    top = cachedir.standby(out).parent
    try:
        markers = sorted(top.glob("*.out"))
    except OSError:
        return
    for marker in markers:
        try:
            owner = Path(marker.read_text("utf-8", errors="surrogateescape"))
            if owner.is_dir():
                continue
            standby = marker.with_suffix("")
            if standby.is_dir():
                fd = os.open(standby, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a render into it is at work
                finally:
                    os.close(fd)
                _discard(standby, out)
            cachedir.render_cache(owner).unlink(missing_ok=True)
            marker.unlink(missing_ok=True)
        except OSError:
            continue


def _update(standby: Path, out: Path, change: _Change, held: list[int]) -> None:
    """Bring the standby tree to the new tree's content, touching only what differs.

    The standby is the tree two renders old, and its unchanged files are hard links of the live tree's
    (the previous swap left them so). A file the new tree keeps as it is in the live tree is right in the
    standby exactly when it is the same inode (``scandir`` gives both inode numbers, on one filesystem,
    without a ``stat``): the same inode is the same bytes, whatever happened to either name since. Every
    other file is unlinked and linked again or written anew, so nothing the standby held is ever trusted:
    a render killed while updating it leaves a standby the next run simply lists and repairs, and the live
    tree is untouched until the one ``renameat2`` that swaps them."""
    standby.mkdir(exist_ok=True)
    held.append(_lock_dir(standby))  # it is the live tree once swapped: locked before anyone can see it there
    have, live, changed = listing(standby), change.live.files, change.changed
    kept = change.kept
    relink = [rel for rel in kept if have.files.get(rel) != live[rel]]
    wanted = {*kept, *changed}
    stale = {rel for rel in have.files if rel not in wanted or rel in changed}.union(
        rel for rel in relink if rel in have.files
    )
    _parallel(lambda rel: os.unlink(f"{standby}/{rel}"), sorted(stale))
    dirs = _ancestors(wanted)
    for rel in sorted(have.dirs - dirs, reverse=True):  # deepest first: each is empty once its files are gone
        os.rmdir(f"{standby}/{rel}")
    for rel in sorted(dirs - have.dirs):  # parents first
        os.mkdir(f"{standby}/{rel}")
    _parallel(lambda rel: _link(out / rel, standby / rel), relink)
    _parallel(lambda rel: _write_file(standby / rel, change.rendered[rel]), sorted(changed))
    (standby / LOCK_NAME).unlink(missing_ok=True)
    _write_file(standby / LOCK_NAME, change.lock.to_bytes())


def _ancestors(files: Iterable[str]) -> set[str]:
    """Every directory above ``files`` (relative paths), the top excluded."""
    dirs: set[str] = set()
    for parent in {rel.rpartition("/")[0] for rel in files}:
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
    return dirs


def _keep_as_standby(previous: Path, standby: Path) -> None:
    """After a swap from a fresh staging directory: the previous tree becomes the standby (best effort)."""
    try:
        os.rename(previous, standby)
    except OSError:
        pass


def _discard(standby: Path, out: Path) -> None:
    """Drop a standby tree that could not be brought up to date (in the background when it can be moved)."""
    _remove_in_background(standby, out)
    try:
        _remove(standby)
    except OSError:
        pass


_REMOVER = (
    "import fcntl, os, shutil, sys; fcntl.flock(os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY), "
    "fcntl.LOCK_EX); shutil.rmtree(sys.argv[1], ignore_errors=True)"
)


def _remove_in_background(old: Path, out: Path) -> None:
    """Hand a swapped-out tree to a detached process: unlinking thousands of files costs more than rendering
    them on a slow disk (about 3 ms a file on this VM's ext4 under load), and nothing needs to wait for it.

    It is first renamed into fleetgen's cache directory (``fleetgen.cachedir``, beside the tree and ignored
    by git through its own ``.gitignore``, so a ``git add -A`` right after the render never stages it),
    which only works on the same filesystem: otherwise, or on any failure, it is removed in the foreground
    (``_clear_leftovers``) as before. A crash leaves it
    there, where the next run's ``_clear_trash`` hands it to a remover again. The remover holds an flock on it
    while it works (taken once this render releases the tree's lock), so later runs leave it alone."""
    trash = cachedir.trash(out) / f"{os.getpid()}-{time.monotonic_ns()}"
    try:
        cachedir.make(trash.parent, out)
        os.rename(old, trash)
    except OSError:
        return
    _spawn_remover(trash)


def _spawn_remover(trash: Path) -> None:
    try:
        subprocess.Popen(
            [sys.executable, "-S", "-c", _REMOVER, str(trash)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        shutil.rmtree(trash, ignore_errors=True)


def _stage(staging: Path, out: Path, change: _Change, held: list[int]) -> None:
    rendered, changed = change.rendered, change.changed
    staging.mkdir(parents=True)
    held.append(_lock_dir(staging))  # it is the live tree once swapped: locked before anyone can see it there
    kept = change.kept
    for rel in sorted(_ancestors([*kept, *changed])):
        os.mkdir(f"{staging}/{rel}")
    _parallel(lambda rel: _link(out / rel, staging / rel), kept)  # what is not ours or did not change
    _parallel(lambda rel: _write_file(staging / rel, rendered[rel]), sorted(changed))
    _write_file(staging / LOCK_NAME, change.lock.to_bytes())


def _parallel(func: Callable[[str], object], items: Iterable[str]) -> None:
    """Creating a file costs far more than writing its bytes on most filesystems, and the kernel
    does it without the GIL: a few threads overlap thousands of creates."""
    pool = ThreadPoolExecutor(WRITERS)
    try:
        list(pool.map(func, items))
    finally:  # on a failure or Ctrl-C, files not started yet are not written into a tree about to be removed
        pool.shutdown(wait=True, cancel_futures=True)


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except FileExistsError:  # never copied into a directory of that name (shutil.copy2 would)
        raise
    except OSError:  # a filesystem without hard links: copy, never following a symlink out of the tree
        shutil.copy2(src, dst, follow_symlinks=False)


def _write_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _exchange(staging: Path, out: Path) -> None:
    """Atomically make ``staging`` the tree at ``out`` (and ``out``'s old tree land at ``staging``)."""
    if not out.exists():
        os.rename(staging, out)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd = -100
    result = libc.renameat2(at_fdcwd, os.fsencode(staging), at_fdcwd, os.fsencode(out), _RENAME_EXCHANGE)
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"atomic swap failed ({errno.errorcode.get(code, code)})")


def _sibling(out: Path, what: str) -> Path:
    return out.parent / f".{out.name}.fleetgen-{what}"


def _remove(path: Path) -> None:
    """Remove one of fleetgen's own staging trees (never the live one)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        try:
            shutil.rmtree(path)  # fd-based: never follows a symlink out of the tree
        except PermissionError:  # a read-only tree an older fleetgen swapped out: ours to delete
            _own_writable(path)
            shutil.rmtree(path)


def _own_writable(top: Path) -> None:
    """Give the directories this user owns in ``top`` u+rwx, so they can be emptied (never following links)."""
    pending = [top]
    while pending:
        directory = pending.pop()
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode):
            continue
        if info.st_uid == os.geteuid():
            os.chmod(directory, stat.S_IMODE(info.st_mode) | stat.S_IRWXU)
        with os.scandir(directory) as entries:
            pending += [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]


@contextmanager
def _exclusive(out: Path) -> Iterator[list[int]]:
    """One render at a time per output directory: a second concurrent render gets a clear error, not a mixed tree.

    The lock is an flock on the output directory itself (created empty by the first render), so
    renders into sibling directories (``--out a/x``, ``--out a/y``) never conflict and no lock file
    is left behind. The tree at ``out`` changes inode when it is swapped: the staging tree is
    locked too before the swap, and a run that locked a tree no longer at ``out`` tries again.
    """
    created = not out.exists()
    held: list[int] = []
    try:
        held.append(_lock_live(out))
        yield held
    except OSError as exc:
        raise FleetgenError(f"cannot write {out}: {exc.strerror or exc} — the previous tree is unchanged") from exc
    finally:
        for fd in held:
            os.close(fd)
        if created:
            _rmdir_if_empty(out)  # a failed first render leaves no empty directory


def _lock_live(out: Path) -> int:
    while True:
        out.mkdir(parents=True, exist_ok=True)
        fd = _lock_dir(out)
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) == _identity(out):
            return fd
        os.close(fd)  # another run swapped a new tree in while this one waited for the old: lock that one


def _lock_dir(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise FleetgenError(f"another fleetgen render is writing {path}; wait for it to finish") from None
    return fd


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
