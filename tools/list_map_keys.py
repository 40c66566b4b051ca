"""Maintainer script: extract the list-map keys of the upstream schemas into generator/fleetgen/schemas/list_keys.json.

The API server merges a list marked ``x-kubernetes-list-type: map`` entry by entry, matching
entries on ``x-kubernetes-list-map-keys`` (containers by ``name``, ports by ``containerPort`` and
``protocol``, …). ``fleetgen diff`` matches list entries the same way, from the small table this
script writes: ``{"apiVersion Kind": {"json.path[].to.list": [key, …]}}``, where ``[]`` stands for
any list index.

Usage (the upstream schemas are converted CRD / OpenAPI schemas, one file per kind and version,
carrying ``apiVersion``/``kind`` as ``const``; any directory tree of them works):

    python tools/list_map_keys.py SCHEMA_DIR [--out generator/fleetgen/schemas/list_keys.json]

Nothing at run time or in the tests reads SCHEMA_DIR: only the generated table is shipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "generator" / "fleetgen" / "schemas" / "list_keys.json"
MAX_DEPTH = 40  # schema nesting guard (recursive $refs are cut off at their first repetition anyway)


def gvk(schema: dict) -> str | None:
    """``apps/v1 Deployment`` from the schema's ``const`` apiVersion and kind, None when it has none."""
    props = schema.get("properties", {})
    version, kind = (props.get(k, {}).get("const") for k in ("apiVersion", "kind"))
    return f"{version} {kind}" if version and kind else None


def _resolve(node: dict, root: dict) -> tuple[dict, str | None]:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node, None
    target: object = root
    for part in ref[2:].split("/"):
        target = target[part] if isinstance(target, dict) else {}
    return (target if isinstance(target, dict) else {}), ref


def walk(node: dict, root: dict, path: str, seen: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Every list-map below ``node``: ``{path: keys}``; ``[]`` marks a list index in the path."""
    node, ref = _resolve(node, root)
    if ref in seen or len(seen) > MAX_DEPTH:
        return {}
    seen = (*seen, ref) if ref else seen
    found: dict[str, list[str]] = {}
    if node.get("x-kubernetes-list-type") == "map" and node.get("x-kubernetes-list-map-keys"):
        found[path] = list(node["x-kubernetes-list-map-keys"])
    for name, child in sorted(node.get("properties", {}).items()):
        if isinstance(child, dict):
            found.update(walk(child, root, f"{path}.{name}" if path else name, seen))
    if isinstance(node.get("items"), dict):
        found.update(walk(node["items"], root, f"{path}[]", seen))
    for combinator in ("allOf", "anyOf", "oneOf"):
        for child in node.get(combinator, []):
            if isinstance(child, dict):
                found.update(walk(child, root, path, seen))
    return found


def extract(schema_dir: Path) -> dict[str, dict[str, list[str]]]:
    table: dict[str, dict[str, list[str]]] = {}
    for file in sorted(schema_dir.rglob("*.json")):
        schema = json.loads(file.read_text(encoding="utf-8"))
        name = gvk(schema) if isinstance(schema, dict) else None
        keys = walk(schema, schema, "") if name else {}
        if keys:
            table[name] = dict(sorted(keys.items()))
    return dict(sorted(table.items()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("schema_dir", type=Path)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    table = extract(args.schema_dir)
    if not table:
        print(f"no schema with list-map keys under {args.schema_dir}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(table)} kinds, {sum(map(len, table.values()))} lists")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
