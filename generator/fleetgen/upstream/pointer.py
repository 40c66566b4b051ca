"""Can a JSON pointer exist on a kind? Walked through the kind's vendored upstream schema.

Used by lint (``override-path``) without compiling a validator: the schema file is read as JSON
(``<group>/<kind lower case>_<version>.json`` under schemas/upstream, the layout store.py reads)
and only ``properties``, ``additionalProperties``, ``items`` and local ``$ref`` are followed. The
answer is "cannot" only when the schema says so for certain: a closed object without that field,
or an index into something that is not an array. Anything the walk cannot decide (a kind with no
vendored schema, ``x-kubernetes-preserve-unknown-fields``, a junctor) counts as possible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

PRESERVE = "x-kubernetes-preserve-unknown-fields"


@lru_cache(maxsize=64)
def kind_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    node = _schema_file(api_version, kind)
    return json.loads(node.read_text(encoding="utf-8")) if node.is_file() else None


def schemas_digest(kinds: Iterable[tuple[str, str]]) -> str:
    """The digest of the schema files :func:`kind_schema` reads for ``kinds`` (``(apiVersion, kind)``; a kind without
    one counts as such). Lint findings that walk them are kept by this digest (``fleetgen.lint.overrides``): the
    vendored schemas are not in fleetgen's code digest (``cachedir.UNKEYED_DATA``)."""
    return _digest_of(tuple(sorted(set(kinds))))


@lru_cache(maxsize=8)  # as kind_schema: read once a process; the key's and the forked lint rules' reads are one
def _digest_of(kinds: tuple[tuple[str, str], ...]) -> str:
    h = hashlib.sha256()
    for api_version, kind in kinds:
        node = _schema_file(api_version, kind)
        data = node.read_bytes() if node.is_file() else b""
        h.update(f"{api_version}\0{kind}\0{len(data)}\0".encode() + data)
    return h.hexdigest()


def _schema_file(api_version: str, kind: str) -> Traversable:
    group, _, version = api_version.rpartition("/")
    name = f"{kind.lower()}_{version}.json"
    return resources.files("fleetgen").joinpath("schemas", "upstream", group or "core", name)


def tokens(pointer: str) -> list[str]:
    """RFC 6901 reference tokens: ``~1`` is ``/``, ``~0`` is ``~``."""
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def missing_at(root: dict[str, Any], pointer: str) -> str | None:
    """The prefix of ``pointer`` that cannot exist in documents of ``root``, or None if it may."""
    node: Any = root
    walked = ""
    for token in tokens(pointer):
        node = _resolve(root, node)
        if not isinstance(node, dict) or PRESERVE in node or any(k in node for k in ("allOf", "anyOf", "oneOf")):
            return None
        walked += "/" + token.replace("~", "~0").replace("/", "~1")
        node = _child(node, token)
        if node is False:
            return walked
        if node is None:
            return None
    return None


def _resolve(root: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = root
        for part in node["$ref"][2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        node = target
    return node


def _child(node: dict[str, Any], token: str) -> Any:
    """The schema of ``token`` under ``node``: a sub-schema, None (undecided) or False (cannot exist)."""
    types = _types(node)
    if "array" in types or "items" in node:
        if token == "-" or token.isdigit():
            return node.get("items")
        return False if "object" not in types else _field(node, token)
    return _field(node, token)


def _field(node: dict[str, Any], token: str) -> Any:
    properties = node.get("properties")
    if isinstance(properties, dict) and token in properties:
        return properties[token]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return extra
    if extra is False or (isinstance(properties, dict) and extra is None and "object" in _types(node)):
        return False  # a closed object (Kubernetes prunes or rejects a field its schema does not list)
    if "string" in _types(node) or "integer" in _types(node) or "boolean" in _types(node):
        return False  # a scalar has no members
    return None


def _types(node: dict[str, Any]) -> list[Any]:
    types = node.get("type")
    return types if isinstance(types, list) else [types]
