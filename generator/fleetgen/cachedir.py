"""Where fleetgen keeps what only saves time: outside the repository, so git never sees it.

``$FLEETGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/fleetgen``, else ``~/.cache/fleetgen``. It holds the
incremental render's cache (one file per output directory, named by a hash of its absolute path) and
swapped-out trees being removed in the background. Losing it costs one full render, never correctness.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def root() -> Path:
    explicit = os.environ.get("FLEETGEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fleetgen"


def render_cache(out: Path) -> Path:
    """The incremental render cache of the output directory ``out``."""
    name = hashlib.sha256(os.fsencode(out.resolve())).hexdigest()[:32]
    return root() / "render" / f"{name}.json"


def trash() -> Path:
    return root() / "trash"
