"""Render targets: each a pure function ``Fleet -> list[File]``; this module lists and runs them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class File:
    """One file of the rendered tree. ``path`` is POSIX and relative to the output dir.

    YAML files carry ``documents`` (plain dicts in the key order they are written);
    other files (README.md) carry ``text``.
    """

    path: str
    documents: tuple[dict[str, Any], ...] = ()
    text: str | None = None
