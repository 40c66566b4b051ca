"""Check loaded fleet data against fleet.schema.json; every violation becomes a ``schema`` finding.

Clusters are checked with ``defaults`` merged in (what the model will see), so a
value a cluster inherits is reported at its place under ``defaults``.
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import json
import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .findings import Finding, Issue, Path, issue, path_str
from .load import Document
from .model import AUTO_LABELS, DEFAULT_ENVIRONMENTS, deep_merge, network

if TYPE_CHECKING:  # jsonschema is imported only to explain a failure: importing it costs 0.3-0.6 s
    import jsonschema

SUPPORTED_VERSIONS = ("fleetgen/v1alpha1",)
_URL = re.compile(r"^https://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[^\s]*)?$")


def _is_cidr(value: object) -> bool:
    if isinstance(value, str):
        network(value)
    return True


def _is_url(value: object) -> bool:
    if isinstance(value, str) and not _URL.match(value):
        raise ValueError("not an https URL")
    return True


@cache
def schema_text() -> str:
    """The shipped schema file, byte for byte."""
    return resources.files("fleetgen").joinpath("schemas/fleet.schema.json").read_text("utf-8")


def schema_document() -> dict[str, Any]:
    return json.loads(schema_text())


@cache
def _validator() -> jsonschema.Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker

    formats = FormatChecker(formats=())
    formats.checks("fleetgen-cidr", raises=ValueError)(_is_cidr)
    formats.checks("fleetgen-url", raises=ValueError)(_is_url)
    return Draft202012Validator(schema_document(), format_checker=formats)


def _format(check):
    """A format check as jsonschema-rs calls it: a bool, never an exception."""

    def checked(value: object) -> bool:
        try:
            return check(value) is not False
        except ValueError:
            return False

    return checked


@cache
def _fast_validator():
    """jsonschema-rs (Rust) compiled once: the common path, about 25 times faster than jsonschema.

    It only decides valid or not; a fleet it rejects goes to jsonschema, which explains every
    error (and has the last word: where the two differ, jsonschema's findings are the findings).
    """
    import jsonschema_rs

    formats = {"fleetgen-cidr": _format(_is_cidr), "fleetgen-url": _format(_is_url)}
    return jsonschema_rs.validator_for(schema_document(), formats=formats, validate_formats=True)


def schema_errors(data: Any, checked: frozenset[int] = frozenset()) -> list[jsonschema.ValidationError]:
    """jsonschema's errors for ``data``; none without asking it when jsonschema-rs finds it valid. ``checked``: the
    indexes of clusters known to pass (``Document.checked``), left out of that first check when the schema checks
    each cluster on its own (:func:`_alone`); any error, theirs included, is then explained on the whole data."""
    try:
        if _fast_validator().is_valid(_unchecked(data, checked)):
            return []
    except (ValueError, TypeError, OverflowError):
        pass  # a value Rust cannot take (a lone surrogate, a huge integer): jsonschema decides
    return list(_validator().iter_errors(data))


def _unchecked(data: Any, checked: frozenset[int]) -> Any:
    """``data`` without the clusters at ``checked`` (at 5,000 clusters, checking them all cost 0.1 s a run, most
    of it their CIDRs' format checks in Python), when that cannot change the verdict."""
    clusters = data.get("clusters") if isinstance(data, dict) else None
    if not checked or not isinstance(clusters, list) or not _alone():
        return data
    return {**data, "clusters": [c for i, c in enumerate(clusters) if i not in checked]}


@cache
def _alone() -> bool:
    """Whether the schema checks each cluster on its own: ``clusters`` is an array of items checked by one schema,
    and no other keyword looks at it (no minItems, uniqueItems or contains; no top-level ``if`` on it). Then a
    document is valid if and only if its other parts and each of its clusters are."""
    document = schema_document()
    clusters = document.get("properties", {}).get("clusters", {})
    rest = {k: v for k, v in document.items() if k not in ("properties", "required", "$defs")}
    return set(clusters) <= {"type", "items", "description"} and '"clusters"' not in json.dumps(rest)


def merged_view(data: dict[str, Any]) -> dict[str, Any]:
    """The document with ``defaults`` merged under each cluster (lists replaced, cluster wins)."""
    defaults = data.get("defaults")
    clusters = data.get("clusters")
    if not isinstance(defaults, dict) or not isinstance(clusters, list):
        return data
    view = dict(data)
    view["clusters"] = [deep_merge(defaults, c) if isinstance(c, dict) else c for c in clusters]
    return view


def validate(doc: Document) -> list[Finding]:
    """All ``schema`` findings for ``doc``, positioned, sorted and de-duplicated."""
    data = merged_view(doc.data)
    raw = [f for err in schema_errors(data, doc.checked) for f in _explain(err)]
    if not raw:
        raw = _semantic(data)
    hidden = _invisible(doc.data, ()) if _may_hide(doc.text) else ()
    return positioned(raw + list(hidden), doc)


# Characters that make text read differently from what it is ("Trojan Source"): bidi controls,
# zero-width characters, and C0/C1 controls other than tab and newline.
_INVISIBLE = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


# The ASCII bytes that are not _INVISIBLE: deleting them from an ASCII text leaves only invisible characters.
_VISIBLE_ASCII = bytes(b for b in range(128) if not _INVISIBLE.match(chr(b)))


def _may_hide(text: str) -> bool:
    """Whether loaded data can hold such a character: it is in the text, or a "\\" escape can make one."""
    if not text or "\\" in text:
        return True
    if text.isascii():  # deleting bytes runs at memory speed; the regex takes 20 ms over a 5 MB fleet
        return bool(text.encode("ascii").translate(None, _VISIBLE_ASCII))
    return bool(_INVISIBLE.search(text))


def _invisible(data: Any, path: Path):
    """Strings (keys too) hiding bidirectional or invisible control characters."""
    if isinstance(data, dict):
        for key, value in data.items():
            if _INVISIBLE.search(key):
                yield _invisible_issue(key, (*path, key), on_key=True)
            yield from _invisible(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _invisible(value, (*path, i))
    elif isinstance(data, str) and _INVISIBLE.search(data):
        yield _invisible_issue(data, path)


def _invisible_issue(text: str, path: Path, on_key: bool = False) -> Issue:
    found = _INVISIBLE.search(text)
    assert found is not None  # called only for text it matched
    char = found.group()
    return issue(
        "schema",
        path,
        f"contains the invisible control character U+{ord(char):04X}, which can make text "
        "read differently from what it is",
        hint="delete the character (a reviewer cannot see it)",
        on_key=on_key,
    )


def positioned(raw: list[Issue], doc: Document) -> list[Finding]:
    """Position each issue; drop duplicates (one error in defaults, not one per cluster)."""
    out: dict[tuple, Finding] = {}
    for found in raw:
        placed = doc.place(found)
        out.setdefault((placed.line, placed.column, placed.rule, placed.message), placed)
    return sorted(out.values())


# ---------------------------------------------------------------- explaining errors


def _explain(err: jsonschema.ValidationError) -> list[Issue]:
    path: Path = tuple(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        return _unknown_fields(err, path)
    if err.validator in ("oneOf", "anyOf") and err.context:
        from jsonschema.exceptions import best_match

        best = best_match(err.context)
        return _explain_leaf(best, tuple(path) + tuple(best.relative_path))
    return _explain_leaf(err, path)


def _explain_leaf(err: jsonschema.ValidationError, path: Path) -> list[Issue]:
    if "propertyNames" in err.absolute_schema_path and isinstance(err.instance, str):
        return [_bad_key(err.instance, path)]
    where = _field(path)
    if path == ("apiVersion",):
        msg = f"apiVersion {err.instance!r} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}"
        return [issue("schema", path, msg, hint="set apiVersion: fleetgen/v1alpha1")]
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return [
            issue(
                "schema",
                path,
                f"{_describe(path)} is missing required field {missing!r}",
                hint=_field_hint(err, missing),
            )
        ]
    if err.validator == "pattern" or err.validator == "format":
        return [issue("schema", path, f"{where}: {_short(err.instance)} is not {_what(err)}", hint=_desc(err))]
    if err.validator == "type":
        msg = f"{where} must be {_article(err.validator_value)}, not {_type_of(err.instance)} {_short(err.instance)}"
        return [issue("schema", path, msg, hint=_desc(err))]
    if err.validator == "enum":
        choices = ", ".join(json.dumps(v) for v in err.validator_value)
        removed = (err.schema.get("x-removed") or {}).get(err.instance) if isinstance(err.instance, str) else None
        if removed:  # a value earlier versions accepted: say what to write instead
            return [
                issue(
                    "schema",
                    path,
                    f"{where}: {_short(err.instance)} is no longer supported; allowed: {choices}",
                    hint=removed,
                )
            ]
        return [issue("schema", path, f"{where}: {_short(err.instance)} is not one of {choices}")]
    return [issue("schema", path, f"{where}: {_oneline(err.message)}", hint=_desc(err))]


def _unknown_fields(err: jsonschema.ValidationError, path: Path) -> list[Issue]:
    allowed = sorted((err.schema.get("properties") or {}).keys())
    out = []
    for key in sorted(set(err.instance) - set(allowed)):
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed here: {', '.join(allowed)}"
        out.append(issue("schema", (*path, key), f"unknown field {key!r} in {_field(path)}", hint=hint, on_key=True))
    return out


def _bad_key(key: str, path: Path) -> Issue:
    """A mapping key that is not allowed: reported at the key itself."""
    if path and path[-1] == "labels" and key in AUTO_LABELS:
        message = f"label {key!r} is set automatically on every cluster and may not be overridden"
        hint = f"rename the label, or drop it: the cluster's {key} already provides it"
    elif path and path[-1] == "weights":
        message, hint = f"weights key {key!r} is not a cluster name", "cluster names are DNS-1123 labels"
    else:
        message = f"key {key!r} is not a valid label key"
        hint = "a label key is [prefix/]name: at most 63 alphanumerics, '-', '_' or '.', alphanumeric at both ends"
    return issue("schema", (*path, key), message, hint=hint, on_key=True)


def _field_hint(err: jsonschema.ValidationError, missing: str) -> str:
    desc = ((err.schema.get("properties") or {}).get(missing) or {}).get("description")
    return f"add {missing}: ({desc})" if desc else f"add {missing}:"


def _what(err: jsonschema.ValidationError) -> str:
    if err.validator == "format":
        if err.validator_value == "fleetgen-cidr":
            return _cidr_problem(err.instance)
        return {"fleetgen-url": "an https:// URL"}.get(err.validator_value, f"a valid {err.validator_value}")
    return err.schema.get("x-expected") or err.schema.get("description") or f"of the form /{err.validator_value}/"


def _cidr_problem(value: object) -> str:
    """What a CIDR the format check refused is not, and why, in ipaddress's words; with the network it names when
    only its host bits are set (``10.0.0.1/16``: the network is ``10.0.0.0/16``)."""
    if not isinstance(value, str):
        return "a valid CIDR network"
    family = ipaddress.IPv6Network if ":" in value else ipaddress.IPv4Network
    try:
        family(value, strict=True)
    except ValueError as exc:
        try:
            return f"a CIDR network: its host bits are set (the network is {family(value, strict=False)})"
        except ValueError:
            return f"a valid CIDR network ({exc})"
    return "a valid CIDR network"


def _desc(err: jsonschema.ValidationError) -> str:
    return err.schema.get("description", "") if isinstance(err.schema, dict) else ""


def _describe(path: Path) -> str:
    return path_str(path) or "the document"


def _field(path: Path) -> str:
    """The field's own name: the finding's path (and position) says where it is."""
    names = [p for p in path if isinstance(p, str)]
    return names[-1] if names else "the document"


def _article(types: Any) -> str:
    names = types if isinstance(types, list) else [types]
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "boolean": "true or false",
        "number": "a number",
        "null": "null",
    }
    return " or ".join(str(words.get(t, t)) for t in names)


def _type_of(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "the string",
        bool: "the boolean",
        int: "the integer",
        float: "the number",
        type(None): "null",
    }.get(type(value), "the value")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _oneline(text: str) -> str:
    return " ".join(text.split())[:240]


# ---------------------------------------------------------------- rules JSON Schema cannot say


def _semantic(data: dict[str, Any]) -> list[Issue]:
    envs = data.get("environments") or list(DEFAULT_ENVIRONMENTS)
    out: list[Issue] = []
    for i, cluster in enumerate(data.get("clusters") or []):
        path = ("clusters", i)
        for field in ("kubernetesVersion", "provider"):
            if field not in cluster:
                out.append(
                    issue(
                        "schema",
                        path,
                        f"cluster {cluster['name']!r} has no {field} and defaults sets none",
                        hint=f"add {field}: to the cluster or to defaults",
                    )
                )
        if cluster["environment"] not in envs:
            out.append(
                issue(
                    "schema",
                    (*path, "environment"),
                    f"environment {cluster['environment']!r} is not one of environments: {', '.join(envs)}",
                    hint="add it to environments (promotion order) or fix the spelling",
                )
            )
        out.extend(_ca_data(cluster, path))
    return out


def _ca_data(cluster: dict[str, Any], path: Path) -> list[Issue]:
    """caData must be certificates only: a private key there would be committed to git."""
    if "caData" not in cluster:
        return []
    pem = ca_pem(cluster["caData"])
    where = (*path, "caData")
    if "PRIVATE KEY" in pem:
        return []  # the ca-data-private-key rule's finding (lint), reported even when the schema fails
    if "-----BEGIN CERTIFICATE-----" not in pem:
        return [
            issue(
                "schema",
                where,
                "caData is not base64 of a PEM certificate",
                hint="copy certificate-authority-data from the cluster's kubeconfig",
            )
        ]
    return []


def ca_pem(value: str) -> str:
    """The PEM text of a base64 ``caData`` value; "" when it is not base64 of ASCII."""
    try:
        return base64.b64decode(value, validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return ""
