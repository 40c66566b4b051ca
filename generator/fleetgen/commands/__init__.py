"""One module per subcommand; this table is the CLI's table of contents (command name -> module).

A command's module is imported when the command runs, or when help lists it: ``fleetgen lint``
does not import what render, diff, plan, add-cluster or import need (start-up is part of every
pre-commit run).
"""

from __future__ import annotations

import importlib

import click

COMMANDS = {
    "validate": "validate",
    "lint": "lint",
    "rules": "rules",
    "render": "render",
    "check": "check",
    "plan": "plan",
    "diff": "diff",
    "add-cluster": "add_cluster",
    "register": "register",
    "upgrade": "upgrade",
    "remove-cluster": "remove_cluster",
    "validate-rendered": "validate_rendered",
    "init": "init",
    "import": "import_",
    "schema": "schema",
}


def command(name: str) -> click.Command:
    """The click command ``name`` (a key of COMMANDS), its module imported on first use."""
    found = importlib.import_module(f"{__name__}.{COMMANDS[name]}").command
    assert isinstance(found, click.Command) and found.name == name, (name, found)
    return found
