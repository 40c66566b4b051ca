"""CRD validation rules (``x-kubernetes-validations``): CEL evaluated as the API server does.

The API server binds ``self`` to the value at the schema node that carries the rule (an object is a
map, a list a list, an absent optional field is absent, so ``has()`` is false) after applying the
schema's ``default`` values, and rejects the object when a rule is false or cannot be evaluated
(k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go). Rules that read
``oldSelf`` are transition rules: they compare an update with the stored object, which a rendered
tree does not have, so they are skipped and counted.

The CEL interpreter is cel-python (``celpy``): it counts ``size()`` of a string in Unicode code points,
as cel-go does. Of the Kubernetes CEL library (k8s.io/apiserver/pkg/cel/library) it has nothing, so
the functions the vendored rules call are implemented here: ``isIP`` (library/ip.go) and ``isCIDR``
(library/cidr.go). A rule calling any other function is not guessed at: it is reported as a rule
fleetgen cannot evaluate (a test keeps every vendored rule evaluable).
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import celpy
from celpy import celtypes

OLD_SELF = re.compile(r"\boldSelf\b")
PREFIX_BITS = re.compile(r"0|[1-9][0-9]*")  # Go netip.ParsePrefix: decimal, no sign, no leading zero
# Macros and functions celpy evaluates itself (celpy.evaluation.base_functions holds the rest).
CEL_MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter", "dyn"})

Path = tuple[str | int, ...]


def parse_ip(text: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as library/ip.go's parseIPAddr accepts it: netip.ParseAddr without zone or IPv4-in-IPv6."""
    if not isinstance(text, str) or "%" in text:  # Python accepts "fe80::1%eth0"; Kubernetes refuses zones
        return None
    try:
        addr = ipaddress.ip_address(text)  # like netip: no leading zeros in IPv4 octets
    except ValueError:
        return None
    return None if getattr(addr, "ipv4_mapped", None) else addr


def is_cidr(text: Any) -> bool:
    """library/cidr.go's isCIDR: netip.ParsePrefix (host bits may be set), no IPv4-in-IPv6, no zone."""
    if not isinstance(text, str):
        return False
    address, slash, bits = text.partition("/")
    addr = parse_ip(address)
    return bool(slash and addr and PREFIX_BITS.fullmatch(bits) and int(bits) <= addr.max_prefixlen)


K8S_FUNCTIONS: dict[str, Any] = {
    "isIP": lambda text: celtypes.BoolType(parse_ip(text) is not None),
    "isCIDR": lambda text: celtypes.BoolType(is_cidr(text)),
}


def _called(tree) -> set[str]:
    """Names of the functions and methods a parsed (lark) CEL expression calls."""
    names = set()
    for node in tree.iter_subtrees():
        if node.data in ("ident_arg", "dot_ident_arg"):
            names.add(str(node.children[0]))
        elif node.data == "member_dot_arg":
            names.add(str(node.children[1]))
    return names


def with_defaults(schema: Any, value: Any) -> Any:
    """``value`` with the schema's ``default``s filled in where a field is absent, as the API server
    defaults before it validates (apiextensions-apiserver schema/defaulting). Returns a new value."""
    if not isinstance(schema, Mapping):
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out = {key: with_defaults(props.get(key, extra), child) for key, child in value.items()}
        for key, sub in props.items():
            if key not in out and isinstance(sub, Mapping) and "default" in sub:
                out[key] = with_defaults(sub, copy.deepcopy(sub["default"]))
        return out
    if isinstance(value, list):
        return [with_defaults(schema.get("items"), child) for child in value]
    return value


@dataclass(frozen=True)
class Failure:
    path: Path
    rule: str
    message: str
    evaluated: bool = True  # False: fleetgen cannot run this rule (reported as a warning, never a pass)


@dataclass
class Counts:
    evaluated: int = 0
    failed: int = 0
    transition: int = 0  # oldSelf rules skipped
    unsupported: set[str] = field(default_factory=set)  # rules celpy cannot run: "rule: why"


class Rules:
    """Compiles each distinct rule once and evaluates the rules of one kind's schema on documents."""

    def __init__(self) -> None:
        self.env = celpy.Environment()
        self.known = set(celpy.evaluation.base_functions) | CEL_MACROS | set(K8S_FUNCTIONS)
        self.programs: dict[str, Any] = {}
        self.counts = Counts()
        self._plans: dict[int, Any] = {}
        # A fleet repeats the same values in every cluster: one evaluation per (rule, value) is enough.
        self._verdicts: dict[tuple[str, str], Failure | None] = {}

    def program(self, rule: str):
        """The runnable rule, or a string saying why it cannot run."""
        if rule not in self.programs:
            try:
                tree = self.env.compile(rule)
            except celpy.CELParseError as exc:
                self.programs[rule] = f"cannot parse it ({str(exc).splitlines()[0]})"
            else:
                missing = _called(tree) - self.known
                self.programs[rule] = (
                    f"calls {', '.join(sorted(missing))}, which fleetgen does not implement"
                    if missing
                    else self.env.program(tree, functions=K8S_FUNCTIONS)
                )
        return self.programs[rule]

    def plan(self, schema: Mapping) -> Any:
        """The part of ``schema`` that leads to rules (None when it has none), computed once per schema."""
        key = id(schema)
        if key not in self._plans:
            self._plans[key] = (schema, _plan(schema))
        return self._plans[key][1]

    def check(self, schema: Mapping, doc: Any) -> list[Failure]:
        """Every rule of ``schema`` that ``doc`` breaks, in document order."""
        plan = self.plan(schema)
        return [] if plan is None else list(self._walk(plan, doc, ()))

    def _walk(self, plan: _Plan, value: Any, path: Path) -> Iterator[Failure]:
        if value is None:
            return
        if plan.rules:
            value = with_defaults(plan.schema, value)
            for entry in plan.rules:
                failure = self._verdict(entry, value, path)
                if failure:
                    yield failure
        if isinstance(value, dict):
            for key, child in value.items():
                sub = plan.props.get(key, plan.extra)
                if sub is not None:
                    yield from self._walk(sub, child, (*path, key))
        elif isinstance(value, list) and plan.items is not None:
            for index, child in enumerate(value):
                yield from self._walk(plan.items, child, (*path, index))

    def _verdict(self, entry: Mapping, value: Any, path: Path) -> Failure | None:
        rule = entry.get("rule", "")
        if OLD_SELF.search(rule):
            self.counts.transition += 1
            return None
        program = self.program(rule)
        if isinstance(program, str):
            self.counts.unsupported.add(f"{rule}: {program}")
            return Failure(path, rule, f"rule not evaluated: it {program}", evaluated=False)
        self.counts.evaluated += 1
        key = (repr(entry), repr(value))
        if key not in self._verdicts:
            self._verdicts[key] = self._evaluate(program, entry, value)
        found = self._verdicts[key]
        if found is None:
            return None
        if found.evaluated:
            self.counts.failed += 1
        else:
            self.counts.unsupported.add(f"{rule}: {found.message}")
        return Failure(path, rule, found.message, found.evaluated)

    def _evaluate(self, program, entry: Mapping, value: Any) -> Failure | None:
        """None when the rule holds, else a Failure (its path is filled in by the caller)."""
        rule = entry["rule"]
        try:
            result = program.evaluate({"self": celpy.json_to_cel(value)})
        except celpy.CELEvalError as exc:  # e.g. "no such key": the API server rejects the object too
            result = exc
        except Exception as exc:  # noqa: BLE001  a limit of celpy, not a verdict on the document
            return Failure((), rule, f"rule not evaluated: celpy raised {type(exc).__name__}: {exc}", False)
        if isinstance(result, celtypes.BoolType) and result:
            return None
        if isinstance(result, celpy.CELEvalError):
            return Failure((), rule, f"rule evaluation error: {result.args[0] if result.args else result}")
        if not isinstance(result, celtypes.BoolType):
            return Failure((), rule, f"rule returned {result!r}, not a bool")
        return Failure((), rule, self._message(entry, value))

    def _message(self, entry: Mapping, value: Any) -> str:
        """messageExpression when it evaluates to a string (as the API server does), else message."""
        expression = entry.get("messageExpression")
        if expression:
            program = self.program(expression)
            if not isinstance(program, str):
                try:
                    text = program.evaluate({"self": celpy.json_to_cel(value)})
                except celpy.CELEvalError:
                    text = None
                if isinstance(text, celtypes.StringType) and text.strip():
                    return str(text)
        return entry.get("message") or "failed rule"


@dataclass
class _Plan:
    schema: Mapping
    rules: tuple[Mapping, ...]
    props: dict[str, _Plan]
    extra: _Plan | None
    items: _Plan | None


def _plan(schema: Any) -> _Plan | None:
    """Prune a schema to the nodes that carry rules or lead to them, so a walk skips the rest."""
    if not isinstance(schema, Mapping):
        return None
    rules = tuple(r for r in schema.get("x-kubernetes-validations") or () if isinstance(r, Mapping))
    props = {key: sub for key, child in (schema.get("properties") or {}).items() if (sub := _plan(child)) is not None}
    extra = _plan(schema.get("additionalProperties"))
    items = _plan(schema.get("items"))
    if not (rules or props or extra or items):
        return None
    return _Plan(schema, rules, props, extra, items)
