"""Fold imported cluster entries into fleet.yaml with the comment-preserving editor.

A new cluster is appended to ``clusters`` (fields that ``defaults`` already gives are left out).
An existing cluster gains the fields it lacks; a field it has (itself or from ``defaults``) with
a different value is a conflict, reported and left as it is: fleet.yaml is the source of truth,
and an import never overwrites it.
"""

from __future__ import annotations

from typing import Any

from ..edit import CLUSTER_KEYS, FleetText
from ..model import deep_merge

DEFAULTS = {"lifecycle": "managed"}  # schema defaults an entry need not repeat
KEY_ORDER = CLUSTER_KEYS  # the order a cluster entry's keys are written in, as the runbook writes them


def ordered(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in sorted(entry, key=lambda k: KEY_ORDER.index(k) if k in KEY_ORDER else 99)}


def merge(text: str, clusters: dict[str, dict[str, Any]], environment: str | None = None) -> tuple[str, list[str]]:
    """(new fleet.yaml text, conflicts)."""
    editor = FleetText(text)
    defaults = editor.data.get("defaults") or {}
    conflicts: list[str] = []
    new = []
    for name in sorted(clusters):
        entry = ordered({**({"environment": environment} if environment else {}), **clusters[name]})
        at = next((i for i, c in enumerate(editor.data.get("clusters") or []) if c.get("name") == name), None)
        if at is None:
            entry = ordered({"provider": defaults.get("provider") or {"type": "imported"}, **entry})
            new.append({k: v for k, v in entry.items() if k == "name" or v != defaults.get(k, DEFAULTS.get(k))})
        else:
            conflicts += _update(editor, at, entry, defaults)
    editor.extend(("clusters",), new)
    return editor.result(), conflicts


def _update(editor: FleetText, at: int, entry: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    raw = editor.data["clusters"][at]
    effective = deep_merge(DEFAULTS, deep_merge(defaults, raw))
    out = []
    for key, value in entry.items():
        have = effective.get(key)
        if have is None:
            editor.set(("clusters", at, key), value, after=_before(key, raw))
        elif isinstance(have, dict) and isinstance(value, dict):
            out += _update_mapping(editor, at, key, have, value, raw)
        elif have != value:
            out.append(_conflict(entry["name"], key, have, value))
    return out


def _update_mapping(editor: FleetText, at: int, key: str, have: dict, value: dict, raw: dict) -> list[str]:
    missing = {k: v for k, v in value.items() if k not in have}
    out = [_conflict(raw["name"], f"{key}.{k}", have[k], v) for k, v in value.items() if k in have and have[k] != v]
    if missing and isinstance(raw.get(key), dict):
        for sub, item in missing.items():
            editor.set(("clusters", at, key, sub), item)
    elif missing:
        editor.set(("clusters", at, key), missing, after=_before(key, raw))
    return out


def _before(key: str, raw: dict) -> tuple[str, ...]:
    return tuple(k for k in KEY_ORDER[: KEY_ORDER.index(key)] if k in raw) if key in KEY_ORDER else ()


def _conflict(cluster: str, field: str, have: Any, new: Any) -> str:
    return f"cluster {cluster!r}: {field} is {have!r} in fleet.yaml but {new!r} in the import; left as it is"
