"""Import a library without the modules it names only for features fleetgen never calls.

detect-secrets imports ``requests`` (and with it urllib3, http.client, charset detection: about
50-70 ms, a third of a 500-cluster lint) solely to verify found secrets over the network, and
``multiprocessing`` (5 ms) solely to scan files in parallel, neither of which fleetgen does.
``deferred("requests", "multiprocessing")`` lets such an import bind a stand-in instead: the
real module is imported the first time anything reads an attribute of the stand-in. When the
block ends, ``sys.modules`` is as it was, so any other ``import requests`` gets the real module.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager


class _OnFirstUse(types.ModuleType):
    """Stands in for a module: the first attribute read imports the real one and reads from it."""

    def __getattr__(self, attr: str):
        if sys.modules.get(self.__name__) is self:  # used while the block still runs
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


@contextmanager
def deferred(*names: str) -> Iterator[None]:
    """Within the block, ``import NAME`` of a module not yet imported binds a stand-in (see above)."""
    standins = {name: _OnFirstUse(name) for name in names if name not in sys.modules}
    sys.modules.update(standins)
    try:
        yield
    finally:
        for name, standin in standins.items():
            if sys.modules.get(name) is standin:
                del sys.modules[name]
