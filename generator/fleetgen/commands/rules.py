"""``fleetgen rules``: every rule id with its severity and documentation, from the registry."""

from __future__ import annotations

import json
import textwrap

import click

from ..lint import RULES
from .common import format_option, write_stdout


def as_text() -> str:
    blocks = []
    for r in RULES:
        body = textwrap.fill(f"{r.summary} {r.doc}".strip(), 78, initial_indent="    ", subsequent_indent="    ")
        blocks.append(f"{r.id} ({r.severity})\n{body}\n    fix: {r.fix}\n")
    return "\n".join(blocks)


def as_markdown() -> str:
    rows = ["| rule | severity | what it finds | fix |", "|---|---|---|---|"]
    rows += [f"| `{r.id}` | {r.severity} | {r.summary} | {r.fix} |" for r in RULES]
    return "\n".join(rows) + "\n"


def as_json() -> str:
    body = [{"id": r.id, "severity": r.severity, "summary": r.summary, "doc": r.doc, "fix": r.fix} for r in RULES]
    return json.dumps(body, indent=2) + "\n"


@click.command("rules")
@format_option("text", "json", "markdown")
def command(fmt) -> int:
    """List every rule id, its severity and what it checks."""
    write_stdout({"text": as_text, "json": as_json, "markdown": as_markdown}[fmt]())
    return 0
