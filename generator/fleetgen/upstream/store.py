"""The vendored upstream schemas (generator/fleetgen/schemas/upstream, see its PROVENANCE.md), compiled once per kind.

A kind's schema is ``<group>/<kind lower case>_<version>.json`` (group ``core`` for ``v1``); a Helm
chart's values schema is ``helm/<chart>/<version>/values.schema.json``. Each is compiled twice, lazily:
jsonschema-rs answers "valid?" for every document (the fast path), and jsonschema explains the few
that are not, with the messages and paths the fleet schema's findings use too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

JUNCTORS = ("allOf", "anyOf", "oneOf", "not")


def default_root() -> Traversable:
    return resources.files("fleetgen").joinpath("schemas", "upstream")


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group or "core", version


def closed(schema: Any, structural: bool = True) -> Any:
    """A copy of a Helm values schema in which every object that lists ``properties`` and says nothing
    about ``additionalProperties`` rejects other keys: Helm ignores an unknown value silently, so a
    misspelt key would render a chart default. Maps without ``properties`` (labels, annotations,
    extra config) stay open; sub-schemas under allOf/anyOf/oneOf/not only constrain and stay as they are."""
    if isinstance(schema, list):
        return [closed(child, structural) for child in schema]
    if not isinstance(schema, Mapping):
        return schema
    out = {
        key: closed(value, structural and key not in JUNCTORS)
        for key, value in schema.items()
        if key not in ("properties", "default", "examples", "const", "enum")
    }
    for key in ("default", "examples", "const", "enum"):
        if key in schema:
            out[key] = copy.deepcopy(schema[key])
    if "properties" in schema:
        out["properties"] = {name: closed(sub, structural) for name, sub in schema["properties"].items()}
        if structural and "additionalProperties" not in schema:
            out["additionalProperties"] = False
    return out


@dataclass
class Compiled:
    """One schema: the fast validator, and the explaining one built on first failure."""

    name: str  # the schema file, relative to the store root, for messages
    schema: dict
    fast: Any = field(repr=False)
    defaults: dict | None = None  # a chart's own values.yaml: Helm validates the values coalesced with it

    @cached_property
    def explainer(self) -> jsonschema.Draft7Validator:
        return jsonschema.Draft7Validator(self.schema)

    def errors(self, doc: Any) -> list[tuple[tuple, str]]:
        """``[(json path parts, message)]``, empty when ``doc`` is valid."""
        if self.defaults is not None and isinstance(doc, dict):
            doc = coalesce(self.defaults, doc)
        try:
            if self.fast.is_valid(doc):
                return []
        except (ValueError, TypeError):  # a value JSON has no type for (e.g. !!binary): let jsonschema say so
            pass
        found = sorted(
            ((tuple(e.absolute_path), e.message) for e in self.explainer.iter_errors(doc)),
            key=lambda pair: (tuple(map(str, pair[0])), pair[1]),
        )
        if not found:  # the two validators disagree (e.g. a regex dialect): say what the fast one saw
            try:
                found = [(tuple(e.instance_path), e.message) for e in self.fast.iter_errors(doc)]
            except (ValueError, TypeError) as exc:
                found = [((), f"not a JSON value: {exc}")]
        return found


def coalesce(defaults: dict, values: dict) -> dict:
    """Helm's merge of a chart's defaults with user values: maps merge key by key, the user's value wins,
    a user ``null`` removes the default (helm.sh/helm/v3 pkg/chartutil/coalesce.go)."""
    merged = dict(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = value
    return merged


def _compile(name: str, schema: dict, defaults: dict | None = None) -> Compiled:
    # Draft 7 makes "format" an annotation; jsonschema (the explainer) checks none either.
    return Compiled(name, schema, jsonschema_rs.Draft7Validator(schema, validate_formats=False), defaults)


class Store:
    """Looks up and compiles schemas on first use; one instance per run."""

    def __init__(self, root: Traversable | Path | None = None) -> None:
        self.root = root if root is not None else default_root()
        self._kinds: dict[tuple[str, str], Compiled | None] = {}
        self._charts: dict[str, Compiled | None] = {}

    def kind(self, api_version: str, kind: str) -> Compiled | None:
        """The schema of this apiVersion/kind, or None when none is vendored."""
        key = (api_version, kind)
        if key not in self._kinds:
            group, version = split_api_version(api_version)
            name = f"{group}/{kind.lower()}_{version}.json"
            schema = self._read(group, f"{kind.lower()}_{version}.json")
            self._kinds[key] = None if schema is None else _compile(name, schema)
        return self._kinds[key]

    def chart(self, chart: str) -> Compiled | None:
        """The values schema of a Helm chart (its newest vendored version, closed), or None."""
        if chart not in self._charts:
            self._charts[chart] = None
            base = self.root.joinpath("helm", chart)
            versions = sorted((v.name for v in base.iterdir() if v.is_dir()), key=_version_key) if base.is_dir() else []
            schema = self._read("helm", chart, versions[-1], "values.schema.json") if versions else None
            if schema is not None:
                name = f"helm/{chart}/{versions[-1]}/values.schema.json"
                self._charts[chart] = _compile(name, closed(schema), self._chart_defaults(base.joinpath(versions[-1])))
        return self._charts[chart]

    @staticmethod
    def _chart_defaults(version_dir: Traversable | Path) -> dict | None:
        """The chart's own ``values.yaml``, when vendored: Helm validates values coalesced with it."""
        node = version_dir.joinpath("values.yaml")
        return (yaml.safe_load(node.read_text(encoding="utf-8")) or {}) if node.is_file() else None

    def _read(self, *parts: str) -> dict | None:
        node = self.root.joinpath(*parts)
        return json.loads(node.read_text(encoding="utf-8")) if node.is_file() else None


def _version_key(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in text.replace("-", ".").split("."))
