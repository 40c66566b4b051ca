"""Correct against the real APIs: the vendored upstream schemas, their CEL rules, and the rendered-tree check."""

from __future__ import annotations

from typing import Any


def api_group(doc: dict[str, Any]) -> str:
    """The API group of a manifest's ``apiVersion`` ("" for the core group), as RBAC and projects name it."""
    return str(doc["apiVersion"]).rpartition("/")[0]
