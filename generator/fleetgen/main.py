"""The ``fleetgen`` command: a click group that wires the command modules and maps errors to exit codes."""

from __future__ import annotations

import gc
import sys

import click

from . import __version__
from .commands import COMMANDS
from .errors import FleetgenError

INTERRUPTED = 130


class _Group(click.Group):
    """Turns FleetgenError into a one-line message and exit 2, Ctrl-C into exit 130 (128 + SIGINT, as a
    shell reports it; click's own handling would exit 1, which means findings); anything else is a bug
    and shows as one. Commands clean up after themselves on the way out (``finally``), so an
    interrupted run leaves nothing behind."""

    def invoke(self, ctx: click.Context):
        # A run builds hundreds of thousands of small, acyclic dicts: the cyclic collector would
        # rescan that growing heap again and again (a third of a large render) and find nothing.
        # fleetgen is a short-lived process; reference counting frees everything it must.
        gc.disable()
        try:
            return super().invoke(ctx)
        except FleetgenError as exc:
            click.echo(f"fleetgen: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("\nfleetgen: interrupted", err=True)
            sys.exit(INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fleetgen")
def cli() -> None:
    """Generate and lint a GitOps tree for a multi-cluster Kubernetes fleet from one fleet.yaml."""


for _command in COMMANDS:
    cli.add_command(_command)


if __name__ == "__main__":
    cli(prog_name="fleetgen")
