"""The rule registry: one Rule per contract id. A rule's docstring is its documentation.

``fleetgen rules``, the README table and SARIF's rule list are all generated from
these objects, so the docs cannot drift from the code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..findings import ERROR, Issue, Path
from ..model import Fleet
from ..settled import Settled


@dataclass(frozen=True)
class Context:
    """What a rule may look at: the model, the raw data, and the versions in the rendered tree."""

    model: Fleet | None  # None when fleet.yaml fails the schema: then only model-free rules run
    data: Mapping[str, Any]
    rendered_versions: Mapping[str, str] | None = None
    installed: Settled | None = None  # settings the rendered tree's lock records as installed
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)  # results rules share, per run
    # Each cluster's source digest by name (fleetgen.sources; None: the text alone does not decide a cluster's data).
    sources: Mapping[str, str] | None = None
    # What rules remembered in the run before (rule id -> strings, from fleetgen.lintcache), and what they remember now
    # for the next run. A rule trusts only what is keyed by everything its findings depend on (see secret-material).
    remembered: Mapping[str, list[str]] = field(default_factory=dict, compare=False, repr=False)
    remember: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def fleet(self) -> Fleet:
        """The model. Only rules that need it read it (``needs_model``, the default), and the runner
        runs those only when there is one."""
        assert self.model is not None, "a model-free rule (needs_model=False) read the model"
        return self.model


Check = Callable[[Context], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    summary: str
    doc: str
    fix: str
    check: Check | None = None  # None: reported by another stage (loader, schema, check)
    needs_model: bool = True

    @property
    def stage(self) -> str:
        return "lint" if self.check else "other"


def _split_doc(text: str) -> tuple[str, str]:
    doc = inspect.cleandoc(text or "")
    summary, _, rest = doc.partition("\n\n")
    return " ".join(summary.split()), " ".join(rest.split())


def rule(rule_id: str, severity: str = ERROR, *, fix: str, needs_model: bool = True) -> Callable[[Check], Rule]:
    """Decorator: the function checks, its docstring documents (first paragraph = summary)."""

    def wrap(func: Check) -> Rule:
        summary, doc = _split_doc(func.__doc__ or "")
        return Rule(rule_id, severity, summary, doc, fix, func, needs_model)

    return wrap


def stage_rule(rule_id: str, severity: str, doc: str, fix: str) -> Rule:
    """A rule id reported by another stage (yaml-syntax, schema, check): listed and documented here."""
    summary, rest = _split_doc(doc)
    return Rule(rule_id, severity, summary, rest, fix)


def flag(path: Path, message: str, *, severity: str = "", hint: str = "", **kw: Any) -> Issue:
    """What a rule yields: where and what. The runner stamps the rule's id on it, and the rule's
    severity unless ``severity`` overrides it for this one finding."""
    return Issue("", tuple(path), message, severity, hint, **kw)


def stamped(found: Issue, r: Rule) -> Issue:
    """``found`` under rule ``r``: its id, its default severity where the finding set none, its fix as the hint."""
    return replace(found, rule=r.id, severity=found.severity or r.severity, hint=found.hint or r.fix)
