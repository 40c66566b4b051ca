"""``fleetgen schema``: print the fleet JSON Schema, for editors and other validators to use offline."""

from __future__ import annotations

import click

from ..schema import schema_text
from .common import write_stdout


@click.command("schema")
def command() -> int:
    """Print the fleet.yaml JSON Schema (draft 2020-12) that lint validates against.

    Save it next to fleet.yaml (fleetgen schema > fleet.schema.json) and point the YAML
    language server at it: # yaml-language-server: $schema=./fleet.schema.json
    """
    write_stdout(schema_text())
    return 0
