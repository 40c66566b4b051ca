"""The one-way pipeline shared by every command: read -> load -> schema -> model -> lint.

Each stage returns values; a stage that finds errors stops the stages that need its output
(no model from a fleet that fails the schema) but never raises for a problem in fleet.yaml.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any, TypeVar

from . import cachedir, extras, fork, lint, lintcache, schema, tree, workload_replicas
from .errors import FleetgenError
from .findings import ERROR, Finding
from .load import MAX_BYTES, Document, load_bytes
from .model import Fleet, build, rendered_dir
from .settled import Settled
from .sources import cluster_sources
from .stages import Stages

T = TypeVar("T")


@dataclass
class Loaded:
    """The outcome of reading one fleet file: whatever stages succeeded, and every finding."""

    path: Path
    doc: Document | None = None
    fleet: Fleet | None = None
    findings: list[Finding] = field(default_factory=list)
    suppressed: int = 0
    # The lint rules' own findings and what they were given (fleetgen.lintcache): render keeps them for the next
    # command. ``lint_inputs``: the lock's versions and settled settings; ``lint_key``: their key with the rest.
    linted: lint.LintResult | None = None
    lint_inputs: tuple[Mapping[str, str], Settled] | None = None
    lint_key: str | None = None
    kept_lint: lint.LintResult | None = None  # the findings kept under lint_key, when there are

    @cached_property
    def sources(self) -> Mapping[str, str] | None:
        """Each cluster's source digest (``fleetgen.sources``), taken once: the lint rules and the render both key
        clusters by it."""
        return cluster_sources(self.document)

    @property
    def model(self) -> Fleet:
        """The model, for callers that checked ``ok`` (a fleet that passes has one)."""
        assert self.fleet is not None, "no model: the fleet failed its checks"
        return self.fleet

    @property
    def document(self) -> Document:
        """The loaded document, for callers past the syntax check."""
        assert self.doc is not None, "no document: the fleet is not readable YAML"
        return self.doc

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)


def read(path: Path) -> bytes:
    """The fleet file's bytes; a missing, unreadable or non-regular path is a usage error (exit 2)."""
    with os.fdopen(open_regular(path), "rb") as fh:
        try:
            return fh.read(MAX_BYTES + 1)  # one byte past the limit is enough to report it: memory stays bounded
        except OSError as exc:
            raise FleetgenError(f"{path}: cannot read: {exc.strerror}") from None


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def open_regular(path: Path) -> int:
    """A read-only descriptor of the fleet file, refused unless it is a regular file.

    Opened non-blocking, so a FIFO (which would wait forever for a writer) is seen and refused
    instead of hanging the run; the mode is taken from the open descriptor, not the path.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise FleetgenError(f"{path}: no such file (pass the fleet file, default ./fleet.yaml)") from None
    except IsADirectoryError:
        raise FleetgenError(f"{path}: is a directory, not a fleet file") from None
    except OSError as exc:
        raise FleetgenError(f"{path}: cannot read: {exc.strerror}") from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        os.set_blocking(fd, True)
        return fd
    os.close(fd)
    if stat.S_ISDIR(mode):
        raise FleetgenError(f"{path}: is a directory, not a fleet file")
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise FleetgenError(f"{path}: is {kind}, not a regular file: fleetgen reads the fleet only from a regular file")


def validate(
    path: Path,
    stages: Stages | None = None,
    *,
    cached: bool = True,
    keep: bool = False,
    loaded: Callable[[Any], None] | None = None,
) -> Loaded:
    """Syntax and schema only (``fleetgen validate``). ``cached`` reads fleet.yaml's parsed clusters from the
    cache; ``keep`` prepares them for ``keep_parts`` (``render``); ``loaded(data)`` is called with the document's
    data once it is read, before the schema is checked (``fleetgen.survey`` starts there)."""
    stages = stages or Stages()
    result = Loaded(path)
    with stages.stage("load"):
        result.doc, result.findings = load_bytes(read(path), str(path), _load_cache(path), read_cache=cached, keep=keep)
    if result.doc is not None and loaded is not None:
        with stages.stage("survey"):
            loaded(result.doc.data)
    if result.doc is not None:
        with stages.stage("validate"):
            result.findings += schema.validate(result.doc)
    return result


def _load_cache(path: Path) -> Path | None:
    """Where fleetgen.chunks keeps the fleet file's parsed clusters (None: nowhere)."""
    try:
        return cachedir.load_cache(path)
    except FleetgenError:
        return None


def keep_parts(loaded: Loaded) -> None:
    """Save the fleet file's parsed clusters for the next command (``render``, once its tree is written: fleetgen
    writes its cache from ``render`` only). A cache that cannot be written costs speed, never correctness."""
    cache = _load_cache(loaded.path)
    if loaded.doc is not None and cache is not None:
        cachedir.write(cache, loaded.doc.parts, loaded.path)


def load_and_lint(
    path: Path, out: Path | None = None, stages: Stages | None = None, *, cached: bool = True, keep: bool = False
) -> Loaded:
    """Everything ``lint`` reports: syntax, schema, then every lint rule on the model."""
    return load_lint_and(path, None, out, stages, cached=cached, keep=keep)[0]


def _lint(result: Loaded, path: Path, out: Path | None, cached: bool = True, keep: bool = False) -> Loaded:
    if not result.ok:  # no model; still never let a credential pass unreported
        found = lint.run(result.document, None)
        result.findings = sorted(set(result.findings + found.findings))
        return result
    copied = _copied(result, path, out)
    rules = _rules(result, path, out, cached, keep)
    return _linted(result, result.kept_lint or rules(), copied)


def _copied(result: Loaded, path: Path, out: Path | None) -> list[Finding]:
    """Build the model (with the extra manifests attached) into ``result``; the findings of reading what fleet.yaml
    names beside it: the extra manifests, and the workloads' own manifests (``workload_replicas``)."""
    result.fleet = build(result.document.data)
    target = out or output_dir(path, result.fleet)
    result.fleet, copied = extras.attach(result.fleet, result.document, path.parent, target)
    return copied + workload_replicas.findings(result.fleet, result.document, path.parent)


def _rules(result: Loaded, path: Path, out: Path | None, cached: bool, keep: bool) -> Callable[[], lint.LintResult]:
    """The lint rules on ``result``'s model, to run now or in a child process; what they are given, and its key,
    recorded in ``result`` (``fleetgen.lintcache``), with the findings the last ``render`` kept for exactly that
    (``kept_lint``), what the rules remembered then and what each read and found (``cached``: else none of them).
    ``keep`` (``render``): the rules record what they read and found for the next command."""
    lock = tree.read_lock(out or output_dir(path, result.model))
    result.lint_inputs = lock.versions, lock.settled
    result.lint_key = lintcache.key(result.document, result.model, lock.versions, lock.settled)
    kept = lintcache.read(result.path, result.lint_key) if cached else lintcache.Kept(None, {})
    result.kept_lint = kept.findings
    return partial(
        lint.run,
        result.document,
        result.model,
        lock.versions,
        installed=lock.settled,
        sources=result.sources,
        remembered=kept.remembered,
        memory=kept.memory,
        keep=keep,
    )


def _linted(result: Loaded, found: lint.LintResult, copied: list[Finding]) -> Loaded:
    result.linted = found
    result.findings, result.suppressed = sorted(set(result.findings + found.findings + copied)), found.suppressed
    return result


def keep_lint(loaded: Loaded, versions: Mapping[str, str], settled: Settled) -> None:
    """Keep the lint rules' findings for the next command (``render``, once its tree is written), when the lock it
    wrote gives the rules what they were given (``versions``, ``settled``: the new lock's); what the rules
    remembered, always (it does not depend on the lock)."""
    if loaded.linted is None or loaded.lint_key is None or loaded.lint_inputs is None:
        return
    same = (dict(versions), settled) == (dict(loaded.lint_inputs[0]), loaded.lint_inputs[1])
    lintcache.write(loaded.path, loaded.lint_key if same else None, loaded.linted)


LINT_ALONGSIDE_FROM = 300  # clusters; below this forking costs more than the lint rules it runs alongside


def load_lint_and(
    path: Path,
    then: Callable[[Loaded], T] | None,
    out: Path | None = None,
    stages: Stages | None = None,
    *,
    cached: bool = True,
    keep: bool = False,
    loaded: Callable[[Any], None] | None = None,
) -> tuple[Loaded, T | None]:
    """:func:`load_and_lint`, then ``then(loaded)`` when it found no error: its result, else None (and always
    None without ``then``, which is ``load_and_lint``).

    From ``LINT_ALONGSIDE_FROM`` clusters, with a second core, the lint rules run in a forked child while ``then``
    runs here (at 5,000 clusters the rules take 0.2-0.3 s, an incremental ``check``'s unit pass 0.4 s).
    ``then`` must therefore write nothing: when the rules find an error its result (or exception) is dropped,
    as if it had not run. The findings are what the rules give in this process: the child sends them back,
    and a child that fails in any way is not trusted: the rules then run here. ``loaded``: see :func:`validate`."""
    stages = stages or Stages()
    result = validate(path, stages, cached=cached, keep=keep, loaded=loaded)
    if result.doc is None:
        return result, None
    if then is None or not result.ok or not alongside(result.document.data):
        with stages.stage("lint"):
            result = _lint(result, path, out, cached, keep)
        if result.linted is not None:
            stages.notes.append(_reuse_note(result.linted))
        return result, (then(result) if then is not None and result.ok else None)
    with stages.stage("model"):
        copied = _copied(result, path, out)
        rules = _rules(result, path, out, cached, keep)
        kept = result.kept_lint
    if kept is not None:  # the last render's findings for this very input: no rules to run beside then()
        stages.notes.append("lint rules: the last render's findings on the same fleet file, lock and code\n")
        result = _linted(result, kept, copied)
        return result, (then(result) if result.ok else None)
    # The credential scan, imported once for both processes (0.04-0.06 s): secret-material always runs in the child
    # (it reads the raw data), and then() scans the files of the units it renders.
    from . import secrets  # noqa: F401 - imported, not used here

    child = fork.Child(rules)  # the rules see the model as it is now: then() starts after the fork
    try:
        value = then(result)  # its findings are not all there yet: then() reads the model and the document
    except Exception:
        with stages.stage("lint"):
            found = child.result()
        if _linted(result, found, copied).ok:
            raise
        return result, None
    except BaseException:  # Ctrl-C: nothing more to wait for
        child.stop()
        raise
    with stages.stage("lint"):
        found = child.result()
    stages.notes.append(f"lint rules: {child.seconds:.3f} s in a forked process, alongside the stages after model\n")
    stages.notes.append(_reuse_note(found))
    result = _linted(result, found, copied)
    return result, (value if result.ok else None)


def _reuse_note(found: lint.LintResult) -> str:
    """What ``--profile`` says of the rules reused from the last render (``lint.reuse``): nothing when none was."""
    if not found.reused:
        return ""
    reused, every = len(found.reused), len(lint.LINT_RULES)
    return f"lint rules: {reused} of {every} reused from the last render (nothing they read changed)\n"


def alongside(data: Any) -> bool:
    """Whether work on a fleet with this data pays for a forked process on a second core."""
    clusters = data.get("clusters") if isinstance(data, dict) else None
    return isinstance(clusters, list) and len(clusters) >= LINT_ALONGSIDE_FROM and (os.cpu_count() or 1) > 1


def output_dir(fleet_path: Path, fleet: Fleet) -> Path:
    """``repo.renderedDir`` next to fleet.yaml; it may not leave the fleet's directory."""
    return _output_dir(fleet_path, fleet.rendered_dir)


def output_dir_of(fleet_path: Path, data: Any) -> Path | None:
    """:func:`output_dir` from the loaded document's data, before its schema is checked and its model built (the
    model takes ``rendered_dir`` from the data this way); None when the data does not name one it could use."""
    repo = data.get("repo", {}) if isinstance(data, dict) else None
    if not isinstance(repo, dict) or not isinstance(repo.get("renderedDir", ""), str):
        return None
    try:
        return _output_dir(fleet_path, rendered_dir(repo))
    except FleetgenError:
        return None


def _output_dir(fleet_path: Path, rendered: str) -> Path:
    base = fleet_path.resolve().parent
    out = (base / rendered).resolve()
    if out == base or base not in out.parents:
        raise FleetgenError(
            f"repo.renderedDir {rendered!r} resolves to {out}, outside {base}; "
            "use a subdirectory next to fleet.yaml or pass --out"
        )
    return out
