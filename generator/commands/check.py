"""``fleetgen check``: the CI gate. Renders in memory and compares bytes with the committed tree."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import pipeline, tree
from ..drift import as_finding, unified
from ..produce import produce
from ..report import LINT_FORMATS, text
from .common import colour, emit, fleet_argument, format_option, out_option


def display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    rel = os.path.relpath(path)
    return path.as_posix() if rel.startswith("..") else Path(rel).as_posix()


@click.command("check")
@fleet_argument
@out_option
@format_option("text", "json", "github")
def command(fleet, out, fmt) -> None:
    """Fail (exit 1) when the rendered tree is stale, hand-edited or holds stray manifests."""
    loaded = pipeline.check(fleet, out)
    if not loaded.ok:
        emit(LINT_FORMATS[fmt](loaded.findings, colour=colour()))
        sys.exit(1)
    target = out or pipeline.output_dir(fleet, loaded.fleet)
    label = display(target)
    drift = tree.compare(target, produce(loaded.fleet, fleet.name).files)
    findings = [as_finding(d, label) for d in drift]
    if fmt == "text":
        emit(_text(drift, findings, label))
    else:
        emit(LINT_FORMATS[fmt](findings))
    sys.exit(1 if findings else 0)


def _text(drift, findings, label: str) -> str:
    if not findings:
        return f"{label}: up to date with the fleet file\n"
    parts = []
    for d, f in zip(drift, findings):
        parts.append(text.line(f, colour()) + "\n")
        if d.old is not None or d.new is not None:
            parts.append(unified(d, label))
    parts.append(f"{len(findings)} file(s) out of date: run `fleetgen render` and commit the result\n")
    return "".join(parts)
