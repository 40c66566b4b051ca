"""``python -m fleetgen`` runs the fleetgen CLI."""

from .main import cli

cli(prog_name="fleetgen")
