"""``python -m generator`` runs the fleetgen CLI."""

from .main import cli

cli()
