"""``python -m fleetgen`` runs the fleetgen CLI."""

from .main import run

run()
