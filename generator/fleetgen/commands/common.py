"""Options and helpers every command shares."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..report import text

fleet_argument = click.argument(
    "fleet", type=click.Path(path_type=Path, dir_okay=True), default="fleet.yaml", required=False
)
out_option = click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Output directory (default: repo.renderedDir next to fleet.yaml).",
)


def format_option(*choices: str, default: str = "text"):
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=default, show_default=True, help="Output format."
    )


def write_stdout(output: str) -> None:
    """A command's report, as is (it ends with its own newline)."""
    click.echo(output, nl=False)


def colour() -> bool:
    return text.use_colour(sys.stdout)


profile_option = click.option("--profile", is_flag=True, help="Print the time each stage took (to stderr).")
