"""The ``fleetgen`` command: a click group that wires the command modules and maps errors to exit codes."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from . import __version__, exiting
from .commands import COMMANDS, command
from .errors import FleetgenError, Refused
from .report import text

INTERRUPTED = 130
FLUSH_FAILED = 120  # what CPython exits with when flushing standard output fails at exit


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """The cyclic collector off for one command, then as it was (an in-process caller keeps its own).

    A run builds hundreds of thousands of small, acyclic dicts: the cyclic collector would rescan
    that growing heap again and again (a third of a large render) and find nothing; reference
    counting frees everything a command must.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Group(click.Group):
    """The one place errors become exit codes. A command returns its exit code (0, or 1 for findings);
    FleetgenError becomes a one-line message and its exit code (2; ``Refused``: 1, after its details);
    Ctrl-C becomes exit 130 (128 + SIGINT, as a shell reports it; click's own handling would exit 1,
    which means findings); anything else is a bug and shows as one. Commands clean up after
    themselves on the way out (``finally``), so an interrupted run leaves nothing behind."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)  # as click lists added commands

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return command(cmd_name) if cmd_name in COMMANDS else None

    def invoke(self, ctx: click.Context):
        try:
            with without_cyclic_gc():
                code = super().invoke(ctx)
        except FleetgenError as exc:
            if isinstance(exc, Refused) and exc.findings:
                click.echo(text.render(list(exc.findings), colour=text.use_colour(sys.stdout)), nl=False, err=True)
            click.echo(f"fleetgen: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("\nfleetgen: interrupted", err=True)
            ctx.exit(INTERRUPTED)
        ctx.exit(code or 0)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fleetgen")
def cli() -> None:
    """Generate and lint a GitOps tree for a multi-cluster Kubernetes fleet from one fleet.yaml."""


def run() -> None:
    """The ``fleetgen`` console script and ``python -m fleetgen``: the CLI, then an exit that skips tearing the
    heap down.

    At 5,000 clusters a command ends holding a few hundred MB of small objects; the interpreter's final
    collection and freeing them one by one took 0.15 s of every run (0.015 s this way). Nothing is lost by
    skipping it: every file fleetgen writes is closed (``with``) and renamed into place before the command
    returns, the atexit handlers still run (libraries' and coverage's), and standard output and error are
    flushed first. ``cli`` itself (click's ``CliRunner``, an embedding program) exits as usual."""
    exiting.until_exit()  # a command's big objects are not freed one by one either
    # nor looked at by the cyclic collector once more: the command ran with it off (without_cyclic_gc), so every
    # object it made is still in the youngest generation, and turning it back on would scan them all at the next
    # allocation (0.08 s at 5,000 clusters) for garbage that os._exit drops anyway
    gc.disable()
    try:
        cli.main(prog_name="fleetgen")
        status = 0
    except SystemExit as exc:  # click's standalone mode always ends with one
        if isinstance(exc.code, int):
            status = exc.code
        else:  # None or a message, as sys.exit takes them
            status = 0 if exc.code is None else 1
            if exc.code is not None and sys.stderr is not None:
                print(exc.code, file=sys.stderr)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):  # None: the process was started with that descriptor closed
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # the reader left (``| head``), a full disk, a closed file: as CPython
            status = FLUSH_FAILED  # exits when flushing at exit fails, without its "Exception ignored" noise
    os._exit(status)


if __name__ == "__main__":
    run()
