"""Compiler-style text: ``fleet.yaml:12:7: error[cidr-overlap] …`` — clickable in editors and CI logs.

Colour lives here and only here: on a terminal, never with NO_COLOR or in a pipe.
"""

from __future__ import annotations

import os
import sys

import click

from ..findings import ERROR, Finding, count

_COLOURS = {"error": "red", "warning": "yellow"}


def use_colour(stream=None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def line(f: Finding, colour: bool = False) -> str:
    label = f"{f.severity}[{f.rule}]"
    if colour:
        label = click.style(label, fg=_COLOURS.get(f.severity), bold=f.severity == ERROR)
    out = f"{f.file}:{f.line}:{f.column}: {label} {f.message}"
    for file, ln, col in f.related:
        out += f"\n    note: the other side is at {file}:{ln}:{col}"
    if f.hint:
        out += f"\n    fix: {f.hint}"
    return out


def summary(findings: list[Finding], suppressed: int = 0) -> str:
    n = count(findings)
    text = f"{n['errors']} error{'s' * (n['errors'] != 1)}, {n['warnings']} warning{'s' * (n['warnings'] != 1)}"
    return text + (f" ({suppressed} suppressed by # fleetgen: ignore[…])" if suppressed else "")


def render(findings: list[Finding], *, suppressed: int = 0, colour: bool = False, **_) -> str:
    body = [line(f, colour) for f in findings]
    return "\n".join([*body, summary(findings, suppressed)]) + "\n"
