"""``fleetgen validate-rendered``: every rendered document against the upstream schema of its kind, CEL included."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import FleetgenError
from ..findings import exit_code
from ..report import LINT_FORMATS
from .common import colour, format_option, write_stdout

if TYPE_CHECKING:  # the validator imports cel-python, jsonschema and PyYAML: not on every command's start-up
    from ..upstream.manifests import Result


@click.command("validate-rendered")
@click.argument("directory", type=click.Path(path_type=Path), default="rendered", required=False)
@format_option(*LINT_FORMATS)
def command(directory: Path, fmt: str) -> int:
    """Validate DIRECTORY (default ./rendered) against the vendored upstream schemas.

    Strict: unknown fields, kinds without a vendored schema and Helm values the chart's schema does
    not list are errors. The CRDs' CEL rules (x-kubernetes-validations) are evaluated; transition
    rules (oldSelf) are skipped and counted.
    """
    from ..upstream.manifests import validate_tree

    if not directory.is_dir():
        raise FleetgenError(f"{directory}: no such directory (pass the rendered tree, default ./rendered)")
    result = validate_tree(directory, directory.as_posix().rstrip("/") or ".")
    write_stdout(LINT_FORMATS[fmt](result.findings, colour=colour()))
    if fmt == "text":
        click.echo(summary(result))
    return exit_code(result.findings)


def summary(result: Result) -> str:
    s, c = result.stats, result.cel
    skipped = f", {c.transition} transition rule checks (oldSelf) skipped" if c.transition else ""
    skipped += f", {len(c.unsupported)} rules not evaluable" if c.unsupported else ""
    return (
        f"validated {s.documents} documents and {s.values_files} Helm values files in {s.files} files; "
        f"CEL: {c.evaluated} rule checks, {c.failed} failed{skipped}"
    )
