"""Where fleetgen keeps what only saves time: ``.fleetgen-cache/`` beside the rendered tree, ignored by git.

The directory sits next to the output directory (``rendered/`` -> ``.fleetgen-cache/``), inside the
repository, so fleetgen reads and writes nothing outside it, and on the same filesystem as the tree, so
a swapped-out tree can be renamed into it. It ignores itself: its own ``.gitignore`` holds ``*`` (as
``.pytest_cache`` and ``.ruff_cache`` do), so ``git add -A`` right after a render never stages it and no
one has to edit the repository's ``.gitignore``. ``$FLEETGEN_CACHE_DIR`` puts it elsewhere. It holds the
incremental render's cache (one file per output directory), the parsed clusters of each fleet file
(``fleetgen.chunks``), the standby tree of each output directory (the
tree its last render swapped out, which the next render updates and swaps in: ``fleetgen.tree``) and
swapped-out trees being removed in the background. Losing it costs one full render, never correctness.
"""

from __future__ import annotations

import fcntl
import hashlib
import marshal
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__, atomic
from .errors import FleetgenError

NAME = ".fleetgen-cache"
MARSHAL_VERSION = 4
PYTHON = f"python-{sys.version_info[0]}.{sys.version_info[1]}"  # in every file's format: marshal's may change
# package data no renderer reads (see source_digest); the lint findings that walk it are keyed by what they walk
UNKEYED_DATA = ("schemas/upstream/",)
IGNORE = '# fleetgen\'s cache: it only saves time (README, "Incremental render"); safe to delete\n*\n'


# The installed distributions whose code decides a cached result, besides fleetgen's own: the YAML parsers (each
# cluster's data in the load cache, extra manifests), the schema validators (a cached cluster passed the schema),
# jsonpatch and jsonpointer (fleet.yaml's patches, in the rendered bytes of a unit) and detect-secrets (the
# credentials found in a unit's files and by the lint rules). Their versions are in every key: an upgrade of one
# renders and lints everything again, as a new fleetgen does.
KEYED_DISTRIBUTIONS = (
    "detect-secrets",
    "jsonpatch",
    "jsonpointer",
    "jsonschema",
    "jsonschema-rs",
    "PyYAML",
    "ruamel.yaml",
    "ruamel.yaml.clib",
)
# Runtime requirements that decide nothing cached: the command line (click) and the CEL rules, which check rendered
# documents only in validate-rendered and check --schemas, where nothing is reused.
UNKEYED_DISTRIBUTIONS = ("click", "cel-python")


@lru_cache(maxsize=1)
def code_digest() -> str:
    """This fleetgen's :func:`source_digest`, the versions of :data:`KEYED_DISTRIBUTIONS` and Python's: what every
    cached result was computed by."""
    versions = installed_versions(KEYED_DISTRIBUTIONS)
    pinned = "".join(f"{name} {versions[name]}\n" for name in KEYED_DISTRIBUTIONS)
    # and the whole Python version: a patch release may change what the standard library does (ipaddress, re, json)
    pinned += f"{sys.implementation.name} {'.'.join(map(str, sys.version_info[:3]))}\n"
    source = source_digest(Path(__file__).resolve().parent, __version__)
    return hashlib.sha256(f"{source}\n{pinned}".encode()).hexdigest()


def installed_versions(names: tuple[str, ...], path: list[str] | None = None) -> dict[str, str | None]:
    """The version of each distribution of ``names`` that imports from ``path`` (``sys.path``): the first
    ``<name>-<version>.dist-info`` (or ``.egg-info``) on it, as the import system takes the first package; None for
    one not found. Read from the directory listings: importlib.metadata's import alone costs 0.06 s a run."""
    wanted = {_normalized(name): name for name in names}
    found: dict[str, str | None] = {}
    for entry in sys.path if path is None else path:
        try:
            listed = os.listdir(entry or ".")
        except OSError:  # a zip file, a directory that is gone
            continue
        for item in sorted(listed):
            stem, _, suffix = item.rpartition(".")
            if suffix not in ("dist-info", "egg-info"):
                continue
            parts = stem.split("-")  # <name>-<version>[-<python>]: a distribution's file name escapes its "-"
            name = wanted.get(_normalized(parts[0]))
            if name is not None and len(parts) > 1:
                found.setdefault(name, parts[1])
    return {name: found.get(name) for name in names}


def _normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (``ruamel.yaml`` is ``ruamel_yaml`` is ``Ruamel-YAML``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def source_digest(root: Path, version: str) -> str:
    """A fleetgen version, the Python minor version, and every file of the package at ``root``: each module's
    source and the data it reads (the fleet schema, ``schemas/list_keys.json``, which decides how patches merge
    lists, the templates copied into the tree). Left out: compiled bytecode, and the upstream schemas (5.5 MB, 0.02 s
    to hash), which validate rendered documents (``check --schemas`` renders everything) and which lint's
    ``override-path`` walks: the findings kept for the next command are keyed by the schemas it walks for the fleet
    (``lint.overrides.schemas_read``), not by all of them."""
    h = hashlib.sha256(f"fleetgen {version} python {sys.version_info[0]}.{sys.version_info[1]}\n".encode())
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in path.parts or rel.startswith(UNKEYED_DATA) or not path.is_file():
            continue
        h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def root(out: Path) -> Path:
    """The cache directory of the output directory ``out``; ``$FLEETGEN_CACHE_DIR`` inside ``out`` is refused (the
    cache would be rendered into the tree it describes, and the standby tree swapped into itself)."""
    explicit = os.environ.get("FLEETGEN_CACHE_DIR")
    if not explicit:
        return out.absolute().parent / NAME
    if Path(explicit).resolve().is_relative_to(out.resolve()):
        raise FleetgenError(
            f"FLEETGEN_CACHE_DIR ({explicit}) is inside the output directory {out}: the cache would become part "
            "of the rendered tree; set it to a directory outside it"
        )
    return Path(explicit)


def _name(out: Path) -> str:
    """The output directory ``out`` as a file name: a hash of its absolute path."""
    return hashlib.sha256(os.fsencode(out.resolve())).hexdigest()[:32]


def render_cache(out: Path) -> Path:
    """The incremental render cache of the output directory ``out`` (its base: ``units.save``)."""
    return root(out) / "render" / f"{_name(out)}.marshal"


def render_cache_changes(out: Path) -> Path:
    """The changes saved since the render cache's base of ``out`` was written (``units.save``)."""
    base = render_cache(out)
    return base.with_name(base.name + ".changes")


def listing_cache(out: Path) -> Path:
    """The directories of ``out``'s tree and its standby tree as ``render``'s survey last listed them
    (``swap.Reuse``)."""
    return root(out) / "listing" / f"{_name(out)}.marshal"


def lock_record(out: Path) -> Path:
    """The digest of the lock file ``out``'s last render wrote, as it wrote it (``tree.keep_record``)."""
    return root(out) / "lock" / f"{_name(out)}.marshal"


def render_cache_files(out: Path) -> tuple[Path, ...]:
    """Every file the render cache of ``out`` may leave: the base, the changes, the listings, the lock's record, and
    their temporary files."""
    files = (render_cache(out), render_cache_changes(out), listing_cache(out), lock_record(out))
    return (*files, *(path.with_name(path.name + ".tmp") for path in files))


def load_cache(fleet: Path) -> Path:
    """fleetgen.chunks' cache of the fleet file ``fleet``: each cluster's data by the digest of its lines."""
    return root(fleet) / "load" / f"{_name(fleet)}.marshal"


def lint_cache(fleet: Path) -> Path:
    """The lint rules' findings on the fleet file ``fleet`` as the last render linted it (fleetgen.lintcache)."""
    return root(fleet) / "lint" / f"{_name(fleet)}.marshal"


def trash(out: Path) -> Path:
    """Where swapped-out trees of ``out`` wait for their background removal."""
    return root(out) / "trash"


def standby(out: Path) -> Path:
    """Where the tree that ``out``'s previous render swapped out is kept to build the next one in."""
    return root(out) / "standby" / _name(out)


def standby_owner(out: Path) -> Path:
    """Beside ``out``'s standby tree: the absolute path of ``out``, so a standby whose directory is gone is found."""
    return root(out) / "standby" / f"{_name(out)}.out"


def make(directory: Path, out: Path) -> None:
    """Create ``directory`` inside ``out``'s cache directory, which first gets its ``.gitignore``.

    Raises OSError (read-only or foreign directory): callers fall back to doing without the cache."""
    top = root(out)
    top.mkdir(parents=True, exist_ok=True)
    ignore = top / ".gitignore"
    if not ignore.exists():  # every render passes here: the durable create only the first time
        try:  # whole or not at all: a crash never leaves an empty .gitignore that would let git see the cache
            atomic.create_file(ignore, IGNORE.encode("utf-8"))
        except FileExistsError:  # another render made it meanwhile
            pass
    directory.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- cache files: marshal data, whole or not at all


def encode(body: Any) -> bytes | None:
    """``body`` as a cache file's bytes (marshal: 0.02-0.04 s for the 12 MB render cache of a 5,000-cluster
    fleet, where JSON took 0.15-0.25 s); None when a value cannot be held (no cache, no harm)."""
    try:
        return marshal.dumps(body, MARSHAL_VERSION)
    except ValueError:
        return None


def read(path: Path) -> Any:
    """A cache file's data; None when it is missing or unreadable (callers check their own format in it)."""
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def write(path: Path, data: bytes | None, out: Path) -> None:
    """Write the cache file ``path`` of ``out`` whole (temporary file, rename), or nothing: another fleetgen
    writing it (its flock), no data, or any failure (the cache only saves time, never correctness).

    The temporary file has one name, not one per process: a run killed before the rename leaves a file the next
    writer takes over instead of one more left for good."""
    if data is None:
        return
    tmp = path.with_name(path.name + ".tmp")
    try:
        make(path.parent, out)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(fd, 0)
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:  # BlockingIOError included: another writer's cache is as good as this one
        pass
    finally:
        os.close(fd)
