"""Whole files or none: writing one file atomically and durably, and creating one that never replaces another.

A leaf: ``tree`` (rendered trees, fleet.yaml edits, through ``tree.replace_file``/``tree.create_file``) and
``cachedir`` (the cache's own ``.gitignore``) both write through it. Every function leaves no temporary
file behind when it fails, whatever the failure (a full disk, a read-only filesystem, Ctrl-C).
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

_RENAME_NOREPLACE = 1


def write_candidate(target: Path, data: bytes, suffix: str, directory: Path | None = None) -> Path:
    """A new temporary file holding ``data``: beside ``target`` (so ``replace_file`` can rename it over
    ``target``), or in ``directory``. Removed again when writing it fails."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=directory or target.parent)
    candidate = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    return candidate


def create_file(target: Path, data: bytes, mode: int = 0o644) -> None:
    """A new file at ``target`` holding ``data``, complete or not at all, never replacing anything.

    The bytes go to a temporary file beside ``target``, made durable, then renamed into place with
    ``renameat2(RENAME_NOREPLACE)`` (a hard link where the filesystem lacks that flag): a file, link
    or directory at ``target``, even one that appeared meanwhile, is ``FileExistsError`` and stays as
    it was. ``mode`` is masked by the umask, as ``open`` would. On any failure no file is left.
    """
    _install(write_candidate(target, data, ".fleetgen-new"), target, lambda: mode & ~_umask(), _rename_noreplace)


def _install(candidate: Path, target: Path, mode: Callable[[], int], move: Callable[[Path, Path], None]) -> None:
    """``candidate`` given ``mode()``, made durable and moved to ``target`` by ``move``, then the directory
    made durable; on any failure the candidate is gone and ``target`` as it was."""
    try:
        os.chmod(candidate, mode())
        with open(candidate, "rb+") as fh:
            os.fsync(fh.fileno())
        move(candidate, target)
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _rename_noreplace(source: Path, target: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd = -100
    if libc.renameat2(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), _RENAME_NOREPLACE) == 0:
        return
    code = ctypes.get_errno()
    if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # EEXIST, EACCES, ENOSPC…: the real answer
        raise OSError(code, os.strerror(code), str(target))
    os.link(source, target, follow_symlinks=False)  # also refuses an existing target (EEXIST)
    source.unlink()


def _umask() -> int:
    """The process umask, read without changing it (Linux's /proc), else the common 022."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(candidate: Path, target: Path, new_mode: int = 0o644) -> None:
    """Make ``candidate`` the file at ``target`` atomically (``os.replace``) and durably (fsync of the
    file before and of its directory after the rename), with ``target``'s mode (``new_mode`` for a new
    file). On failure ``target`` is unchanged and the candidate is gone."""
    _install(
        candidate, target, lambda: stat.S_IMODE(target.stat().st_mode) if target.exists() else new_mode, os.replace
    )
