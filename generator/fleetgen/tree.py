"""The rendered tree on disk: the ownership lock, drift checks, and the write that replaces the owned part.

``write`` decides what the new tree holds and refuses what it must not overwrite; ``fleetgen.swap``
replaces the tree atomically (the standby tree, the staging directory, the render lock).

Equality is the text modulo line endings: a file whose bytes differ from the rendered ones only
by CRLF line breaks is up to date (git with ``core.autocrlf=true`` checks LF files out that way
and commits them back as LF; YAML and JSON parsers read the same documents either way).

Ownership: ``.fleetgen.lock`` in the tree lists every file fleetgen wrote with its
SHA-256. Only those files are ever replaced or deleted.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import re
import stat
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from operator import ne
from pathlib import Path

from . import cachedir, swap
from .atomic import create_file as create_file  # re-exported: fleetgen's one way to write a file whole
from .atomic import replace_file as replace_file
from .atomic import write_candidate as write_candidate
from .errors import FleetgenError
from .settled import NOTHING, Settled, from_json
from .swap import LOCK_NAME as LOCK_NAME  # re-exported: the tree's ownership record
from .swap import Listing as Listing
from .swap import listing as listing

CHECKED_SUFFIXES = (".yaml", ".yml", ".json")  # what Argo CD would sync from a directory source
# Relative, portable characters only, no "." or ".." segment: one fullmatch per path (25,000 of them a render).
_SEGMENT = r"(?!\.\.?(?:/|\Z))[A-Za-z0-9_.-]+"
_SAFE_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")


@dataclass(frozen=True)
class Lock:
    """The ownership record: file -> sha256, each cluster's rendered Kubernetes version, and the settings
    fixed at install (``installed``: Cilium cluster ids, maxConnectedClusters, IP families)."""

    files: Mapping[str, str]
    versions: Mapping[str, str]
    settled: Settled = NOTHING  # settings fixed at install (settled.py)
    # The lock file's bytes when they are known to be this lock's ``to_bytes()`` (as recorded, ``read_lock``): the next
    # lock is cut from them (``lock_bytes``). Not part of what the lock says.
    written: bytes | None = field(default=None, compare=False, repr=False)

    def to_bytes(self) -> bytes:
        """``json.dumps(body, indent=2)`` of the lock, byte for byte, built faster: with ``indent`` the json module
        encodes in Python, 0.1 s for 25,000 files; the two flat maps are quoted by its C string encoder instead."""
        body = [
            '  "generator": "fleetgen"',
            '  "format": 1',
            f'  "files": {_indented_map(self.files)}',
            f'  "kubernetesVersions": {_indented_map(self.versions)}',
            '  "installed": ' + json.dumps(self.settled.to_json(), indent=2).replace("\n", "\n  "),
        ]
        return ("{\n" + ",\n".join(body) + "\n}\n").encode()


def _indented_map(mapping: Mapping[str, str]) -> str:
    """A str -> str mapping as ``json.dumps(..., indent=2, sort_keys=True)`` writes it one level down. The keys are
    sorted alone (strings compare faster than (key, value) pairs: 25,000 files at 5,000 clusters)."""
    if not mapping:
        return "{}"
    keys = sorted(mapping)
    values = list(map(mapping.__getitem__, keys))
    if _unescaped(keys) and _unescaped(values):  # paths and digests: each line formatted in C
        return "{\n" + ",\n".join(map('    "{}": "{}"'.format, keys, values)) + "\n  }"
    quote = json.encoder.encode_basestring_ascii  # what json.dumps quotes with (ensure_ascii)
    return "{\n" + ",\n".join([f"    {quote(k)}: {quote(v)}" for k, v in zip(keys, values)]) + "\n  }"


def _unescaped(texts: list[str]) -> bool:
    """Whether JSON quotes each of ``texts`` as it is (``encode_basestring_ascii``: printable ASCII but the quote
    and the backslash), checked at once: 50,000 paths and digests a lock at 5,000 clusters."""
    return _made_of("".join(texts), _UNESCAPED)


_UNESCAPED = bytes(c for c in range(0x20, 0x7F) if c not in b'"\\')  # printable ASCII, as JSON leaves it


def _made_of(text: str, characters: bytes) -> bool:
    """Whether ``text`` holds only ``characters`` (ASCII), checked in C."""
    return text.isascii() and not text.encode().translate(None, characters)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_relpath(rel: str) -> str:
    """A rendered path must stay inside the output dir: relative, no '..', portable characters only."""
    if not _SAFE_PATH.fullmatch(rel):
        raise FleetgenError(
            f"refusing to write {rel!r}: rendered paths must be relative and stay inside the output directory"
        )
    return rel


def read_lock(out: Path) -> Lock:
    """The lock in ``out``; an empty one when there is none (first render) or it is unreadable.

    A command reads it more than once (lint for the rendered versions, then check or render for ownership):
    the last lock parsed is kept with its bytes and returned again for the same bytes (3 MB at 5,000 clusters,
    0.03-0.05 s to parse; comparing the bytes takes under a millisecond). Equal bytes, not a stat, decide it: a
    lock rewritten in place within one timestamp tick keeps its size and mtime. A lock that still holds the bytes a
    render wrote (:func:`keep_record`) comes with them (``Lock.written``)."""
    try:
        data = (out / LOCK_NAME).read_bytes()
    except OSError:
        return Lock({}, {})
    return _parse_lock(data, cachedir.lock_record(out))


@lru_cache(maxsize=1)  # the last lock read (Lock is frozen and its maps are never changed)
def _parse_lock(data: bytes, record: Path) -> Lock:
    lock = _parsed(data)
    return dataclasses.replace(lock, written=data) if lock.files and _as_written(data, record) else lock


def _parsed(data: bytes) -> Lock:
    try:
        body = json.loads(data.decode("utf-8"))
        recorded = body.get("files", {})
        if isinstance(recorded, dict) and _plain_paths(list(recorded)) and set(map(type, recorded.values())) == {str}:
            files = dict(recorded)  # (what the comprehension below makes of it)
        else:
            files = {str(k): str(v) for k, v in recorded.items() if _SAFE_PATH.fullmatch(str(k))}
        versions = {str(k): str(v) for k, v in body.get("kubernetesVersions", {}).items()}
        return Lock(files, versions, from_json(body.get("installed")))
    except (ValueError, AttributeError):  # UnicodeDecodeError is a ValueError
        return Lock({}, {})


# ---------------------------------------------------------------- the lock's record, kept by the render that wrote it

LOCK_RECORD_FORMAT = f"1 {cachedir.PYTHON}"
SPLICED_UP_TO = 256  # files whose digest changed: more, and the new lock is formatted whole


def keep_record(out: Path, data: bytes) -> None:
    """Record that ``data``, just written to ``out``'s lock file, is a lock's own ``to_bytes()``: its SHA-256, beside
    the tree (``cachedir.lock_record``). The next render that finds exactly these bytes there cuts its lock from them
    (:func:`lock_bytes`) instead of formatting 25,000 lines again (0.02-0.03 s at 5,000 clusters). A file that does
    not hold them (edited, formatted by hand, written by another tool) is formatted whole as before."""
    body = {"format": LOCK_RECORD_FORMAT, "digest": digest(data)}
    cachedir.write(cachedir.lock_record(out), cachedir.encode(body), out)


def _as_written(data: bytes, record: Path) -> bool:
    """Whether ``keep_record`` recorded exactly these bytes."""
    body = cachedir.read(record)
    try:
        return body["format"] == LOCK_RECORD_FORMAT and body["digest"] == digest(data)
    except (KeyError, TypeError):
        return False


def lock_bytes(new: Lock, old: Lock) -> bytes:
    """``new.to_bytes()``, cut from ``old``'s bytes when they are known to be ``old.to_bytes()`` (``Lock.written``) and
    ``new`` differs from it only in the digests of some of the same files (a one-cluster edit: a handful of 25,000):
    each of those lines is replaced, found in the files' map as ``to_bytes`` writes it. Anything else is formatted
    whole. tests/test_tree.py holds it to ``to_bytes`` for random changes."""
    text = old.written
    if text is None or (old.versions, old.settled) != (new.versions, new.settled) or len(old.files) != len(new.files):
        return new.to_bytes()
    before = old.files
    changed = list(compress(new.files.items(), map(ne, new.files.values(), map(before.get, new.files))))
    if not changed:  # the same files (each key of new found in old, as many): the same lock
        return text
    start, end = text.find(b'\n  "files": {\n'), text.find(b'\n  },\n  "kubernetesVersions": ')
    if len(changed) > SPLICED_UP_TO or not 0 <= start < end or not _unescaped([s for pair in changed for s in pair]):
        return new.to_bytes()
    cuts = []
    for rel, value in changed:
        old_value = before.get(rel)
        line = f'\n    "{rel}": "{old_value}"'.encode()  # (a key of the files' map: once in it)
        at = text.find(line, start, end) if old_value is not None else -1
        if at < 0 or text[at + len(line) : at + len(line) + 1] not in (b",", b"\n"):
            return new.to_bytes()
        cuts.append((at, at + len(line), f'\n    "{rel}": "{value}"'.encode()))
    pieces, kept = [], 0
    for at, stop, line in sorted(cuts):
        pieces += [text[kept:at], line]
        kept = stop
    pieces.append(text[kept:])
    return b"".join(pieces)


_PATH_CHARACTERS = (string.ascii_letters + string.digits + "_.-/").encode()


def _plain_paths(paths: list[str]) -> bool:
    """Whether every one of ``paths`` is a safe path (``_SAFE_PATH``) whose segments do not start with a dot, decided
    for all at once in C: joined by slashes, they are one path of the portable characters with no empty segment and
    none starting with a dot. A lock lists 25,000 paths at 5,000 clusters, where a regular expression per path took
    0.025 s of every command; any other lock (a dot file, an empty list) is checked path by path."""
    joined = "/".join(paths)
    return (
        joined != ""  # (an empty list, or one empty path)
        and _made_of(joined, _PATH_CHARACTERS)
        and not joined.startswith(("/", "."))
        and not joined.endswith("/")
        and "//" not in joined
        and "/." not in joined
    )


def scan(out: Path) -> dict[str, Path]:
    """Every regular file and symlink under ``out`` (never following links), by POSIX relative path."""
    return {rel: out / rel for rel in sorted(listing(out).files)}


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


def compare(
    out: Path,
    rendered: Mapping[str, bytes],
    known: Mapping[str, str] | None = None,
    listed: Listing | None = None,
) -> list[Drift]:
    """What differs between the tree at ``out`` and ``rendered``: bytes only, never parsed YAML.

    ``known``: files an incremental check already proved equal to what fleet.yaml renders (not compared again).
    ``listed``: the tree's listing, already taken (``fleetgen.survey``).
    """
    known = known or {}
    lock, present = read_lock(out), (listed or listing(out)).files
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
    hold: swap.Hold | None = None,
    listed: tuple[Listing, Listing] | None = None,
) -> WriteResult:
    """Replace the owned part of the tree at ``out`` with ``rendered`` (plus ``known``: files already in the tree
    with these digests, verified by an incremental render, kept by hard link unread), atomically.

    ``digests``: the digests of ``rendered`` when already computed; ``after(out)`` runs once the tree is in
    place, still under the render lock (the incremental render records its cache there). ``hold``: the render lock,
    taken earlier by the caller; ``listed``: the tree's and the standby tree's listings, taken under it since."""
    known = known or {}
    for rel in rendered:
        check_relpath(rel)
    with swap.exclusive(out, hold) as held:
        lock = read_lock(out)
        for rel in sorted(known.keys() - lock.files.keys()):  # the lock's names were checked when it was read
            check_relpath(rel)
        swap.clear_leftovers(swap.sibling(out, "staging"))
        swap.clear_trash(out)
        swap.clear_orphans(out)
        live = listed[0] if listed else listing(out)
        present = live.files
        _refuse_foreign(out, rendered, present, lock)
        gone = sorted(known.keys() - present.keys())
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
        deleted = tuple(sorted((present.keys() & lock.files.keys()) - new_lock.files.keys()))
        if changed or deleted or lock != new_lock:
            _refuse_in_the_way(live, set(changed), set(deleted))
            _check_removable(out, live)
            data = lock_bytes(new_lock, lock)
            change = swap.Change(rendered, live, set(changed), set(deleted), data)
            swap.swap_in(out, change, held, listed[1] if listed else None)
            keep_record(out, data)
        if after is not None:
            after(out)
        foreign = present.keys() - new_lock.files.keys() - lock.files.keys()  # set operations in C: 25,000 names
        strays = tuple(sorted(rel for rel in foreign if rel.endswith(CHECKED_SUFFIXES)))
        return WriteResult(changed, len(new_lock.files) - len(changed), deleted, strays)


def _check_removable(out: Path, live: Listing) -> None:
    """Refuse before swapping when the old tree could not be removed or updated afterwards.

    The swap itself only needs the parent directory, so without this a read-only ``rendered/``
    (mode 555, or owned by another user) would be replaced and then fail half-removed, or become a standby
    tree the next render cannot update. The directories a survey under the render lock found unwritable
    (``Listing.unwritable``) are looked at again; without one, every directory above the tree's files is.
    """
    suspects = live.unwritable if live.unwritable is not None else swap.unwritable(out, live.files)
    for rel in swap.cannot_write(out, suspects):
        directory = f"{out}/{rel}" if rel else str(out)
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
    blocking = {rel for rel in swap.ancestors(changed) if rel in live.files and rel not in deleted}
    for directory in changed & live.dirs:
        blocking.update(rel for rel in live.files if rel.startswith(directory + "/") and rel not in deleted)
    if blocking:
        first = min(blocking)
        raise FleetgenError(
            f"refusing to move {first} (and {len(blocking) - 1} more): fleetgen did not write it (it is not in "
            ".fleetgen.lock) and the rendered tree needs its place (a file where a directory goes, or the "
            "reverse); move it out of the output directory first"
        )
