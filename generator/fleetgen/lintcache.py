"""The lint rules' findings on a fleet file, kept by ``render`` for the commands after it.

The rules are a pure function of what they are given (``lint.run``): the loaded document (its data, and its text,
which places each finding and holds the ``# fleetgen: ignore`` comments), the model (built from the data, plus the
extra manifests' bytes ``extras.attach`` read), the lock's rendered versions and settled settings, and the vendored
schemas ``override-path`` walks; they read nothing else. So the findings are keyed by the digest of fleetgen's code,
of those schemas (``lint.overrides.schemas_read``), the fleet file's name and text, every extra manifest (its paths
and the digest of its bytes) and the lock's versions and settled settings, and a command
that finds its key in the cache takes the findings instead of running the rules (0.2-0.35 s of CPU at 5,000
clusters, on the second core beside the unit pass, which waited for them).

``render`` writes the findings it linted with after the tree is written, and only when the lock it wrote holds the
versions and settings the rules were given (a version bump changes them: the next command lints again), so the
``check`` a pre-commit hook runs after it finds them. Like every fleetgen cache, only ``render`` writes it: a
``check`` in CI, on a fresh clone, lints. ``--full`` reads no cache. A cache that is missing, unreadable or of
another key is no cache.

Beside the findings it keeps what the rules remembered (``LintResult.remembered``; ``secret-material``: the sources
of the clusters it found clean), which a rule keys itself and which holds for the code that wrote it only; ``render``
keeps it even when it keeps no findings, since it does not depend on the lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from . import cachedir
from .errors import FleetgenError
from .findings import Finding
from .lint import LintResult, Memory
from .lint.overrides import schemas_read
from .load import Document
from .model import Fleet
from .settled import Settled

FORMAT = f"fleetgen-lint-3 {cachedir.PYTHON}"  # 2: what the rules remember; 3: what each rule read and found


def key(document: Document, fleet: Fleet, versions: Mapping[str, str], settled: Settled) -> str:
    """What the rules' findings on ``fleet`` depend on, as one digest."""
    extras = [
        [x.path, x.cluster, x.source, list(x.entry), hashlib.sha256(x.data).hexdigest()] for x in fleet.extra_files
    ]
    given = json.dumps(
        [FORMAT, cachedir.code_digest(), schemas_read(fleet), document.file, dict(versions), settled.to_json(), extras],
        sort_keys=True,
        ensure_ascii=False,
        default=repr,
    )
    digest = hashlib.sha256(given.encode("utf-8", "surrogatepass"))
    digest.update(document.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class Kept(NamedTuple):
    """What the last render kept: the findings under the key asked for (None: none for it), what the rules remembered
    and what each rule read and found (``lint.reuse.Memory``; None: nothing). Only what this very code wrote."""

    findings: LintResult | None
    remembered: dict[str, list[str]]
    memory: Memory | None = None


def read(fleet_path: Path, expected: str | None) -> Kept:
    """The findings kept under ``expected``, what the rules remembered in that run (``LintResult.remembered``: rule id
    -> strings; an entry of another shape is left out) and each rule's reads and findings then."""
    path = _path(fleet_path)
    body: Any = cachedir.read(path) if path is not None else None
    try:
        if body.get("format") != FORMAT or body.get("code") != cachedir.code_digest():
            return Kept(None, {})
        remembered = {
            rule: list(strings)
            for rule, strings in body["remembered"].items()
            if isinstance(rule, str) and isinstance(strings, list) and all(isinstance(x, str) for x in strings)
        }
        memory = Memory.from_data(body.get("rules"))
        if expected is None or body.get("key") != expected:
            return Kept(None, remembered, memory)
        findings = [_finding(x) for x in body["findings"]]
        return Kept(LintResult(findings, int(body["suppressed"]), remembered, memory), remembered, memory)
    except (AttributeError, KeyError, TypeError, ValueError):  # None, or not the shape this fleetgen writes
        return Kept(None, {})


def write(fleet_path: Path, under: str | None, result: LintResult) -> None:
    """Keep ``result``: its findings under the key ``under`` (None: only what the rules remembered), ``render``
    only, once its tree is written."""
    path = _path(fleet_path)
    if path is None:
        return
    body = {
        "format": FORMAT,
        "code": cachedir.code_digest(),
        "key": under,
        "findings": [_data(f) for f in result.findings] if under is not None else [],
        "suppressed": result.suppressed,
        "remembered": dict(result.remembered),
        "rules": result.memory.to_data() if result.memory is not None else None,
    }
    cachedir.write(path, cachedir.encode(body), fleet_path)


def _path(fleet_path: Path) -> Path | None:
    try:
        return cachedir.lint_cache(fleet_path)
    except FleetgenError:  # $FLEETGEN_CACHE_DIR where it may not be: no cache
        return None


def _data(f: Finding) -> tuple:
    return (f.file, f.line, f.column, f.rule, f.severity, f.message, tuple(f.path), f.hint, tuple(f.related))


def _finding(data: Any) -> Finding:
    file, line, column, rule, severity, message, path, hint, related = data
    return Finding(
        str(file),
        int(line),
        int(column),
        str(rule),
        str(severity),
        str(message),
        tuple(path),
        str(hint),
        tuple((str(r[0]), int(r[1]), int(r[2])) for r in related),
    )
