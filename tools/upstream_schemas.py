#!/usr/bin/env python3
"""Maintainer tool: regenerate schemas/upstream/ from upstream CRD YAML files and OpenAPI definitions.

Not run in CI and not part of the installed package: the JSON files it writes are committed, and
``fleetgen validate-rendered`` reads only them. See schemas/upstream/PROVENANCE.md for the upstream
tags and files each schema comes from.

    python tools/upstream_schemas.py crd -o schemas/upstream CRD.yaml [CRD.yaml ...] [--kind Kind ...]
    python tools/upstream_schemas.py definitions -o schemas/upstream _definitions.json \\
        --type io.k8s.api.core.v1.Namespace [--type ...]

Every output is a standalone draft-07 schema at ``<group>/<kind lower case>_<version>.json``
(group ``core`` for the legacy ``v1`` group) that is as strict as the API server:

* an object schema that declares ``properties`` gets ``additionalProperties: false`` unless it is
  ``x-kubernetes-preserve-unknown-fields: true`` or says something about additionalProperties
  itself: the API server prunes unknown fields there, so fleetgen reports them;
* ``x-kubernetes-int-or-string`` (or ``format: int-or-string``) accepts an integer or a string;
* ``nullable: true`` accepts ``null`` too;
* OpenAPI 3.0 boolean ``exclusiveMinimum``/``exclusiveMaximum`` become draft-07 numbers;
* an ``x-kubernetes-embedded-resource`` object always allows apiVersion, kind and metadata;
* the root pins ``apiVersion`` and ``kind`` with ``const`` and requires both.

Schemas under allOf/anyOf/oneOf/not only constrain fields declared elsewhere (the structural-schema
rule of apiextensions-apiserver), so they are never closed. ``x-kubernetes-validations`` (CEL) rules
are kept as they are: fleetgen evaluates them. Only served versions are written.

Needs PyYAML (``pip install pyyaml``; it is in the project's ``test`` extra).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

DRAFT7 = "http://json-schema.org/draft-07/schema#"
TOOL = "tools/upstream_schemas.py"
JUNCTORS = ("allOf", "anyOf", "oneOf")
CHILD_MAPS = ("properties", "patternProperties", "definitions", "$defs")
# Definitions whose JSON form is wider than the OpenAPI type they declare.
WIDER = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"anyOf": [{"type": "number"}, {"type": "string"}]},
}


def _types(node: dict) -> list:
    kind = node.get("type")
    return [] if kind is None else kind if isinstance(kind, list) else [kind]


def _int_or_string(node: dict) -> None:
    if node.get("x-kubernetes-int-or-string") or node.get("format") == "int-or-string":
        node.pop("type", None)
        if node.get("format") == "int-or-string":
            del node["format"]
        if not any(key in node for key in JUNCTORS):
            node["anyOf"] = [{"type": "integer"}, {"type": "string"}]


def _nullable(node: dict) -> None:
    if not node.pop("nullable", False):
        return
    types = _types(node)
    if types and "null" not in types:
        node["type"] = [*types, "null"]
    if "enum" in node and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]


def _exclusive_bounds(node: dict) -> None:
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(flag), bool):
            if node[flag] and bound in node:
                node[flag] = node.pop(bound)
            else:
                del node[flag]


def _close(node: dict, structural: bool) -> None:
    props = node.get("properties")
    types = _types(node)
    if not (structural and isinstance(props, dict) and ("object" in types or not types)):
        return
    if node.get("x-kubernetes-embedded-resource"):
        for field, schema in (("apiVersion", "string"), ("kind", "string"), ("metadata", "object")):
            props.setdefault(field, {"type": schema})
    if not node.get("x-kubernetes-preserve-unknown-fields") and "additionalProperties" not in node:
        node["additionalProperties"] = False


def strict(node, structural: bool = True) -> None:
    """Apply the rules of the module docstring to ``node`` and everything below it, in place."""
    if not isinstance(node, dict):
        return
    _int_or_string(node)
    _nullable(node)
    _exclusive_bounds(node)
    _close(node, structural)
    for key in CHILD_MAPS:
        for child in (node.get(key) or {}).values():
            strict(child, structural)
    items = node.get("items")
    for child in items if isinstance(items, list) else [items]:
        strict(child, structural)
    strict(node.get("additionalProperties"), structural)
    for key in JUNCTORS:
        for child in node.get(key) or []:
            strict(child, structural=False)
    strict(node.get("not"), structural=False)


def pin(schema: dict, api_version: str, kind: str) -> None:
    """Only documents of this apiVersion and kind validate."""
    props = schema.setdefault("properties", {})
    for field, value in (("apiVersion", api_version), ("kind", kind)):
        entry = {"type": "string", "const": value}
        if "description" in (props.get(field) or {}):
            entry["description"] = props[field]["description"]
        props[field] = entry
    required = list(schema.get("required") or [])
    required += [field for field in ("apiVersion", "kind") if field not in required]
    schema["required"] = required
    schema.setdefault("type", "object")


def target(out: Path, group: str, version: str, kind: str) -> Path:
    return out / (group or "core") / f"{kind.lower()}_{version}.json"


def write(path: Path, schema: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


# ------------------------------------------------------------------------------------ CRDs


def from_crd(crd: dict, out: Path, kinds: set[str]) -> int:
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"]
    if kinds and kind.lower() not in kinds:
        return 0
    written = 0
    for version in spec["versions"]:
        source = (version.get("schema") or {}).get("openAPIV3Schema")
        if not version.get("served") or source is None:
            print(f"skip  {group}/{version['name']} {kind} (not served or no schema)")
            continue
        schema = copy.deepcopy(source)
        strict(schema)
        pin(schema, f"{group}/{version['name']}", kind)
        notes = ["served"] + ["storage version"] * bool(version.get("storage"))
        notes += ["deprecated"] * bool(version.get("deprecated"))
        comment = (
            f"Generated by {TOOL} from CRD {crd['metadata']['name']}, version {version['name']} ({', '.join(notes)})."
        )
        write(target(out, group, version["name"], kind), {"$schema": DRAFT7, "$comment": comment, **schema})
        written += 1
    return written


def crds(paths: list[Path]):
    import yaml

    for path in paths:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                yield doc


# ------------------------------------------------------------------------- definitions


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]  # "#/definitions/X", "#/$defs/X", "other.json#/$defs/X" -> "X"


def _references(node, table: dict, seen: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and _name(ref) not in seen:
            if _name(ref) not in table:
                raise SystemExit(f"unresolved reference {ref!r}")
            seen.add(_name(ref))
            _references(table[_name(ref)], table, seen)
        for value in node.values():
            _references(value, table, seen)
    elif isinstance(node, list):
        for value in node:
            _references(value, table, seen)


def _local(node) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            node["$ref"] = "#/definitions/" + _name(node["$ref"])
        for value in node.values():
            _local(value)
    elif isinstance(node, list):
        for value in node:
            _local(value)


def from_definition(table: dict, name: str, out: Path) -> None:
    if name not in table or name in WIDER:
        raise SystemExit(f"{name}: no such kind in the definitions")
    root = copy.deepcopy(table[name])
    gvks = root.get("x-kubernetes-group-version-kind") or []
    if len(gvks) != 1:
        raise SystemExit(f"{name}: expected one x-kubernetes-group-version-kind, found {len(gvks)}")
    group, version, kind = gvks[0].get("group", ""), gvks[0]["version"], gvks[0]["kind"]
    needed: set[str] = set()
    _references(root, table, needed)
    needed.discard(name)
    defs = {dep: copy.deepcopy(WIDER.get(dep, table[dep])) for dep in sorted(needed)}
    for node in (root, *defs.values()):
        strict(node)
    _local(root)
    _local(defs)
    pin(root, f"{group}/{version}" if group else version, kind)
    body = {k: v for k, v in root.items() if k not in ("$schema", "$id")}
    schema = {"$schema": DRAFT7, "$comment": f"Generated by {TOOL} from OpenAPI definition {name}.", **body}
    if defs:
        schema["definitions"] = defs
    write(target(out, group, version, kind), schema)


def definitions(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    table = doc.get("definitions") or doc.get("$defs")
    if not isinstance(table, dict):
        raise SystemExit(f"{path} has neither 'definitions' nor '$defs'")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    crd = sub.add_parser("crd", help="convert CustomResourceDefinition YAML files")
    crd.add_argument("files", nargs="+", type=Path)
    crd.add_argument("--kind", action="append", default=[], help="only this kind (repeatable)")
    defs = sub.add_parser("definitions", help="convert kinds from an OpenAPI/JSON Schema definitions file")
    defs.add_argument("file", type=Path)
    defs.add_argument("--type", action="append", required=True, help="definition name (repeatable)")
    for each in (crd, defs):
        each.add_argument("-o", "--out", type=Path, required=True, help="schemas/upstream")
    args = parser.parse_args(argv)
    if args.mode == "definitions":
        table = definitions(args.file)
        for name in args.type:
            from_definition(table, name, args.out)
        return 0
    count = sum(from_crd(doc, args.out, {k.lower() for k in args.kind}) for doc in crds(args.files))
    if not count:
        print("no schema written", file=sys.stderr)
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
