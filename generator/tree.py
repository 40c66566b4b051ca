"""The rendered tree on disk: ownership lock, atomic replacement, and drift checks.

Writing is all-or-nothing. The new tree is assembled in a sibling staging
directory (unchanged files and files fleetgen does not own are hard-linked in,
so they are neither rewritten nor lost) and then swapped with the live tree in
one ``renameat2(RENAME_EXCHANGE)`` call. A crash or SIGKILL at any moment leaves
either the old tree or the complete new one at the output path; leftovers in the
staging directory are removed by the next run.

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
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import FleetgenError

LOCK_NAME = ".fleetgen.lock"
CHECKED_SUFFIXES = (".yaml", ".yml", ".json")  # what Argo CD would sync from a directory source
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_RENAME_EXCHANGE = 2
WRITERS = 4


@dataclass(frozen=True)
class Lock:
    """The ownership record: file -> sha256, and each cluster's rendered Kubernetes version."""

    files: Mapping[str, str]
    versions: Mapping[str, str]

    def to_bytes(self) -> bytes:
        body = {"generator": "fleetgen", "format": 1, "files": dict(sorted(self.files.items())),
                "kubernetesVersions": dict(sorted(self.versions.items()))}
        return (json.dumps(body, indent=2, sort_keys=False) + "\n").encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_relpath(rel: str) -> str:
    """A rendered path must stay inside the output dir: relative, no '..', portable characters only."""
    if not _SAFE_PATH.match(rel) or any(part in (".", "..") for part in rel.split("/")):
        raise FleetgenError(f"refusing to write {rel!r}: rendered paths must be relative and stay inside the "
                            "output directory")
    return rel


def read_lock(out: Path) -> Lock:
    """The lock in ``out``; an empty one when there is none (first render) or it is unreadable."""
    try:
        body = json.loads((out / LOCK_NAME).read_text("utf-8"))
        files = {str(k): str(v) for k, v in body.get("files", {}).items() if _SAFE_PATH.match(str(k))}
        return Lock(files, {str(k): str(v) for k, v in body.get("kubernetesVersions", {}).items()})
    except (OSError, ValueError, AttributeError):
        return Lock({}, {})


def scan(out: Path) -> dict[str, Path]:
    """Every regular file and symlink under ``out`` (never following links), by POSIX relative path."""
    found: dict[str, Path] = {}
    if not out.is_dir():
        return found
    for root, dirs, files in os.walk(out, followlinks=False):
        dirs.sort()
        base = Path(root)
        for name in sorted(files) + [d for d in dirs if (base / d).is_symlink()]:
            found[(base / name).relative_to(out).as_posix()] = base / name
    found.pop(LOCK_NAME, None)
    return found


# ---------------------------------------------------------------- drift


@dataclass(frozen=True, order=True)
class Drift:
    rule: str  # stale-render | hand-edit | orphan
    path: str
    message: str
    old: bytes | None = None
    new: bytes | None = None


STRAY = ("fleetgen did not write it and never deletes it, yet Argo CD would sync it: delete it or move it out of "
         "the rendered tree")


def compare(out: Path, rendered: Mapping[str, bytes]) -> list[Drift]:
    """What differs between the tree at ``out`` and ``rendered``: bytes only, never parsed YAML."""
    lock, present = read_lock(out), scan(out)
    drift = [d for rel, data in rendered.items() if (d := _compare_one(rel, data, present.get(rel), lock))]
    for rel in sorted(set(present) - set(rendered)):
        if rel.endswith(CHECKED_SUFFIXES):
            owned = rel in lock.files
            why = ("fleetgen rendered it before, but fleet.yaml no longer produces it: `fleetgen render` deletes it"
                   if owned else STRAY)
            drift.append(Drift("orphan", rel, why, old=_read(present[rel])))
    return sorted(drift)


def _compare_one(rel: str, data: bytes, path: Path | None, lock: Lock) -> Drift | None:
    if path is None:
        return Drift("stale-render", rel, "missing: fleet.yaml renders it but it is not in the tree", new=data)
    current = _read(path)
    if current == data:
        return None
    if rel in lock.files and digest(current or b"") != lock.files[rel]:
        return Drift("hand-edit", rel, "edited by hand: its bytes no longer match what fleetgen wrote", current, data)
    return Drift("stale-render", rel, "out of date: fleet.yaml now renders it differently", current, data)


def _read(path: Path) -> bytes | None:
    try:
        return None if path.is_symlink() else path.read_bytes()
    except OSError:
        return None


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class WriteResult:
    written: tuple[str, ...]
    unchanged: int
    deleted: tuple[str, ...]
    strays: tuple[str, ...] = ()  # manifests left in the tree that fleetgen does not own (check's orphans)


def write(out: Path, rendered: Mapping[str, bytes], versions: Mapping[str, str]) -> WriteResult:
    """Replace the owned part of the tree at ``out`` with ``rendered``, atomically."""
    for rel in rendered:
        check_relpath(rel)
    with _exclusive(out):
        _remove(_sibling(out, "staging"))  # a killed run's leftovers (its old or new tree, never the live one)
        lock, present = read_lock(out), scan(out)
        _refuse_foreign(rendered, present, lock)
        new_lock = Lock({rel: digest(data) for rel, data in rendered.items()}, versions)
        changed = tuple(rel for rel in sorted(rendered) if rel not in present or _read(present[rel]) != rendered[rel])
        deleted = tuple(sorted(rel for rel in present if rel in lock.files and rel not in rendered))
        if changed or deleted or lock != new_lock:
            _swap_in(out, rendered, present, set(changed), set(deleted), new_lock)
        strays = tuple(sorted(rel for rel in present if rel not in rendered and rel not in lock.files
                              and rel.endswith(CHECKED_SUFFIXES)))
        return WriteResult(changed, len(rendered) - len(changed), deleted, strays)


def _refuse_foreign(rendered: Mapping[str, bytes], present: Mapping[str, Path], lock: Lock) -> None:
    foreign = sorted(rel for rel in rendered if rel in present and rel not in lock.files
                     and _read(present[rel]) != rendered[rel])
    if foreign:
        raise FleetgenError(f"refusing to overwrite {foreign[0]} (and {len(foreign) - 1} more): fleetgen did not "
                            "write it (it is not in .fleetgen.lock); move it out of the output directory first")


def _swap_in(out: Path, rendered: Mapping[str, bytes], present: Mapping[str, Path], changed: set[str],
             deleted: set[str], lock: Lock) -> None:
    staging = _sibling(out, "staging")
    _remove(staging)
    try:
        _stage(staging, out, rendered, present, changed, deleted, lock)
        _exchange(staging, out)
    except OSError as exc:
        _remove(staging)
        raise FleetgenError(f"cannot write {out}: {exc.strerror or exc} — the previous tree is unchanged") from exc
    _remove(staging)  # now holds the previous tree


def _stage(staging: Path, out: Path, rendered: Mapping[str, bytes], present: Mapping[str, Path],
           changed: set[str], deleted: set[str], lock: Lock) -> None:
    staging.mkdir(parents=True)
    kept = [rel for rel in present if rel not in changed and rel not in deleted]
    for parent in sorted({(staging / rel).parent for rel in [*kept, *changed]}):
        parent.mkdir(parents=True, exist_ok=True)
    for rel in kept:  # keep what is not ours, and what did not change, by hard link
        _link(present[rel], staging / rel)
    _parallel(lambda rel: _write_file(staging / rel, rendered[rel]), sorted(changed))
    _write_file(staging / LOCK_NAME, lock.to_bytes())


def _parallel(func, items) -> None:
    """Creating a file costs far more than writing its bytes on most filesystems, and the kernel
    does it without the GIL: a few threads overlap thousands of creates."""
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(func, items, chunksize=64))


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
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
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)  # fd-based: never follows a symlink out of the tree


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One render at a time per tree: a second concurrent render gets a clear error, not a mixed tree.

    The lock is an flock on the output dir's parent directory: it leaves no file behind, and the
    output dir itself cannot carry it because it is swapped out.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FleetgenError(f"another fleetgen render is writing {out}; wait for it to finish") from None
        yield
    finally:
        os.close(fd)
