"""Big objects a command leaves for the process's end instead of freeing them itself.

``fleetgen.main.run`` (the console script) ends the process with ``os._exit``, which frees nothing. At 5,000
clusters the model, the document and the render's file maps are a few hundred MB of small objects: letting
them go when a command's function returns costs 0.05 s of reference counting, on a run that is about to exit
anyway. A command hands them to :func:`keep`, which holds them only where ``run`` said the process ends that way
(:func:`until_exit`); anywhere else (tests, click's ``CliRunner``, an embedding program) it holds nothing, and
they are freed as usual.
"""

from __future__ import annotations

from typing import Any

_kept: list[Any] = []
_holding = False


def until_exit() -> None:
    """From now on, :func:`keep` holds what it is given until the process exits (``os._exit``)."""
    global _holding
    _holding = True


def keep(*objects: Any) -> None:
    """Hold ``objects`` until the process exits, when :func:`until_exit` was called; else nothing."""
    if _holding:
        _kept.extend(objects)
